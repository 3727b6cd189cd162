package ar

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// genNeighbors is a NeighborTable that counts its changes
// (NeighborGenerations) and its lookups, as netio.NeighborTable does
// while it follows the kernel's notifications.
type genNeighbors struct {
	mu      sync.RWMutex
	m       map[netip.Addr][6]byte
	gen     atomic.Uint64
	lookups atomic.Int64
}

func newGenNeighbors(addr netip.Addr, mac [6]byte) *genNeighbors {
	return &genNeighbors{m: map[netip.Addr][6]byte{addr: mac}}
}

func (n *genNeighbors) set(addr netip.Addr, mac [6]byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gen.Add(1)
	n.m[addr] = mac
}

func (n *genNeighbors) LinkAddr(addr netip.Addr) ([6]byte, bool) {
	n.lookups.Add(1)
	n.mu.RLock()
	defer n.mu.RUnlock()
	mac, ok := n.m[addr]
	return mac, ok
}

func (n *genNeighbors) NeighborGeneration() (uint64, bool) { return n.gen.Load(), true }

// countingMSKs counts the lookups of a MemoryMSKs; it keeps its
// MSKGeneration.
type countingMSKs struct {
	*MemoryMSKs
	lookups atomic.Int64
}

func (c *countingMSKs) LookupSupplicantMSK(nai []byte) (MSK, time.Time, [6]byte, bool) {
	c.lookups.Add(1)
	return c.MemoryMSKs.LookupSupplicantMSK(nai)
}

// noGenMSKs is an MSKSource with SupplicantAddrs but no MSKGenerations.
type noGenMSKs struct{ c *countingMSKs }

func (s noGenMSKs) LookupMSK(nai []byte) (MSK, time.Time, bool) { return s.c.LookupMSK(nai) }
func (s noGenMSKs) LookupSupplicantMSK(nai []byte) (MSK, time.Time, [6]byte, bool) {
	return s.c.LookupSupplicantMSK(nai)
}

// rebuild replaces w's router by one reading src and nb.
func (w *mskWorld) rebuild(src MSKSource, nb NeighborTable) {
	w.t.Helper()
	var err error
	w.par, err = New(Config{Address: w.parAdr, Store: keystore.NewMemory(keystore.WithClock(w.clock.Now)), Bindings: w.table,
		Limits: &Limits{}, Now: w.clock.Now, MSK: &MSKConfig{Source: src, Algorithms: hokey.Supported(), Neighbors: nb}})
	if err != nil {
		w.t.Fatal(err)
	}
}

// expectFBU sends a fresh FBU of w.node and checks the FBack status
// (-1: no answer).
func (w *mskWorld) expectFBU(t *testing.T, step string, want int) {
	t.Helper()
	out := w.par.HandlePacket(context.Background(), w.fbu(w.node))
	got := -1
	if len(out) == 1 {
		got = int(fbackStatus(t, out[0]))
	}
	if got != want || len(out) > 1 {
		t.Fatalf("%s: FBack status %d (%d answers), want %d; stats %+v", step, got, len(out), want, w.par.Stats())
	}
}

