package forward

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// routeSocket installs and removes PCoA/128 routes on one interface through
// a netlink handle, whose rtnetlink socket belongs to the namespace in
// which it was opened, so the routes land there whatever thread later
// calls it (an exec of ip(8) would run in the namespace of whichever
// thread forks it). The handle serialises its requests.
type routeSocket struct {
	h       *netlink.Handle
	ifindex int
	ifname  string
}

// openHandle opens an rtnetlink handle in the namespace of the calling
// thread (netlink.NewHandle is NewHandleAt the current namespace) whose
// requests time out after 5 s.
func openHandle() (*netlink.Handle, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("forward: rtnetlink socket: %w", err)
	}
	if err := h.SetSocketTimeout(5 * time.Second); err != nil {
		h.Close()
		return nil, fmt.Errorf("forward: rtnetlink socket: %w", err)
	}
	return h, nil
}

// route is PCOA/128 dev IFNAME in the main table, protocol static.
func (r *routeSocket) route(pcoa netip.Addr) *netlink.Route {
	return &netlink.Route{
		LinkIndex: r.ifindex,
		Dst:       &net.IPNet{IP: pcoa.AsSlice(), Mask: net.CIDRMask(128, 128)},
		Table:     unix.RT_TABLE_MAIN,
		Protocol:  unix.RTPROT_STATIC,
		Scope:     netlink.SCOPE_UNIVERSE,
		Type:      unix.RTN_UNICAST,
	}
}

// addRoute is "ip -6 route replace PCOA/128 dev IFNAME".
func (r *routeSocket) addRoute(pcoa netip.Addr) error {
	if err := r.h.RouteReplace(r.route(pcoa)); err != nil {
		return fmt.Errorf("forward: route replace %v/128 dev %s: %w", pcoa, r.ifname, err)
	}
	return nil
}

// delRoute is "ip -6 route del PCOA/128 dev IFNAME"; an absent route is not
// an error.
func (r *routeSocket) delRoute(pcoa netip.Addr) error {
	err := r.h.RouteDel(r.route(pcoa))
	if err != nil && !errors.Is(err, unix.ESRCH) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("forward: route del %v/128 dev %s: %w", pcoa, r.ifname, err)
	}
	return nil
}

func (r *routeSocket) Close() error {
	r.h.Close()
	return nil
}
