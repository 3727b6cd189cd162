package ha

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// data seals one reverse-tunneled packet with the MN's side.
func (f *fixture) data() []byte { return f.seal(mip6udp.PacketTypeData, 41, ipv6(hoa, cn)) }

// send hands n data packets to the home agent at now and fails on a drop.
func (f *fixture) send(now time.Time, n int) {
	f.t.Helper()
	for range n {
		if _, err := f.ha.HandleUDP(nil, now, coa, f.data()); err != nil {
			f.t.Fatalf("Sequence Number %d: %v", f.mn.Out.Sequence(), err)
		}
	}
}

// lease is the stored inbound lease of the fixture's SA.
func (f *fixture) lease() uint32 {
	f.store.mu.Lock()
	defer f.store.mu.Unlock()
	return f.store.sas[0x1234].InLease
}

func leaseDue(h *HomeAgent) bool {
	select {
	case <-h.LeaseDue():
		return true
	default:
		return false
	}
}

// TestLeaseBoundary: a new SA's lease is 0; its first packet waits for a
// lease MinLease ahead of it. A slow SA (10 packets a second) with the
// node's background writer emulated then never waits: each renewal is
// asked for R/2 before the lease and written off the packet path, and the
// stored lease stays at most MinLease ahead of the highest number. Without
// the writer, the packets up to the lease are accepted without a write
// and the one beyond waits for a synchronous write.
func TestLeaseBoundary(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	if f.lease() != 0 {
		t.Fatalf("stored lease of a new SA %d, want 0", f.lease())
	}
	f.register(1) // the BU, Sequence Number 1, waits
	if s := f.ha.Stats(); s.Leases.Waits != 1 || s.Leases.Writes != 1 || f.lease() != 1+MinLease {
		t.Fatalf("first packet: %+v, stored lease %d; want one wait, lease %d", s.Leases, f.lease(), 1+MinLease)
	}
	leaseDue(f.ha) // the first packet's, written
	asked := uint32(0)
	for i := range 100 {
		now := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		f.send(now, 1)
		if leaseDue(f.ha) {
			if asked == 0 {
				asked = f.mn.Out.Sequence()
			}
			if err := f.ha.WriteLeases(); err != nil {
				t.Fatal(err)
			}
		}
		if hi, l := f.mn.Out.Sequence(), f.lease(); l < hi || l-hi > MinLease {
			t.Fatalf("Sequence Number %d: stored lease %d, want within %d ahead", hi, l, MinLease)
		}
	}
	// R = MinLease: asked at the first k with k + R/2 ≥ 17.
	if asked != 1+MinLease/2 {
		t.Errorf("new lease asked at %d: want at %d, R/2 before the lease %d", asked, 1+MinLease/2, 1+MinLease)
	}
	s := f.ha.Stats()
	if s.Leases.Waits != 1 || s.Leases.Writes < 100/(MinLease/2) || s.Leases.Writes > 100/(MinLease/2)+2 {
		t.Fatalf("slow SA: %+v; want no wait after the first packet, a background write every %d packets", s.Leases, MinLease/2)
	}
	lease, writes := f.lease(), s.Leases.Writes
	for f.mn.Out.Sequence() < lease {
		f.send(t0.Add(10*time.Second), 1) // accepted under the lease, asked for but not written
	}
	if s := f.ha.Stats(); s.Leases.Writes != writes || f.lease() != lease {
		t.Fatalf("up to the lease: %+v, stored %d; want no write", s.Leases, f.lease())
	}
	f.send(t0.Add(10*time.Second), 1) // beyond, written on the packet path
	if s := f.ha.Stats(); s.Leases.Waits != 2 || s.DataFromMobile != uint64(lease) {
		t.Fatalf("beyond the lease: %+v, data %d", s.Leases, s.DataFromMobile)
	}
	if l := f.lease(); l <= lease || l > lease+1+MinLease {
		t.Errorf("stored lease %d after accepting %d", l, lease+1)
	}
	// The stored lease never falls below what the window accepted, even
	// when the record is written for another reason.
	if r := f.ha.sas[0x1234].record(); r.InLease < r.InHighest {
		t.Errorf("record lease %d < highest %d", r.InLease, r.InHighest)
	}
}

// ramp registers and sends 4·MinLease packets at t0 and writes what is
// due.
func (f *fixture) ramp() {
	f.t.Helper()
	f.register(1)
	f.send(t0, 4*MinLease)
	if err := f.ha.WriteLeases(); err != nil {
		f.t.Fatal(err)
	}
	leaseDue(f.ha)
}

