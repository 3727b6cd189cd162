package ar

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// mskWorld is a PAR in the MSK mode only (no SEND credentials) and a
// mobile node holding the MSK of its NAI.
type mskWorld struct {
	t          testing.TB
	clock      *clock
	msks       *MemoryMSKs
	table      *BindingTable
	par        *Router
	node       *mn.MobileNode
	parAdr     netip.Addr
	pcoa, ncoa netip.Addr
	msk        MSK // the MN's
	neighbors  StaticNeighbors
}

// mnMAC is the MN's MAC address on the PAR's link: the supplicant's that
// authenticated as mskNAI, and the PCoA's neighbor entry.
var mnMAC = [6]byte{0x02, 0, 0, 0, 0x01, 0x00}

const mskNAI = "mn@example.com"

func newMSKWorld(t testing.TB, at hokey.AlgorithmType) *mskWorld {
	t.Helper()
	w := &mskWorld{t: t, clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		parAdr: w6("2001:db8:1::1"), pcoa: w6("2001:db8:1::100"), ncoa: w6("2001:db8:2::1")}
	for i := range w.msk {
		w.msk[i] = byte(i)
	}
	w.msks = NewMemoryMSKs(w.clock.Now)
	w.msks.SetSupplicant(mskNAI, w.msk, mnMAC, w.clock.Now().Add(time.Hour))
	w.neighbors = StaticNeighbors{w.pcoa: mnMAC}
	w.table = NewBindingTable(w.clock.Now)
	var err error
	w.par, err = New(Config{Address: w.parAdr, Store: keystore.NewMemory(keystore.WithClock(w.clock.Now)), Bindings: w.table,
		Limits: &Limits{}, Now: w.clock.Now, MSK: &MSKConfig{Source: w.msks, Algorithms: hokey.Supported(), Neighbors: w.neighbors}})
	if err != nil {
		t.Fatal(err)
	}
	w.node = w.newMN(mskNAI, at)
	return w
}

