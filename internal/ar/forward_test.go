package ar

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/forward"
)

// TestForwarderBindings: an accepted FBU installs the tunnel in the
// forwarding plane, and forwarding timing out discards the key (RFC 5269
// §3.6).
func TestForwarderBindings(t *testing.T) {
	w := newWorld(t, 1024, nil)
	expired := make(chan bool, 1)
	fwd := forward.NewMemory(w.parAdr, forward.Options{OnExpire: func(p netip.Addr) { expired <- w.par.ForwardingTimedOut(p) }})
	defer fwd.Close()
	w.par.bindings = NewForwarderBindings(fwd, w.clock.Now)
	s := w.par.Settings()
	s.ForwardingLifetime = time.Second // forwarding lifetime granted (real timers in forward)
	if err := w.par.Update(s); err != nil {
		t.Fatal(err)
	}
	w.provision()
	fbu, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, false)
	if err != nil {
		t.Fatal(err)
	}
	if out := w.par.HandlePacket(context.Background(), fbu); len(out) != 1 || w.par.Stats().FBUAccepted != 1 {
		t.Fatalf("FBU not accepted: %+v", w.par.Stats())
	}
	bs := fwd.Bindings()
	if len(bs) != 1 || bs[0].PreviousCoA != w.pcoa.Address || bs[0].NewCoA != w.ncoa.Address || bs[0].Lifetime != time.Second {
		t.Fatalf("forwarder bindings %+v", bs)
	}
	if b, ok := w.par.bindings.Lookup(w.pcoa.Address); !ok || b.New != w.ncoa.Address {
		t.Fatalf("Lookup %+v %v", b, ok)
	}
	// The replayed FBU is refused by sequence number.
	w.par.HandlePacket(context.Background(), fbu)
	if w.par.Stats().FBUStale != 1 {
		t.Errorf("replay not detected: %+v", w.par.Stats())
	}
	// Forwarding times out: the hook discards the key.
	select {
	case ok := <-expired:
		if !ok || w.store.Len() != 0 || w.par.Stats().KeysDiscarded != 1 {
			t.Error("key not discarded when forwarding timed out")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("forwarding did not time out")
	}
}
