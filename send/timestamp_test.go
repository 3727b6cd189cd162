package send

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestTimestampConversion(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want Timestamp
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(1, 0), 1 << 16},
		{time.Unix(1, 500_000_000), 1<<16 | 0x8000},
		{time.Unix(0x123456789a, 0), 0x123456789a << 16},
		{time.Unix(-5, 0), 0},
	} {
		if got := TimestampFromTime(tc.t); got != tc.want {
			t.Errorf("TimestampFromTime(%v) = %#x, want %#x", tc.t, got, tc.want)
		}
	}
	if got := Timestamp(1<<16 | 0x4000).Time(); !got.Equal(time.Unix(1, 250_000_000)) {
		t.Errorf("Time() = %v", got)
	}
	for _, ts := range []Timestamp{0, 1, 0x7fff, 0x8000, 0xffff, 0x67d446a6_0001, 0x67d446a6_ffff, 1<<63 - 1} {
		if got := TimestampFromTime(ts.Time()); got != ts {
			t.Errorf("TimestampFromTime(%#x.Time()) = %#x", ts, got)
		}
	}
}

// TestTimestampWindow checks -Delta < RDnew - TSnew < +Delta at its edges
// for a new peer (RFC 3971 §5.3.4.2), to the 1/65536 s.
func TestTimestampWindow(t *testing.T) {
	peer := netip.MustParseAddr("fe80::1")
	ts := TimestampFromTime(testTime)
	delta := int64(DefaultTimestampDelta / time.Second << 16)
	for _, tc := range []struct {
		off  int64 // RDnew - TSnew in 1/65536 s
		want error
	}{
		{0, nil},
		{delta - 1, nil},
		{delta, ErrTimestampWindow},
		{-delta + 1, nil},
		{-delta, ErrTimestampWindow},
		{10 * delta, ErrTimestampWindow},
	} {
		c, err := NewTimestampCache(DefaultTimestampParams, 8)
		if err != nil {
			t.Fatal(err)
		}
		rd := Timestamp(int64(ts) + tc.off).Time()
		if TimestampFromTime(rd) != Timestamp(int64(ts)+tc.off) {
			t.Fatalf("Time/TimestampFromTime do not round-trip at %d", tc.off)
		}
		err = c.Check(peer, ts, rd, true)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("RDnew-TSnew=%d units: %v, want %v", tc.off, err, tc.want)
		}
		if stateless := checkWindow(ts, rd, DefaultTimestampDelta); (stateless == nil) != (err == nil) {
			t.Errorf("RDnew-TSnew=%d units: stateless %v, cache %v", tc.off, stateless, err)
		}
		if want := 0; err == nil {
			want = 1
			if c.Len() != want {
				t.Errorf("accepted new peer not stored")
			}
		} else if c.Len() != 0 {
			t.Errorf("rejected new peer stored")
		}
	}
}

// TestTimestampKnownPeer checks TSnew + fuzz > TSlast + (RDnew - RDlast) x
// (1 - drift) - fuzz and the update rule (RFC 3971 §5.3.4.2).
func TestTimestampKnownPeer(t *testing.T) {
	peer := netip.MustParseAddr("fe80::1")
	c, err := NewTimestampCache(DefaultTimestampParams, 8)
	if err != nil {
		t.Fatal(err)
	}
	rd0 := testTime
	ts0 := TimestampFromTime(testTime)
	if err := c.Check(peer, ts0, rd0, true); err != nil {
		t.Fatal(err)
	}
	// 100 s later: 100 x 0.99 = 99 s; the bound is TSnew > TSlast + 97 s.
	rd := rd0.Add(100 * time.Second)
	edge := ts0 + 97<<16
	if err := c.Check(peer, edge, rd, false); !errors.Is(err, ErrTimestampOlder) || !errors.Is(err, ErrVerify) {
		t.Errorf("TSnew = TSlast + 97 s: %v, want ErrTimestampOlder", err)
	}
	if err := c.Check(peer, edge+1, rd, false); err != nil {
		t.Errorf("TSnew = TSlast + 97 s + 1/65536: %v", err)
	}
	// Drift: without it the bound would be 98 s.
	c0, _ := NewTimestampCache(TimestampParams{Delta: DefaultTimestampDelta, Fuzz: time.Second}, 8)
	_ = c0.Check(peer, ts0, rd0, true)
	if err := c0.Check(peer, ts0+98<<16, rd, false); !errors.Is(err, ErrTimestampOlder) {
		t.Errorf("drift 0, TSnew = TSlast + 98 s: %v", err)
	}
	if err := c0.Check(peer, ts0+98<<16+1, rd, false); err != nil {
		t.Errorf("drift 0, TSnew = TSlast + 98 s + 1 unit: %v", err)
	}
	// A known peer is not held to the ±Delta window.
	if err := c.Check(peer, ts0+3600<<16, rd, false); err != nil {
		t.Errorf("known peer far ahead: %v", err)
	}
	// Accepted but TSnew <= TSlast: no update ("MUST NOT update").
	if err := c.Check(peer, ts0, rd0.Add(time.Second), true); err != nil {
		t.Fatal(err)
	}
	if e := c.l.m[peer].val; e.ts != int64(ts0) || !e.rd.Equal(rd0) {
		t.Errorf("TSnew == TSlast updated the entry to %+v", e)
	}
	// Accepted and newer: update.
	if err := c.Check(peer, ts0+100<<16, rd, true); err != nil {
		t.Fatal(err)
	}
	if e := c.l.m[peer].val; e.ts != int64(ts0+100<<16) || !e.rd.Equal(rd) {
		t.Errorf("not updated: %+v", e)
	}
	// A check without commit never updates.
	if err := c.Check(peer, ts0+200<<16, rd, false); err != nil {
		t.Fatal(err)
	}
	if e := c.l.m[peer].val; e.ts != int64(ts0+100<<16) {
		t.Errorf("uncommitted check updated: %+v", e)
	}
}

