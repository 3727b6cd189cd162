package ar

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
)

func TestNewValidates(t *testing.T) {
	c := labCreds(t, 1024)
	good := Config{Address: c.PAR.CGA.Address, Parameters: c.PAR.CGA.Parameters, Signer: c.PAR.Key, Store: keystore.NewMemory()}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no store", func(c *Config) { c.Store = nil }},
		{"address not a CGA of the parameters", func(cf *Config) { cf.Address = c.NAR.CGA.Address }},
		{"lifetime beyond the 16-bit field", func(c *Config) { c.KeyLifetime = 0x10000 * time.Second }},
		{"unknown AT", func(c *Config) { c.Algorithms = []hokey.AlgorithmType{9} }},
		{"neighbor without router LLA", func(c *Config) { c.Neighbors = []Neighbor{{AccessPoint: []byte{1}, Address: c.Address}} }},
	}
	if _, err := New(good); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		cfg := good
		tc.mod(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestServe(t *testing.T) {
	w := newWorld(t, 1024, nil)
	network := netio.NewNetwork()
	parConn := network.Attach([]netip.Addr{w.parAdr}, []netip.Addr{AllRoutersMulticast}, 16)
	mnConn := network.Attach([]netip.Addr{w.pcoa.Address}, nil, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.par.Serve(ctx, parConn, 2) }()
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	// To the all-routers address, as RFC 5568 §6.1.1 allows.
	sol, err := w.mn.Solicit(AllRoutersMulticast, w.pcoa)
	if err != nil {
		t.Fatal(err)
	}
	if err := mnConn.WritePacket(rctx, sol); err != nil {
		t.Fatal(err)
	}
	p, err := mnConn.ReadPacket(rctx)
	if err != nil {
		t.Fatal(err)
	}
	if !hasKeyReply(t, p) {
		t.Fatal("no key over the network")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Serve returned %v, want context.Canceled", err)
	}
	// A closed Conn ends Serve with its error.
	parConn.Close()
	if err := w.par.Serve(context.Background(), parConn, 1); !errors.Is(err, netio.ErrClosed) {
		t.Errorf("Serve on a closed Conn: %v", err)
	}
}

// TestRestartKeepsKeys: with the persistent store an AR restart loses no key
// (issue 4 item 3), and the restarted AR returns the same key (§3.2).
func TestRestartKeepsKeys(t *testing.T) {
	w := newWorld(t, 1024, nil)
	path := filepath.Join(t.TempDir(), "keys.db")
	open := func() *keystore.Bolt {
		b, err := keystore.OpenBolt(path, keystore.WithClock(w.clock.Now), keystore.WithBatchDelay(0))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	restart := func(s keystore.Store) {
		r, err := New(Config{Address: w.parAdr, Parameters: w.creds.PAR.CGA.Parameters, Signer: w.creds.PAR.Key, Store: s, Now: w.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		w.par, w.store = r, s
	}
	db := open()
	restart(db)
	first := w.provision()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	defer db.Close()
	restart(db)
	w.clock.Advance(time.Second)
	second := w.provision()
	if w.par.Stats().KeysReused != 1 || !second.Record.Expires.Equal(first.Record.Expires) {
		t.Errorf("after restart: stats %+v", w.par.Stats())
	}
	mnRec, _ := w.mn.Store().Get(w.parAdr, w.pcoa.Address)
	arRec, _ := db.Get(w.parAdr, w.pcoa.Address)
	if !mnRec.KeyEqual(arRec.KeyBytes()) {
		t.Error("the restarted AR returned another key")
	}
}

func TestTokenBuckets(t *testing.T) {
	now := time.Unix(1000, 0)
	tb := newBucketTable[int](Rate{PerSecond: 2, Burst: 3}, 2)
	for i := range 3 {
		if !tb.take(1, now) {
			t.Fatalf("take %d within the burst refused", i)
		}
	}
	if tb.take(1, now) {
		t.Fatal("take beyond the burst allowed")
	}
	if !tb.take(1, now.Add(500*time.Millisecond)) || tb.take(1, now.Add(500*time.Millisecond)) {
		t.Fatal("refill of one token after 0.5 s at 2/s")
	}
	// Bounded: a third key evicts; the table never exceeds its size.
	tb.take(2, now)
	tb.take(3, now)
	if len(tb.m) > 2 {
		t.Fatalf("%d buckets tracked, limit 2", len(tb.m))
	}
	var s single
	s.rate = Rate{PerSecond: 1, Burst: 1}
	if !s.take(now) || s.take(now) || !s.take(now.Add(time.Second)) {
		t.Fatal("single bucket")
	}
	unlimited := newBucketTable[int](Rate{}, 1)
	for range 100 {
		if !unlimited.take(1, now) {
			t.Fatal("zero Rate limited")
		}
	}
}
