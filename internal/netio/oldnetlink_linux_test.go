//go:build linux

package netio

// Temporary: the hand-built netlink code of main, copied to benchmark it
// against the library in the same run. Removed once the figures are taken.

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
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/fhkey/fhkey/internal/testbed"
)

// oldAddrLister lists an interface's addresses over a NETLINK_ROUTE socket
// opened in the Conn's network namespace.
type oldAddrLister struct {
	mu  sync.Mutex
	fd  int
	seq uint32
	buf []byte
}

func newOldAddrLister() (*oldAddrLister, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netio: netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netio: netlink bind: %w", err)
	}
	return &oldAddrLister{fd: fd, buf: make([]byte, 1<<16)}, nil
}

func (l *oldAddrLister) list(ifindex int) ([]netip.Addr, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd < 0 {
		return nil, ErrClosed
	}
	l.seq++
	req := make([]byte, unix.NLMSG_HDRLEN+unix.SizeofIfAddrmsg)
	h := unix.NlMsghdr{Len: uint32(len(req)), Type: unix.RTM_GETADDR, Flags: unix.NLM_F_REQUEST | unix.NLM_F_DUMP, Seq: l.seq}
	copy(req, unsafe.Slice((*byte)(unsafe.Pointer(&h)), unix.SizeofNlMsghdr))
	req[unix.NLMSG_HDRLEN] = unix.AF_INET6
	if err := unix.Sendto(l.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netio: netlink RTM_GETADDR: %w", err)
	}
	var out []netip.Addr
	for {
		n, _, err := unix.Recvfrom(l.fd, l.buf, 0)
		if err != nil {
			return nil, fmt.Errorf("netio: netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(l.buf[:n])
		if err != nil {
			return nil, fmt.Errorf("netio: netlink parse: %w", err)
		}
		for i := range msgs {
			m := &msgs[i]
			if m.Header.Seq != l.seq {
				continue
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				return nil, errors.New("netio: netlink RTM_GETADDR: error reply")
			case unix.RTM_NEWADDR:
				if len(m.Data) < unix.SizeofIfAddrmsg {
					continue
				}
				ifa := (*unix.IfAddrmsg)(unsafe.Pointer(&m.Data[0]))
				if (ifindex != 0 && int(ifa.Index) != ifindex) || ifa.Family != unix.AF_INET6 || ifa.Scope == unix.RT_SCOPE_HOST {
					continue
				}
				flags := uint32(ifa.Flags)
				attrs, err := syscall.ParseNetlinkRouteAttr(m)
				if err != nil {
					continue
				}
				var a netip.Addr
				for _, at := range attrs {
					switch at.Attr.Type {
					case unix.IFA_ADDRESS:
						if len(at.Value) == 16 {
							a = netip.AddrFrom16([16]byte(at.Value))
						}
					case unix.IFA_FLAGS:
						if len(at.Value) == 4 {
							flags = binary.NativeEndian.Uint32(at.Value)
						}
					}
				}
				if a.IsValid() && flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 && !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
}

func (l *oldAddrLister) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd < 0 {
		return nil
	}
	err := unix.Close(l.fd)
	l.fd = -1
	return err
}

// oldWatchLinks is main's WatchLinks (hand-built netlink): it reports the changes of links, IPv6 addresses and IPv6 routes
// of the network namespace of the calling thread: a netlink route socket
// joined to RTNLGRP_LINK, RTNLGRP_IPV6_IFADDR and RTNLGRP_IPV6_ROUTE
// (rtnetlink(7)). Each batch of notifications sends on the returned
// channel, which holds one pending signal (bursts coalesce), until ctx
// ends. The mobile node re-examines its interfaces on each signal instead
// of waiting for its next poll: a new link is detected when the kernel
// reports it, not up to a polling interval later.
func oldWatchLinks(ctx context.Context) (<-chan struct{}, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netio: link watch: netlink socket: %w", err)
	}
	groups := uint32(unix.RTMGRP_LINK | unix.RTMGRP_IPV6_IFADDR | unix.RTMGRP_IPV6_ROUTE)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netio: link watch: bind: %w", err)
	}
	// A non-blocking descriptor gives a File served by the runtime's
	// poller, so that Close wakes a pending Read.
	f := os.NewFile(uintptr(fd), "netlink-route")
	ch := make(chan struct{}, 1)
	go func() {
		<-ctx.Done()
		f.Close()
	}()
	go func() {
		buf := make([]byte, 1<<16)
		for {
			if _, err := f.Read(buf); err != nil {
				// ENOBUFS (notifications lost) means "look again"; any
				// other error ends the watch, and the caller's polling
				// carries on.
				if ctx.Err() != nil || !errors.Is(err, unix.ENOBUFS) {
					return
				}
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch, nil
}

// oldAddAddress adds addr/128 to the interface named dev without duplicate
// address detection (RTM_NEWADDR with IFA_F_NODAD; an existing address is
// not an error).
func oldAddAddress(dev string, addr netip.Addr) error {
	return oldChangeAddress(unix.RTM_NEWADDR, dev, addr)
}

// oldDeleteAddress removes addr/128 from the interface named dev (RTM_DELADDR;
// an address that is not there is not an error).
func oldDeleteAddress(dev string, addr netip.Addr) error {
	return oldChangeAddress(unix.RTM_DELADDR, dev, addr)
}

// oldChangeAddress sends one RTM_NEWADDR or RTM_DELADDR for addr/128 on dev
// and reads the acknowledgment.
func oldChangeAddress(op uint16, dev string, addr netip.Addr) error {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	a := addr.As16()
	const hdr, ifa, rta = unix.SizeofNlMsghdr, unix.SizeofIfAddrmsg, 4 + 16
	b := make([]byte, hdr+ifa+rta+8)
	ne := oldNativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], op)
	flags := uint16(unix.NLM_F_REQUEST | unix.NLM_F_ACK)
	if op == unix.RTM_NEWADDR {
		flags |= unix.NLM_F_CREATE | unix.NLM_F_REPLACE
	}
	ne.PutUint16(b[6:], flags)
	ne.PutUint32(b[8:], 1)
	b[hdr] = unix.AF_INET6
	b[hdr+1] = 128
	b[hdr+2] = unix.IFA_F_NODAD
	b[hdr+3] = unix.RT_SCOPE_UNIVERSE
	ne.PutUint32(b[hdr+4:], uint32(ifi.Index))
	o := hdr + ifa
	ne.PutUint16(b[o:], rta)
	ne.PutUint16(b[o+2:], unix.IFA_LOCAL)
	copy(b[o+4:], a[:])
	o += rta
	ne.PutUint16(b[o:], 8)
	ne.PutUint16(b[o+2:], unix.IFA_FLAGS)
	ne.PutUint32(b[o+4:], unix.IFA_F_NODAD)
	if err := unix.Sendto(fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	buf := make([]byte, 4096)
	nr, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	if nr >= hdr+4 && ne.Uint16(buf[4:]) == unix.NLMSG_ERROR {
		errno := unix.Errno(-int32(ne.Uint32(buf[hdr:])))
		switch {
		case errno == 0, op == unix.RTM_NEWADDR && errno == unix.EEXIST, op == unix.RTM_DELADDR && errno == unix.EADDRNOTAVAIL:
		case op == unix.RTM_NEWADDR:
			return fmt.Errorf("netlink: add %s to %s: %w", addr, dev, errno)
		default:
			return fmt.Errorf("netlink: delete %s from %s: %w", addr, dev, errno)
		}
	}
	return nil
}

// oldNativeEndian is the byte order of netlink headers.
var oldNativeEndian = binary.NativeEndian

// oldRouteVia reports whether dst can be reached through the interface named
// iface: a UDP socket bound to the device (SO_BINDTODEVICE) is connected to
// dst, which makes the kernel look the route up with that outgoing
// interface; no route through it fails with ENETUNREACH. Nothing is sent.
func oldRouteVia(iface string, dst netip.Addr) bool {
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, iface)
		}); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("udp6", netip.AddrPortFrom(dst, 9).String())
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func init() {
	routeViaImpls = append(routeViaImpls, namedImpl[func(string, netip.Addr) bool]{"hand-built", oldRouteVia})
	addressImpls = append(addressImpls, namedImpl[[2]func(string, netip.Addr) error]{"hand-built", [2]func(string, netip.Addr) error{oldAddAddress, oldDeleteAddress}})
	watchImpls = append(watchImpls, namedImpl[func(context.Context) (<-chan struct{}, error)]{"hand-built", oldWatchLinks})
	listImpls = append(listImpls, namedImpl[func(testing.TB, *testbed.Testbed) func(int) ([]netip.Addr, error)]{"hand-built",
		func(t testing.TB, tb *testbed.Testbed) func(int) ([]netip.Addr, error) {
			var l *oldAddrLister
			if err := tb.Do(testbed.MN, func() (err error) { l, err = newOldAddrLister(); return err }); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.close() })
			return l.list
		}})
}
