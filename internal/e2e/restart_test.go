package e2e

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/mh"
)

// TestRouterRestartKeepsKeys provisions a key, stops the PAR (role,
// sockets, forwarder) and closes its bbolt store, starts a new PAR on the same
// file, and checks that the MN's FBU from the NAR's link still verifies and
// gets FBack Status 0 (RFC 5269 §3.5: the key is found by the PCoA).
func TestRouterRestartKeepsKeys(t *testing.T) {
	t.Parallel()
	b := newBed(t, "r", false)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	par := b.par(nil)
	m := b.mobile()
	if ev, err := m.RequestKey(ctx, par.Address()); err != nil || ev.Kind != mn.KeyProvisioned {
		t.Fatalf("RequestKey: %v %v", ev.Kind, err)
	}
	if err := par.Stop(); err != nil {
		t.Fatal(err)
	}
	// The store file is closed: another process could open it now.
	if _, err := par.Store.Get(par.Address(), m.PCoA.Address); err == nil {
		t.Fatal("store still open after Stop")
	}
	par2 := b.par(nil)
	if st := par2.Role.Stats(); st.KeysCreated != 0 {
		t.Fatalf("fresh router stats %+v", st)
	}
	if _, err := par2.Store.Get(par2.Address(), m.PCoA.Address); err != nil {
		t.Fatalf("key not persisted: %v", err)
	}
	if err := m.Move(ctx); err != nil {
		t.Fatal(err)
	}
	fb, err := m.FastHandover(ctx, par2.Address())
	if err != nil || fb.Status != mh.FastStatusAccepted {
		t.Fatalf("FBU after restart: status %d, %v", fb.Status, err)
	}
	if st := par2.Role.Stats(); !oneExchange(st.FBUAccepted) || st.FBUUnknownKey != 0 {
		t.Fatalf("restarted PAR stats %+v", st)
	}
	if bnd, ok := par2.Binding(m.PCoA.Address); !ok || bnd.NewCoA != m.NCoA.Address {
		t.Fatalf("binding after restart: %+v %v", bnd, ok)
	}
}

// stallConn is the router's ICMPv6 Conn with its answers cut: once armed,
// the first PrRtAdv (type 154, subtype 3) the router writes calls stop and is
// not sent, as when the serving goroutine is cancelled between reading the
// solicitation and answering it.
type stallConn struct {
	netio.Conn
	stop    func()
	stalled atomic.Int32
	once    sync.Once
}

func (c *stallConn) WritePacket(ctx context.Context, p netio.Packet) error {
	if len(p.Payload) >= 5 && p.Payload[0] == 154 && p.Payload[4] == 3 {
		stalled := false
		c.once.Do(func() {
			stalled = true
			c.stalled.Add(1)
			go c.stop()
		})
		if stalled {
			return context.Canceled
		}
	}
	return c.Conn.WritePacket(ctx, p)
}

// TestRouterStoppedMidFlow stops the PAR after it has read and processed
// an RtSolPr but before its PrRtAdv leaves: the MN's RequestKey fails with
// its no-answer timeout error (after RTSOLPR_RETRIES retransmissions, RFC
// 5568 §6.1.1), and a router restarted on the same store serves the retry,
// returning the key it had created (RFC 5269 §3.2).
func TestRouterStoppedMidFlow(t *testing.T) {
	t.Parallel()
	b := newBed(t, "s", false)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	var stall *stallConn
	var par *node.Router
	stopped := make(chan struct{})
	par = b.par(func(c *scenario.RouterConfig) {
		c.WrapICMP = func(conn netio.Conn) netio.Conn {
			stall = &stallConn{Conn: conn, stop: func() { par.Stop(); close(stopped) }}
			return stall
		}
	})
	m := b.mobile()
	start := time.Now()
	_, err := m.RequestKey(ctx, par.Address())
	if !errors.Is(err, mn.ErrNoAnswer) {
		t.Fatalf("RequestKey against a stopped router: %v, want mn.ErrNoAnswer", err)
	}
	took := time.Since(start)
	<-stopped
	if stall.stalled.Load() != 1 {
		t.Fatalf("the router answered nothing before being stopped? stalled %d", stall.stalled.Load())
	}
	// 100 + 200 + 400 + 800 ms of retransmission timeouts.
	if took < 1400*time.Millisecond || took > 5*time.Second {
		t.Errorf("RequestKey gave up after %v, want about 1.5 s", took)
	}
	if len(m.Role.Keys()) != 0 {
		t.Fatalf("MN stored a key: %v", m.Role.Keys())
	}
	par2 := b.par(func(c *scenario.RouterConfig) { c.StorePath = filepath.Join(b.dir, "par.db") })
	ev, err := m.RequestKey(ctx, par2.Address())
	if err != nil || ev.Kind != mn.KeyProvisioned {
		t.Fatalf("retry against the restarted router: %v %v", ev.Kind, err)
	}
	if st := par2.Role.Stats(); !oneExchange(st.KeysReused) || st.KeysReused != st.PrRtAdvSent || st.KeysCreated != 0 {
		t.Errorf("restarted router stats %+v: want the key created before the stop reused", st)
	}
	arRec, err := par2.Store.Get(par2.Address(), m.PCoA.Address)
	if err != nil {
		t.Fatal(err)
	}
	mnRec, err := m.Role.Store().Get(par2.Address(), m.PCoA.Address)
	if err != nil || !mnRec.KeyEqual(arRec.KeyBytes()) {
		t.Fatalf("keys differ after the retry: %v", err)
	}
}