// newMN returns a node of nai holding w.msk (read at each use).
func (w *mskWorld) newMN(nai string, at hokey.AlgorithmType) *mn.MobileNode {
	w.t.Helper()
	m, err := mn.New(mn.Config{Now: w.clock.Now, MSK: &mn.MSKConfig{NAI: nai, AT: at,
		Source: mn.MSKFunc(func(netip.Addr) ([hokey.MSKLen]byte, bool) { return w.msk, true })}})
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

func (w *mskWorld) fbu(node *mn.MobileNode) netio.Packet {
	w.t.Helper()
	p, err := node.FastBindingUpdate(w.parAdr, w.pcoa, w.ncoa, false)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// fbackStatus parses an FBack the PAR sent.
func fbackStatus(t testing.TB, p netio.Packet) uint8 {
	t.Helper()
	m, err := mh.ParseMessage(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	ack, ok := m.(mh.FastBindingAcknowledgment)
	if !ok {
		t.Fatalf("sent %T, want an FBack", m)
	}
	return ack.Status
}

func TestMSKFastBindingUpdate(t *testing.T) {
	ctx := context.Background()
	for _, at := range hokey.Supported() {
		t.Run(at.String(), func(t *testing.T) {
			w := newMSKWorld(t, at)
			p := w.fbu(w.node)
			out := w.par.HandlePacket(ctx, p)
			if len(out) != 1 || fbackStatus(t, out[0]) != mh.FastStatusAccepted {
				t.Fatalf("answers %v, stats %+v", out, w.par.Stats())
			}
			b, ok := w.table.Lookup(w.pcoa)
			if !ok || b.New != w.ncoa {
				t.Fatalf("binding %+v %v", b, ok)
			}
			if out[0].Dst != w.ncoa || out[0].Src != w.parAdr {
				t.Errorf("FBack %s -> %s", out[0].Src, out[0].Dst)
			}
			// The FBack carries the MN-NAI option and verifies at the MN.
			if nai, err := mh.MobileNodeNAI(out[0].Payload); err != nil || string(nai) != mskNAI {
				t.Errorf("FBack NAI %q %v", nai, err)
			}
			ev, err := w.node.HandlePacket(ctx, out[0])
			if err != nil || ev.Kind != mn.FastBindingAcknowledged || ev.Status != mh.FastStatusAccepted {
				t.Fatalf("MN: %+v %v", ev, err)
			}
			// Replayed: stale, answered 128, the binding unchanged.
			out = w.par.HandlePacket(ctx, p)
			if len(out) != 1 || fbackStatus(t, out[0]) != mh.FastStatusReasonUnspecified {
				t.Fatalf("replay: %v", out)
			}
			if s := w.par.Stats(); s.FBUAccepted != 1 || s.FBUAcceptedMSK != 1 || s.FBUStale != 1 || s.FBackSent != 2 {
				t.Errorf("stats %+v", s)
			}
			// A later FBU is accepted: the cache still holds the FHK.
			if out := w.par.HandlePacket(ctx, w.fbu(w.node)); len(out) != 1 || fbackStatus(t, out[0]) != mh.FastStatusAccepted {
				t.Fatalf("second FBU: %v", out)
			}
		})
	}
}

func TestMSKFastBindingUpdateRejected(t *testing.T) {
	ctx := context.Background()
	w := newMSKWorld(t, hokey.HMACSHA256Trunc128)
	good := w.fbu(w.node)

	// Wrong MSK at the MN: 129 signed with the PAR's FHK, nothing bound,
	// and the MN cannot verify that FBack.
	w.msk[0] ^= 1
	wrong := w.fbu(w.node)
	out := w.par.HandlePacket(ctx, wrong)
	if len(out) != 1 || fbackStatus(t, out[0]) != mh.FastStatusAdministrativelyProhibited {
		t.Fatalf("wrong MSK: %v", out)
	}
	if _, err := w.node.HandlePacket(ctx, out[0]); !errors.Is(err, mn.ErrDropped) || !errors.Is(err, hokey.ErrAuthenticator) {
		t.Errorf("MN accepted an FBack of another FHK: %v", err)
	}
	w.msk[0] ^= 1
	if _, ok := w.table.Lookup(w.pcoa); ok {
		t.Fatal("bound after a wrong MSK")
	}
	if s := w.par.Stats(); s.FBUBadAuth != 1 || s.FBUMSKBadAuth != 1 {
		t.Errorf("stats %+v", s)
	}

	// Unknown NAI: no answer, counted.
	stranger := w.newMN("stranger@example.com", hokey.HMACSHA256Trunc128)
	if out := w.par.HandlePacket(ctx, w.fbu(stranger)); len(out) != 0 {
		t.Fatalf("unknown NAI answered: %v", out)
	}
	// An expired MSK is unknown too.
	w.msks.Set("late@example.com", w.msk, w.clock.Now())
	if out := w.par.HandlePacket(ctx, w.fbu(w.newMN("late@example.com", hokey.HMACSHA256Trunc128))); len(out) != 0 {
		t.Fatalf("expired MSK answered: %v", out)
	}
	if s := w.par.Stats(); s.FBUMSKUnknownNAI != 2 || s.FBUAccepted != 0 {
		t.Errorf("stats %+v", s)
	}

	// An AT the router does not allow: a failed authentication, silent.
	strict, err := New(Config{Address: w.parAdr, Store: keystore.NewMemory(), Now: w.clock.Now,
		MSK: &MSKConfig{Source: w.msks, Algorithms: []hokey.AlgorithmType{hokey.HMACSHA256Trunc128}, Neighbors: w.neighbors}})
	if err != nil {
		t.Fatal(err)
	}
	weak := w.fbu(w.newMN(mskNAI, hokey.HMACSHA1Trunc96))
	if out := strict.HandlePacket(ctx, weak); len(out) != 0 || strict.Stats().FBUMSKBadAuth != 1 {
		t.Fatalf("AT not allowed: %v %+v", out, strict.Stats())
	}

	// A router without the MSK mode treats the FBU as malformed.
	plain := newWorld(t, 1024, &Limits{}).par
	if out := plain.HandlePacket(ctx, good); len(out) != 0 || plain.Stats().FBUMalformed != 1 {
		t.Fatalf("MSK mode off: %v %+v", out, plain.Stats())
	}

	// The good FBU still goes through.
	if out := w.par.HandlePacket(ctx, good); len(out) != 1 || fbackStatus(t, out[0]) != mh.FastStatusAccepted {
		t.Fatalf("good FBU: %v %+v", out, w.par.Stats())
	}
}

// TestMSKCache checks the caching rule: the FHK is derived once per
// (NAI, AT) and MSK, and a new MSK for the NAI replaces it.
func TestMSKCache(t *testing.T) {
	ctx := context.Background()
	w := newMSKWorld(t, hokey.HMACSHA256Trunc128)
	if out := w.par.HandlePacket(ctx, w.fbu(w.node)); len(out) != 1 || fbackStatus(t, out[0]) != 0 {
		t.Fatal("first FBU")
	}
	// A new EAP run: both ends hold the new MSK.
	w.msk[63] ^= 0xff
	w.msks.SetSupplicant(mskNAI, w.msk, mnMAC, w.clock.Now().Add(time.Hour))
	if out := w.par.HandlePacket(ctx, w.fbu(w.node)); len(out) != 1 || fbackStatus(t, out[0]) != 0 {
		t.Fatalf("after the MSK changed: %+v", w.par.Stats())
	}
	if w.par.msk.n != 1 {
		t.Errorf("%d cache entries, want 1", w.par.msk.n)
	}
	// Expiry empties the cache and the source's entry is no longer used.
	w.clock.Advance(2 * time.Hour)
	if _, err := w.par.ExpireKeys(); err != nil {
		t.Fatal(err)
	}
	if w.par.msk.n != 0 {
		t.Errorf("%d cache entries after expiry", w.par.msk.n)
	}
	if out := w.par.HandlePacket(ctx, w.fbu(w.node)); len(out) != 0 || w.par.Stats().FBUMSKUnknownNAI != 1 {
		t.Fatalf("expired MSK: %v", out)
	}
	if w.msks.Expire() != 1 || w.msks.Len() != 0 {
		t.Error("MemoryMSKs.Expire")
	}
}

// TestMSKFastHandoverOverNetwork runs FastHandover in the MSK mode over
// the in-memory network: the FBU from the NCoA, the FBack verified.
func TestMSKFastHandoverOverNetwork(t *testing.T) {
	w := newMSKWorld(t, hokey.HMACSHA256Trunc128)
	network := netio.NewNetwork()
	parConn := network.Attach([]netip.Addr{w.parAdr}, nil, 8)
	mnConn := network.Attach([]netip.Addr{w.ncoa}, nil, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			p, err := parConn.ReadPacket(ctx)
			if err != nil {
				return
			}
			for _, out := range w.par.HandlePacket(ctx, p) {
				_ = parConn.WritePacket(ctx, out)
			}
		}
	})
	ev, err := w.node.FastHandover(ctx, mnConn, w.parAdr, w.pcoa, w.ncoa, false)
	if err != nil || ev.Kind != mn.FastBindingAcknowledged || ev.Status != mh.FastStatusAccepted {
		t.Fatalf("FastHandover: %+v %v (stats %+v)", ev, err, w.par.Stats())
	}
	if b, ok := w.table.Lookup(w.pcoa); !ok || b.New != w.ncoa || b.Sequence != ev.Sequence {
		t.Fatalf("binding %+v %v", b, ok)
	}
	// The MSK mode sends from the new link only.
	if _, err := w.node.FastHandover(ctx, mnConn, w.parAdr, w.pcoa, w.ncoa, true); err == nil {
		t.Error("FBU from the previous link in the MSK mode")
	}
	cancel()
	parConn.Close()
	wg.Wait()
}

// TestFBUVerifyMSKAllocs keeps the MSK check free of allocations on a
// cache hit, for an accepted FBU and a wrong authenticator.
func TestFBUVerifyMSKAllocs(t *testing.T) {
	w := newMSKWorld(t, hokey.HMACSHA256Trunc128)
	good := w.fbu(w.node)
	bad := good
	bad.Payload = bytes.Clone(good.Payload)
	bad.Payload[len(bad.Payload)-5] ^= 1 // in the Authentication Data, before the PadN
	if err := mh.SetChecksum(bad.Payload, bad.HomeAddress, bad.Dst); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		p    netio.Packet
		want fbuVerdict
	}{{"accepted", good, fbuAccepted}, {"bad authenticator", bad, fbuBadAuth}} {
		check := func() {
			v, _, _, _, key, _ := w.par.checkFastBindingUpdate(tc.p)
			key.Zero()
			if v != tc.want {
				t.Fatalf("%s: verdict %d, want %d", tc.name, v, tc.want)
			}
		}
		check() // fills the cache
		if allocs := testing.AllocsPerRun(200, check); allocs != 0 {
			t.Errorf("%s: %v allocations per FBU check, want 0", tc.name, allocs)
		}
	}
}

