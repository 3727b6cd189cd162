package ar

import (
	"context"
	"testing"

	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
)

// FuzzHandleKeyRequest feeds arbitrary Mobility Header payloads, as HKReqs
// from an on-link and an off-link source, to a PAR in shared-key mode that
// holds the MN's key, with the fake HKS behind it. Nothing may panic;
// every immediate answer is an HKResp with a valid checksum; the state
// stays within its bounds; the store never holds more than the one key's
// two records (only the MN's NAI has an HMK at the HKS).
func FuzzHandleKeyRequest(f *testing.F) {
	w := newAAAWorld(f, AAAConfig{MaxPending: 16}, nil)
	w.mustKey(w.pcoa)
	w.clock.Advance(1e9)
	f.Add(false, w.keyRequestPacket(w.pcoa, w.pcoa, false).Payload)
	f.Add(false, w.keyRequestPacket(w.pcoa, w.pcoa, true).Payload)
	f.Add(true, w.keyRequestPacket(w.pcoa, w.ncoa, false).Payload)
	f.Add(false, floodRequest(f, w.pcoa, w.parAdr, testNAI, 3).Payload)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, offLink bool, payload []byte) {
		src := w.pcoa
		if offLink {
			src = w.ncoa
		}
		if len(payload) >= 6 {
			mh.SetChecksum(payload, src, w.parAdr) // reach past the checksum
		}
		out := w.par.HandlePacket(ctx, netio.Packet{Src: src, Dst: w.parAdr, HopLimit: 64, NextHeader: inet.ProtocolMobility, Payload: payload})
		w.par.WaitKeyServer()
		for _, o := range out {
			m, err := mh.ParseMessage(o.Payload)
			if _, ok := m.(mh.HandoverKeyResponse); err != nil || !ok || mh.VerifyChecksum(o.Payload, w.parAdr, o.Dst) != nil {
				t.Fatalf("answer %x: %v", o.Payload, err)
			}
		}
		if p, b := w.par.Exchanges(); p != 0 || b > 16 {
			t.Fatalf("pending %d, buffered %d", p, b)
		}
		if n := w.store.Len(); n > 2 {
			t.Fatalf("%d records", n)
		}
	})
}