// TestTimestampExtremes: no overflow on absurd values.
func TestTimestampExtremes(t *testing.T) {
	peer := netip.MustParseAddr("fe80::1")
	c, _ := NewTimestampCache(DefaultTimestampParams, 8)
	for _, ts := range []Timestamp{0, 1, ^Timestamp(0), 1 << 63} {
		if err := c.Check(peer, ts, testTime, false); !errors.Is(err, ErrTimestampWindow) {
			t.Errorf("ts %#x: %v", ts, err)
		}
	}
	_ = c.Check(peer, TimestampFromTime(testTime), testTime, true)
	for _, rd := range []time.Time{{}, time.Unix(1<<62, 0), time.Unix(-1<<62, 0)} {
		for _, ts := range []Timestamp{0, ^Timestamp(0)} {
			_ = c.Check(peer, ts, rd, false) // must not panic
		}
	}
	if got := driftScale(-100<<16, 10000); got != -99<<16 {
		t.Errorf("driftScale(-100 s) = %d", got)
	}
}

func TestTimestampParamsValidate(t *testing.T) {
	for _, p := range []TimestampParams{
		{Delta: 0, Fuzz: 0, Drift: 0},
		{Delta: time.Second, Fuzz: 2 * time.Second},
		{Delta: time.Second, Drift: 1},
		{Delta: time.Second, Drift: -0.1},
		{Delta: 25 * time.Hour},
	} {
		if _, err := NewTimestampCache(p, 1); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}

// TestTimestampCacheEviction: the least recently accepted peer goes first.
func TestTimestampCacheEviction(t *testing.T) {
	c, _ := NewTimestampCache(DefaultTimestampParams, 2)
	ts := TimestampFromTime(testTime)
	a, b, d := netip.MustParseAddr("fe80::a"), netip.MustParseAddr("fe80::b"), netip.MustParseAddr("fe80::d")
	_ = c.Check(a, ts, testTime, true)
	_ = c.Check(b, ts, testTime, true)
	_ = c.Check(a, ts+1, testTime, true) // a updated: b is now the oldest
	_ = c.Check(d, ts, testTime, true)
	if c.Len() != 2 || c.l.m[b] != nil || c.l.m[a] == nil || c.l.m[d] == nil {
		t.Fatalf("after eviction: len %d, a %v b %v d %v", c.Len(), c.l.m[a] != nil, c.l.m[b] != nil, c.l.m[d] != nil)
	}
}

func TestNonceMatcher(t *testing.T) {
	m := NewNonceMatcher(2)
	n1, n2, n3 := []byte("nonce1"), []byte("nonce2"), []byte("nonce3")
	if err := m.Expect(n1[:5], testTime, 1); !errors.Is(err, ErrSign) {
		t.Errorf("5-octet nonce: %v", err)
	}
	_ = m.Expect(n1, testTime.Add(time.Minute), 1)
	_ = m.Expect(n2, testTime.Add(2*time.Minute), 2)
	if m.match(n3, testTime, true) {
		t.Error("unknown nonce matched")
	}
	if !m.match(n1, testTime, false) || !m.match(n1, testTime, true) || m.match(n1, testTime, true) {
		t.Error("peek/consume of a one-answer nonce wrong")
	}
	if !m.match(n2, testTime, true) || !m.match(n2, testTime, true) || m.match(n2, testTime, true) {
		t.Error("two-answer nonce wrong")
	}
	// Expiry.
	_ = m.Expect(n1, testTime.Add(time.Second), 1)
	if m.match(n1, testTime.Add(time.Second), true) || m.Len() != 0 {
		t.Errorf("expired nonce matched or kept (len %d)", m.Len())
	}
	// Full: the one expiring first is dropped.
	_ = m.Expect(n1, testTime.Add(time.Hour), 1)
	_ = m.Expect(n2, testTime.Add(time.Minute), 1)
	_ = m.Expect(n3, testTime.Add(time.Hour), 1)
	if m.Len() != 2 || m.match(n2, testTime, false) || !m.match(n1, testTime, false) || !m.match(n3, testTime, false) {
		t.Error("eviction did not drop the earliest expiry")
	}
	// The stored nonce is a copy.
	buf := bytes.Clone(n1)
	m2 := NewNonceMatcher(1)
	_ = m2.Expect(buf, testTime.Add(time.Hour), 1)
	buf[0] ^= 1
	if !m2.match(n1, testTime, false) {
		t.Error("Expect aliases the caller's slice")
	}
}

func TestReplayCache(t *testing.T) {
	c := NewReplayCache(2, time.Minute)
	a := netip.MustParseAddr("fe80::a")
	k1, k2, k3 := replayKey(a, []byte("nonce1")), replayKey(a, []byte("nonce2")), replayKey(a, []byte("nonce3"))
	if replayKey(netip.MustParseAddr("fe80::b"), []byte("nonce1")) == k1 {
		t.Fatal("replay key ignores the address")
	}
	if c.seen(k1, testTime, true) || !c.seen(k1, testTime.Add(59*time.Second), true) {
		t.Error("replay within the window not seen")
	}
	if c.seen(k1, testTime.Add(time.Minute), false) {
		t.Error("replay after the window seen")
	}
	_ = c.seen(k1, testTime, true)
	_ = c.seen(k2, testTime, true)
	_ = c.seen(k3, testTime, true)
	if c.Len() != 2 || c.seen(k1, testTime, false) {
		t.Error("bound not kept or oldest not evicted")
	}
}
