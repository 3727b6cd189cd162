package ar

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/ndp"
	"github.com/fhkey/fhkey/send"
)

// rtsolpr builds an RtSolPr with a Handover Key Request from src carrying the
// CGA Parameters params, signed by signer (unsigned when nil).
func (w *world) rtsolpr(src netip.Addr, params *cga.Parameters, signer crypto.Signer, ts time.Time, nonce []byte, hkepk []byte) []byte {
	w.t.Helper()
	sol := &ndp.RouterSolicitationForProxyAdvertisement{Identifier: 1, Options: []ndp.Option{
		&ndp.LinkLayerAddress{OptionCode: ndp.LLAWildcard},
		&ndp.CGA{Parameters: *params}, ndp.NewTimestamp(ts), &ndp.Nonce{Nonce: nonce},
		&ndp.HandoverKeyRequest{AT: 1, HandoverKeyEncryptionPublicKey: hkepk},
	}}
	var b []byte
	var err error
	if signer == nil {
		b, err = ndp.MarshalMessageWithChecksum(sol, src, w.parAdr)
	} else if b, err = ndp.MarshalMessage(sol); err == nil {
		b, err = send.Sign(b, src, w.parAdr, signer)
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

var attacker = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
})

func fixChecksum(src, dst netip.Addr, b []byte) {
	b[2], b[3] = 0, 0
	binary.BigEndian.PutUint16(b[2:], ndp.Checksum(src, dst, b))
}

// TestAttackSolicitations sends RtSolPrs that must not provision a key. Each
// runs after a genuine provisioning and asserts that the stored key is
// untouched (RFC 5269 §3.2: "The AR also MUST NOT change any existing key
// record for the address") and that the router still answers, without a
// Handover Key Reply ("The AR SHOULD respond to the RtSolPr").
func TestAttackSolicitations(t *testing.T) {
	hk := spki(t, &attacker().PublicKey)
	tests := []struct {
		name  string
		build func(w *world) netio.Packet
		stat  func(Stats) uint64
	}{
		{"forged signature", func(w *world) netio.Packet {
			p := w.solicit()
			p.Payload[len(p.Payload)-10] ^= 0x55 // inside the Digital Signature
			fixChecksum(p.Src, p.Dst, p.Payload)
			return p
		}, func(s Stats) uint64 { return s.RtSolPrSENDFailed }},
		{"signed by another key", func(w *world) netio.Packet {
			// The MN's message with the Digital Signature replaced by the
			// attacker's over the same signed data.
			p := w.solicit()
			off, err := ndp.RSASignatureOffset(p.Payload)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := send.SignedData(p.Payload, p.Src, p.Dst)
			if err != nil {
				t.Fatal(err)
			}
			h := sha1.Sum(sd)
			sig, err := rsa.SignPKCS1v15(nil, attacker(), crypto.SHA1, h[:])
			if err != nil {
				t.Fatal(err)
			}
			copy(p.Payload[off+20:], sig)
			fixChecksum(p.Src, p.Dst, p.Payload)
			return p
		}, func(s Stats) uint64 { return s.RtSolPrSENDFailed }},
		{"missing signature", func(w *world) netio.Packet {
			b := w.rtsolpr(w.pcoa.Address, w.pcoa.Parameters, nil, w.clock.Now(), []byte("nonce2"), hk)
			return pkt(w.pcoa.Address, w.parAdr, b)
		}, func(s Stats) uint64 { return s.RtSolPrSENDFailed }},
		{"CGA not matching the address", func(w *world) netio.Packet {
			// The MN's own key and NCoA parameters, claiming the PCoA.
			b := w.rtsolpr(w.pcoa.Address, w.ncoa.Parameters, w.creds.MN.Key, w.clock.Now(), []byte("nonce3"), hk)
			return pkt(w.pcoa.Address, w.parAdr, b)
		}, func(s Stats) uint64 { return s.RtSolPrCGAFailed }},
		{"replayed nonce", func(w *world) netio.Packet {
			return w.lastSolicit
		}, func(s Stats) uint64 { return s.RtSolPrSENDFailed }},
		{"stale timestamp", func(w *world) netio.Packet {
			b := w.rtsolpr(w.pcoa.Address, w.pcoa.Parameters, w.creds.MN.Key, w.clock.Now().Add(-10*time.Minute), []byte("nonce4"), hk)
			return pkt(w.pcoa.Address, w.parAdr, b)
		}, func(s Stats) uint64 { return s.RtSolPrSENDFailed }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 1024, nil)
			w.lastSolicit = w.solicit()
			if out := w.par.HandlePacket(context.Background(), clonePacket(w.lastSolicit)); len(out) != 1 || !hasKeyReply(t, out[0]) {
				t.Fatal("genuine provisioning failed")
			}
			before := snapshot(t, w.store)
			w.clock.Advance(time.Second)
			out := w.par.HandlePacket(context.Background(), tc.build(w))
			if len(out) != 1 {
				t.Fatalf("router sent %d packets, want one PrRtAdv", len(out))
			}
			if hasKeyReply(t, out[0]) {
				t.Error("PrRtAdv carries a Handover Key Reply")
			}
			if !sameRecords(before, snapshot(t, w.store)) {
				t.Error("stored key changed")
			}
			if tc.stat(w.par.Stats()) != 1 {
				t.Errorf("stats %+v", w.par.Stats())
			}
		})
	}
}

