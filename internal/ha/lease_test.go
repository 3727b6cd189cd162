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

// TestLeaseBoundary: a new SA's lease is 0 and, below ExactBelow packets
// a second, each packet waits for a lease of exactly its number; from
// 256 packets in the second on the lease runs R ahead, the packets up
// to it are accepted without a write, a new one is asked for R/2 before
// it, and a packet beyond it waits for a synchronous write.
func TestLeaseBoundary(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	if f.lease() != 0 {
		t.Fatalf("stored lease of a new SA %d, want 0", f.lease())
	}
	f.register(1)
	f.send(t0, ExactBelow-1) // 2..256
	if s := f.ha.Stats(); s.Leases.Waits != ExactBelow || s.Leases.Writes != ExactBelow || f.lease() != ExactBelow {
		t.Fatalf("slow SA: %+v, stored lease %d; want a write per packet, lease = highest", s.Leases, f.lease())
	}
	leaseDue(f.ha)
	f.send(t0, 1) // 257: R = 128
	leaseDue(f.ha)
	lease := f.lease()
	if lease != 257+ExactBelow/2 {
		t.Fatalf("stored lease %d after 257 at R = 128, want %d", lease, 257+ExactBelow/2)
	}
	asked := uint32(0)
	for f.mn.Out.Sequence() < lease {
		f.send(t0, 1)
		if asked == 0 && leaseDue(f.ha) {
			asked = f.mn.Out.Sequence()
		}
	}
	if s := f.ha.Stats(); s.Leases.Writes != ExactBelow+1 || f.lease() != lease {
		t.Fatalf("up to the lease: %+v, stored %d; want no write", s.Leases, f.lease())
	}
	// At k the SA accepted k-1 packets this second: R = (k-1)/2, asked
	// for at the first k with k + R/2 ≥ lease (309 + 154/2 ≥ 385).
	if asked != 309 {
		t.Errorf("new lease asked at %d, lease %d: want at 309, R/2 before it", asked, lease)
	}
	f.send(t0, 1) // beyond, written on the packet path
	s := f.ha.Stats()
	if s.Leases.Waits != ExactBelow+2 || s.DataFromMobile != uint64(lease) {
		t.Fatalf("beyond the lease: %+v, data %d", s.Leases, s.DataFromMobile)
	}
	if l := f.lease(); l <= lease || l > lease+MaxLease {
		t.Errorf("stored lease %d after accepting %d", l, lease+1)
	}
	// The stored lease never falls below what the window accepted, even
	// when the record is written for another reason.
	if r := f.ha.sas[0x1234].record(); r.InLease < r.InHighest {
		t.Errorf("record lease %d < highest %d", r.InLease, r.InHighest)
	}
}

// ramp registers and sends ExactBelow + 8 packets at t0, so that the
// SA's lease runs ahead, and writes what is due.
func (f *fixture) ramp() {
	f.t.Helper()
	f.register(1)
	f.send(t0, ExactBelow+7)
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
	f.store.fail = true
	p := f.data() // 2, beyond the lease 1
	if _, err := f.ha.HandleUDP(nil, t0, coa, p); !errors.Is(err, ErrLease) || !errors.Is(err, ErrDropped) || !errors.Is(err, ErrStore) {
		t.Fatalf("beyond the lease, store down: %v, want ErrLease", err)
	}
	s := f.ha.Stats()
	if s.Drops.Lease != 1 || s.Drops.Store != 0 || s.Leases.WriteFailures != 1 || f.ha.sas[0x1234].pair.In.Highest() != 1 {
		t.Fatalf("stats %+v, highest %d", s, f.ha.sas[0x1234].pair.In.Highest())
	}
	f.store.fail = false
	if _, err := f.ha.HandleUDP(nil, t0, coa, p); err != nil {
		t.Fatalf("same packet once the store works: %v", err)
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
// most MaxLease, 0 below ExactBelow, and follows the rate down.
func TestLeaseSize(t *testing.T) {
	var l inboundLease
	for _, c := range []struct {
		at        time.Duration
		cur, prev uint32
		want      uint32
	}{
		{0, 0, 0, 0},
		{0, 1000, 0, 500},
		{500 * time.Millisecond, 1000, 1000, 750}, // half of the previous second still counts
		{0, 1 << 20, 0, MaxLease},
		{0, 10, 10, 0},
		{0, ExactBelow - 1, 0, 0},
		{0, ExactBelow, 0, ExactBelow / 2},
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
	if got := l.size(t0.Add(5 * time.Second)); got != 0 {
		t.Errorf("idle: R %d, want 0", got)
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
	for range ExactBelow + 40 {
		p := f.data()
		if _, err := f.ha.HandleUDP(nil, t0, coa, p); err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	sas, bs := f.store.records() // the crash: what the store holds now
	lease := sas[0].InLease
	const highest = ExactBelow + 41
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
