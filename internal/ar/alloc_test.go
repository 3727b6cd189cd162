package ar

import (
	"bytes"
	"context"
	"testing"

	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
)

// allocWorld returns a world with a provisioned key, an FBU for it and the
// same FBU with a wrong authenticator (checksum fixed up).
func allocWorld(t *testing.T) (w *world, good, bad netio.Packet) {
	t.Helper()
	w = newWorld(t, 1024, &Limits{})
	w.provision()
	good, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, false)
	if err != nil {
		t.Fatal(err)
	}
	bad = good
	bad.Payload = bytes.Clone(good.Payload)
	bad.Payload[len(bad.Payload)-1] ^= 1 // the BADF ends the message
	ckSrc := bad.Src
	if bad.HomeAddress.IsValid() {
		ckSrc = bad.HomeAddress
	}
	if err := mh.SetChecksum(bad.Payload, ckSrc, bad.Dst); err != nil {
		t.Fatal(err)
	}
	return w, good, bad
}

// TestFBUVerifyAllocs keeps the PAR's check of an FBU (checksum, parse,
// key lookup, BADF location and HMAC) free of allocations, for an accepted
// FBU and for one whose authenticator does not verify.
func TestFBUVerifyAllocs(t *testing.T) {
	w, good, bad := allocWorld(t)
	for _, tc := range []struct {
		name string
		p    netio.Packet
		want fbuVerdict
	}{{"accepted", good, fbuAccepted}, {"bad authenticator", bad, fbuBadAuth}} {
		allocs := testing.AllocsPerRun(200, func() {
			v, _, _, _, key, _ := w.par.checkFastBindingUpdate(tc.p)
			key.Zero()
			if v != tc.want {
				t.Fatalf("verdict %d, want %d", v, tc.want)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per FBU check, want 0", tc.name, allocs)
		}
	}
}

// maxFBUHandleAllocs bounds the allocations of handling one FBU that is
// answered: the FBack (packet, message and octets in one object).
const maxFBUHandleAllocs = 1

// TestFBUHandleAllocs bounds the allocations of the whole FBU path:
// verification, binding and the authenticated FBack, for an accepted FBU,
// a replayed one (stale, binding table) and a wrong authenticator.
func TestFBUHandleAllocs(t *testing.T) {
	ctx := context.Background()
	w, good, bad := allocWorld(t)
	if out := w.par.HandlePacket(ctx, good); len(out) != 1 {
		t.Fatal("no FBack") // the binding exists from now on: good is stale
	}
	for _, tc := range []struct {
		name     string
		p        netio.Packet
		bindings Bindings
		stat     func(Stats) uint64
	}{
		{"accepted", good, nopBindings{}, func(s Stats) uint64 { return s.FBUAccepted }},
		{"stale", good, w.table, func(s Stats) uint64 { return s.FBUStale }},
		{"bad authenticator", bad, w.table, func(s Stats) uint64 { return s.FBUBadAuth }},
	} {
		w.par.bindings = tc.bindings
		before := tc.stat(w.par.Stats())
		allocs := testing.AllocsPerRun(200, func() {
			if out := w.par.HandlePacket(ctx, tc.p); len(out) != 1 {
				t.Fatal("no FBack")
			}
		})
		if tc.stat(w.par.Stats()) == before {
			t.Fatalf("%s: not counted: %+v", tc.name, w.par.Stats())
		}
		if allocs > maxFBUHandleAllocs {
			t.Errorf("%s: %v allocations per FBU handled, want at most %d", tc.name, allocs, maxFBUHandleAllocs)
		}
	}
}