// BenchmarkFBUVerifyMSK compares, in one run, the PAR's check of an FBU
// of the MSK mode (checksum, parse, MN-NAI, MSK lookup, cached FHK,
// VerifyFHK) against the BADF path of BenchmarkFBUVerify with a key of
// the same AT (AT 1). Issue 12's target: msk/badf ≥ 0.9 per core
// (ratio = BADF time / MSK time).
func BenchmarkFBUVerifyMSK(b *testing.B) {
	w := newMSKWorld(b, hokey.HMACSHA256Trunc128)
	mskFBU := w.fbu(w.node)
	bw, badfFBU := fbuWorld(b)
	run := func(r *Router, p netio.Packet) {
		v, _, _, _, key, _ := r.checkFastBindingUpdate(p)
		if v != fbuAccepted {
			b.Fatal("FBU rejected")
		}
		key.Zero()
	}
	run(w.par, mskFBU)
	// Each iteration checks a batch of each, alternating, so that both
	// see the same machine state; the clock is read once per batch.
	const batch = 64
	var tMSK, tBADF time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		for range batch {
			run(bw.par, badfFBU)
		}
		mid := time.Now()
		for range batch {
			run(w.par, mskFBU)
		}
		tBADF += mid.Sub(start)
		tMSK += time.Since(mid)
	}
	n := float64(b.N * batch)
	b.ReportMetric(float64(tMSK.Nanoseconds())/n, "msk-ns/fbu")
	b.ReportMetric(float64(tBADF.Nanoseconds())/n, "badf-ns/fbu")
	b.ReportMetric(tBADF.Seconds()/tMSK.Seconds(), "msk/badf-speed")
}