func clonePacket(p netio.Packet) netio.Packet {
	p.Payload = append([]byte(nil), p.Payload...)
	return p
}

// TestAttackFlood: a legitimate MN is served while 1,000 solicitations with
// valid CGAs of one attacker key (correctly signed) and 1,000 with CGAs that
// do not match their source arrive from 2,000 addresses. The per-key bucket
// holds the attacker key to its burst, the CGA pre-check costs no RSA, and
// the total budget stays available. Without the per-key bucket the same
// flood starves the MN (the control case), so the test can fail.
func TestAttackFlood(t *testing.T) {
	for _, perKey := range []bool{true, false} {
		name := map[bool]string{true: "default limits", false: "control: no per-key bucket"}[perKey]
		t.Run(name, func(t *testing.T) {
			lim := DefaultLimits
			if !perKey {
				lim.PerKey = Rate{}
			}
			w := newWorld(t, 1024, &lim)
			ak := attacker()
			hk := spki(t, &ak.PublicKey)
			var flood []netio.Packet
			for i := range 1000 {
				g, err := cga.Generate(context.Background(), lab.PARPrefix, hk, 0, nil)
				if err != nil {
					t.Fatal(err)
				}
				nonce := binary.BigEndian.AppendUint64(nil, uint64(i))[2:]
				b := w.rtsolpr(g.Address, g.Parameters, ak, w.clock.Now(), nonce, spki(t, &w.creds.NAR.Key.PublicKey))
				flood = append(flood, pkt(g.Address, w.parAdr, b))
				// A garbage copy from another source: CGA mismatch.
				junk := clonePacket(flood[len(flood)-1])
				junk.Src = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0xee, byte(i >> 8), byte(i), 1, 2, 3, 4, 5})
				fixChecksum(junk.Src, junk.Dst, junk.Payload)
				flood = append(flood, junk)
			}
			served := false
			for i, p := range flood {
				if i == len(flood)/2 || (!served && i > len(flood)/2 && i%200 == 0) {
					// The MN and its retransmissions.
					for _, out := range w.par.HandlePacket(context.Background(), w.solicit()) {
						if ev, err := w.mn.HandlePacket(context.Background(), out); err == nil && ev.Kind == mn.KeyProvisioned {
							served = true
						}
					}
				}
				w.par.HandlePacket(context.Background(), p)
			}
			s := w.par.Stats()
			t.Logf("stats %+v", s)
			if !perKey {
				if served {
					t.Error("control: MN served although the flood took the total budget")
				}
				return
			}
			if !served {
				t.Fatal("legitimate MN starved by the flood")
			}
			rsaWork := s.KeysCreated + s.KeysReused + s.RtSolPrSENDFailed + s.BadKeyRequest
			if s.KeysCreated != uint64(lim.PerKey.Burst)+1 || rsaWork > uint64(lim.PerKey.Burst)+1 {
				t.Errorf("RSA work %d, keys created %d; want the attacker's burst %d plus the MN", rsaWork, s.KeysCreated, lim.PerKey.Burst)
			}
			if s.RtSolPrCGAFailed != 1000 || s.RateLimitedKey != 1000-uint64(lim.PerKey.Burst) ||
				s.UnsecuredSuppressed != 1000-uint64(lim.UnsecuredReplies.Burst) {
				t.Errorf("stats %+v", s)
			}
			if w.store.Len() != lim.PerKey.Burst+1 {
				t.Errorf("%d key records, want %d", w.store.Len(), lim.PerKey.Burst+1)
			}
		})
	}
}

func TestAttackPerSource(t *testing.T) {
	w := newWorld(t, 1024, nil)
	for range DefaultLimits.PerSource.Burst {
		p := w.solicit()
		p.Payload[len(p.Payload)-10] ^= 1
		fixChecksum(p.Src, p.Dst, p.Payload)
		w.par.HandlePacket(context.Background(), p)
	}
	if out := w.par.HandlePacket(context.Background(), w.solicit()); len(out) != 0 || w.par.Stats().RateLimitedSource != 1 {
		t.Fatalf("per-source bucket not applied: %+v", w.par.Stats())
	}
	w.clock.Advance(time.Second)
	w.provision() // refilled
}

// fbuAttack delivers p to the PAR after a genuine provisioning and asserts
// that neither the key store nor the bindings changed.
func fbuAttack(t *testing.T, w *world, p netio.Packet) []netio.Packet {
	t.Helper()
	keys := snapshot(t, w.store)
	bindings := w.table.Snapshot()
	out := w.par.HandlePacket(context.Background(), p)
	if !sameRecords(keys, snapshot(t, w.store)) {
		t.Error("stored key changed")
	}
	if got := w.table.Snapshot(); len(got) != len(bindings) {
		t.Errorf("bindings changed: %v", got)
	}
	return out
}

