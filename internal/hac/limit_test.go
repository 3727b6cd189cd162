package hac

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// TestSourceLimiterBurstAndRefill: a source gets Burst connections at
// once, then one per 1/PerSecond; another source is not charged.
func TestSourceLimiterBurstAndRefill(t *testing.T) {
	l := NewSourceLimiter(Rate{PerSecond: 2, Burst: 3}, 0)
	t0 := time.Unix(1000, 0)
	a := netip.MustParseAddr("2001:db8:1::1")
	for i := range 3 {
		if !l.Allow(a, t0) {
			t.Fatalf("connection %d of the burst refused", i+1)
		}
	}
	if l.Allow(a, t0) {
		t.Fatal("4th connection of a burst of 3 allowed")
	}
	if !l.Allow(netip.MustParseAddr("2001:db8:2::1"), t0) {
		t.Fatal("another /64 refused")
	}
	if l.Allow(a, t0.Add(499*time.Millisecond)) {
		t.Fatal("allowed before a token refilled (2/s)")
	}
	if !l.Allow(a, t0.Add(500*time.Millisecond)) {
		t.Fatal("refused after 0.5 s at 2/s")
	}
	if l.Allow(a, t0.Add(500*time.Millisecond)) {
		t.Fatal("the refilled token was given twice")
	}
	// A long idle period refills to Burst, not beyond.
	t1 := t0.Add(time.Hour)
	for i := range 3 {
		if !l.Allow(a, t1) {
			t.Fatalf("after an hour: connection %d refused", i+1)
		}
	}
	if l.Allow(a, t1) {
		t.Fatal("an hour idle gave more than Burst")
	}
}

// TestSourceKey: IPv6 sources are charged per /64, IPv4 per address, an
// IPv4-mapped address as its IPv4 address, zones ignored.
func TestSourceKey(t *testing.T) {
	for _, tc := range []struct{ a, want string }{
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
	} {
		if got := SourceKey(netip.MustParseAddr(tc.a)); got != netip.MustParsePrefix(tc.want) {
			t.Errorf("SourceKey(%s) = %v, want %s", tc.a, got, tc.want)
		}
	}
	l := NewSourceLimiter(Rate{PerSecond: 1, Burst: 1}, 0)
	now := time.Unix(1, 0)
	if !l.Allow(netip.MustParseAddr("2001:db8::1"), now) || l.Allow(netip.MustParseAddr("2001:db8::2"), now) {
		t.Fatal("two addresses of one /64 are not one source")
	}
	if !l.Allow(netip.MustParseAddr("192.0.2.1"), now) || l.Allow(netip.MustParseAddr("::ffff:192.0.2.1"), now) {
		t.Fatal("an IPv4-mapped address is not its IPv4 address")
	}
}

// TestSourceLimiterBounded: however many sources connect, the table keeps
// at most MaxTracked buckets; refilled buckets are dropped first, so a
// source still limited keeps its empty bucket when others have refilled.
func TestSourceLimiterBounded(t *testing.T) {
	const max = 64
	l := NewSourceLimiter(Rate{PerSecond: 1, Burst: 1}, max)
	now := time.Unix(1, 0)
	for i := range 10 * max {
		l.Allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), now)
		if n := l.Len(); n > max {
			t.Fatalf("after %d sources: %d buckets, bound %d", i+1, n, max)
		}
	}
	// Refilled buckets go first: one source drained now, the table filled
	// with sources drained 2 s ago (refilled at 1/s).
	l = NewSourceLimiter(Rate{PerSecond: 1, Burst: 1}, max)
	for i := range max - 1 {
		l.Allow(netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}), now)
	}
	later := now.Add(2 * time.Second)
	hot := netip.MustParseAddr("192.0.2.1")
	l.Allow(hot, later)
	l.Allow(netip.MustParseAddr("192.0.2.2"), later) // full: the sweep
	if l.Len() != 2 {
		t.Fatalf("%d buckets after the sweep, want the 2 not refilled", l.Len())
	}
	if l.Allow(hot, later) {
		t.Fatal("the drained source got a fresh bucket from the sweep")
	}
}

// TestSourceLimiterSet: a reload keeps the buckets (no fresh burst),
// caps them at the new Burst, and an unlimited rate admits everything.
func TestSourceLimiterSet(t *testing.T) {
	l := NewSourceLimiter(Rate{PerSecond: 1, Burst: 5}, 0)
	now := time.Unix(1, 0)
	a := netip.MustParseAddr("2001:db8::1")
	for range 5 {
		l.Allow(a, now)
	}
	l.Set(Rate{PerSecond: 1, Burst: 10}, 0, now)
	if l.Allow(a, now) {
		t.Fatal("a reload refilled a drained bucket")
	}
	b := netip.MustParseAddr("2001:db8:9::1")
	l.Set(Rate{PerSecond: 1, Burst: 2}, 0, now)
	n := 0
	for l.Allow(b, now) {
		n++
	}
	if n != 2 {
		t.Fatalf("%d connections from a new source, want the new Burst 2", n)
	}
	l.Set(Rate{}, 0, now)
	for i := range 100 {
		if !l.Allow(a, now) {
			t.Fatalf("unlimited: connection %d refused", i)
		}
	}
	if l.Len() != 0 {
		t.Fatalf("unlimited keeps %d buckets", l.Len())
	}
	l.Set(Rate{PerSecond: 1, Burst: 1}, 8, now)
	for i := range 20 {
		l.Allow(netip.MustParseAddr(fmt.Sprintf("2001:db8:%x::1", i)), now)
	}
	l.Set(Rate{PerSecond: 1, Burst: 1}, 4, now)
	if l.Len() > 4 {
		t.Fatalf("%d buckets after lowering the bound to 4", l.Len())
	}
}
