//go:build linux

package netio

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// rawSocket is one non-blocking AF_INET6 SOCK_RAW socket driven by the Go
// runtime poller, so reads block a goroutine, not a thread, and Close
// unblocks them.
type rawSocket struct {
	f  *os.File
	rc syscall.RawConn
}

func newRawSocket(proto int, ifname string) (*rawSocket, error) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("netio: socket(AF_INET6, SOCK_RAW, %d): %w", proto, err)
	}
	// SO_BINDTODEVICE: the socket sends and receives on ifname only.
	if ifname != "" {
		if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("netio: SO_BINDTODEVICE %q: %w", ifname, err)
		}
	}
	f := os.NewFile(uintptr(fd), fmt.Sprintf("raw6:%d:%s", proto, ifname))
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("netio: raw socket: %w", err)
	}
	return &rawSocket{f: f, rc: rc}, nil
}

// setInt sets an integer socket option; name is used in the error.
func (s *rawSocket) setInt(level, opt, v int, name string) error {
	return s.control(name, func(fd int) error { return unix.SetsockoptInt(fd, level, opt, v) })
}

func (s *rawSocket) control(name string, fn func(fd int) error) error {
	var ferr error
	if err := s.rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return fmt.Errorf("netio: %s: %w", name, err)
	}
	if ferr != nil {
		return fmt.Errorf("netio: %s: %w", name, ferr)
	}
	return nil
}

// dropAll attaches a classic BPF program that accepts nothing: used on
// send-only sockets so they do not queue copies of received packets.
func (s *rawSocket) dropAll() error {
	prog := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	return s.attachFilter(prog, "SO_ATTACH_FILTER (drop all)")
}

func (s *rawSocket) attachFilter(prog []unix.SockFilter, name string) error {
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	return s.control(name, func(fd int) error { return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp) })
}

func (s *rawSocket) send(p, oob []byte, to unix.Sockaddr) error {
	var err error
	werr := s.rc.Write(func(fd uintptr) bool {
		_, err = unix.SendmsgN(int(fd), p, oob, to, 0)
		return err != unix.EAGAIN
	})
	if werr != nil {
		return werr
	}
	return err
}

func (s *rawSocket) close() error { return s.f.Close() }

// control is what a received packet's ancillary data told us.
type control struct {
	dst      netip.Addr
	ifindex  int
	hopLimit int
	dstOpts  []byte
}

// rawConn is the part shared by ICMPConn and MHConn: the interface, the
// receive queue fed by one reader goroutine per socket, and the netlink
// socket that lists the interface's addresses.
type rawConn struct {
	ifname  string
	ifindex int
	addrs   *addrLister
	sockets []*rawSocket
	queue   *packetQueue
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	dropped atomic.Uint64
}

// label names the conn in errors: its interface, or "any interface".
func (c *rawConn) label() string {
	if c.ifname == "" {
		return "any interface"
	}
	return c.ifname
}

// newRawConn prepares a Conn on ifname; "" (allowed only when anyIf is
// true) means no interface binding.
func newRawConn(ifname string, anyIf bool, queue int) (*rawConn, error) {
	ifindex := 0
	if ifname == "" && !anyIf {
		return nil, errors.New("netio: no interface given")
	}
	if ifname != "" {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return nil, fmt.Errorf("netio: interface %q: %w", ifname, err)
		}
		ifindex = ifi.Index
	}
	l, err := newAddrLister()
	if err != nil {
		return nil, err
	}
	if queue <= 0 {
		queue = 256
	}
	done := make(chan struct{})
	return &rawConn{ifname: ifname, ifindex: ifindex, addrs: l, queue: newPacketQueue(queue, done), done: done}, nil
}

// parseControl walks the ancillary data of one datagram (RFC 3542 §20)
// without allocating.
func parseControl(oob []byte) (control, bool) {
	var ctl control
	hdr := unix.CmsgLen(0)
	for len(oob) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			return ctl, false
		}
		data := oob[hdr:l]
		if h.Level == unix.IPPROTO_IPV6 {
			switch h.Type {
			case unix.IPV6_PKTINFO:
				if len(data) < unix.SizeofInet6Pktinfo {
					return ctl, false
				}
				ctl.dst = netip.AddrFrom16([16]byte(data[:16]))
				ctl.ifindex = int(binary.NativeEndian.Uint32(data[16:20]))
			case unix.IPV6_HOPLIMIT:
				if len(data) < 4 {
					return ctl, false
				}
				ctl.hopLimit = int(int32(binary.NativeEndian.Uint32(data[:4])))
			case unix.IPV6_DSTOPTS:
				ctl.dstOpts = data
			}
		}
		next := unix.CmsgSpace(l - hdr)
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	return ctl, ctl.dst.IsValid() && ctl.hopLimit >= 0 && ctl.hopLimit <= 255
}

