package certdisc

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/ndp"
)

// BenchmarkResponderHandleCPS is the router's cost per valid solicitation
// (checks, parse, Trust Anchor match, two CPAs marshalled with their
// checksums) with the rate limit out of the way.
func BenchmarkResponderHandleCPS(b *testing.B) {
	l := testLab()
	r, err := NewResponder(discardConn{addr: routerLL}, ResponderConfig{Paths: []Path{l.path()}, MaxCPARate: 1000, RateInterval: time.Nanosecond})
	if err != nil {
		b.Fatal(err)
	}
	sol := &ndp.CertificationPathSolicitation{Identifier: 7, Component: AllComponents, Options: []ndp.Option{derName(l.anchor)}}
	p := cpsPacket(b, sol, hostLL, routerLL)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(p.Payload)))
	for b.Loop() {
		if err := r.HandlePacket(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResponderFlood is the router's cost per solicitation it does
// not answer at once (rate limit reached, answer coalesced).
func BenchmarkResponderFlood(b *testing.B) {
	l := testLab()
	now := time.Now()
	r, err := NewResponder(discardConn{addr: routerLL}, ResponderConfig{Paths: []Path{l.path()}, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	sol := &ndp.CertificationPathSolicitation{Identifier: 7, Component: AllComponents, Options: []ndp.Option{derName(l.anchor)}}
	p := cpsPacket(b, sol, hostLL, routerLL)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = r.HandlePacket(ctx, p)
	}
}

// BenchmarkHandleCPA is the host's cost to check, parse and store one
// component (no verification).
func BenchmarkHandleCPA(b *testing.B) {
	l := testLab()
	s, err := NewSolicitor(discardConn{addr: hostLL}, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}})
	if err != nil {
		b.Fatal(err)
	}
	p := cpaPacket(b, component(fuzzID, 2, 1, l.caDER), routerLL, SolicitedNodeMulticast(hostLL))
	b.ReportAllocs()
	b.SetBytes(int64(len(p.Payload)))
	for b.Loop() {
		b.StopTimer()
		s.mu.Lock()
		s.byID, s.byRouter = map[uint16]*exchange{}, map[netip.Addr]*exchange{}
		s.mu.Unlock()
		s.pending(fuzzID, routerLL)
		b.StartTimer()
		if err := s.HandlePacket(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExchange is a whole retrieval over the in-memory link: CPS,
// two CPAs, assembly and certpath.VerifyRouter (RSA-1024 test keys), no
// cache. Compare with BenchmarkVerifyRouterOnly, its cryptographic floor.
func BenchmarkExchange(b *testing.B) {
	l := testLab()
	tb := newTestbed(b)
	startResponder(b, tb.router, ResponderConfig{Paths: []Path{l.path()}, MaxCPARate: 1000, RateInterval: time.Nanosecond})
	s := startSolicitor(b, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}, Retry: 5 * time.Second})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s.cache.Remove(l.routerKeyHash)
		if _, err := s.FetchKey(ctx, routerLL, l.routerKeyHash, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRouterOnly(b *testing.B) {
	l := testLab()
	path := [][]byte{l.caDER, l.routerDER}
	anchors := []*certpath.TrustAnchor{l.anchor}
	for b.Loop() {
		if _, err := certpath.VerifyRouter(path, anchors, nil, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