func TestAttackFastBindingUpdates(t *testing.T) {
	ctx := context.Background()
	forger := func(w *world, pcoa netip.Addr) *mn.MobileNode {
		s := keystore.NewMemory(keystore.WithClock(w.clock.Now))
		r := keystore.Record{AR: w.parAdr, MN: pcoa, AT: uint8(hokey.HMACSHA256Trunc128), Created: w.clock.Now(), Expires: w.clock.Now().Add(time.Hour)}
		_ = r.SetKey(make([]byte, 32)) // a guessed key
		if err := s.Put(&r); err != nil {
			t.Fatal(err)
		}
		return w.newMN(s)
	}
	t.Run("wrong MAC", func(t *testing.T) {
		w := newWorld(t, 1024, nil)
		w.provision()
		p, err := forger(w, w.pcoa.Address).FastBindingUpdate(w.parAdr, w.pcoa.Address, w6("2001:db8:2::bad"), false)
		if err != nil {
			t.Fatal(err)
		}
		out := fbuAttack(t, w, p)
		// Answered with Status 129, authenticated with the real key.
		if len(out) != 1 {
			t.Fatalf("%d answers", len(out))
		}
		m, err := mh.ParseMessage(out[0].Payload)
		if err != nil || m.(mh.FastBindingAcknowledgment).Status != mh.FastStatusAdministrativelyProhibited {
			t.Errorf("FBack %+v %v", m, err)
		}
		if w.par.Stats().FBUBadAuth != 1 {
			t.Errorf("stats %+v", w.par.Stats())
		}
	})
	t.Run("unknown CGA", func(t *testing.T) {
		w := newWorld(t, 1024, nil)
		w.provision()
		p, err := forger(w, w.ncoa.Address).FastBindingUpdate(w.parAdr, w.ncoa.Address, w6("2001:db8:2::bad"), false)
		if err != nil {
			t.Fatal(err)
		}
		if out := fbuAttack(t, w, p); len(out) != 0 || w.par.Stats().FBUUnknownKey != 1 {
			t.Errorf("%d answers, stats %+v", len(out), w.par.Stats())
		}
	})
	t.Run("expired key", func(t *testing.T) {
		w := newWorld(t, 1024, nil)
		w.provision()
		p, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, false)
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(keystore.HKLifetime)
		if out := fbuAttack(t, w, p); len(out) != 0 || w.par.Stats().FBUExpiredKey != 1 {
			t.Errorf("%d answers, stats %+v", len(out), w.par.Stats())
		}
	})
	t.Run("BADF not last", func(t *testing.T) {
		w := newWorld(t, 1024, nil)
		w.provision()
		p, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, false)
		if err != nil {
			t.Fatal(err)
		}
		b := append(p.Payload, 1, 6, 0, 0, 0, 0, 0, 0) // PadN after the BADF
		b[1]++                                         // Header Len
		if err := mh.SetChecksum(b, w.pcoa.Address, w.parAdr); err != nil {
			t.Fatal(err)
		}
		if _, err := mh.ParseMessage(b); !errors.Is(err, mh.ErrBADFNotLast) {
			t.Fatalf("test packet: %v", err)
		}
		p.Payload = b
		if out := fbuAttack(t, w, p); len(out) != 0 || w.par.Stats().FBUMalformed != 1 {
			t.Errorf("%d answers, stats %+v", len(out), w.par.Stats())
		}
	})
	t.Run("no BADF", func(t *testing.T) {
		w := newWorld(t, 1024, nil)
		w.provision()
		b, err := mh.MarshalMessage(mh.FastBindingUpdate{Sequence: 1, Acknowledge: true, HomeRegistration: true, Lifetime: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		_ = mh.SetChecksum(b, w.pcoa.Address, w.parAdr)
		p := netio.Packet{Src: w.ncoa.Address, Dst: w.parAdr, HomeAddress: w.pcoa.Address, NextHeader: 135, Payload: b}
		if out := fbuAttack(t, w, p); len(out) != 0 || w.par.Stats().FBUMalformed != 1 {
			t.Errorf("%d answers, stats %+v", len(out), w.par.Stats())
		}
	})
	t.Run("truncated", func(t *testing.T) {
		w := newWorld(t, 1024, nil)
		w.provision()
		p, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, false)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(p.Payload) {
			q := clonePacket(p)
			q.Payload = q.Payload[:n]
			if out := fbuAttack(t, w, q); len(out) != 0 {
				t.Fatalf("answer to an FBU truncated to %d octets", n)
			}
		}
		_ = ctx
	})
}

func TestAttackTruncatedSolicitation(t *testing.T) {
	w := newWorld(t, 1024, nil)
	w.provision()
	before := snapshot(t, w.store)
	w.clock.Advance(time.Second)
	p := w.solicit()
	for n := range len(p.Payload) {
		q := clonePacket(p)
		q.Payload = q.Payload[:n]
		for _, out := range w.par.HandlePacket(context.Background(), q) {
			if hasKeyReply(t, out) {
				t.Fatalf("key reply to an RtSolPr truncated to %d octets", n)
			}
		}
	}
	if !sameRecords(before, snapshot(t, w.store)) {
		t.Error("stored key changed")
	}
}
