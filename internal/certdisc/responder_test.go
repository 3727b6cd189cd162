package certdisc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/ndp"
)

// recordConn records written packets.
type recordConn struct {
	discardConn
	mu  sync.Mutex
	out []netio.Packet
}

func (c *recordConn) WritePacket(_ context.Context, p netio.Packet) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, p)
	return nil
}

func (c *recordConn) take() []netio.Packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.out
	c.out = nil
	return out
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newRecordingResponder(t *testing.T, cfg ResponderConfig) (*Responder, *recordConn) {
	t.Helper()
	conn := &recordConn{discardConn: discardConn{addr: routerLL}}
	if cfg.Paths == nil {
		cfg.Paths = []Path{testLab().path()}
	}
	r, err := NewResponder(conn, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, conn
}

func parseCPA(t *testing.T, p netio.Packet) *ndp.CertificationPathAdvertisement {
	t.Helper()
	if p.HopLimit != 255 {
		t.Errorf("CPA hop limit %d", p.HopLimit)
	}
	if err := ndp.VerifyChecksum(p.Src, p.Dst, p.Payload); err != nil {
		t.Error(err)
	}
	m, err := ndp.ParseMessage(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*ndp.CertificationPathAdvertisement)
}

// TestResponderDrops is the negative table of the router's validity
// checks (RFC 3971 §6.4.5, §6.4.1): nothing is sent for any of them.
func TestResponderDrops(t *testing.T) {
	l := testLab()
	good := &ndp.CertificationPathSolicitation{Identifier: 7, Component: AllComponents, Options: []ndp.Option{derName(l.anchor)}}
	fqdn, err := l.anchor.Name(certpath.NameTypeFQDN)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		build func() netio.Packet
		want  error
		cause error
	}{
		{"hop limit 64", func() netio.Packet {
			p := cpsPacket(t, good, hostLL, routerLL)
			p.HopLimit = 64
			return p
		}, ErrHopLimit, nil},
		{"bad checksum", func() netio.Packet {
			p := cpsPacket(t, good, hostLL, routerLL)
			p.Payload[2] ^= 1
			return p
		}, ErrParse, ndp.ErrChecksum},
		{"truncated", func() netio.Packet {
			p := cpsPacket(t, &ndp.CertificationPathSolicitation{Identifier: 7, Component: AllComponents}, hostLL, routerLL)
			p.Payload = p.Payload[:6]
			binary.BigEndian.PutUint16(p.Payload[2:], 0)
			binary.BigEndian.PutUint16(p.Payload[2:], ndp.Checksum(hostLL, routerLL, p.Payload))
			return p
		}, ErrParse, io.ErrUnexpectedEOF},
		{"code 1", func() netio.Packet {
			p := cpsPacket(t, good, hostLL, routerLL)
			p.Payload[1] = 1
			binary.BigEndian.PutUint16(p.Payload[2:], ndp.Checksum(hostLL, routerLL, p.Payload))
			return p
		}, ErrParse, ndp.ErrParse},
		{"multicast source", func() netio.Packet { return cpsPacket(t, good, AllNodes, routerLL) }, ErrParse, nil},
		{"identifier zero", func() netio.Packet {
			return cpsPacket(t, &ndp.CertificationPathSolicitation{Component: AllComponents, Options: []ndp.Option{derName(l.anchor)}}, hostLL, routerLL)
		}, ErrParse, nil},
		{"no trust anchor", func() netio.Packet {
			return cpsPacket(t, &ndp.CertificationPathSolicitation{Identifier: 7, Component: AllComponents}, hostLL, routerLL)
		}, ErrNoTrustAnchor, nil},
		{"first trust anchor an FQDN", func() netio.Packet {
			return cpsPacket(t, &ndp.CertificationPathSolicitation{Identifier: 7, Component: AllComponents,
				Options: []ndp.Option{&ndp.TrustAnchor{NameType: 2, TrustAnchorName: fqdn}, derName(l.anchor)}}, hostLL, routerLL)
		}, ErrNoTrustAnchor, nil},
		{"component beyond the path", func() netio.Packet {
			return cpsPacket(t, &ndp.CertificationPathSolicitation{Identifier: 7, Component: 2, Options: []ndp.Option{derName(l.anchor)}}, hostLL, routerLL)
		}, ErrInconsistent, nil},
		{"a CPA", func() netio.Packet { return cpaPacket(t, component(7, 1, 0, l.routerDER), hostLL, routerLL) }, ErrNotCertificationPath, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, conn := newRecordingResponder(t, ResponderConfig{})
			err := r.HandlePacket(context.Background(), tc.build())
			if !errors.Is(err, tc.want) || (tc.cause != nil && !errors.Is(err, tc.cause)) {
				t.Fatalf("err = %v, want %v and %v", err, tc.want, tc.cause)
			}
			if out := conn.take(); len(out) != 0 {
				t.Fatalf("sent %d packets", len(out))
			}
			if st := r.Stats(); st.Advertisements != 0 || st.Solicitations != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestResponderTrustAnchorNameTypes: the path is found through any Name
// Type 1-7 (RFC 3971 §6.4.3, RFC 6495 §3) in a later Trust Anchor option,
// and that option is echoed in the first component (§6.4.5).
func TestResponderTrustAnchorNameTypes(t *testing.T) {
	l := testLab()
	for nt := certpath.NameTypeDERName; nt <= certpath.NameTypeSHA512SKI; nt++ {
		name, err := l.anchor.Name(nt)
		if err != nil {
			t.Fatal(err)
		}
		ta := &ndp.TrustAnchor{NameType: ndp.NameType(nt), TrustAnchorName: name}
		r, conn := newRecordingResponder(t, ResponderConfig{})
		sol := &ndp.CertificationPathSolicitation{Identifier: 9, Component: AllComponents, Options: []ndp.Option{derName(l.other), ta}}
		if err := r.HandlePacket(context.Background(), cpsPacket(t, sol, hostLL, routerLL)); err != nil {
			t.Fatalf("Name Type %d: %v", nt, err)
		}
		out := conn.take()
		if len(out) != 2 {
			t.Fatalf("Name Type %d: %d advertisements", nt, len(out))
		}
		first := parseCPA(t, out[0])
		echo, ok := first.Options[0].(*ndp.TrustAnchor)
		if !ok || echo.NameType != ta.NameType || string(echo.TrustAnchorName) != string(name) || len(first.Options) != 2 {
			t.Fatalf("Name Type %d: first component options %v", nt, first.Options)
		}
		if second := parseCPA(t, out[1]); len(second.Options) != 1 {
			t.Fatalf("Name Type %d: Trust Anchor beyond the first component", nt)
		}
	}
}

// TestResponderNoPath: no anchor matches, so the router answers without
// certificates and echoes the solicited Trust Anchor options (§6.4.5).
func TestResponderNoPath(t *testing.T) {
	l := testLab()
	r, conn := newRecordingResponder(t, ResponderConfig{})
	nobody, err := certpath.FQDNWire("nobody.example")
	if err != nil {
		t.Fatal(err)
	}
	sol := &ndp.CertificationPathSolicitation{Identifier: 3, Component: AllComponents, Options: []ndp.Option{derName(l.other), &ndp.TrustAnchor{NameType: 2, TrustAnchorName: nobody}}}
	if err := r.HandlePacket(context.Background(), cpsPacket(t, sol, hostLL, routerLL)); err != nil {
		t.Fatal(err)
	}
	out := conn.take()
	if len(out) != 1 {
		t.Fatalf("%d advertisements", len(out))
	}
	want := cat(
		[]byte{149, 0},      // Type: CPA, Code
		out[0].Payload[2:4], // Checksum
		be16(3),             // Identifier: echoed
		be16(0),             // All Components: no certificate
		be16(0),             // Component
		be16(0),             // Reserved
		taOption(l.other),   // Trust Anchor: solicited
		[]byte{15, 3, 2, 4}, // Trust Anchor: Type, Length 3, Name Type FQDN, Pad Length 4
		nobody,              // Name: 6 nobody 7 example 0 (16 octets)
		make([]byte, 4),     // Padding
	)
	if string(out[0].Payload) != string(want) || out[0].Dst != SolicitedNodeMulticast(hostLL) {
		t.Fatalf("CPA to %v\n got %x\nwant %x", out[0].Dst, out[0].Payload, want)
	}
	if st := r.Stats(); st.NoPath != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestResponderComponent: a solicitation for one Component gets that
// certificate only (§6.4.1, §6.4.5).
func TestResponderComponent(t *testing.T) {
	l := testLab()
	r, conn := newRecordingResponder(t, ResponderConfig{})
	for comp, cert := range map[uint16][]byte{0: l.routerDER, 1: l.caDER} {
		sol := &ndp.CertificationPathSolicitation{Identifier: 5, Component: comp, Options: []ndp.Option{derName(l.anchor)}}
		if err := r.HandlePacket(context.Background(), cpsPacket(t, sol, hostLL, routerLL)); err != nil {
			t.Fatal(err)
		}
		out := conn.take()
		if len(out) != 1 {
			t.Fatalf("Component %d: %d advertisements", comp, len(out))
		}
		m := parseCPA(t, out[0])
		c := m.Options[len(m.Options)-1].(*ndp.Certificate)
		if m.Component != comp || m.AllComponents != 2 || string(c.Certificate) != string(cert) {
			t.Fatalf("Component %d: got Component %d of %d", comp, m.Component, m.AllComponents)
		}
	}
}

// TestResponderRateLimit floods the router with solicitations from many
// sources at one instant: it sends at most MAX_CPA_RATE advertisements in
// the second, and the answers beyond are coalesced into one All-Nodes
// advertisement with Identifier zero, sent when the window allows (§6.4.5).
func TestResponderRateLimit(t *testing.T) {
	l := testLab()
	clock := &fakeClock{t: time.Now()}
	r, conn := newRecordingResponder(t, ResponderConfig{Now: clock.Now})
	ctx := context.Background()
	const flood = 200
	for i := range flood {
		src := netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 14: byte(i >> 8), 15: byte(i) + 1})
		sol := &ndp.CertificationPathSolicitation{Identifier: uint16(i + 1), Component: AllComponents, Options: []ndp.Option{derName(l.anchor)}}
		err := r.HandlePacket(ctx, cpsPacket(t, sol, src, routerLL))
		if wantLimited := i >= MaxCPARate/2; errors.Is(err, ErrRateLimited) != wantLimited {
			t.Fatalf("solicitation %d: err = %v", i, err)
		}
	}
	out := conn.take()
	if len(out) != MaxCPARate {
		t.Fatalf("%d advertisements in the first second, want %d", len(out), MaxCPARate)
	}
	for _, p := range out {
		if p.Dst == AllNodes {
			t.Fatal("All-Nodes advertisement before the window allows")
		}
	}
	if wait := r.flush(ctx); wait != time.Second || len(conn.take()) != 0 {
		t.Fatalf("flush within the window: wait %v", wait)
	}
	clock.Advance(time.Second)
	r.flush(ctx)
	out = conn.take()
	if len(out) != 2 {
		t.Fatalf("%d coalesced advertisements, want one path (2)", len(out))
	}
	for i, p := range out {
		m := parseCPA(t, p)
		if p.Dst != AllNodes || m.Identifier != 0 || m.Component != uint16(1-i) {
			t.Fatalf("coalesced CPA %d: to %v, Identifier %d, Component %d", i, p.Dst, m.Identifier, m.Component)
		}
	}
	if st := r.Stats(); st.Solicitations != flood || st.Coalesced != flood-MaxCPARate/2 || st.Advertisements != MaxCPARate+2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestResponderServeNil is the daemon's arrangement: another role hands
// the packets to HandlePacket and Serve(ctx, nil) sends what it defers.
// The answer to a solicitation from the unspecified address goes to
// All-Nodes with Identifier zero (RFC 3971 §6.4.5, §6.4.2); without Serve
// it would never go.
func TestResponderServeNil(t *testing.T) {
	l := testLab()
	r, conn := newRecordingResponder(t, ResponderConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, nil) }()
	sol := &ndp.CertificationPathSolicitation{Identifier: 8, Component: AllComponents, Options: []ndp.Option{derName(l.anchor)}}
	if err := r.HandlePacket(ctx, cpsPacket(t, sol, netip.IPv6Unspecified(), routerLL)); err != nil {
		t.Fatal(err)
	}
	var out []netio.Packet
	testenv.Eventually(t, 10*time.Second, "deferred All-Nodes advertisements", func() (bool, string) {
		out = append(out, conn.take()...)
		return len(out) >= 2, fmt.Sprintf("%d sent, stats %+v", len(out), r.Stats())
	})
	for i, p := range out {
		if m := parseCPA(t, p); len(out) != 2 || p.Dst != AllNodes || m.Identifier != 0 || m.Component != uint16(1-i) {
			t.Fatalf("CPA %d of %d: to %v, Identifier %d, Component %d", i, len(out), p.Dst, m.Identifier, m.Component)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve after cancel: %v", err)
	}
}

// TestFloodServesLegitimateHost: while the router is at its rate limit, a
// legitimate host still gets its path from the coalesced All-Nodes
// advertisement (Identifier zero, matched by source).
func TestFloodServesLegitimateHost(t *testing.T) {
	l := testLab()
	tb := newTestbed(t)
	r := startResponder(t, tb.router, ResponderConfig{Paths: []Path{l.path()}, MaxCPARate: 2, RateInterval: 300 * time.Millisecond})
	attacker := tb.attachHost(host2LL)
	defer attacker.Close()
	sol := &ndp.CertificationPathSolicitation{Identifier: 1, Component: AllComponents, Options: []ndp.Option{derName(l.anchor)}}
	ctx := fetchCtx(t)
	for range 50 {
		if err := attacker.WritePacket(ctx, cpsPacket(t, sol, host2LL, routerLL)); err != nil {
			t.Fatal(err)
		}
	}
	waitStats(t, r.Stats, func(st ResponderStats) bool { return st.Solicitations == 50 })
	s := startSolicitor(t, tb.host, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}, Retry: 5 * time.Second})
	if _, err := s.FetchPath(ctx, routerLL, []netip.Prefix{routerPrefix}); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Coalesced < 49 || st.Advertisements > 6 {
		t.Fatalf("responder stats %+v", st)
	}
}

func TestWindowLimiter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := newWindowLimiter(3, time.Second)
	for _, step := range []struct {
		at   time.Duration
		k    int
		want bool
	}{
		{0, 2, true},                        // 2 of 3 used
		{100 * time.Millisecond, 2, false},  // only 1 left
		{100 * time.Millisecond, 1, true},   // window full
		{999 * time.Millisecond, 1, false},  // first two still inside
		{1000 * time.Millisecond, 2, true},  // the two at 0 left the window
		{1050 * time.Millisecond, 1, false}, // the one at 100 ms is still inside
		{1100 * time.Millisecond, 1, true},  // and now it left
		{1100 * time.Millisecond, 4, false}, // more than the capacity: never
		{5 * time.Second, 0, false},         // nothing to allow
	} {
		if got := l.allow(step.k, t0.Add(step.at)); got != step.want {
			t.Fatalf("allow(%d) at %v = %v", step.k, step.at, got)
		}
	}
	if at := l.readyAt(3, t0.Add(1100*time.Millisecond)); at != t0.Add(2100*time.Millisecond) {
		t.Fatalf("readyAt = %v", at.Sub(t0))
	}
}

