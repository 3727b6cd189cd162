package ar

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/forward"
)

// ForwarderBindings adapts the forwarding plane of internal/forward to
// Bindings: Bind installs (or, with a lifetime that has run out, removes) the
// PCoA → NCoA tunnel (RFC 5568 §4, §5.6), and Lookup answers from the
// bindings it installed, Sequence Numbers included, without asking the
// Forwarder. Wire the Forwarder's OnExpire to Router.ForwardingTimedOut so
// that the key is discarded when forwarding times out (RFC 5269 §3.6):
//
//	var r *ar.Router
//	fwd := forward.NewMemory(src, forward.Options{OnExpire: func(p netip.Addr) { r.ForwardingTimedOut(p) }})
//	r, err = ar.New(ar.Config{..., Bindings: ar.NewForwarderBindings(fwd, nil)})
type ForwarderBindings struct {
	f   forward.Forwarder
	now func() time.Time
	mu  sync.Mutex
	m   map[netip.Addr]Binding
}

// NewForwarderBindings returns Bindings backed by f, judging expiry by now
// (nil: time.Now).
func NewForwarderBindings(f forward.Forwarder, now func() time.Time) *ForwarderBindings {
	if now == nil {
		now = time.Now
	}
	return &ForwarderBindings{f: f, now: now, m: make(map[netip.Addr]Binding)}
}

// Bind implements Bindings.
func (fb *ForwarderBindings) Bind(b Binding) error {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	lifetime := max(b.Lifetime, 0)
	if !b.Expires.After(fb.now()) {
		lifetime = 0
	}
	if err := fb.f.Add(context.Background(), forward.Binding{PreviousCoA: b.Previous, NewCoA: b.New, Lifetime: lifetime}); err != nil {
		return err
	}
	if lifetime == 0 {
		delete(fb.m, b.Previous)
		return nil
	}
	fb.m[b.Previous] = b
	if len(fb.m) > 1024 {
		now := fb.now()
		for k, v := range fb.m {
			if !v.Expires.After(now) {
				delete(fb.m, k)
			}
		}
	}
	return nil
}

// Lookup implements Bindings.
func (fb *ForwarderBindings) Lookup(previous netip.Addr) (Binding, bool) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	b, ok := fb.m[previous]
	if !ok || !b.Expires.After(fb.now()) {
		return Binding{}, false
	}
	return b, true
}
