package certdisc

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/ndp"
)

var (
	routerLL = netip.MustParseAddr("fe80::1")
	hostLL   = netip.MustParseAddr("fe80::2")
	host2LL  = netip.MustParseAddr("fe80::3")

	routerPrefix = netip.MustParsePrefix("2001:db8:1::/64")
	otherPrefix  = netip.MustParsePrefix("2001:db8:2::/64")
)

// lab is a SEND PKI built once per test binary: a trust anchor, an
// intermediate CA and a router (anchor → CA → router), an impostor anchor
// with the same Subject and another key, and an unrelated anchor.
type lab struct {
	taDER, caDER, routerDER []byte
	anchor, impostor, other *certpath.TrustAnchor
	routerKey               *rsa.PrivateKey
	routerKeyHash           certpath.KeyHash
}

// path returns the router's path with the anchor's certificate at its head,
// which the Responder must not send (RFC 3971 §6.4.2).
func (l *lab) path() Path {
	return Path{Certificates: [][]byte{l.taDER, l.caDER, l.routerDER}, Anchors: []*certpath.TrustAnchor{l.anchor}}
}

// testLab uses 1024-bit RSA keys: key size is not under test here.
var testLab = sync.OnceValue(func() *lab {
	gen := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			panic(err)
		}
		return k
	}
	taKey, impKey, otherKey, caKey, rKey := gen(), gen(), gen(), gen(), gen()
	nb, na := time.Now().Add(-time.Hour), time.Now().Add(48*time.Hour)
	mk := func(t certpath.CertificateTemplate, pub crypto.PublicKey, issuer []byte, key crypto.Signer) []byte {
		t.NotBefore, t.NotAfter = nb, na
		var ic *x509.Certificate
		if issuer != nil {
			var err error
			if ic, err = x509.ParseCertificate(issuer); err != nil {
				panic(err)
			}
		}
		der, err := certpath.CreateCertificate(rand.Reader, &t, pub, ic, key)
		if err != nil {
			panic(err)
		}
		return der
	}
	blocks := func(p string) certpath.IPAddrBlocks {
		b, err := certpath.NewIPv6Blocks(netip.MustParsePrefix(p))
		if err != nil {
			panic(err)
		}
		return b
	}
	anchor := func(der []byte) *certpath.TrustAnchor {
		ta, err := certpath.NewTrustAnchor(der)
		if err != nil {
			panic(err)
		}
		return ta
	}
	l := &lab{routerKey: rKey}
	l.taDER = mk(certpath.CertificateTemplate{CommonName: "SEND TA", IsCA: true, Resources: blocks("2001:db8::/32"), DNSNames: []string{"ta.example.net"}}, &taKey.PublicKey, nil, taKey)
	l.caDER = mk(certpath.CertificateTemplate{CommonName: "SEND CA", IsCA: true, Resources: blocks("2001:db8::/40")}, &caKey.PublicKey, l.taDER, taKey)
	l.routerDER = mk(certpath.CertificateTemplate{CommonName: "router", Resources: blocks("2001:db8:1::/48"), ExtKeyUsage: []asn1.ObjectIdentifier{certpath.OIDSendRouter}}, &rKey.PublicKey, l.caDER, caKey)
	l.anchor = anchor(l.taDER)
	l.impostor = anchor(mk(certpath.CertificateTemplate{CommonName: "SEND TA", IsCA: true, Resources: blocks("2001:db8::/32")}, &impKey.PublicKey, nil, impKey))
	l.other = anchor(mk(certpath.CertificateTemplate{CommonName: "Other TA", IsCA: true, Resources: blocks("::/0")}, &otherKey.PublicKey, nil, otherKey))
	rc, err := x509.ParseCertificate(l.routerDER)
	if err != nil {
		panic(err)
	}
	l.routerKeyHash = certpath.KeyHashOf(rc.RawSubjectPublicKeyInfo)
	return l
})

// testbed is a link with a router and a host; the host joins All-Nodes and
// its Solicited-Node group, the router All-Routers and All-Nodes.
type testbed struct {
	net          *netio.Network
	router, host *netio.MemConn
	mu           sync.Mutex
	seen         []netio.Packet // every packet delivered, in order
	at           []time.Time    // when each was written
}

func newTestbed(t testing.TB) *testbed {
	tb := &testbed{net: netio.NewNetwork()}
	tb.net.AddTap(func(p netio.Packet) {
		tb.mu.Lock()
		tb.seen = append(tb.seen, p)
		tb.at = append(tb.at, time.Now())
		tb.mu.Unlock()
	})
	tb.router = tb.net.Attach([]netip.Addr{routerLL}, []netip.Addr{AllRouters, AllNodes}, 256)
	tb.host = tb.attachHost(hostLL)
	t.Cleanup(func() { tb.router.Close(); tb.host.Close() })
	return tb
}

