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

// TestLeaseBoundary: a new SA's lease (MinLease) is stored with it; the
// packets up to it are accepted without a write, the lease is asked for
// R/2 before it, and a packet beyond it waits for a synchronous write and
// is then accepted.
func TestLeaseBoundary(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	if f.lease() != MinLease {
		t.Fatalf("stored lease of a new SA %d, want %d", f.lease(), MinLease)
	}
	f.register(1)
	f.send(t0, MinLease/2-2) // Sequence Numbers 2..7
	if leaseDue(f.ha) {
		t.Fatal("lease asked for 9 numbers before it")
	}
	f.send(t0, 1) // 8: R/2 = 8 left
	if !leaseDue(f.ha) {
		t.Fatal("no lease asked for at R/2 before it")
	}
	f.send(t0, MinLease-8) // up to 16, no writer running
	if f.store.leaseWrites != 0 || f.lease() != MinLease {
		t.Fatalf("%d lease writes up to the lease, stored %d", f.store.leaseWrites, f.lease())
	}
	f.send(t0, 1) // 17: beyond, written on the packet path
	s := f.ha.Stats()
	if s.Leases.Waits != 1 || s.Leases.Writes != 1 || f.store.leaseWrites != 1 || s.DataFromMobile != MinLease {
		t.Fatalf("after Sequence Number 17: %+v, store writes %d", s, f.store.leaseWrites)
	}
	if l := f.lease(); l < 17 || l > 17+MaxLease {
		t.Errorf("stored lease %d after accepting 17", l)
	}
	// The stored lease never falls below what the window accepted, even
	// when the record is written for another reason.
	if r := f.ha.sas[0x1234].record(); r.InLease < r.InHighest {
		t.Errorf("record lease %d < highest %d", r.InLease, r.InHighest)
	}
}

// TestLeaseAsyncWrite: a lease written in the background (the node's
// WriteLeases) lets the window run past the old one without a wait; a
// packet beyond the old lease while that write is in flight waits for it.
func TestLeaseAsyncWrite(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	f.send(t0, 7) // 8: asks
	if !leaseDue(f.ha) {
		t.Fatal("no lease asked for")
	}
	if err := f.ha.WriteLeases(); err != nil {
		t.Fatal(err)
	}
	first := f.lease()
	if first <= MinLease {
		t.Fatalf("background lease %d, want beyond %d", first, MinLease)
	}
	// The write in flight is held at the store's gate.
	f.store.gate = make(chan struct{})
	f.send(t0, int(first)-8-int(first-8)/2) // up to where the next one is asked for
	f.send(t0, 1)
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
// once the store works again the same packet is accepted.
func TestLeaseWriteFails(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	f.send(t0, MinLease-1)
	f.store.fail = true
	if err := f.ha.WriteLeases(); !errors.Is(err, ErrStore) {
		t.Fatalf("background write: %v, want ErrStore", err)
	}
	p := f.data() // 17
	if _, err := f.ha.HandleUDP(nil, t0, coa, p); !errors.Is(err, ErrLease) || !errors.Is(err, ErrDropped) {
		t.Fatalf("beyond the lease, store down: %v, want ErrLease", err)
	}
	s := f.ha.Stats()
	if s.Drops.Lease != 1 || s.Drops.Store != 0 || s.Leases.WriteFailures != 2 || f.ha.sas[0x1234].pair.In.Highest() != MinLease {
		t.Fatalf("stats %+v, highest %d", s, f.ha.sas[0x1234].pair.In.Highest())
	}
	f.store.fail = false
	if _, err := f.ha.HandleUDP(nil, t0, coa, p); err != nil {
		t.Fatalf("same packet once the store works: %v", err)
	}
}

// TestLeaseSize: R is half the packets accepted in the last second,
// within MinLease..MaxLease, and follows the rate down.
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
	if got := l.size(t0.Add(5 * time.Second)); got != MinLease {
		t.Errorf("idle: R %d, want %d", got, MinLease)
	}
}

// TestLeaseSteadyRate: 8 s at 4,000 packets/s with the node's writer
// emulated (a write at most every 100 ms): about four writes a second, no
// packet waits once the rate is known, the lease never more than R ahead;
// then idle: TrimLeases brings the lease to highest + MinLease.
func TestLeaseSteadyRate(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	const rate, secs = 4000, 8
	var lastWrite time.Time
	var waitsAfterFirst uint64
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
			waitsAfterFirst = f.ha.Stats().Leases.Waits
		}
		if hi, l := f.mn.Out.Sequence(), f.lease(); l < hi || l-hi > rate {
			t.Fatalf("packet %d: stored lease %d, highest %d: want within R", i, l, hi)
		}
	}
	s := f.ha.Stats()
	if s.Leases.Waits != waitsAfterFirst {
		t.Errorf("%d waits after the first second (%d before)", s.Leases.Waits-waitsAfterFirst, waitsAfterFirst)
	}
	if per := float64(s.Leases.Writes) / secs; per > 7 {
		t.Errorf("%.1f lease writes a second, want about 4", per)
	}
	t.Logf("%d packets: %d lease writes, %d waits (all in the first second)", rate*secs, s.Leases.Writes, s.Leases.Waits)
	idle := t0.Add(secs*time.Second + 3*time.Second)
	f.ha.TrimLeases(idle)
	if err := f.ha.WriteLeases(); err != nil {
		t.Fatal(err)
	}
	if hi := f.mn.Out.Sequence(); f.lease() != hi+MinLease {
		t.Errorf("idle: stored lease %d, want highest %d + %d", f.lease(), hi, MinLease)
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
	for range 40 {
		p := f.data()
		if _, err := f.ha.HandleUDP(nil, t0, coa, p); err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	sas, bs := f.store.records() // the crash: what the store holds now
	lease := sas[0].InLease
	if lease < 41 {
		t.Fatalf("stored lease %d below the highest accepted 41", lease)
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
	if _, err := h.HandleUDP(nil, t0, coa, f.data()); !errors.Is(err, mip6udp.ErrReplayed) {
		t.Errorf("Sequence Number 42 ≤ lease %d: %v, want ErrReplayed", lease, err)
	}
	f.mn.Out.ResumeAt(lease)
	if _, err := h.HandleUDP(nil, t0, coa, f.data()); err != nil {
		t.Fatalf("Sequence Number %d beyond the lease: %v", lease+1, err)
	}
	if s := h.Stats(); s.Drops.Replayed+s.Drops.TooOld != 41 || s.DataFromMobile != 1 {
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
