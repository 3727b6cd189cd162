package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/forward"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/scenario"
)

// Timing of the mobile node daemon. RFC 5269 leaves the schedule to the
// implementation; these bound the load on the router and the reaction time.
const (
	mnPollInterval  = 100 * time.Millisecond // handover detection: interface state polled (without netlink events)
	mnEventFallback = time.Second            // with netlink events: polled anyway this often
	mnRefreshCheck  = time.Second            // RefreshDue consulted
	mnRetryMin      = time.Second            // first wait after RequestKey found no answer
	mnRetryMax      = 30 * time.Second       // longest wait between attempts
	mnHandoverLimit = 10 * time.Second       // one FastHandover (its own retransmissions included)
	mnSendRetry     = 5 * time.Millisecond   // FBU not sendable yet (no route on the new link): look again
)

// mnLink is one of the node's links: the interface, the care-of CGA there,
// and the access routers asked for keys for it (empty: All-Routers).
type mnLink struct {
	iface   string
	coa     netip.Addr
	routers []netip.Addr
}

// mnNode is the running mobile node with what /status reports. It moves
// between its links (the configured one, scenario.LinkPrevious, and the
// [handover] one, scenario.LinkNew) as often as the interfaces say.
type mnNode struct {
	m       *scenario.Mobile
	cfg     *config.MNConfig
	log     *slog.Logger
	links   []mnLink // one, or two with [handover]
	current atomic.Int32
	wake    chan struct{} // a handover: provision on the new link now
	// bound holds, per link, the router forwarding that link's care-of
	// address to the other one after an accepted FBU, until when: ended
	// by the node if it comes back in time (RFC 5568 §5.6). Used by the
	// watch goroutine only.
	bound map[int32]mnBinding

	mu        sync.Mutex
	handover  *mnHandover
	handovers int
	lastErr   string
}

// mnBinding is a binding the node made at a router.
type mnBinding struct {
	router  netip.Addr
	expires time.Time
}

// mnHandover is the outcome of the last fast handover.
type mnHandover struct {
	// ForwardingEnded is the router of the new link whose tunnel for the
	// node was ended by an FBU with Lifetime 0 (the node came back).
	ForwardingEnded string    `json:"forwarding_ended,omitempty"`
	PreviousRouter  string    `json:"previous_router"`
	PreviousCoA     string    `json:"previous_coa"`
	NewCoA          string    `json:"new_coa"`
	Status          int       `json:"status"`
	Lifetime        float64   `json:"lifetime_seconds"`
	At              time.Time `json:"at"` // detected
	// Took is from the detection to the FBack (or the failure), the end
	// of forwarding at the router returned to included.
	Took  float64 `json:"took_seconds"`
	Error string  `json:"error,omitempty"`
}

// mnKey is one handover key in /status (never its octets).
type mnKey struct {
	Router  string    `json:"router"`
	CareOf  string    `json:"care_of"`
	AT      uint8     `json:"at"`
	Expires time.Time `json:"expires"`
}

// mnStatus is the "role" document of the mobile node's /status.
type mnStatus struct {
	Interface      string      `json:"interface"` // the current link's
	CareOf         string      `json:"care_of"`   // the current link's
	NewCareOf      string      `json:"new_care_of,omitempty"`
	Keys           []mnKey     `json:"keys"`
	Handovers      int         `json:"handovers"`
	Handover       *mnHandover `json:"handover,omitempty"` // the last one
	LastRequestErr string      `json:"last_request_error,omitempty"`
	// Decapsulator counts the tunnelled packets delivered.
	Decapsulator *forward.DecapsulatorCounters `json:"decapsulator,omitempty"`
}

func newMNNode(m *scenario.Mobile, cfg *config.MNConfig, log *slog.Logger) *mnNode {
	n := &mnNode{m: m, cfg: cfg, log: log, wake: make(chan struct{}, 1), bound: map[int32]mnBinding{},
		links: []mnLink{{iface: cfg.Interface, coa: m.PCoA.Address, routers: cfg.AccessRouters}}}
	if m.NCoA.Address.IsValid() {
		n.links = append(n.links, mnLink{iface: cfg.Handover.NewInterface, coa: m.NCoA.Address, routers: cfg.Handover.AccessRouters})
		if at := n.attachedLinks(); len(at) == 1 {
			for l := range at {
				n.current.Store(l) // started on the [handover] link
			}
		}
	}
	return n
}