func (tb *testbed) attachHost(a netip.Addr) *netio.MemConn {
	return tb.net.Attach([]netip.Addr{a}, []netip.Addr{AllNodes, SolicitedNodeMulticast(a)}, 256)
}

// packets returns the delivered packets of ICMPv6 type typ.
func (tb *testbed) packets(typ ndp.MessageType) []netio.Packet {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []netio.Packet
	for _, p := range tb.seen {
		if len(p.Payload) > 0 && ndp.MessageType(p.Payload[0]) == typ {
			out = append(out, p)
		}
	}
	return out
}

// times returns when the packets of ICMPv6 type typ were written.
func (tb *testbed) times(typ ndp.MessageType) []time.Time {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []time.Time
	for i, p := range tb.seen {
		if len(p.Payload) > 0 && ndp.MessageType(p.Payload[0]) == typ {
			out = append(out, tb.at[i])
		}
	}
	return out
}

// startResponder runs a Responder on the router's Conn until the test ends.
func startResponder(t testing.TB, conn netio.Conn, cfg ResponderConfig) *Responder {
	t.Helper()
	r, err := NewResponder(conn, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// startSolicitor runs a Solicitor on conn until the test ends.
func startSolicitor(t testing.TB, conn netio.Conn, cfg SolicitorConfig) *Solicitor {
	t.Helper()
	if cfg.Retry == 0 {
		cfg.Retry = 100 * time.Millisecond
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 3 * time.Second
	}
	s, err := NewSolicitor(conn, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// dropFirst is a Conn that loses the first n packets it is asked to write.
type dropFirst struct {
	netio.Conn
	n       int32
	written atomic.Int32
}

func (d *dropFirst) WritePacket(ctx context.Context, p netio.Packet) error {
	if d.written.Add(1) <= d.n {
		return nil
	}
	return d.Conn.WritePacket(ctx, p)
}

// discardConn accepts and forgets every packet (benchmarks).
type discardConn struct{ addr netip.Addr }

func (c discardConn) ReadPacket(ctx context.Context) (netio.Packet, error) {
	<-ctx.Done()
	return netio.Packet{}, ctx.Err()
}
func (c discardConn) WritePacket(context.Context, netio.Packet) error { return nil }
func (c discardConn) Addrs() []netip.Addr                             { return []netip.Addr{c.addr} }
func (c discardConn) Close() error                                    { return nil }

// cpaPacket marshals a CPA from src to dst with a correct checksum.
func cpaPacket(t testing.TB, m *ndp.CertificationPathAdvertisement, src, dst netip.Addr) netio.Packet {
	t.Helper()
	b, err := ndp.MarshalMessageWithChecksum(m, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	return netio.Packet{Src: src, Dst: dst, HopLimit: 255, NextHeader: 58, Payload: b}
}

// cpsPacket marshals a CPS from src to dst with a correct checksum.
func cpsPacket(t testing.TB, m *ndp.CertificationPathSolicitation, src, dst netip.Addr) netio.Packet {
	t.Helper()
	b, err := ndp.MarshalMessageWithChecksum(m, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	return netio.Packet{Src: src, Dst: dst, HopLimit: 255, NextHeader: 58, Payload: b}
}

// derName is the Trust Anchor option naming ta by its Subject.
func derName(ta *certpath.TrustAnchor) *ndp.TrustAnchor {
	return &ndp.TrustAnchor{NameType: 1, TrustAnchorName: ta.Certificate.RawSubject}
}

// component is a CPA carrying one certificate.
func component(id, all, comp uint16, cert []byte) *ndp.CertificationPathAdvertisement {
	return &ndp.CertificationPathAdvertisement{Identifier: id, AllComponents: all, Component: comp,
		Options: []ndp.Option{&ndp.Certificate{CertType: ndp.CertTypeX509v3, Certificate: cert}}}
}

// pending registers an exchange without its goroutine, so that tests can
// feed HandlePacket directly and read the candidates it produces.
func (s *Solicitor) pending(id uint16, router netip.Addr) *exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex := &exchange{id: id, router: router, cancel: func() {}, done: make(chan struct{}),
		candidates: make(chan candidate, 2*maxSources), sources: make(map[netip.Addr]*assembly)}
	s.byID[id] = ex
	s.byRouter[router] = ex
	return ex
}
