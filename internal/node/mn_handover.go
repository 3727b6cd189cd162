package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
)

// watch examines the interfaces on every netlink link, address or route
// notification (netio.WatchLinks; every mnEventFallback as well, or every
// mnPollInterval where there are none) and hands over each time the node
// attaches to its other link: when that link's care-of CGA becomes usable
// (an edge, so that a single interface holding both addresses does not
// flap).
func (n *mnNode) watch(ctx context.Context) error {
	was := n.attachedLinks()
	return onLinkEvents(ctx, n.log, mnPollInterval, mnEventFallback, func() {
		now := n.attachedLinks()
		for l := range now {
			if !was[l] && l != n.current.Load() {
				n.handoverTo(ctx, l)
			}
		}
		was = now
	})
}

// onLinkEvents calls examine on every netlink link, address or route
// notification (netio.WatchLinks) and every fallback as well, or every
// poll where there are none, until ctx ends.
func onLinkEvents(ctx context.Context, log *slog.Logger, poll, fallback time.Duration, examine func()) error {
	events, err := netio.WatchLinks(ctx)
	if err != nil {
		log.Warn("no netlink notifications: polling the interfaces", "every", poll.String(), "err", err)
	} else {
		poll = fallback
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-events:
		}
		examine()
	}
}

// attachedLinks returns the links whose care-of CGA is usable now.
func (n *mnNode) attachedLinks() map[int32]bool {
	out := map[int32]bool{}
	for i, l := range n.links {
		other := n.links[len(n.links)-1-i].iface
		if attachedTo(l.iface, other, l.coa) {
			out[int32(i)] = true
		}
	}
	return out
}

// attachedTo reports whether coa is configured on iface and that interface
// is up and running, and, when the node has two interfaces, the other one
// is down (RFC 5568 §6.2.3: the MN sends the FBU from the new link once it
// has attached there).
func attachedTo(iface, other string, coa netip.Addr) bool {
	ifi, err := net.InterfaceByName(iface)
	if err != nil || ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagRunning == 0 {
		return false
	}
	if other != iface {
		if p, err := net.InterfaceByName(other); err == nil && p.Flags&net.FlagUp != 0 {
			return false
		}
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap() == coa {
				return true
			}
		}
	}
	return false
}

// handoverTo moves the node to link to: the FBU goes to the router whose
// key covers the previous link's care-of address (RFC 5269 §3.5: the PAR
// finds the key by the PCoA). With decapsulation, that address is first
// put on the decapsulator's device, where the tunnelled packets are
// delivered, and the new link's address taken off it. Keys for the new
// link's address held from an earlier stay are dropped and asked for
// again (RFC 5269 §3.6: "the MN MUST NOT assume that it can continue to
// use the old key without actually receiving the handover key again").
func (n *mnNode) handoverTo(ctx context.Context, to int32) {
	from := n.current.Swap(to)
	n.abandonKeyRequests()
	prev, next := n.links[from], n.links[to]
	h := &MNHandover{PreviousCoA: prev.coa.String(), NewCoA: next.coa.String(), At: time.Now().UTC()}
	defer func() {
		h.Took = time.Since(h.At).Seconds()
		n.mu.Lock()
		n.handover = h
		n.handovers++
		n.mu.Unlock()
		select {
		case n.wake <- struct{}{}:
		default:
		}
	}()
	n.log.Info("handover detected", "interface", next.iface, "care_of", next.coa.String())
	hctx, cancel := context.WithTimeout(ctx, mnHandoverLimit)
	defer cancel()
	n.mu.Lock()
	b, ok := n.bound[to]
	delete(n.bound, to)
	n.mu.Unlock()
	if ok {
		if time.Now().Before(b.expires) {
			// Back before the router's tunnel timed out: end it (RFC
			// 5568 §5.6), with the key it keeps while it forwards.
			ev, err := retryUnroutable(hctx, n.log, next.iface, b.router, func() (mn.Event, error) { return n.m.EndForwarding(hctx, b.router, to) })
			if err != nil || ev.Status >= 128 {
				n.log.Warn("forwarding not ended: it times out by itself", "router", b.router.String(), "status", ev.Status, "err", err)
			} else {
				h.ForwardingEnded = b.router.String()
				n.log.Info("forwarding ended", "router", b.router.String(), "care_of", next.coa.String())
			}
		}
	}
	var par netip.Addr
	if n.eap != nil {
		// The MSK mode: the new link's port opens only after 802.1X
		// (docs/msk.md); the FBU goes to the previous link's router, the
		// authenticator whose MSK the node holds.
		if err := n.authenticateLink(hctx, to); err != nil {
			h.Error = "EAP authentication on the new link: " + err.Error()
			return
		}
		par = n.eap.routers[from]
	}
	for _, r := range n.m.Role.Keys() {
		switch r.MN {
		case prev.coa:
			if !par.IsValid() {
				par = r.AR
			}
		case next.coa:
			_ = n.m.Role.Store().Delete(r.AR, r.MN)
		}
	}
	if d := n.m.Decapsulator; d != nil {
		if err := netio.AddAddress(d.Name(), prev.coa); err != nil {
			n.log.Warn("previous care-of address not moved to the decapsulator", "device", d.Name(), "err", err)
		}
		if err := netio.DeleteAddress(d.Name(), next.coa); err != nil {
			n.log.Warn("new care-of address not taken off the decapsulator", "device", d.Name(), "err", err)
		}
	}
	if !par.IsValid() {
		h.Error = "no handover key for the previous care-of address: FBU not sent"
		n.log.Error("fast handover impossible", "err", h.Error)
		return
	}
	h.PreviousRouter = par.String()
	ev, err := retryUnroutable(hctx, n.log, next.iface, par, func() (mn.Event, error) { return n.m.FastHandoverFrom(hctx, par, from) })
	if err != nil {
		h.Error = err.Error()
		if errors.Is(err, mn.ErrNoAnswer) {
			n.log.Error("fast handover: no FBack", "router", par.String(), "err", err)
		} else {
			n.log.Error("fast handover failed", "router", par.String(), "err", err)
		}
		return
	}
	h.Status, h.Lifetime = int(ev.Status), ev.Lifetime.Seconds()
	if ev.Status < 128 {
		n.mu.Lock()
		n.bound[from] = mnBinding{router: par, expires: time.Now().Add(ev.Lifetime)}
		n.mu.Unlock()
	}
	n.log.Info("fast binding acknowledged", "router", par.String(), "status", ev.Status, "lifetime", ev.Lifetime.String())
}

// retryUnroutable runs send once router is reachable through iface, and
// again while it fails for want of a route: attached, the node may not
// have the route to the router through the new link yet (the default
// route follows the Router Advertisement), and a message sent meanwhile
// would leave by the old link's stale route and be lost, costing a
// retransmission timeout. It waits at most until ctx ends.
func retryUnroutable(ctx context.Context, log *slog.Logger, iface string, router netip.Addr, send func() (mn.Event, error)) (mn.Event, error) {
	for !netio.RouteVia(iface, router) {
		select {
		case <-ctx.Done():
			return mn.Event{}, fmt.Errorf("no route to %s through %s: %w", router, iface, ctx.Err())
		case <-time.After(mnSendRetry):
		}
	}
	ev, err := send()
	for err != nil && notRoutable(err) && ctx.Err() == nil {
		log.Debug("not sendable yet: retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(mnSendRetry):
			ev, err = send()
		}
	}
	return ev, err
}

// notRoutable reports a send failure that lasts only until the new link's
// routes are in place.
func notRoutable(err error) bool {
	return errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL)
}
