//go:build linux

package netio

import (
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// FrameCapture is an AF_PACKET raw socket receiving every frame of one
// interface, both directions, Ethernet header included (packet(7),
// ETH_P_ALL): what a demo writes to a pcap file with link type Ethernet.
type FrameCapture struct {
	f  *os.File
	rc syscall.RawConn
}

// CaptureFrames opens the capture of ifname.
func CaptureFrames(ifname string) (*FrameCapture, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("netio: capture: interface %q: %w", ifname, err)
	}
	proto := htons(unix.ETH_P_ALL)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return nil, fmt.Errorf("netio: capture: socket(AF_PACKET, SOCK_RAW, ETH_P_ALL): %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netio: capture: bind %q: %w", ifname, err)
	}
	f := os.NewFile(uintptr(fd), "capture:"+ifname)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("netio: capture: %w", err)
	}
	return &FrameCapture{f: f, rc: rc}, nil
}

// ReadFrame reads one frame into b and returns its length, whether this
// host sent it (PACKET_OUTGOING: on a loopback interface each packet is
// seen once going out and once coming in) and the time it was read; a
// frame longer than b is truncated.
func (c *FrameCapture) ReadFrame(b []byte) (n int, outgoing bool, at time.Time, err error) {
	n, from, err := recvfrom(c.rc, b)
	if err != nil {
		return 0, false, time.Time{}, fmt.Errorf("netio: capture: read: %w", err)
	}
	ll, ok := from.(*unix.SockaddrLinklayer)
	return n, ok && ll.Pkttype == unix.PACKET_OUTGOING, time.Now(), nil
}

// Close closes the socket; a blocked ReadFrame returns an error.
func (c *FrameCapture) Close() error { return c.f.Close() }
