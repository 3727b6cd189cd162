package mn_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/ndp"
	"github.com/fhkey/fhkey/send"
)

var (
	credsOnce sync.Once
	creds     *lab.Credentials
	credsErr  error
	credsDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if credsDir != "" {
		os.RemoveAll(credsDir)
	}
	os.Exit(code)
}

func labCreds(t testing.TB) *lab.Credentials {
	t.Helper()
	credsOnce.Do(func() {
		if credsDir, credsErr = os.MkdirTemp("", "fhkey-mn-test-"); credsErr == nil {
			creds, credsErr = lab.Load(context.Background(), credsDir, &lab.Options{Bits: 1024})
		}
	})
	if credsErr != nil {
		t.Fatal(credsErr)
	}
	return creds
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	creds *lab.Credentials
	clock *clock
	par   *ar.Router
	node  *mn.MobileNode
	pcoa  mn.CareOf
	ncoa  mn.CareOf
}

func newRouter(t testing.TB, c *clock, key *rsa.PrivateKey, a lab.CGA) *ar.Router {
	t.Helper()
	r, err := ar.New(ar.Config{Address: a.Address, Parameters: a.Parameters, Signer: key,
		Store: keystore.NewMemory(keystore.WithClock(c.Now)), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newFixture(t testing.TB) *fixture {
	cr := labCreds(t)
	f := &fixture{creds: cr, clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		pcoa: mn.CareOf{Address: cr.MN.PCoA.Address, Parameters: cr.MN.PCoA.Parameters},
		ncoa: mn.CareOf{Address: cr.MN.NCoA.Address, Parameters: cr.MN.NCoA.Parameters}}
	f.par = newRouter(t, f.clock, cr.PAR.Key, cr.PAR.CGA)
	f.node = f.newNode(t, nil)
	return f
}

func (f *fixture) newNode(t testing.TB, mod func(*mn.Config)) *mn.MobileNode {
	t.Helper()
	cache := certpath.NewCache(8)
	for _, r := range []lab.Router{f.creds.PAR, f.creds.NAR} {
		cache.Add(r.Authorization, f.clock.Now())
	}
	cfg := mn.Config{Key: f.creds.MN.Key, Authorizer: &mn.CertCache{Cache: cache, Now: f.clock.Now},
		PreferredAT: hokey.HMACSHA256Trunc128, Now: f.clock.Now}
	if mod != nil {
		mod(&cfg)
	}
	n, err := mn.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// exchange sends one RtSolPr from careOf to r and hands the answer to node.
func exchange(t *testing.T, node *mn.MobileNode, r *ar.Router, careOf mn.CareOf) (mn.Event, error) {
	t.Helper()
	sol, err := node.Solicit(r.Address(), careOf)
	if err != nil {
		t.Fatal(err)
	}
	out := r.HandlePacket(context.Background(), sol)
	if len(out) != 1 {
		t.Fatalf("router sent %d packets", len(out))
	}
	return node.HandlePacket(context.Background(), out[0])
}

func hkepkOf(t *testing.T, p netio.Packet) []byte {
	t.Helper()
	m, err := ndp.ParseMessage(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range m.(*ndp.RouterSolicitationForProxyAdvertisement).Options {
		if r, ok := o.(*ndp.HandoverKeyRequest); ok {
			return r.HandoverKeyEncryptionPublicKey
		}
	}
	t.Fatal("no Handover Key Request")
	return nil
}

func TestSolicitation(t *testing.T) {
	f := newFixture(t)
	p, err := f.node.Solicit(f.par.Address(), f.pcoa)
	if err != nil {
		t.Fatal(err)
	}
	if p.Src != f.pcoa.Address || p.Dst != f.par.Address() || p.HopLimit != 255 || p.NextHeader != 58 {
		t.Errorf("addressing %+v", p)
	}
	// Verifiable by SEND, with every option RFC 5269 §3.1 requires.
	v := send.NewVerifier(send.AuthorizeCGA)
	v.Now = f.clock.Now
	res, err := v.Verify(p.Payload, p.Src, p.Dst)
	if err != nil || !res.CGAVerified || len(res.Nonce) < send.MinNonceLen {
		t.Fatalf("SEND: %+v %v", res, err)
	}
	hk := hkepkOf(t, p)
	pub, err := cga.ParsePublicKey(hk)
	if err != nil {
		t.Fatal(err)
	}
	// Exactly the algorithm and size of the CGA key, not the CGA key.
	if pub.N.BitLen() != f.creds.MN.Key.N.BitLen() || pub.E != f.creds.MN.Key.E || pub.Equal(&f.creds.MN.Key.PublicKey) {
		t.Error("HKEPK does not match the CGA key's parameters or is the CGA key")
	}
	// A second solicitation is a new message: fresh nonce, same HKEPK.
	p2, _ := f.node.Solicit(f.par.Address(), f.pcoa)
	res2, err := v.Verify(p2.Payload, p2.Src, p2.Dst)
	if err != nil || bytes.Equal(res.Nonce, res2.Nonce) || !bytes.Equal(hk, hkepkOf(t, p2)) {
		t.Errorf("retransmission: %v, nonces %x %x", err, res.Nonce, res2.Nonce)
	}
}

func TestEncryptionKeyRotation(t *testing.T) {
	f := newFixture(t)
	ev, err := exchange(t, f.node, f.par, f.pcoa)
	if err != nil || ev.Kind != mn.KeyProvisioned {
		t.Fatal(err)
	}
	hkepk := func() []byte {
		p, err := f.node.Solicit(f.par.Address(), f.pcoa)
		if err != nil {
			t.Fatal(err)
		}
		return hkepkOf(t, p)
	}
	first := hkepk()
	// HKEPK-HANDOVERS (10) handovers: the pair is replaced.
	for i := range mn.HKEPKHandovers {
		if !bytes.Equal(first, hkepk()) {
			t.Fatalf("pair replaced after %d handovers", i)
		}
		if _, err := f.node.FastBindingUpdate(f.par.Address(), f.pcoa.Address, f.ncoa.Address, false); err != nil {
			t.Fatal(err)
		}
	}
	second := hkepk()
	if bytes.Equal(first, second) {
		t.Fatal("pair kept after HKEPK-HANDOVERS handovers")
	}
	// HKEPK-LIFETIME (12 h).
	f.clock.Add(mn.HKEPKLifetime - time.Second)
	if !bytes.Equal(second, hkepk()) {
		t.Fatal("pair replaced before HKEPK-LIFETIME")
	}
	f.clock.Add(time.Second)
	if bytes.Equal(second, hkepk()) {
		t.Fatal("pair kept after HKEPK-LIFETIME")
	}
}

func TestUncertifiedRouterDropped(t *testing.T) {
	f := newFixture(t)
	// A rogue router with a valid CGA and a valid SEND signature, but a key
	// no trust anchor certifies.
	rogueKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&rogueKey.PublicKey)
	g, err := cga.Generate(context.Background(), lab.PARPrefix, spki, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	rogue := newRouter(t, f.clock, rogueKey, lab.CGA{Address: g.Address, Parameters: g.Parameters})
	_, err = exchange(t, f.node, rogue, f.pcoa)
	if !errors.Is(err, mn.ErrDropped) || !errors.Is(err, mn.ErrUnauthorizedRouter) {
		t.Fatalf("PrRtAdv of an uncertified key: %v", err)
	}
	// The NAR's certified key, but for an address outside its certified
	// prefix (the NAR's CGA moved onto the PAR's prefix).
	params := *f.creds.NAR.CGA.Parameters
	copy(params.SubnetPrefix[:], lab.PARPrefix.Addr().AsSlice())
	addr, err := params.Address(f.creds.Sec)
	if err != nil {
		t.Fatal(err)
	}
	impostor := newRouter(t, f.clock, f.creds.NAR.Key, lab.CGA{Address: addr, Parameters: &params})
	if _, err = exchange(t, f.node, impostor, f.pcoa); !errors.Is(err, mn.ErrUnauthorizedRouter) {
		t.Fatalf("certified key outside its prefix: %v", err)
	}
	if len(f.node.Keys()) != 0 {
		t.Error("key stored from an unauthorized router")
	}
}

func TestUnknownNonceDropped(t *testing.T) {
	f := newFixture(t)
	// Another node instance with the same identity solicits; its answer
	// carries a nonce this node never sent.
	other := f.newNode(t, nil)
	sol, err := other.Solicit(f.par.Address(), f.pcoa)
	if err != nil {
		t.Fatal(err)
	}
	out := f.par.HandlePacket(context.Background(), sol)
	if len(out) != 1 {
		t.Fatal("no answer")
	}
	if _, err := f.node.HandlePacket(context.Background(), out[0]); !errors.Is(err, mn.ErrDropped) {
		t.Fatalf("reply with an unknown nonce: %v", err)
	}
	if len(f.node.Keys()) != 0 {
		t.Error("key stored from a reply to another solicitation")
	}
	if ev, err := other.HandlePacket(context.Background(), out[0]); err != nil || ev.Kind != mn.KeyProvisioned {
		t.Errorf("the soliciting node: %v", err)
	}
}

func TestNoBiddingDown(t *testing.T) {
	f := newFixture(t)
	if _, err := f.node.Solicit(f.par.Address(), f.pcoa); err != nil {
		t.Fatal(err)
	}
	if err := f.node.SetPreferredAT(hokey.HMACSHA1Trunc96); !errors.Is(err, mn.ErrWeakerAT) {
		t.Errorf("weaker AT accepted: %v", err)
	}
	// A router answering with a weaker AT than requested is ignored: a
	// PrRtAdv of the certified PAR with AT 0 after a request for AT 1.
	sol, err := f.node.Solicit(f.par.Address(), f.pcoa)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := ndp.ParseMessage(sol.Payload)
	var nonce []byte
	for _, o := range m.(*ndp.RouterSolicitationForProxyAdvertisement).Options {
		if n, ok := o.(*ndp.Nonce); ok {
			nonce = n.Nonce
		}
	}
	hk, _ := cga.ParsePublicKey(hkepkOf(t, sol))
	ek, err := rsa.EncryptPKCS1v15(rand.Reader, hk, make([]byte, 20))
	if err != nil {
		t.Fatal(err)
	}
	adv := &ndp.ProxyRouterAdvertisement{Code: 2, Options: []ndp.Option{&ndp.CGA{Parameters: *f.creds.PAR.CGA.Parameters},
		ndp.NewTimestamp(f.clock.Now()), &ndp.Nonce{Nonce: nonce},
		&ndp.HandoverKeyReply{AT: 0, KeyLifetime: time.Hour, EncryptedHandoverKey: ek}}}
	b, err := ndp.MarshalMessage(adv)
	if err == nil {
		b, err = send.Sign(b, f.par.Address(), f.pcoa.Address, f.creds.PAR.Key)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.node.HandlePacket(context.Background(), netio.Packet{Src: f.par.Address(), Dst: f.pcoa.Address, HopLimit: 255, NextHeader: 58, Payload: b}); !errors.Is(err, mn.ErrDropped) {
		t.Errorf("reply with a weaker AT: %v", err)
	}
	if len(f.node.Keys()) != 0 {
		t.Error("key stored with a weaker AT")
	}
	weak, err := ar.New(ar.Config{Address: f.creds.PAR.CGA.Address, Parameters: f.creds.PAR.CGA.Parameters, Signer: f.creds.PAR.Key,
		Store: keystore.NewMemory(), Now: f.clock.Now, Algorithms: []hokey.AlgorithmType{hokey.HMACSHA1Trunc96}})
	if err != nil {
		t.Fatal(err)
	}
	// The weak router refuses (no AT at least as strong): no key reply.
	ev, err := exchange(t, f.node, weak, f.pcoa)
	if err != nil || ev.Kind != mn.AdvertisementWithoutKey {
		t.Errorf("event %v err %v", ev.Kind, err)
	}
}

func TestMultipleRoutersAndRefresh(t *testing.T) {
	f := newFixture(t)
	nar := newRouter(t, f.clock, f.creds.NAR.Key, f.creds.NAR.CGA)
	for _, x := range []struct {
		r  *ar.Router
		co mn.CareOf
	}{{f.par, f.pcoa}, {nar, f.ncoa}} {
		if ev, err := exchange(t, f.node, x.r, x.co); err != nil || ev.Kind != mn.KeyProvisioned {
			t.Fatal(err)
		}
	}
	keys := f.node.Keys()
	if len(keys) != 2 {
		t.Fatalf("%d keys, want one per router", len(keys))
	}
	for _, k := range keys {
		if k.Key != (keystore.Key{}) {
			t.Error("Keys returned key octets")
		}
	}
	if len(f.node.RefreshDue()) != 0 {
		t.Error("fresh keys due for refresh")
	}
	f.clock.Add(keystore.HKLifetime - 10*time.Minute)
	due := f.node.RefreshDue()
	if len(due) != 2 {
		t.Fatalf("%d keys due 10 minutes before HK-LIFETIME, want 2", len(due))
	}
	// Asking again renews: the AR returns the same key with what remains
	// of its lifetime; after it expires a new key is made.
	f.clock.Add(10 * time.Minute)
	if _, err := f.par.ExpireKeys(); err != nil {
		t.Fatal(err)
	}
	if ev, err := exchange(t, f.node, f.par, f.pcoa); err != nil || ev.Record.Expires.Sub(f.clock.Now()) != keystore.HKLifetime {
		t.Fatalf("renewal: %v %v", ev.Record.Expires, err)
	}
}

func TestRequestKeyOverNetwork(t *testing.T) {
	f := newFixture(t)
	network := netio.NewNetwork()
	parConn := network.Attach([]netip.Addr{f.par.Address()}, nil, 8)
	mnConn := network.Attach([]netip.Addr{f.pcoa.Address}, nil, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The PAR loses the first solicitation: the MN retransmits.
	var wg sync.WaitGroup
	wg.Go(func() {
		first := true
		for {
			p, err := parConn.ReadPacket(ctx)
			if err != nil {
				return
			}
			if first {
				first = false
				continue
			}
			for _, out := range f.par.HandlePacket(ctx, p) {
				_ = parConn.WritePacket(ctx, out)
			}
		}
	})
	ev, err := f.node.RequestKey(ctx, mnConn, f.par.Address(), f.pcoa)
	if err != nil || ev.Kind != mn.KeyProvisioned {
		t.Fatalf("RequestKey: %v", err)
	}
	if _, err := f.node.FastBindingUpdate(f.par.Address(), f.pcoa.Address, f.ncoa.Address, false); err != nil {
		t.Fatal(err)
	}
	// No router: ErrNoAnswer after the retransmissions.
	lone := network.Attach([]netip.Addr{f.ncoa.Address}, nil, 8)
	if _, err := f.node.RequestKey(ctx, lone, netip.MustParseAddr("2001:db8:9::1"), f.ncoa); !errors.Is(err, mn.ErrNoAnswer) {
		t.Errorf("no router: %v", err)
	}
	cancel()
	parConn.Close()
	wg.Wait()
}

func TestCertCacheFetch(t *testing.T) {
	c := labCreds(t)
	cache := certpath.NewCache(4)
	calls := 0
	cc := &mn.CertCache{Cache: cache, Fetch: func(_ context.Context, router netip.Addr, kh certpath.KeyHash) (*certpath.Authorization, error) {
		calls++
		if router != c.PAR.CGA.Address {
			return nil, errors.New("unexpected router")
		}
		return c.PAR.Authorization, nil
	}}
	ctx := context.Background()
	if err := cc.Authorize(ctx, c.PAR.CGA.Address, c.PAR.Authorization.KeyHash); err != nil || calls != 1 {
		t.Fatalf("fetch: %v, %d calls", err, calls)
	}
	if err := cc.Authorize(ctx, c.PAR.CGA.Address, c.PAR.Authorization.KeyHash); err != nil || calls != 1 {
		t.Fatalf("cached: %v, %d calls", err, calls)
	}
	// A fetched path for another key than the signer's is refused.
	if err := cc.Authorize(ctx, c.PAR.CGA.Address, c.NAR.Authorization.KeyHash); !errors.Is(err, mn.ErrUnauthorizedRouter) {
		t.Errorf("path for another key: %v", err)
	}
	// The PAR's key cannot sign for an address on the NAR's prefix.
	if err := cc.Authorize(ctx, c.NAR.CGA.Address, c.PAR.Authorization.KeyHash); !errors.Is(err, mn.ErrUnauthorizedRouter) {
		t.Errorf("address outside the certified prefix: %v", err)
	}
	if err := (&mn.CertCache{Cache: certpath.NewCache(1)}).Authorize(ctx, c.PAR.CGA.Address, c.PAR.Authorization.KeyHash); !errors.Is(err, mn.ErrUnauthorizedRouter) {
		t.Errorf("no path and no Fetch: %v", err)
	}
}
