package certdisc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/ndp"
)

func fetchCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestExchange runs a full exchange over the in-memory link for the path
// anchor → CA → router and checks every CPS and CPA field on the wire.
func TestExchange(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	r := startResponder(t, tb.router, ResponderConfig{Paths: []Path{l.path()}})
	cache := certpath.NewCache(8)
	s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.other, l.anchor}, Retry: time.Second, Cache: cache})

	a, err := s.FetchPath(fetchCtx(t), routerLL, []netip.Prefix{routerPrefix})
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyHash != l.routerKeyHash || a.Anchor != l.anchor || len(a.Path) != 2 {
		t.Fatalf("authorization: key hash %x, anchor %v, %d certificates", a.KeyHash, a.Anchor.Certificate.Subject, len(a.Path))
	}
	if got, ok := cache.Get(l.routerKeyHash, time.Now()); !ok || got != a {
		t.Fatal("verified path not in the cache")
	}

	cps := tb.packets(ndp.TypeCertificationPathSolicitation)
	if len(cps) != 1 {
		t.Fatalf("%d solicitations, want 1", len(cps))
	}
	p := cps[0]
	if p.Src != hostLL || p.Dst != routerLL || p.HopLimit != 255 || p.NextHeader != 58 {
		t.Errorf("CPS IPv6 fields: %v → %v hop limit %d next header %d", p.Src, p.Dst, p.HopLimit, p.NextHeader)
	}
	id := binary.BigEndian.Uint16(p.Payload[4:])
	if id == 0 {
		t.Error("CPS Identifier is zero (RFC 3971 §6.4.1: MUST NOT be zero)")
	}
	want := cat(
		[]byte{148},        // Type: Certification Path Solicitation
		[]byte{0},          // Code
		p.Payload[2:4],     // Checksum (checked below)
		be16(id),           // Identifier
		[]byte{0xff, 0xff}, // Component: 65,535, all certificates
		taOption(l.other),  // Trust Anchor: first anchor, DER Name
		taOption(l.anchor), // Trust Anchor: second anchor, DER Name
	)
	if string(p.Payload) != string(want) {
		t.Errorf("CPS\n got %x\nwant %x", p.Payload, want)
	}
	if err := ndp.VerifyChecksum(p.Src, p.Dst, p.Payload); err != nil {
		t.Error(err)
	}

	cpa := tb.packets(ndp.TypeCertificationPathAdvertisement)
	if len(cpa) != 2 {
		t.Fatalf("%d advertisements, want 2 (anchor certificate not sent)", len(cpa))
	}
	wantCPA := [][]byte{
		cat(
			[]byte{149, 0},      // Type: CPA, Code
			cpa[0].Payload[2:4], // Checksum
			be16(id),            // Identifier: echoed
			be16(2),             // All Components
			be16(1),             // Component: N-1, first message
			be16(0),             // Reserved
			taOption(l.anchor),  // Trust Anchor: the one the path was found for
			certOption(l.caDER), // Certificate: after the anchor, first
		),
		cat(
			[]byte{149, 0},          // Type: CPA, Code
			cpa[1].Payload[2:4],     // Checksum
			be16(id),                // Identifier: echoed
			be16(2),                 // All Components
			be16(0),                 // Component: 0, no more to come
			be16(0),                 // Reserved
			certOption(l.routerDER), // Certificate: the router's, last
		),
	}
	for i, p := range cpa {
		if p.Src != routerLL || p.Dst != SolicitedNodeMulticast(hostLL) || p.HopLimit != 255 {
			t.Errorf("CPA %d IPv6 fields: %v → %v hop limit %d", i, p.Src, p.Dst, p.HopLimit)
		}
		if string(p.Payload) != string(wantCPA[i]) {
			t.Errorf("CPA %d\n got %x\nwant %x", i, p.Payload, wantCPA[i])
		}
		if err := ndp.VerifyChecksum(p.Src, p.Dst, p.Payload); err != nil {
			t.Errorf("CPA %d: %v", i, err)
		}
	}
	waitStats(t, r.Stats, func(st ResponderStats) bool { return st.Advertisements == 2 })
	if st := r.Stats(); st.Solicitations != 1 || st.Advertisements != 2 {
		t.Errorf("responder stats %+v", st)
	}
	if st := s.Stats(); st.Exchanges != 1 || st.Solicitations != 1 || st.Components != 2 || st.PathsVerified != 1 {
		t.Errorf("solicitor stats %+v", st)
	}
}