func (n *mnNode) status() mnStatus {
	cur := n.links[n.current.Load()]
	s := mnStatus{Interface: cur.iface, CareOf: cur.coa.String(), Keys: []mnKey{}}
	if n.m.NCoA.Address.IsValid() {
		s.NewCareOf = n.m.NCoA.Address.String()
	}
	for _, r := range n.m.Role.Keys() {
		s.Keys = append(s.Keys, mnKey{Router: r.AR.String(), CareOf: r.MN.String(), AT: r.AT, Expires: r.Expires.UTC()})
	}
	n.mu.Lock()
	s.Handover, s.Handovers, s.LastRequestErr = n.handover, n.handovers, n.lastErr
	n.mu.Unlock()
	if d := n.m.Decapsulator; d != nil {
		c := d.Counters()
		s.Decapsulator = &c
	}
	return s
}

// provision keeps a key from every router of the current link for the
// care-of CGA there: at start, after each handover, and whenever
// RefreshDue names it (RFC 5269 §3.3: "Prior to HK-LIFETIME expiring, the
// MN MUST request a new key"). A router that does not answer is asked
// again after a doubling wait (1 s to 30 s).
func (n *mnNode) provision(ctx context.Context) {
	wait := mnRetryMin
	for {
		link := n.current.Load()
		failed := false
		for _, r := range n.needKeys(link) {
			ev, err := n.m.RequestKeyOn(ctx, link, r)
			if ctx.Err() != nil {
				return
			}
			n.mu.Lock()
			if err != nil {
				n.lastErr = err.Error()
			} else {
				n.lastErr = ""
			}
			n.mu.Unlock()
			switch {
			case err != nil:
				failed = true
				n.log.Warn("handover key request failed: retrying", "router", r.String(), "err", err, "retry_in", wait.String())
			case ev.Kind != mn.KeyProvisioned:
				failed = true
				n.log.Warn("router answered without a handover key: retrying", "router", ev.Router.String(), "retry_in", wait.String())
			default:
				n.log.Info("handover key provisioned", "router", ev.Router.String(), "care_of", ev.Record.MN.String(),
					"at", ev.Record.AT, "expires", ev.Record.Expires.UTC())
			}
		}
		next := mnRefreshCheck
		if failed {
			next, wait = wait, min(2*wait, mnRetryMax)
		} else {
			wait = mnRetryMin
		}
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
			wait = mnRetryMin
		case <-time.After(next):
		}
	}
}

// needKeys returns the routers to ask now for link's care-of CGA: those
// without a key for it and those whose key is due for refresh. With
// All-Routers, a request is due while no router's key is held or any is
// due.
func (n *mnNode) needKeys(link int32) []netip.Addr {
	l := n.links[link]
	held := map[netip.Addr]bool{}
	for _, r := range n.m.Role.Keys() {
		if r.MN == l.coa {
			held[r.AR] = true
		}
	}
	for _, r := range n.m.Role.RefreshDue() {
		if r.MN == l.coa {
			held[r.AR] = false
		}
	}
	routers := l.routers
	if len(routers) == 0 {
		routers = []netip.Addr{config.AllRouters}
	}
	var out []netip.Addr
	for _, r := range routers {
		if r == config.AllRouters {
			due := len(held) == 0
			for _, ok := range held {
				due = due || !ok
			}
			if due {
				out = append(out, r)
			}
			continue
		}
		if !held[r] {
			out = append(out, r)
		}
	}
	return out
}

// watch examines the interfaces on every netlink link, address or route
// notification (netio.WatchLinks; every mnEventFallback as well, or every
// mnPollInterval where there are none) and hands over each time the node
// attaches to its other link: when that link's care-of CGA becomes usable
// (an edge, so that a single interface holding both addresses does not
// flap).
func (n *mnNode) watch(ctx context.Context) error {
	was := n.attachedLinks()
	poll := mnPollInterval
	events, err := netio.WatchLinks(ctx)
	if err != nil {
		n.log.Warn("no netlink notifications: polling the interfaces", "every", poll.String(), "err", err)
	} else {
		poll = mnEventFallback
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
		now := n.attachedLinks()
		for l := range now {
			if !was[l] && l != n.current.Load() {
				n.handoverTo(ctx, l)
			}
		}
		was = now
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
	prev, next := n.links[from], n.links[to]
	h := &mnHandover{PreviousCoA: prev.coa.String(), NewCoA: next.coa.String(), At: time.Now().UTC()}
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
	if b, ok := n.bound[to]; ok {
		delete(n.bound, to)
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
		n.bound[from] = mnBinding{router: par, expires: time.Now().Add(ev.Lifetime)}
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
