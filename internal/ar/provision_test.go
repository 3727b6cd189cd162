package ar

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/ndp"
	"github.com/fhkey/fhkey/send"
)

func TestProvisioning(t *testing.T) {
	w := newWorld(t, 1024, nil)
	sol := w.solicit()
	solMsg, err := ndp.ParseMessage(sol.Payload)
	if err != nil {
		t.Fatal(err)
	}
	out := w.par.HandlePacket(context.Background(), sol)
	if len(out) != 1 {
		t.Fatalf("got %d packets, want 1", len(out))
	}
	adv := out[0]
	if adv.Src != w.parAdr || adv.Dst != w.pcoa.Address || adv.HopLimit != 255 || adv.NextHeader != inet.ProtocolICMPv6 {
		t.Errorf("PrRtAdv addressing %v -> %v hop %d nh %d", adv.Src, adv.Dst, adv.HopLimit, adv.NextHeader)
	}
	if err := ndp.VerifyChecksum(adv.Src, adv.Dst, adv.Payload); err != nil {
		t.Error(err)
	}
	m, err := ndp.ParseMessage(adv.Payload)
	if err != nil {
		t.Fatal(err)
	}
	pr := m.(*ndp.ProxyRouterAdvertisement)
	if pr.Code != ndp.PrRtAdvTuples || pr.Identifier != solMsg.(*ndp.RouterSolicitationForProxyAdvertisement).Identifier {
		t.Errorf("PrRtAdv Code %d Identifier %d", pr.Code, pr.Identifier)
	}
	var hkr *ndp.HandoverKeyReply
	var nonce []byte
	var narAddr, narPrefix netip.Addr
	last := pr.Options[len(pr.Options)-1]
	for _, o := range pr.Options {
		switch o := o.(type) {
		case *ndp.HandoverKeyReply:
			hkr = o
		case *ndp.Nonce:
			nonce = o.Nonce
		case *ndp.IPAddressPrefix:
			if o.OptionCode == ndp.IPAddressNARAddress {
				narAddr = o.IPv6Address
			} else if o.OptionCode == ndp.IPAddressNARPrefix {
				narPrefix = o.IPv6Address
			}
		}
	}
	if _, ok := last.(*ndp.RSASignature); !ok {
		t.Errorf("last option %T, want the RSA Signature", last)
	}
	if hkr == nil || hkr.AT != uint8(hokey.HMACSHA256Trunc128) || hkr.KeyLifetime != keystore.HKLifetime || len(hkr.EncryptedHandoverKey) != 128 {
		t.Fatalf("Handover Key Reply %+v", hkr)
	}
	var solNonce []byte
	for _, o := range solMsg.(*ndp.RouterSolicitationForProxyAdvertisement).Options {
		if n, ok := o.(*ndp.Nonce); ok {
			solNonce = n.Nonce
		}
	}
	if !bytes.Equal(nonce, solNonce) {
		t.Errorf("nonce %x not echoed (%x)", nonce, solNonce)
	}
	if narAddr != w.creds.NAR.CGA.Address || narPrefix != lab.NARPrefix.Addr() {
		t.Errorf("NAR tuple %v %v", narAddr, narPrefix)
	}

	rec, err := w.store.Get(w.parAdr, w.pcoa.Address)
	if err != nil {
		t.Fatal(err)
	}
	if rec.AT != uint8(hokey.HMACSHA256Trunc128) || rec.SPI != 0 || rec.KeyLen != 32 || !rec.Expires.Equal(w.clock.Now().Add(keystore.HKLifetime)) {
		t.Errorf("AR record %v", rec)
	}
	ev, err := w.mn.HandlePacket(context.Background(), adv)
	if err != nil || ev.Kind != mn.KeyProvisioned || ev.Router != w.parAdr {
		t.Fatalf("MN: %+v %v", ev, err)
	}
	mrec, err := w.mn.Store().Get(w.parAdr, w.pcoa.Address)
	if err != nil {
		t.Fatal(err)
	}
	if !mrec.KeyEqual(rec.KeyBytes()) || mrec.AT != rec.AT || !mrec.Expires.Equal(rec.Expires) {
		t.Error("MN and AR hold different keys")
	}
	// The same PrRtAdv again: its nonce is consumed.
	if _, err := w.mn.HandlePacket(context.Background(), adv); !errors.Is(err, mn.ErrDropped) {
		t.Errorf("replayed PrRtAdv: %v", err)
	}
	if s := w.par.Stats(); s.KeysCreated != 1 || s.PrRtAdvSent != 1 || s.PrRtAdvWithoutKey != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestExistingKeyReturned(t *testing.T) {
	w := newWorld(t, 1024, nil)
	first := w.provision()
	before := snapshot(t, w.store)
	w.clock.Advance(time.Minute)
	if err := w.mn.RotateEncryptionKey(); err != nil {
		t.Fatal(err)
	}
	// RFC 5269 §3.2: "If the CGA is associated with an existing handover
	// key, the AR MUST return the existing handover key", here encrypted to
	// the new key pair, with the remaining lifetime.
	second := w.provision()
	if !sameRecords(before, snapshot(t, w.store)) {
		t.Error("AR key record changed")
	}
	rec, _ := w.mn.Store().Get(w.parAdr, w.pcoa.Address)
	arRec, _ := w.store.Get(w.parAdr, w.pcoa.Address)
	if !rec.KeyEqual(arRec.KeyBytes()) {
		t.Error("MN received another key")
	}
	if got := second.Record.Expires.Sub(first.Record.Expires); got != 0 {
		t.Errorf("lifetime not the remaining one: expiry moved by %v", got)
	}
	if s := w.par.Stats(); s.KeysCreated != 1 || s.KeysReused != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestUniqueKeyPerCGA(t *testing.T) {
	w := newWorld(t, 1024, nil)
	w.provision()
	p, err := w.mn.Solicit(w.parAdr, w.ncoa)
	if err != nil {
		t.Fatal(err)
	}
	out := w.par.HandlePacket(context.Background(), p)
	if len(out) != 1 || !hasKeyReply(t, out[0]) {
		t.Fatal("no key for the second CGA")
	}
	a, _ := w.store.Get(w.parAdr, w.pcoa.Address)
	b, _ := w.store.Get(w.parAdr, w.ncoa.Address)
	if a.KeyEqual(b.KeyBytes()) {
		t.Error("two CGAs share a key")
	}
}

func TestAlgorithmNegotiation(t *testing.T) {
	tests := []struct {
		name      string
		arAlgs    []hokey.AlgorithmType
		preferred hokey.AlgorithmType
		want      hokey.AlgorithmType
		key       bool
	}{
		{"preferred AT 0 supported", nil, hokey.HMACSHA1Trunc96, hokey.HMACSHA1Trunc96, true},
		{"preferred AT 1 supported", nil, hokey.HMACSHA256Trunc128, hokey.HMACSHA256Trunc128, true},
		{"AT 0 unsupported: stronger", []hokey.AlgorithmType{hokey.HMACSHA256Trunc128}, hokey.HMACSHA1Trunc96, hokey.HMACSHA256Trunc128, true},
		{"AT 1 unsupported: no weaker", []hokey.AlgorithmType{hokey.HMACSHA1Trunc96}, hokey.HMACSHA256Trunc128, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 1024, nil)
			s := w.par.Settings()
			s.Algorithms = tc.arAlgs // nil: hokey.Supported()
			if err := w.par.Update(s); err != nil {
				t.Fatal(err)
			}
			m := w.newMN(nil)
			w.mn = m
			if err := m.SetPreferredAT(tc.preferred); err != nil {
				t.Fatal(err)
			}
			out := w.par.HandlePacket(context.Background(), w.solicit())
			if len(out) != 1 {
				t.Fatal("no answer")
			}
			if got := hasKeyReply(t, out[0]); got != tc.key {
				t.Fatalf("key reply %v, want %v", got, tc.key)
			}
			if !tc.key {
				if _, err := w.store.Get(w.parAdr, w.pcoa.Address); !errors.Is(err, keystore.ErrNotFound) {
					t.Errorf("record stored without provisioning: %v", err)
				}
				return
			}
			ev, err := m.HandlePacket(context.Background(), out[0])
			if err != nil || hokey.AlgorithmType(ev.Record.AT) != tc.want {
				t.Errorf("AT %d, want %d (%v)", ev.Record.AT, tc.want, err)
			}
		})
	}
}