// waitStats waits until cond holds for the statistics stats returns, for
// at most 5 s: the other side's counters are updated after the packet that
// ends an exchange.
func waitStats[T any](t *testing.T, stats func() T, cond func(T) bool) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, "statistics", func() (bool, string) {
		st := stats()
		return cond(st), fmt.Sprintf("%+v", st)
	})
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// taOption is the wire form of a Trust Anchor option with a DER Name.
func taOption(ta *certpath.TrustAnchor) []byte {
	name := ta.Certificate.RawSubject
	n := 4 + len(name)
	pad := (8 - n%8) % 8
	return cat(
		[]byte{15},                  // Type: Trust Anchor
		[]byte{byte((n + pad) / 8)}, // Length in 8-octet units
		[]byte{1},                   // Name Type: DER Encoded X.501 Name
		[]byte{byte(pad)},           // Pad Length
		name,                        // Name
		make([]byte, pad),           // Padding
	)
}

// certOption is the wire form of a Certificate option.
func certOption(der []byte) []byte {
	n := 4 + len(der)
	pad := (8 - n%8) % 8
	return cat(
		[]byte{16},                  // Type: Certificate
		[]byte{byte((n + pad) / 8)}, // Length in 8-octet units
		[]byte{1},                   // Cert Type: X.509v3
		[]byte{0},                   // Reserved
		der,                         // Certificate
		make([]byte, pad),           // Padding
	)
}

// TestOutOfOrderDuplicatesUnmatched plays the router by hand: components
// arrive last first, duplicated, with a stray Identifier and a wrong hop
// limit in between; the path still assembles and verifies once.
func TestOutOfOrderDuplicatesUnmatched(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}, Retry: 5 * time.Second})

	type result struct {
		a   *certpath.Authorization
		err error
	}
	res := make(chan result, 1)
	go func() {
		a, err := s.FetchPath(fetchCtx(t), routerLL, []netip.Prefix{routerPrefix})
		res <- result{a, err}
	}()
	p, err := tb.router.ReadPacket(fetchCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	id := binary.BigEndian.Uint16(p.Payload[4:])
	dst := SolicitedNodeMulticast(hostLL)
	send := func(m *ndp.CertificationPathAdvertisement, hop uint8) {
		pk := cpaPacket(t, m, routerLL, dst)
		pk.HopLimit = hop
		if err := tb.router.WritePacket(context.Background(), pk); err != nil {
			t.Fatal(err)
		}
	}
	send(component(id, 2, 0, l.routerDER), 255) // last component first
	send(component(id, 2, 0, l.routerDER), 255) // duplicate
	send(component(id^1, 2, 1, l.caDER), 255)   // unknown Identifier
	send(component(id, 2, 1, l.caDER), 64)      // hop limit not 255
	send(component(id, 2, 0, l.caDER), 255)     // same Component, other certificate
	send(component(id, 2, 1, l.caDER), 255)     // completes the path
	got := <-res
	if got.err != nil {
		t.Fatal(got.err)
	}
	if got.a.KeyHash != l.routerKeyHash {
		t.Fatal("wrong key")
	}
	st := s.Stats()
	want := SolicitorStats{Exchanges: 1, Solicitations: 1, Components: 2, PathsVerified: 1,
		DroppedDuplicate: 1, DroppedUnmatched: 1, DroppedHopLimit: 1, DroppedInconsistent: 1}
	if st != want {
		t.Errorf("stats\n got %+v\nwant %+v", st, want)
	}
}

// TestRejected covers answers that must not yield an authorization.
func TestRejected(t *testing.T) {
	l := testLab()
	for _, tc := range []struct {
		name     string
		anchors  []*certpath.TrustAnchor
		prefixes []netip.Prefix
		want     error
	}{
		// Same Subject as the router's anchor, another key: the path
		// matches the Trust Anchor option but does not chain to it.
		{"untrusted anchor", []*certpath.TrustAnchor{l.impostor}, nil, certpath.ErrUntrustedAnchor},
		// The router has no path to this anchor: CPA without certificates.
		{"no path", []*certpath.TrustAnchor{l.other}, nil, ErrNoPath},
		// The router certificate holds 2001:db8:1::/48 only.
		{"prefix not authorized", []*certpath.TrustAnchor{l.anchor}, []netip.Prefix{routerPrefix, otherPrefix}, certpath.ErrPrefixNotAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTestbed(t)
			startResponder(t, tb.router, ResponderConfig{Paths: []Path{l.path()}})
			s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: tc.anchors, Retry: 50 * time.Millisecond})
			a, err := s.FetchPath(fetchCtx(t), routerLL, tc.prefixes)
			if !errors.Is(err, tc.want) || a != nil {
				t.Fatalf("FetchPath = %v, %v; want %v", a, err, tc.want)
			}
		})
	}
}

