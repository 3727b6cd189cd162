package forward

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// router installs and removes the host route that makes the kernel hand the
// packets for a previous CoA to the forwarder. Memory has none.
type router interface {
	addRoute(pcoa netip.Addr) error
	delRoute(pcoa netip.Addr) error
}

// table is the binding table every Forwarder implementation shares: the
// bindings with their timers under mu, a copy-on-write map read without
// locks by the data path, and the counters.
type table struct {
	opts   Options
	routes router // nil: no routes to manage

	mu      sync.Mutex
	closed  bool
	gen     uint64
	entries map[netip.Addr]*tableEntry

	live atomic.Pointer[map[netip.Addr]liveEntry]

	packets, bytes, dropped, expired atomic.Uint64
}

type tableEntry struct {
	Entry
	gen   uint64
	timer *time.Timer
}

// liveEntry is what the data path needs to know about a binding.
type liveEntry struct {
	newCoA  netip.Addr
	expires time.Time
}

func newTable(opts Options, routes router) *table {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	t := &table{opts: opts, routes: routes, entries: make(map[netip.Addr]*tableEntry)}
	t.publishLocked()
	return t
}

// publishLocked replaces the data path's map with a copy of entries.
func (t *table) publishLocked() {
	m := make(map[netip.Addr]liveEntry, len(t.entries))
	for k, e := range t.entries {
		m[k] = liveEntry{newCoA: e.NewCoA, expires: e.Expires}
	}
	t.live.Store(&m)
}

// lookup returns the new CoA for a packet addressed to dst, if a binding
// for dst is live now: packets are tunnelled "until the forwarding lifetime
// expires" even if the expiry timer has not run yet.
func (t *table) lookup(dst netip.Addr) (netip.Addr, bool) {
	e, ok := (*t.live.Load())[dst]
	if !ok || !t.opts.Now().Before(e.expires) {
		return netip.Addr{}, false
	}
	return e.newCoA, true
}

func (t *table) add(ctx context.Context, b Binding) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("forward: add binding: %w", err)
	}
	if err := b.Validate(); err != nil {
		return err
	}
	b.PreviousCoA, b.NewCoA = b.PreviousCoA.WithZone(""), b.NewCoA.WithZone("")
	if b.Lifetime == 0 {
		// RFC 5568 §5.6: an FBU with lifetime zero makes the PAR
		// "terminate that tunnel" if it finds one.
		err := t.remove(b.PreviousCoA)
		if err != nil && !errors.Is(err, ErrNoBinding) {
			return err
		}
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("forward: add binding: %w", ErrClosed)
	}
	for pcoa, e := range t.entries {
		if pcoa == b.PreviousCoA {
			continue
		}
		// A new CoA that is itself forwarded, or a previous CoA that is
		// another binding's tunnel exit, would send tunnel packets back
		// into the tunnel: nested encapsulation without end (RFC 2473 §4).
		if pcoa == b.NewCoA || e.NewCoA == b.PreviousCoA {
			return fmt.Errorf("%w: binding %v -> %v loops with binding %v -> %v", ErrInvalid, b.PreviousCoA, b.NewCoA, pcoa, e.NewCoA)
		}
	}
	old := t.entries[b.PreviousCoA]
	if old == nil && t.routes != nil {
		if err := t.routes.addRoute(b.PreviousCoA); err != nil {
			return err
		}
	}
	if old != nil {
		old.timer.Stop()
	}
	t.gen++
	gen, pcoa := t.gen, b.PreviousCoA
	e := &tableEntry{Entry: Entry{Binding: b, Expires: t.opts.Now().Add(b.Lifetime)}, gen: gen}
	e.timer = time.AfterFunc(b.Lifetime, func() { t.expire(pcoa, gen) })
	t.entries[pcoa] = e
	t.publishLocked()
	return nil
}

// expire removes the binding for pcoa if it is still the one with gen.
func (t *table) expire(pcoa netip.Addr, gen uint64) {
	t.mu.Lock()
	e := t.entries[pcoa]
	if t.closed || e == nil || e.gen != gen {
		t.mu.Unlock()
		return
	}
	delete(t.entries, pcoa)
	t.publishLocked()
	if t.routes != nil {
		// A failure leaves the route in place; packets then reach the
		// forwarder without a live binding and are dropped and counted.
		_ = t.routes.delRoute(pcoa)
	}
	t.expired.Add(1)
	t.mu.Unlock()
	if f := t.opts.OnExpire; f != nil {
		f(pcoa)
	}
}

func (t *table) remove(pcoa netip.Addr) error {
	pcoa = pcoa.WithZone("")
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("forward: remove binding: %w", ErrClosed)
	}
	e := t.entries[pcoa]
	if e == nil {
		return fmt.Errorf("%w for previous care-of address %v", ErrNoBinding, pcoa)
	}
	e.timer.Stop()
	delete(t.entries, pcoa)
	t.publishLocked()
	if t.routes != nil {
		return t.routes.delRoute(pcoa)
	}
	return nil
}

func (t *table) bindings() []Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Entry, 0, len(t.entries))
	for _, e := range t.entries {
		out = append(out, e.Entry)
	}
	return out
}

func (t *table) counters() Counters {
	return Counters{
		Packets: t.packets.Load(),
		Bytes:   t.bytes.Load(),
		Dropped: t.dropped.Load(),
		Expired: t.expired.Load(),
	}
}

// close stops every timer and forgets every binding; it returns the
// previous CoAs that had one so that the caller can remove their routes.
func (t *table) close() []netip.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	var pcoas []netip.Addr
	for pcoa, e := range t.entries {
		e.timer.Stop()
		pcoas = append(pcoas, pcoa)
	}
	clear(t.entries)
	t.publishLocked()
	return pcoas
}

// encapsulate looks up the binding for the original packet pkt and appends
// the tunnel packet to buf. It returns the tunnel exit (the new CoA).
func (t *table) encapsulate(buf []byte, src netip.Addr, hopLimit uint8, pkt []byte) ([]byte, netip.Addr, error) {
	h, err := ParsePacket(pkt)
	if err != nil {
		return buf, netip.Addr{}, err
	}
	if !h.Destination.IsGlobalUnicast() {
		return buf, netip.Addr{}, fmt.Errorf("%w for destination %v: %w", ErrNoBinding, h.Destination, errLinkTraffic)
	}
	ncoa, ok := t.lookup(h.Destination)
	if !ok {
		return buf, netip.Addr{}, fmt.Errorf("%w for destination %v", ErrNoBinding, h.Destination)
	}
	out, err := appendTunnel(buf, src, ncoa, hopLimit, h.TrafficClass, pkt)
	if err != nil {
		return buf, netip.Addr{}, err
	}
	return out, ncoa, nil
}

// errLinkTraffic marks a packet whose destination no binding can have
// (multicast, link-local, loopback, unspecified): the stack's own traffic on
// the TUN device, such as MLD reports. It is discarded without counting.
var errLinkTraffic = errors.New("not a global unicast destination")

// account updates the counters for one original packet and the outcome
// of tunnelling it.
func (t *table) account(pkt []byte, err error) {
	switch {
	case err == nil:
		t.packets.Add(1)
		t.bytes.Add(uint64(len(pkt)))
	case !errors.Is(err, errLinkTraffic):
		t.dropped.Add(1)
	}
}

func (t *table) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}
