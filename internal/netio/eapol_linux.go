//go:build linux

package netio

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// EAPOLConn is an AF_PACKET datagram socket for EtherType 0x888E on one
// interface: the kernel strips and builds the Ethernet header, so reads
// return and writes take the EAPOL PDU (IEEE 802.1X-2010 §11.3) with the
// peer's MAC address beside it. Reads block in the Go runtime poller, so
// SetReadDeadline and Close unblock them.
type EAPOLConn struct {
	f       *os.File
	rc      syscall.RawConn
	ifindex int
	hw      net.HardwareAddr
	closed  atomic.Bool
}

// htons turns the EtherType into network order for sockaddr_ll and
// socket(2) (packet(7): "protocol is the IEEE 802.3 protocol number in
// network byte order").
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// ListenEAPOL opens an AF_PACKET socket for EtherType 0x888E on ifname,
// joined to the PAE group address 01:80:c2:00:00:03 (IEEE 802.1X-2010
// §11.1.1).
func ListenEAPOL(ifname string) (*EAPOLConn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("netio: eapol: interface %q: %w", ifname, err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("netio: eapol: interface %q has no Ethernet address", ifname)
	}
	proto := htons(EtherTypeEAPOL)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return nil, fmt.Errorf("netio: eapol: socket(AF_PACKET, SOCK_DGRAM, 0x888e): %w", err)
	}
	// bind(2) to the interface: only its frames are received (packet(7)).
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netio: eapol: bind %q: %w", ifname, err)
	}
	// PACKET_ADD_MEMBERSHIP of the PAE group address: the interface
	// accepts frames sent to it (its multicast filter), whatever its
	// promiscuity.
	mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_MULTICAST, Alen: 6}
	copy(mreq.Address[:], PAEGroupAddress)
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netio: eapol: PACKET_ADD_MEMBERSHIP %v on %q: %w", PAEGroupAddress, ifname, err)
	}
	f := os.NewFile(uintptr(fd), "eapol:"+ifname)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("netio: eapol: %w", err)
	}
	return &EAPOLConn{f: f, rc: rc, ifindex: ifi.Index, hw: ifi.HardwareAddr}, nil
}

// ReadFrom reads one frame: b receives the EAPOL PDU (the octets after the
// Ethernet header, padding included; the PDU's own Packet Body Length
// tells where it ends) and src is the frame's source MAC address. Frames
// this host sent itself (PACKET_OUTGOING) are skipped.
func (c *EAPOLConn) ReadFrom(b []byte) (n int, src net.HardwareAddr, err error) {
	for {
		var from unix.Sockaddr
		n, from, err = recvfrom(c.rc, b)
		if err != nil {
			return 0, nil, c.wrap("read", err)
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || ll.Halen != 6 || ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		return n, net.HardwareAddr(append([]byte(nil), ll.Addr[:6]...)), nil
	}
}

// WriteTo sends pdu (an EAPOL PDU) in one Ethernet frame to dst, from the
// interface's address with EtherType 0x888E. A PDU over the interface's
// MTU is an error from the kernel (EMSGSIZE); short frames are padded by
// the driver.
func (c *EAPOLConn) WriteTo(pdu []byte, dst net.HardwareAddr) error {
	if len(dst) != 6 {
		return fmt.Errorf("netio: eapol: destination %v is not an Ethernet address", dst)
	}
	to := &unix.SockaddrLinklayer{Protocol: htons(EtherTypeEAPOL), Ifindex: c.ifindex, Halen: 6}
	copy(to.Addr[:], dst)
	var serr error
	err := c.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), pdu, 0, to)
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	return c.wrap("write", err)
}

// HardwareAddr returns the interface's MAC address, the source of the
// frames WriteTo sends.
func (c *EAPOLConn) HardwareAddr() net.HardwareAddr { return c.hw }

// SetReadDeadline makes a blocked or later ReadFrom fail with an error
// matching os.ErrDeadlineExceeded after t; the zero time clears it.
func (c *EAPOLConn) SetReadDeadline(t time.Time) error { return c.f.SetReadDeadline(t) }

// Close closes the socket; a blocked ReadFrom returns ErrClosed.
func (c *EAPOLConn) Close() error {
	c.closed.Store(true)
	return c.f.Close()
}

func (c *EAPOLConn) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case c.closed.Load() || errors.Is(err, os.ErrClosed):
		return fmt.Errorf("netio: eapol: %s: %w", op, ErrClosed)
	}
	return fmt.Errorf("netio: eapol: %s: %w", op, err)
}

// recvfrom reads one datagram from the packet socket rc into b, waiting in
// the runtime poller.
func recvfrom(rc syscall.RawConn, b []byte) (n int, from unix.Sockaddr, err error) {
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, from, rerr = unix.Recvfrom(int(fd), b, 0)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	return n, from, err
}