// TestLeaseAsyncWrite: a lease written in the background (the node's
// WriteLeases) lets the window run past the old one without a wait; a
// packet beyond the old lease while that write is in flight waits for it.
func TestLeaseAsyncWrite(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.ramp()
	first, waits := f.lease(), f.ha.Stats().Leases.Waits
	for !leaseDue(f.ha) {
		if f.mn.Out.Sequence() >= first {
			t.Fatalf("no lease asked for up to %d", first)
		}
		f.send(t0, 1)
	}
	f.store.gate = make(chan struct{}) // the write in flight is held there
	done := make(chan error, 1)
	go func() { done <- f.ha.WriteLeases() }()
	testenv.Eventually(t, 5*time.Second, "lease write in flight", func() (bool, string) {
		f.ha.mu.Lock()
		defer f.ha.mu.Unlock()
		w := f.ha.sas[0x1234].in.writing
		return w != 0, fmt.Sprint("writing ", w)
	})
	for f.mn.Out.Sequence() < first {
		f.send(t0, 1) // accepted under the old lease, no wait
	}
	if w := f.ha.Stats().Leases.Waits; w != waits {
		t.Fatalf("%d waits under the old lease", w-waits)
	}
	got := make(chan error, 1)
	go func() { _, err := f.ha.HandleUDP(nil, t0, coa, f.data()); got <- err }() // first+1: waits
	close(f.store.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("Sequence Number %d after the write: %v", first+1, err)
	}
	if s := f.ha.Stats(); s.DataFromMobile != uint64(first) || s.Drops != (Drops{}) {
		t.Errorf("stats %+v", s)
	}
}

