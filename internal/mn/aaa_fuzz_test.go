package mn

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
)

var (
	aaaRouter = netip.MustParseAddr("2001:db8:1::1")
	aaaCoA    = netip.MustParseAddr("2001:db8:1::100")
	aaaNow    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// repeatReader returns the same octets on every read: the nodes it seeds
// build the same HKReq every time.
type repeatReader struct{}

func (repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + 1)
	}
	return len(p), nil
}

// aaaNode returns a node in shared-key mode with an outstanding HKReq to
// aaaRouter, and the HKReq.
func aaaNode(t testing.TB) (*MobileNode, mh.HandoverKeyRequest) {
	m, err := New(Config{AAA: &AAAConfig{NAI: "mn@example.com", HMK: bytes.Repeat([]byte{3}, 64)}, Rand: repeatReader{},
		Now: func() time.Time { return aaaNow }})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.HandoverKeyRequest(aaaRouter, aaaCoA, aaaCoA, false)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mh.ParseMessage(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return m, msg.(mh.HandoverKeyRequest)
}

// aaaAnswers builds, as the AR and HKS would, the success HKResp to req
// and an authenticated INVALID_TIMESTAMP.
func aaaAnswers(t testing.TB, req mh.HandoverKeyRequest) (ok, refused []byte) {
	var mnNonce []byte
	var ts mh.Timestamp
	for _, o := range req.Options {
		switch o := o.(type) {
		case mh.HandoverNonce:
			mnNonce = o.Nonce
		case mh.Timestamp:
			ts = o
		}
	}
	hksNonce := bytes.Repeat([]byte{9}, 16)
	hmk := bytes.Repeat([]byte{3}, 64)
	hk, err := hokey.DeriveHK(hokey.PRFHMACSHA1, hmk, mnNonce, hksNonce, "mn@example.com", aaaRouter, hokey.MACHMACSHA1)
	if err != nil {
		t.Fatal(err)
	}
	ok, err = hokey.SignMACs(mh.Codepoints{}, mh.HandoverKeyResponse{MessageID: req.MessageID, PRF: 1, Lifetime: time.Hour, SPI: 4242,
		Options: []mh.Option{mh.HandoverNonce{Subtype: mh.NonceSubtypeHKS, Nonce: hksNonce}, ts}}, aaaRouter, aaaCoA, &hk)
	if err != nil {
		t.Fatal(err)
	}
	hik, err := hokey.DeriveHIK(hokey.PRFHMACSHA1, hmk, req.MessageID, hokey.MACHMACSHA1)
	if err != nil {
		t.Fatal(err)
	}
	refused, err = hokey.SignMACs(mh.Codepoints{}, mh.HandoverKeyResponse{MessageID: req.MessageID, PRF: 1,
		Status: mh.HandoverKeyStatusInvalidTimestamp, Options: []mh.Option{ts}}, aaaRouter, aaaCoA, &hik)
	if err != nil {
		t.Fatal(err)
	}
	return ok, refused
}

// TestHandleKeyResponse: the success HKResp stores the key with its SPI and
// lifetime; the FBU then carries that SPI; an authenticated error is
// reported authenticated.
func TestHandleKeyResponse(t *testing.T) {
	m, req := aaaNode(t)
	ok, refused := aaaAnswers(t, req)
	ev, err := m.HandlePacket(context.Background(), netio.Packet{Src: aaaRouter, Dst: aaaCoA, NextHeader: inet.ProtocolMobility, Payload: refused})
	if err != nil || ev.Kind != HandoverKeyStatus || !ev.KeyResponse.Authenticated || ev.KeyResponse.Status != mh.HandoverKeyStatusInvalidTimestamp {
		t.Fatalf("refusal: %v %+v %v", ev.Kind, ev.KeyResponse, err)
	}
	m, req = aaaNode(t)
	ev, err = m.HandlePacket(context.Background(), netio.Packet{Src: aaaRouter, Dst: aaaCoA, NextHeader: inet.ProtocolMobility, Payload: ok})
	if err != nil || ev.Kind != HandoverKeyEstablished || ev.Record.SPI != 4242 || !ev.Record.Expires.Equal(aaaNow.Add(time.Hour)) {
		t.Fatalf("success: %v %v %v", ev.Kind, ev.Record, err)
	}
	fbu, err := m.FastBindingUpdate(aaaRouter, aaaCoA, netip.MustParseAddr("2001:db8:2::100"), false)
	if err != nil {
		t.Fatal(err)
	}
	if cov, err := mh.CoveredByBADF(fbu.Payload, netip.MustParseAddr("2001:db8:2::100"), aaaRouter); err != nil || cov.SPI != 4242 {
		t.Fatalf("FBU BADF SPI %d, %v", cov.SPI, err)
	}
	// The same answer again: no outstanding HKReq.
	if _, err := m.HandlePacket(context.Background(), netio.Packet{Src: aaaRouter, Dst: aaaCoA, NextHeader: inet.ProtocolMobility, Payload: ok}); !errors.Is(err, ErrDropped) {
		t.Errorf("second answer: %v", err)
	}
	if m.KeyRefreshDue() != nil {
		t.Error("a fresh key is due")
	}
}

// FuzzHandleKeyResponse feeds arbitrary HKResps (checksum fixed up) to a
// node with an outstanding HKReq. Nothing may panic; a drop wraps
// ErrDropped (or is not for the node); a stored key is always the one the
// node derives itself (only the seed's MN-AR MAC verifies).
func FuzzHandleKeyResponse(f *testing.F) {
	_, req := aaaNode(f)
	ok, refused := aaaAnswers(f, req)
	f.Add(ok)
	f.Add(refused)
	f.Add(ok[:len(ok)-8])
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, _ := aaaNode(t)
		if len(payload) >= 6 {
			mh.SetChecksum(payload, aaaRouter, aaaCoA)
		}
		ev, err := m.HandlePacket(context.Background(), netio.Packet{Src: aaaRouter, Dst: aaaCoA, NextHeader: inet.ProtocolMobility, Payload: payload})
		if err != nil && !errors.Is(err, ErrDropped) && !errors.Is(err, errNotForMe) {
			t.Fatalf("error %v wraps neither ErrDropped nor errNotForMe", err)
		}
		if ev.Kind == HandoverKeyEstablished {
			mine, _ := aaaNode(t)
			if _, err := mine.HandlePacket(context.Background(), netio.Packet{Src: aaaRouter, Dst: aaaCoA, NextHeader: inet.ProtocolMobility, Payload: ok}); err != nil {
				t.Fatal(err)
			}
			a, _ := m.Store().Get(aaaRouter, aaaCoA)
			b, _ := mine.Store().Get(aaaRouter, aaaCoA)
			if !a.KeyEqual(b.KeyBytes()) {
				t.Fatal("a key other than the derived one was stored")
			}
		}
	})
}