// TestRetransmission loses the first CPS: the host retries after
// CPS_RETRY and succeeds.
func TestRetransmission(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	startResponder(t, tb.router, ResponderConfig{Paths: []Path{l.path()}})
	lossy := &dropFirst{Conn: tb.host, n: 1}
	s := startSolicitor(t, lossy, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}, Retry: 150 * time.Millisecond})
	start := time.Now()
	if _, err := s.FetchPath(fetchCtx(t), routerLL, nil); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Errorf("answered after %v, before CPS_RETRY", el)
	}
	// Solicitations counts the lost one; a loaded machine may need a third.
	if st := s.Stats(); st.Solicitations < 2 || st.Retransmissions != st.Solicitations-1 || st.PathsVerified != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestTimeout: nobody answers; the retrieval ends at CPS_RETRY_MAX after
// retransmissions whose waits double (§6.4.6): sent at 0, 1, 3 and 7
// units, the next (15) being beyond CPS_RETRY_MAX (10). Timers may fire
// late on a loaded machine, never early, so each wait is at least twice
// the one before.
func TestTimeout(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	const unit = 40 * time.Millisecond
	s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}, Retry: unit, RetryMax: 10 * unit})
	start := time.Now()
	_, err := s.FetchPath(fetchCtx(t), routerLL, nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if el := time.Since(start); el < 10*unit {
		t.Errorf("gave up after %v", el)
	}
	sent := tb.times(ndp.TypeCertificationPathSolicitation)
	if len(sent) < 2 || len(sent) > 4 {
		t.Fatalf("%d solicitations, want at most 4", len(sent))
	}
	for i := 1; i < len(sent); i++ {
		if gap, min := sent[i].Sub(sent[i-1]), unit<<(i-1); gap < min-time.Millisecond {
			t.Errorf("wait %d: %v, want at least %v", i, gap, min)
		}
	}
	if st := s.Stats(); st.Solicitations != uint64(len(sent)) || st.Timeouts != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestCacheHit: a second request, by address or by key hash, is answered
// from the cache with no exchange; a key hash the router does not hold
// triggers one exchange and ErrKeyMismatch.
func TestCacheHit(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	startResponder(t, tb.router, ResponderConfig{Paths: []Path{l.path()}})
	s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}})
	ctx := fetchCtx(t)
	first, err := s.FetchPath(ctx, routerLL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := s.FetchPath(ctx, routerLL, []netip.Prefix{routerPrefix}); err != nil || a != first {
		t.Fatalf("by address: %v, %v", a, err)
	}
	if a, err := s.FetchKey(ctx, netip.MustParseAddr("fe80::99"), l.routerKeyHash, nil); err != nil || a != first {
		t.Fatalf("by key hash: %v, %v", a, err)
	}
	if _, err := s.FetchPath(ctx, routerLL, []netip.Prefix{otherPrefix}); !errors.Is(err, certpath.ErrPrefixNotAuthorized) {
		t.Fatalf("cached path, other prefix: %v", err)
	}
	if st := s.Stats(); st.Exchanges != 1 || st.Solicitations != 1 || st.CacheHits != 3 {
		t.Fatalf("stats %+v", st)
	}
	var k certpath.KeyHash
	k[0] = 1
	if _, err := s.FetchKey(ctx, routerLL, k, nil); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("unknown key: %v", err)
	}
	if st := s.Stats(); st.Exchanges != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestSharedExchange: concurrent requests for one router share one CPS.