// TestLeaseWriteFails: a lease that cannot be written means the packets
// beyond the old one are dropped (`lease`) and the window is unchanged;
// once the store works again the same packet is accepted. Under
// HoldBeyondLease the packet comes back (ErrLeaseWait, no drop) and
// HandleHeld, after the failed write, drops it.
func TestLeaseWriteFails(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	f.send(t0, MinLease) // up to the lease 1 + MinLease, asked for but not written
	f.store.fail = true
	p := f.data() // beyond the lease
	if _, err := f.ha.HandleUDP(nil, t0, coa, p); !errors.Is(err, ErrLease) || !errors.Is(err, ErrDropped) || !errors.Is(err, ErrStore) {
		t.Fatalf("beyond the lease, store down: %v, want ErrLease", err)
	}
	s := f.ha.Stats()
	if s.Drops.Lease != 1 || s.Drops.Store != 0 || s.Leases.WriteFailures != 1 || f.ha.sas[0x1234].pair.In.Highest() != 1+MinLease {
		t.Fatalf("stats %+v, highest %d", s, f.ha.sas[0x1234].pair.In.Highest())
	}
	f.store.fail = false
	if _, err := f.ha.HandleUDP(nil, t0, coa, p); err != nil {
		t.Fatalf("same packet once the store works: %v", err)
	}

	for f.mn.Out.Sequence() < f.ha.sas[0x1234].in.limit {
		f.send(t0, 1)
	}
	f.ha.cfg.HoldBeyondLease = true
	p = f.data()
	if _, err := f.ha.HandleUDP(nil, t0, coa, p); !errors.Is(err, ErrLeaseWait) || errors.Is(err, ErrDropped) {
		t.Fatalf("held: %v, want ErrLeaseWait", err)
	}
	if s := f.ha.Stats(); s.Drops.Lease != 1 || s.Leases.Waits != 4 {
		t.Fatalf("held packet counted %+v", s)
	}
	f.store.fail = true
	if err := f.ha.WriteLeases(); !errors.Is(err, ErrStore) {
		t.Fatalf("write: %v", err)
	}
	if _, err := f.ha.HandleHeld(nil, t0, coa, p); !errors.Is(err, ErrLease) {
		t.Fatalf("held after a failed write: %v, want ErrLease", err)
	}
	f.store.fail = false
	if _, err := f.ha.HandleUDP(nil, t0, coa, p); !errors.Is(err, ErrLeaseWait) {
		t.Fatal(err)
	}
	if err := f.ha.WriteLeases(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ha.HandleHeld(nil, t0, coa, p); err != nil {
		t.Fatalf("held after the write: %v", err)
	}
}

// TestLeaseSize: R is half the packets accepted in the last second, at
// least MinLease, at most MaxLease, and follows the rate down; an SA idle
// for 2 s has no packet counted.
func TestLeaseSize(t *testing.T) {
	var l inboundLease
	for _, c := range []struct {
		at        time.Duration
		cur, prev uint32
		want      uint32
	}{
		{0, 0, 0, MinLease},
		{0, 1000, 0, 500},
		{500 * time.Millisecond, 1000, 1000, 750}, // half of the previous second still counts
		{0, 1 << 20, 0, MaxLease},
		{0, 10, 10, MinLease},
		{0, 2*MinLease - 1, 0, MinLease},
		{0, 2*MinLease + 2, 0, MinLease + 1},
	} {
		l.winStart, l.cur, l.prev = t0, c.cur, c.prev
		if got := l.size(t0.Add(c.at)); got != c.want {
			t.Errorf("cur %d prev %d at +%v: R %d, want %d", c.cur, c.prev, c.at, got, c.want)
		}
	}
	l.winStart, l.cur, l.prev = t0, 1000, 0
	if got := l.size(t0.Add(1500 * time.Millisecond)); got != 250 {
		t.Errorf("a second later: R %d, want 250", got)
	}
	l.winStart, l.cur, l.prev = t0, 1, 0 // one packet in [t0, t0+1s)
	if n := l.recent(t0.Add(1999 * time.Millisecond)); n == 0 {
		t.Errorf("%v after the packet's second began: none counted", 1999*time.Millisecond)
	}
	if n, r := l.recent(t0.Add(2*time.Second)), l.size(t0.Add(2*time.Second)); n != 0 || r != MinLease {
		t.Errorf("idle 2 s: %v counted, R %d; want 0, %d", n, r, MinLease)
	}
}

// TestLeaseSteadyRate: 8 s at 4,000 packets/s with the node's writer
// emulated (a write at most every 100 ms): about four writes a second, no
// packet waits once the rate is known, the lease never more than R ahead;
// then idle: TrimLeases brings the lease to the highest number.
func TestLeaseSteadyRate(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	const rate, secs = 4000, 8
	var lastWrite time.Time
	var waitsAfterFirst, writesAfterFirst uint64
	for i := range rate * secs {
		now := t0.Add(time.Duration(i) * time.Second / rate)
		f.send(now, 1)
		if now.Sub(lastWrite) >= 100*time.Millisecond && leaseDue(f.ha) {
			if err := f.ha.WriteLeases(); err != nil {
				t.Fatal(err)
			}
			lastWrite = now
		}
		if i == rate {
			waitsAfterFirst, writesAfterFirst = f.ha.Stats().Leases.Waits, f.ha.Stats().Leases.Writes
		}
		if hi, l := f.mn.Out.Sequence(), f.lease(); l < hi || l-hi > rate {
			t.Fatalf("packet %d: stored lease %d, highest %d: want within R", i, l, hi)
		}
	}
	s := f.ha.Stats()
	if s.Leases.Waits != waitsAfterFirst {
		t.Errorf("%d waits after the first second (%d before)", s.Leases.Waits-waitsAfterFirst, waitsAfterFirst)
	}
	if per := float64(s.Leases.Writes-writesAfterFirst) / (secs - 1); per > 6 {
		t.Errorf("%.1f lease writes a second, want about 4", per)
	}
	t.Logf("%d packets: %d lease writes, %d waits (all in the first second)", rate*secs, s.Leases.Writes, s.Leases.Waits)
	idle := t0.Add(secs*time.Second + 3*time.Second)
	f.ha.TrimLeases(idle)
	if err := f.ha.WriteLeases(); err != nil {
		t.Fatal(err)
	}
	if hi := f.mn.Out.Sequence(); f.lease() != hi {
		t.Errorf("idle: stored lease %d, want the highest %d", f.lease(), hi)
	}
}

// TestRestartAfterCrash: a home agent restored from what the store held
// at a crash (no Checkpoint) refuses every packet it received and every
// number up to the stored lease, and accepts the next one; after a clean
// stop (Checkpoint) the very next number is accepted.
func TestRestartAfterCrash(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	var got [][]byte
	const n = 6 * MinLease
	for range n {
		p := f.data()
		if _, err := f.ha.HandleUDP(nil, t0, coa, p); err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	sas, bs := f.store.records() // the crash: what the store holds now
	lease := sas[0].InLease
	const highest = n + 1
	if lease <= highest+1 {
		t.Fatalf("stored lease %d: want beyond the highest accepted %d (R > 0)", lease, highest)
	}
	h := New(Config{HomePrefix: homePrefix, Store: f.store})
	if err := h.Restore(t0, sas, bs); err != nil {
		t.Fatal(err)
	}
	for i, p := range got {
		if _, err := h.HandleUDP(nil, t0, coa, p); !errors.Is(err, mip6udp.ErrReplayed) && !errors.Is(err, mip6udp.ErrTooOld) {
			t.Fatalf("packet %d received before the crash: %v, want refused", i+2, err)
		}
	}
	if _, err := h.HandleUDP(nil, t0, coa, f.data()); !errors.Is(err, mip6udp.ErrReplayed) && !errors.Is(err, mip6udp.ErrTooOld) {
		t.Errorf("Sequence Number %d ≤ lease %d: %v, want refused", highest+1, lease, err)
	}
	f.mn.Out.ResumeAt(lease)
	if _, err := h.HandleUDP(nil, t0, coa, f.data()); err != nil {
		t.Fatalf("Sequence Number %d beyond the lease: %v", lease+1, err)
	}
	if s := h.Stats(); s.Drops.Replayed+s.Drops.TooOld != uint64(len(got))+1 || s.DataFromMobile != 1 {
		t.Errorf("stats %+v", s)
	}
	// A clean stop: the next number after it is accepted.
	g := &fixture{t: t, ha: h, mn: f.mn, store: f.store}
	g.send(t0, 3)
	if err := h.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	sas, bs = f.store.records()
	if sas[0].InLease != f.mn.Out.Sequence() {
		t.Fatalf("lease after the clean stop %d, want the highest %d", sas[0].InLease, f.mn.Out.Sequence())
	}
	g.ha = New(Config{HomePrefix: homePrefix, Store: f.store})
	if err := g.ha.Restore(t0, sas, bs); err != nil {
		t.Fatal(err)
	}
	g.send(t0, 1)
}