func TestNewResponderErrors(t *testing.T) {
	l := testLab()
	conn := discardConn{addr: routerLL}
	for _, tc := range []struct {
		name string
		cfg  ResponderConfig
		want error
	}{
		{"untrusted", ResponderConfig{Paths: []Path{{Certificates: [][]byte{l.caDER, l.routerDER}, Anchors: []*certpath.TrustAnchor{l.other}}}}, certpath.ErrUntrustedAnchor},
		{"incomplete", ResponderConfig{Paths: []Path{{Certificates: [][]byte{l.routerDER}, Anchors: []*certpath.TrustAnchor{l.anchor}}}}, certpath.ErrUntrustedAnchor},
		{"rate too high", ResponderConfig{Paths: []Path{l.path()}, MaxCPARate: 1 << 20}, nil},
		{"empty path", ResponderConfig{Paths: []Path{{Anchors: []*certpath.TrustAnchor{l.anchor}}}}, certpath.ErrPathInvalid},
	} {
		if _, err := NewResponder(conn, tc.cfg); err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := NewResponder(conn, ResponderConfig{}); err == nil {
		t.Error("no path: no error")
	}
}

func TestSolicitedNodeMulticast(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"fe80::2", "ff02::1:ff00:2"},
		{"2001:db8::1234:5678", "ff02::1:ff34:5678"},
	} {
		if got := SolicitedNodeMulticast(netip.MustParseAddr(tc.in)); got != netip.MustParseAddr(tc.want) {
			t.Errorf("%s: %v", tc.in, got)
		}
	}
}
