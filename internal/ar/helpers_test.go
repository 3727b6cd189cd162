package ar

import (
	"context"
	"crypto/x509"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/ndp"
)

// Credentials are generated once per test binary in a temporary directory
// (never the user's cache), 1024-bit for speed; benchmarks use 2048.
var (
	credsOnce sync.Once
	creds     *lab.Credentials
	creds2048 *lab.Credentials
	credsDir  string
	credsErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if credsDir != "" {
		os.RemoveAll(credsDir)
	}
	os.Exit(code)
}

func labCreds(t testing.TB, bits int) *lab.Credentials {
	t.Helper()
	credsOnce.Do(func() {
		credsDir, credsErr = os.MkdirTemp("", "fhkey-ar-test-")
		if credsErr == nil {
			creds, credsErr = lab.Load(context.Background(), credsDir+"/1024", &lab.Options{Bits: 1024})
		}
	})
	if credsErr != nil {
		t.Fatal(credsErr)
	}
	if bits == 2048 {
		if creds2048 == nil {
			c, err := lab.Load(context.Background(), credsDir+"/2048", &lab.Options{Bits: 2048})
			if err != nil {
				t.Fatal(err)
			}
			creds2048 = c
		}
		return creds2048
	}
	return creds
}

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// world is a PAR and a mobile node driven directly, without a network.
type world struct {
	t      testing.TB
	creds  *lab.Credentials
	clock  *clock
	par    *Router
	store  keystore.Store
	table  *BindingTable
	mn     *mn.MobileNode
	pcoa   mn.CareOf
	ncoa   mn.CareOf
	parAdr netip.Addr

	lastSolicit netio.Packet
}

func newWorld(t testing.TB, bits int, limits *Limits) *world {
	t.Helper()
	c := labCreds(t, bits)
	w := &world{t: t, creds: c, clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	w.store = keystore.NewMemory(keystore.WithClock(w.clock.Now))
	w.table = NewBindingTable(w.clock.Now)
	var err error
	w.par, err = New(Config{
		Address: c.PAR.CGA.Address, Parameters: c.PAR.CGA.Parameters, Signer: c.PAR.Key, Store: w.store,
		Bindings: w.table, Limits: limits, Now: w.clock.Now,
		Neighbors: []Neighbor{{AccessPoint: []byte{2, 0, 0, 0, 0, 2}, RouterLLA: []byte{2, 0, 0, 0, 0, 0x22}, Address: c.NAR.CGA.Address, Prefix: lab.NARPrefix}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.parAdr = c.PAR.CGA.Address
	w.mn = w.newMN(nil)
	w.pcoa = mn.CareOf{Address: c.MN.PCoA.Address, Parameters: c.MN.PCoA.Parameters}
	w.ncoa = mn.CareOf{Address: c.MN.NCoA.Address, Parameters: c.MN.NCoA.Parameters}
	return w
}

// newMN returns a mobile node with the lab key trusting the lab routers.
func (w *world) newMN(store keystore.Store) *mn.MobileNode {
	w.t.Helper()
	cache := certpath.NewCache(8)
	for _, r := range []lab.Router{w.creds.PAR, w.creds.NAR} {
		cache.Add(r.Authorization, w.clock.Now())
	}
	m, err := mn.New(mn.Config{Key: w.creds.MN.Key, Authorizer: &mn.CertCache{Cache: cache, Now: w.clock.Now},
		Store: store, PreferredAT: hokey.HMACSHA256Trunc128, Now: w.clock.Now})
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

// solicit returns a fresh RtSolPr from the MN's PCoA to the PAR.
func (w *world) solicit() netio.Packet {
	w.t.Helper()
	p, err := w.mn.Solicit(w.parAdr, w.pcoa)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// provision runs one RtSolPr/PrRtAdv exchange and requires a key.
func (w *world) provision() mn.Event {
	w.t.Helper()
	out := w.par.HandlePacket(context.Background(), w.solicit())
	if len(out) != 1 {
		w.t.Fatalf("PAR answered %d packets, want 1 (stats %+v)", len(out), w.par.Stats())
	}
	ev, err := w.mn.HandlePacket(context.Background(), out[0])
	if err != nil || ev.Kind != mn.KeyProvisioned {
		w.t.Fatalf("MN: event %v, err %v", ev.Kind, err)
	}
	return ev
}

// snapshot copies every record of s (with key octets) for comparison.
func snapshot(t testing.TB, s keystore.Store) map[[2]netip.Addr]keystore.Record {
	t.Helper()
	out := map[[2]netip.Addr]keystore.Record{}
	if err := s.Range(func(r *keystore.Record) bool {
		out[[2]netip.Addr{r.AR, r.MN}] = *r
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameRecords(a, b map[[2]netip.Addr]keystore.Record) bool {
	if len(a) != len(b) {
		return false
	}
	for k, r := range a {
		o, ok := b[k]
		if !ok || !r.Equal(&o) {
			return false
		}
	}
	return true
}

// hasKeyReply reports whether p is a PrRtAdv with a Handover Key Reply.
func hasKeyReply(t testing.TB, p netio.Packet) bool {
	t.Helper()
	m, err := ndp.ParseMessage(p.Payload)
	if err != nil {
		t.Fatalf("router sent an unparseable packet: %v", err)
	}
	adv, ok := m.(*ndp.ProxyRouterAdvertisement)
	if !ok {
		t.Fatalf("router sent %T, want a PrRtAdv", m)
	}
	for _, o := range adv.Options {
		if _, ok := o.(*ndp.HandoverKeyReply); ok {
			return true
		}
	}
	return false
}

func spki(t testing.TB, pub any) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func w6(s string) netip.Addr { return netip.MustParseAddr(s) }
