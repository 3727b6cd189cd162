package hks

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/internal/hks/subscribers"
	"github.com/fhkey/fhkey/mh"
)

// The worked example of docs/aaa.md.
var (
	exHMK      = seq(0x00, 64)
	exMNNonce  = seq(0xa0, 16)
	exHKSNonce = seq(0xb0, 16)
	exNAI      = "mn@example.com"
	exAR       = netip.MustParseAddr("2001:db8:1::1")
	exCoA      = netip.MustParseAddr("2001:db8:1::100")
	exTime     = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// exHKReq is the example HKReq (Message ID 42, PRF 1, MAC 1,
	// Timestamp 2025-01-01 00:00:00 UTC).
	exHKReq = mustHex("3b0cfa00c9222a1020010db8000100000000000000000100080f016d6e406578616d706c652e636f6dfa120200a0a1a2a3a4a5a6a7a8a9aaabacadaeaf0103000000fc08eb1f040000000000fb160101efe945f60cf9441be1e30b15a09f99460d3e686501020000")
	// The example's keys, Message ID 42: HIK by (PRF, MAC), HK of PRF 1 MAC 1.
	exHIK11 = mustHex("0007ab6867b35b6d767d2c9e6b31bfada4fa6e21")
	exHIK12 = mustHex("0007ab6867b35b6d767d2c9e6b31bfada4fa6e2144408d59958cf505ff9f6b72")
	exHIK22 = mustHex("3bc548c5140825438861e8274bd6858441dd2845b124daadc6fb116637c55ae3")
	exHK11  = mustHex("1eb27128b42971b9f22b1b9ea30603e31f2941ec")
)

func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// fakeClock is an injected clock the tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// exampleSubscriber is the example's subscriber, authorized everywhere.
func exampleSubscriber() *subscribers.Subscriber {
	return &subscribers.Subscriber{NAI: exNAI, HMK: bytes.Clone(exHMK), Enabled: true}
}

// fixture is a Server over a subscribers.Memory store holding the example subscriber,
// with its clock at exTime and HKS-Nonces exHKSNonce.
type fixture struct {
	srv   *Server
	store subscribers.Store
	clock *fakeClock
}

func newFixture(t *testing.T, store subscribers.Store, cfg Config) *fixture {
	t.Helper()
	if store == nil {
		store = subscribers.NewMemory()
		t.Cleanup(func() { store.Close() })
	}
	if err := store.Put(context.Background(), exampleSubscriber()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: store, clock: newClock(exTime)}
	cfg.Subscribers, cfg.Now = store, f.clock.Now
	if cfg.Rand == nil {
		cfg.Rand = repeatReader(exHKSNonce)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	return f
}

// repeatReader returns b over and over.
type repeatReader []byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r[i%len(r)]
	}
	return len(p), nil
}

// hkreq describes an HKReq the tests sign as the MN would.
type hkreq struct {
	messageID uint8
	prf       uint8
	mac       hokey.MACAlgorithm // the MN-HKS MAC's algorithm
	at        uint8              // if not 0, overwrites the option's Algorithm Type after signing
	nai       string
	hmk       []byte
	ts        *time.Time
	noNonce   bool
}

func exampleReq() hkreq {
	ts := exTime
	return hkreq{messageID: 42, prf: 1, mac: hokey.MACHMACSHA1, nai: exNAI, hmk: exHMK, ts: &ts}
}

func (r hkreq) withTime(ts time.Time) hkreq { r.ts = &ts; return r }

// sign builds and signs the HKReq from exCoA to exAR.
func (r hkreq) sign(t testing.TB) []byte {
	t.Helper()
	opts := []mh.Option{mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: []byte(r.nai)}}
	if !r.noNonce {
		opts = append(opts, mh.HandoverNonce{Subtype: mh.NonceSubtypeMN, Nonce: exMNNonce})
	}
	if r.ts != nil {
		opts = append(opts, mh.Timestamp{Value: mh.NTPTime(*r.ts)})
	}
	m := mh.HandoverKeyRequest{MessageID: r.messageID, PRF: r.prf, KeyCareOfAddress: exCoA, Options: opts}
	// A PRF the hokey package cannot compute: sign with HMAC-SHA1 and put
	// the PRF field back (the HKS cannot check such a request anyway).
	prf := hokey.PRF(r.prf)
	if !prf.Valid() {
		prf = hokey.PRFHMACSHA1
	}
	hik, err := hokey.DeriveHIK(prf, r.hmk, r.messageID, r.mac)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hokey.SignMACs(mh.Codepoints{}, m, exCoA, exAR, &hik)
	if err != nil {
		t.Fatal(err)
	}
	if r.at != 0 {
		c, err := mh.CoveredByMAC(b, mh.MACSubtypeMNHKS)
		if err != nil {
			t.Fatal(err)
		}
		b[len(c.Data)-1] = b[len(c.Data)-1]&0xf0 | r.at
	}
	return b
}

func request(b []byte) aaa.KeyRequest { return aaa.KeyRequest{NAI: exNAI, AR: exAR, HKReq: b} }
