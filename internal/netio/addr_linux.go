package netio

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

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
// iface: the kernel's route lookup with that outgoing interface ("ip -6
// route get DST oif IFACE", RTM_GETROUTE with RTA_OIF) finds a route; none
// through it fails with ENETUNREACH. It is the lookup a socket bound to
// iface (SO_BINDTODEVICE) makes when it connects to dst. Nothing is sent.
func RouteVia(iface string, dst netip.Addr) bool {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return false
	}
	defer h.Close()
	rs, err := h.RouteGetWithOptions(dst.AsSlice(), &netlink.RouteGetOptions{Oif: iface})
	return err == nil && len(rs) > 0
}