func TestSharedExchange(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	startResponder(t, tb.router, ResponderConfig{Paths: []Path{l.path()}})
	s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}, Retry: 5 * time.Second})
	ctx := fetchCtx(t)
	var wg sync.WaitGroup
	auths := make([]*certpath.Authorization, 8)
	errs := make([]error, 8)
	for i := range auths {
		wg.Go(func() { auths[i], errs[i] = s.FetchPath(ctx, routerLL, []netip.Prefix{routerPrefix}) })
	}
	wg.Wait()
	for i := range auths {
		if errs[i] != nil || auths[i] == nil || auths[i].KeyHash != l.routerKeyHash {
			t.Fatalf("request %d: %v", i, errs[i])
		}
	}
	if st := s.Stats(); st.Exchanges != 1 || st.Solicitations != 1 || st.PathsVerified != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestCancelledWaiter: the last waiter leaving stops the exchange, and a
// new request starts afresh.
func TestCancelledWaiter(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.FetchPath(ctx, routerLL, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	startResponder(t, tb.router, ResponderConfig{Paths: []Path{l.path()}})
	if _, err := s.FetchPath(fetchCtx(t), routerLL, nil); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Exchanges != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestUnspecifiedSource: a host without an address solicits from ::; the
// router answers All-Nodes with Identifier zero, matched by its source.
func TestUnspecifiedSource(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	startResponder(t, tb.router, ResponderConfig{Paths: []Path{l.path()}})
	s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}, Source: netip.IPv6Unspecified()})
	if _, err := s.FetchPath(fetchCtx(t), routerLL, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range tb.packets(ndp.TypeCertificationPathAdvertisement) {
		if p.Dst != AllNodes || binary.BigEndian.Uint16(p.Payload[4:]) != 0 {
			t.Errorf("CPA to %v with Identifier %d, want All-Nodes and 0", p.Dst, binary.BigEndian.Uint16(p.Payload[4:]))
		}
	}
}

// TestAllRouters: with no default router the host solicits All-Routers.
func TestAllRouters(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	startResponder(t, tb.router, ResponderConfig{Paths: []Path{l.path()}})
	s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}})
	if _, err := s.FetchPath(fetchCtx(t), netip.Addr{}, nil); err != nil {
		t.Fatal(err)
	}
	if cps := tb.packets(ndp.TypeCertificationPathSolicitation); len(cps) != 1 || cps[0].Dst != AllRouters {
		t.Fatalf("solicitations %v", cps)
	}
}

// TestPartialPath: the host lost the CA's component; after
// CPS_RETRY_FRAGMENTS it asks for that Component alone.
func TestPartialPath(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}, Retry: 20 * time.Millisecond, RetryFragments: 60 * time.Millisecond})
	res := make(chan error, 1)
	go func() { _, err := s.FetchPath(fetchCtx(t), routerLL, nil); res <- err }()
	ctx := fetchCtx(t)
	p, err := tb.router.ReadPacket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := binary.BigEndian.Uint16(p.Payload[4:])
	dst := SolicitedNodeMulticast(hostLL)
	if err := tb.router.WritePacket(ctx, cpaPacket(t, component(id, 2, 0, l.routerDER), routerLL, dst)); err != nil {
		t.Fatal(err)
	}
	waitStats(t, s.Stats, func(st SolicitorStats) bool { return st.Components == 1 })
	stored := time.Now()
	for i := 1; ; i++ {
		p, err := tb.router.ReadPacket(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ndp.ParseMessage(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		sol := m.(*ndp.CertificationPathSolicitation)
		if sol.Component == AllComponents {
			// Only a retransmission sent before the component arrived.
			if tb.times(ndp.TypeCertificationPathSolicitation)[i].After(stored) {
				t.Fatal("full retransmission while a partial path is held")
			}
			continue
		}
		if sol.Component != 1 || sol.Identifier != id || p.Dst != routerLL {
			t.Fatalf("component solicitation %+v to %v", sol, p.Dst)
		}
		break
	}
	if err := tb.router.WritePacket(ctx, cpaPacket(t, component(id, 2, 1, l.caDER), routerLL, dst)); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
}

// TestBusy: retrievals beyond MaxExchanges fail at once.
func TestBusy(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}, MaxExchanges: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _, _ = s.FetchPath(ctx, routerLL, nil) }()
	waitStats(t, s.Stats, func(st SolicitorStats) bool { return st.Exchanges == 1 })
	if _, err := s.FetchPath(fetchCtx(t), netip.MustParseAddr("fe80::7"), nil); !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	cancel()
	<-done
}