func TestKeyDiscard(t *testing.T) {
	w := newWorld(t, 1024, nil)
	w.provision()
	// §3.6: discarded after FMIPv6 forwarding for the PCoA times out ...
	if !w.par.ForwardingTimedOut(w.pcoa.Address) || w.par.ForwardingTimedOut(w.pcoa.Address) {
		t.Fatal("ForwardingTimedOut did not discard exactly once")
	}
	if w.store.Len() != 0 {
		t.Fatal("key still stored")
	}
	// ... or when HK-LIFETIME expires.
	w.clock.Advance(time.Second)
	w.provision()
	w.clock.Advance(keystore.HKLifetime - time.Second)
	if n, _ := w.par.ExpireKeys(); n != 0 {
		t.Fatalf("expired %d keys before HK-LIFETIME", n)
	}
	w.clock.Advance(time.Second)
	if n, _ := w.par.ExpireKeys(); n != 1 || w.store.Len() != 0 {
		t.Fatalf("expired %d keys at HK-LIFETIME", n)
	}
	if s := w.par.Stats(); s.KeysDiscarded != 1 || s.KeysExpired != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestPlainRtSolPrWithoutKeyRequest(t *testing.T) {
	w := newWorld(t, 1024, nil)
	sol := &ndp.RouterSolicitationForProxyAdvertisement{Identifier: 7, Options: []ndp.Option{
		&ndp.LinkLayerAddress{OptionCode: ndp.LLANewAccessPoint, LinkLayerAddress: []byte{9, 9, 9, 9, 9, 9}},
		&ndp.CGA{Parameters: *w.pcoa.Parameters}, ndp.NewTimestamp(w.clock.Now()), &ndp.Nonce{Nonce: []byte("abcdef")},
	}}
	b, err := ndp.MarshalMessage(sol)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = send.Sign(b, w.pcoa.Address, w.parAdr, w.creds.MN.Key); err != nil {
		t.Fatal(err)
	}
	out := w.par.HandlePacket(context.Background(), pkt(w.pcoa.Address, w.parAdr, b))
	if len(out) != 1 || hasKeyReply(t, out[0]) {
		t.Fatal("want a PrRtAdv without a key")
	}
	m, _ := ndp.ParseMessage(out[0].Payload)
	if adv := m.(*ndp.ProxyRouterAdvertisement); adv.Code != ndp.PrRtAdvNoNewRouterInfo || adv.Identifier != 7 {
		t.Errorf("Code %d Identifier %d, want 2 and 7", adv.Code, adv.Identifier)
	}
	if w.store.Len() != 0 {
		t.Error("key stored without a request")
	}
}

func pkt(src, dst netip.Addr, b []byte) netio.Packet {
	return netio.Packet{Src: src, Dst: dst, HopLimit: 255, NextHeader: inet.ProtocolICMPv6, Payload: b}
}