// TestMSKCacheGenerations: with a source and a neighbor table that count
// their changes, a cache hit asks neither (docs/msk.md, Caching rule),
// and every change is seen at the next FBU: a new EAP run, a logoff, an
// expiry, another MAC on the PCoA; a change for another NAI costs one
// revalidation.
func TestMSKCacheGenerations(t *testing.T) {
	w := newMSKWorld(t, hokey.HMACSHA256Trunc128)
	src := &countingMSKs{MemoryMSKs: w.msks}
	nb := newGenNeighbors(w.pcoa, mnMAC)
	w.rebuild(src, nb)
	counts := func(step string, msk, neighbor int64) {
		t.Helper()
		if got, gotNb := src.lookups.Load(), nb.lookups.Load(); got != msk || gotNb != neighbor {
			t.Fatalf("%s: %d MSK lookups, %d neighbor lookups; want %d, %d", step, got, gotNb, msk, neighbor)
		}
	}
	accepted := int(mh.FastStatusAccepted)
	w.expectFBU(t, "first", accepted)
	counts("first", 1, 1)
	for range 5 {
		w.expectFBU(t, "cached", accepted)
	}
	counts("cache hits", 1, 1)

	// Another MAC on the PCoA: refused, then the right one again.
	other := [6]byte{0x02, 0, 0, 0, 0x02, 0}
	nb.set(w.pcoa, other)
	w.expectFBU(t, "PCoA of another MAC", int(mh.FastStatusAdministrativelyProhibited))
	counts("PCoA of another MAC", 1, 2)
	nb.set(w.pcoa, mnMAC)
	w.expectFBU(t, "PCoA back", accepted)
	w.expectFBU(t, "PCoA back, cached", accepted)
	counts("PCoA back", 1, 3)

	// A change for another NAI: one revalidation, same FHK.
	w.msks.SetSupplicant("other@example.com", w.msk, other, w.clock.Now().Add(time.Hour))
	w.expectFBU(t, "other NAI changed", accepted)
	w.expectFBU(t, "other NAI changed, cached", accepted)
	counts("other NAI changed", 2, 3)

	// A new EAP run: the old FHK no longer verifies, the new one does.
	oldFBU := w.fbu(w.node)
	w.msk[0] ^= 0xff
	w.msks.SetSupplicant(mskNAI, w.msk, mnMAC, w.clock.Now().Add(time.Hour))
	if out := w.par.HandlePacket(context.Background(), oldFBU); len(out) != 1 ||
		fbackStatus(t, out[0]) != mh.FastStatusAdministrativelyProhibited || w.par.Stats().FBUMSKBadAuth != 1 {
		t.Fatalf("FBU of the previous MSK: %v, stats %+v", out, w.par.Stats())
	}
	w.expectFBU(t, "new MSK", accepted)
	counts("new MSK", 3, 4) // the new entry checks the PCoA again

	// Logoff: unknown at once.
	w.msks.Delete(mskNAI)
	w.expectFBU(t, "after logoff", -1)

	// Expiry without ExpireKeys: the entry's expiry is checked on a hit.
	w.msks.SetSupplicant(mskNAI, w.msk, mnMAC, w.clock.Now().Add(time.Minute))
	w.expectFBU(t, "authenticated again", accepted)
	w.clock.Advance(time.Minute)
	w.expectFBU(t, "expired", -1)
	if s := w.par.Stats(); s.FBUMSKUnknownNAI != 2 || s.FBUMSKNotOwner != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestMSKCacheWithoutGenerations: a source and a neighbor table that do
// not count their changes are asked for every FBU, and their changes are
// seen.
func TestMSKCacheWithoutGenerations(t *testing.T) {
	w := newMSKWorld(t, hokey.HMACSHA256Trunc128)
	src := &countingMSKs{MemoryMSKs: w.msks}
	w.rebuild(noGenMSKs{src}, w.neighbors)
	for range 3 {
		w.expectFBU(t, "accepted", int(mh.FastStatusAccepted))
	}
	if n := src.lookups.Load(); n != 3 {
		t.Errorf("%d MSK lookups for 3 FBUs", n)
	}
	w.neighbors[w.pcoa] = [6]byte{0x02, 0, 0, 0, 0x02, 0}
	w.expectFBU(t, "PCoA of another MAC", int(mh.FastStatusAdministrativelyProhibited))
	w.neighbors[w.pcoa] = mnMAC
	w.msk[0] ^= 0xff
	w.msks.SetSupplicant(mskNAI, w.msk, mnMAC, w.clock.Now().Add(time.Hour))
	w.expectFBU(t, "new MSK", int(mh.FastStatusAccepted))
	w.msks.Delete(mskNAI)
	w.expectFBU(t, "after logoff", -1)
}
