package netio

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// AddAddress adds addr/128 to the interface named dev without duplicate
// address detection ("ip -6 addr replace ADDR/128 dev DEV nodad": RTM_NEWADDR
// with NLM_F_CREATE|NLM_F_REPLACE and IFA_F_NODAD; an existing address is
// not an error). It acts in the network namespace of the calling thread.
func AddAddress(dev string, addr netip.Addr) error {
	err := changeAddress(dev, addr, (*netlink.Handle).AddrReplace)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("netio: add %s to %s: %w", addr, dev, err)
	}
	return nil
}

// DeleteAddress removes addr/128 from the interface named dev (RTM_DELADDR;
// an address that is not there is not an error). It acts in the network
// namespace of the calling thread.
func DeleteAddress(dev string, addr netip.Addr) error {
	err := changeAddress(dev, addr, (*netlink.Handle).AddrDel)
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("netio: delete %s from %s: %w", addr, dev, err)
	}
	return nil
}

// changeAddress applies op to addr/128 on dev over one rtnetlink socket of
// the calling thread's namespace.
func changeAddress(dev string, addr netip.Addr, op func(*netlink.Handle, netlink.Link, *netlink.Addr) error) error {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(dev)
	if err != nil {
		return err
	}
	return op(h, link, &netlink.Addr{
		IPNet: &net.IPNet{IP: addr.AsSlice(), Mask: net.CIDRMask(128, 128)},
		Flags: unix.IFA_F_NODAD,
		Scope: unix.RT_SCOPE_UNIVERSE,
	})
}

// RouteVia reports whether dst can be reached through the interface named
// iface: a UDP socket bound to the device (SO_BINDTODEVICE) is connected to
// dst, which makes the kernel look the route up with that outgoing
// interface, exactly as the send that follows will; no route through it
// fails with ENETUNREACH. Nothing is sent. (The same lookup over netlink,
// RTM_GETROUTE with RTA_OIF through the library, costs twice as much and
// skips the source address selection a send makes: see
// docs/architecture.md.)
func RouteVia(iface string, dst netip.Addr) bool {
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