func (c *rawConn) readPacket(ctx context.Context) (Packet, error) {
	var p [1]Packet
	_, err := c.queue.pop(ctx, p[:])
	return p[0], err
}

// Addrs returns the IPv6 unicast addresses currently assigned to the
// interface (to every interface but loopback when the Conn is not bound),
// link-local included, tentative and DAD-failed ones excluded, without
// zones. It asks the kernel (netlink) at each call, in the network
// namespace the Conn was opened in.
func (c *rawConn) Addrs() []netip.Addr {
	a, err := c.addrs.list(c.ifindex)
	if err != nil {
		return nil
	}
	return a
}

// Index returns the interface index the Conn is bound to.
func (c *rawConn) Index() int { return c.ifindex }

// Dropped returns the number of received packets the transport discarded
// itself (malformed ancillary data, truncation, and on MHConn Home Address
// packets whose option or checksum was wrong). Packets the kernel drops
// are not counted.
func (c *rawConn) Dropped() uint64 { return c.dropped.Load() }

func (c *rawConn) close() error {
	var err error
	c.once.Do(func() {
		close(c.done)
		for _, s := range c.sockets {
			err = errors.Join(err, s.close())
		}
		c.wg.Wait()
		err = errors.Join(err, c.addrs.close())
	})
	return err
}

// destination returns the socket address for dst on the bound interface.
func (c *rawConn) destination(dst netip.Addr) unix.Sockaddr {
	return &unix.SockaddrInet6{Addr: dst.As16(), ZoneId: c.zone(dst)}
}

// appendPacketControl appends IPV6_PKTINFO (source address selection on
// the bound interface, RFC 3542 §6.1) and, when hopLimit is not zero,
// IPV6_HOPLIMIT (RFC 3542 §6.3).
func (c *rawConn) appendPacketControl(oob []byte, src netip.Addr, hopLimit uint8) []byte {
	var pi unix.Inet6Pktinfo
	if src.IsValid() && !src.IsUnspecified() {
		pi.Addr = src.As16()
	}
	pi.Ifindex = uint32(c.ifindex)
	oob = appendCmsg(oob, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unsafe.Slice((*byte)(unsafe.Pointer(&pi)), unix.SizeofInet6Pktinfo))
	if hopLimit != 0 {
		var h [4]byte
		binary.NativeEndian.PutUint32(h[:], uint32(hopLimit))
		oob = appendCmsg(oob, unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, h[:])
	}
	return oob
}

func appendCmsg(b []byte, level, typ int, data []byte) []byte {
	off := len(b)
	b = append(b, make([]byte, unix.CmsgSpace(len(data)))...)
	var h unix.Cmsghdr
	h.Level = int32(level)
	h.Type = int32(typ)
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[off:], unsafe.Slice((*byte)(unsafe.Pointer(&h)), unix.SizeofCmsghdr))
	copy(b[off+unix.CmsgLen(0):], data)
	return b
}

func checkWrite(p Packet, nextHeader uint8, minLen int) error {
	if p.NextHeader != 0 && p.NextHeader != nextHeader {
		return fmt.Errorf("netio: write: next header %d on a protocol %d socket", p.NextHeader, nextHeader)
	}
	if !p.Dst.Is6() || p.Dst.Is4In6() || p.Dst.IsUnspecified() {
		return fmt.Errorf("netio: write: destination %v is not an IPv6 address", p.Dst)
	}
	if p.Src.IsValid() && (!p.Src.Is6() || p.Src.Is4In6()) {
		return fmt.Errorf("netio: write: source %v is not an IPv6 address", p.Src)
	}
	if len(p.Payload) < minLen {
		return fmt.Errorf("netio: write: payload of %d octets is shorter than the %d-octet header", len(p.Payload), minLen)
	}
	return nil
}

// addrLister lists an interface's addresses through a netlink handle
// whose socket was opened in the Conn's network namespace.
type addrLister struct {
	mu sync.Mutex
	h  *netlink.Handle // nil once closed
}

func newAddrLister() (*addrLister, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netio: netlink socket: %w", err)
	}
	return &addrLister{h: h}, nil
}

// list is "ip -6 addr show [dev IFINDEX]" without host-scope (loopback),
// tentative and DAD-failed addresses; ifindex 0 lists every interface.
func (l *addrLister) list(ifindex int) ([]netip.Addr, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h == nil {
		return nil, ErrClosed
	}
	var link netlink.Link
	if ifindex != 0 {
		link = &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}
	}
	as, err := l.h.AddrList(link, netlink.FAMILY_V6)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, fmt.Errorf("netio: netlink RTM_GETADDR: %w", err)
	}
	var out []netip.Addr
	for _, ad := range as {
		a, ok := netip.AddrFromSlice(ad.IP)
		if !ok || ad.Scope == unix.RT_SCOPE_HOST || ad.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) != 0 || slices.Contains(out, a) {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

func (l *addrLister) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h != nil {
		l.h.Close()
		l.h = nil
	}
	return nil
}
