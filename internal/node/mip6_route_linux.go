package node

import (
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// routesVia reports whether the kernel routes from src to dst out of
// iface ("ip -6 route get DST from SRC"): a care-of address is usable
// only once it is. An interface comes up before its default route is
// set (a router advertisement, DHCPv6, the testbed's "ip route
// replace"); a Binding Update sent in between is lost ("network
// unreachable") and waits for its retransmission (docs/mip6mn.md).
func routesVia(iface string, src, dst netip.Addr) bool {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return false
	}
	routes, err := netlink.RouteGetWithOptions(dst.AsSlice(), &netlink.RouteGetOptions{SrcAddr: src.AsSlice()})
	if err != nil || len(routes) == 0 {
		return false
	}
	return routes[0].LinkIndex == ifi.Index
}