// TestMSKPCoAOwner: an authenticated FBU of the MSK mode is accepted only
// if the PCoA's neighbor entry has the MAC address of the supplicant that
// authenticated as the NAI (docs/msk.md). Otherwise — the PCoA of another
// MAC, no neighbor entry, no MAC recorded for the NAI — the PAR answers
// FBack 129 signed with the FHK (the MN verifies it), binds nothing and
// counts FBUMSKNotOwner; once the entry is the NAI's, the same FBU is
// accepted.
func TestMSKPCoAOwner(t *testing.T) {
	ctx := context.Background()
	other := [6]byte{0x02, 0, 0, 0, 0x02, 0x00}
	for _, c := range []struct {
		name  string
		setup func(w *mskWorld)
	}{
		{"PCoA of another MAC", func(w *mskWorld) { w.neighbors[w.pcoa] = other }},
		{"no neighbor entry", func(w *mskWorld) { delete(w.neighbors, w.pcoa) }},
		{"no MAC recorded for the NAI", func(w *mskWorld) { w.msks.Set(mskNAI, w.msk, w.clock.Now().Add(time.Hour)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newMSKWorld(t, hokey.HMACSHA256Trunc128)
			c.setup(w)
			p := w.fbu(w.node)
			out := w.par.HandlePacket(ctx, p)
			if len(out) != 1 || fbackStatus(t, out[0]) != mh.FastStatusAdministrativelyProhibited {
				t.Fatalf("answers %v, stats %+v", out, w.par.Stats())
			}
			ev, err := w.node.HandlePacket(ctx, out[0])
			if err != nil || ev.Kind != mn.FastBindingAcknowledged || ev.Status != mh.FastStatusAdministrativelyProhibited {
				t.Errorf("MN: %+v %v", ev, err)
			}
			if _, ok := w.table.Lookup(w.pcoa); ok {
				t.Fatal("bound a PCoA that is not the NAI's")
			}
			if s := w.par.Stats(); s.FBUMSKNotOwner != 1 || s.FBUAccepted != 0 || s.FBUBadAuth != 0 {
				t.Errorf("stats %+v", s)
			}
			// The PCoA becomes the NAI's: the same FBU is accepted (the
			// refused one changed no Sequence Number).
			w.msks.SetSupplicant(mskNAI, w.msk, mnMAC, w.clock.Now().Add(time.Hour))
			w.neighbors[w.pcoa] = mnMAC
			if out := w.par.HandlePacket(ctx, p); len(out) != 1 || fbackStatus(t, out[0]) != mh.FastStatusAccepted {
				t.Fatalf("after the fix: %v", out)
			}
		})
	}
}

// TestMSKConfigNeedsNeighbors: the MSK mode needs a NeighborTable and a
// source that records MAC addresses.
func TestMSKConfigNeedsNeighbors(t *testing.T) {
	w := newMSKWorld(t, hokey.HMACSHA256Trunc128)
	for _, cfg := range []*MSKConfig{
		{Source: w.msks},
		{Source: onlyMSKs{w.msks}, Neighbors: w.neighbors},
	} {
		if _, err := New(Config{Address: w.parAdr, Store: keystore.NewMemory(), MSK: cfg}); err == nil {
			t.Errorf("New accepted %+v", cfg)
		}
	}
}

// onlyMSKs is an MSKSource without SupplicantAddrs.
type onlyMSKs struct{ m *MemoryMSKs }

func (o onlyMSKs) LookupMSK(nai []byte) (MSK, time.Time, bool) { return o.m.LookupMSK(nai) }

// The node's implementations.
var (
	_ MSKSource       = (*keystore.MSKs)(nil)
	_ SupplicantAddrs = (*keystore.MSKs)(nil)
	_ NeighborTable   = (*netio.NeighborTable)(nil)
)
