package mh

import (
	"bytes"
	"errors"
	"testing"
)

// hkreqWire is an HKReq as an MN sends it (draft §5.1.1): MN ID (NAI),
// MN-Nonce, Timestamp, then the MN-HKS MAC, and the view expected of it.
func hkreqWire(t testing.TB, extra ...Option) []byte {
	t.Helper()
	opts := append([]Option{
		MobileNodeIdentifier{Subtype: MobileNodeIdentifierSubtypeNAI, Identifier: []byte("mn@example.com")},
		HandoverNonce{Subtype: NonceSubtypeMN, Nonce: seq(16)},
		Timestamp{Value: 0x0102030405060708},
	}, extra...)
	opts = append(opts, MessageAuthenticationCode{Subtype: MACSubtypeMNHKS, AlgorithmType: 5, AuthValue: seq(32)})
	b, err := MarshalMessage(HandoverKeyRequest{MessageID: 9, Verify: true, PRF: 5, KeyCareOfAddress: mnCoA, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseHandoverKeyRequest(t *testing.T) {
	v, err := ParseHandoverKeyRequest(hkreqWire(t))
	if err != nil {
		t.Fatal(err)
	}
	want := HandoverKeyRequestView{HandoverKeyRequest: HandoverKeyRequest{MessageID: 9, Verify: true, PRF: 5, KeyCareOfAddress: mnCoA},
		NAI: []byte("mn@example.com"), NAIOptions: 1, MNNonce: seq(16), MNNonceOptions: 1,
		Timestamp: 0x0102030405060708, TimestampOptions: 1, MNHKSMACAlgorithmType: 5, MNHKSMACOptions: 1}
	if v.HandoverKeyRequest.KeyCareOfAddress != want.KeyCareOfAddress || v.MessageID != 9 || !v.Verify || v.PRF != 5 ||
		!bytes.Equal(v.NAI, want.NAI) || !bytes.Equal(v.MNNonce, want.MNNonce) || v.Options != nil ||
		v.NAIOptions != 1 || v.MNNonceOptions != 1 || v.Timestamp != want.Timestamp || v.TimestampOptions != 1 ||
		v.MNHKSMACAlgorithmType != 5 || v.MNHKSMACOptions != 1 {
		t.Errorf("got %+v\nwant %+v", v, want)
	}
}

// TestParseHandoverKeyRequestCounts: repeated options are counted, the
// first kept; other subtypes are not counted.
func TestParseHandoverKeyRequestCounts(t *testing.T) {
	b := hkreqWire(t,
		MobileNodeIdentifier{Subtype: MobileNodeIdentifierSubtypeNAI, Identifier: []byte("other@example.com")},
		MobileNodeIdentifier{Subtype: 2, Identifier: []byte("x")},
		HandoverNonce{Subtype: NonceSubtypeMN, Nonce: seq(8)},
		HandoverNonce{Subtype: NonceSubtypeHKS, Nonce: seq(8)},
		Timestamp{Value: 1},
		MessageAuthenticationCode{Subtype: MACSubtypeMNAR, AlgorithmType: 2, AuthValue: seq(20)})
	v, err := ParseHandoverKeyRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(v.NAI) != "mn@example.com" || v.NAIOptions != 2 || !bytes.Equal(v.MNNonce, seq(16)) || v.MNNonceOptions != 2 ||
		v.Timestamp != 0x0102030405060708 || v.TimestampOptions != 2 || v.MNHKSMACOptions != 1 || v.MNHKSMACAlgorithmType != 5 {
		t.Errorf("%+v", v)
	}
}

func TestParseHandoverKeyRequestErrors(t *testing.T) {
	resp, err := MarshalMessage(HandoverKeyResponse{MessageID: 1, PRF: 1})
	if err != nil {
		t.Fatal(err)
	}
	short := hkreqWire(t)
	short[1]-- // Header Len one unit short of the octets present
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"HKResp", resp, ErrValue},
		{"trailing data", short, ErrHeaderLen},
		{"empty", nil, ErrParse},
	} {
		_, err := ParseHandoverKeyRequest(c.b)
		_, perr := ParseMessage(c.b)
		if !errors.Is(err, c.want) || !errors.Is(err, ErrParse) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if c.name != "HKResp" && (perr == nil || perr.Error() != err.Error()) {
			t.Errorf("%s: %v, ParseMessage %v", c.name, err, perr)
		}
	}
}

// TestParseHandoverKeyRequestAllocs keeps the HKS's decode of an HKReq
// allocation-free.
func TestParseHandoverKeyRequestAllocs(t *testing.T) {
	b := hkreqWire(t)
	allocs := testing.AllocsPerRun(100, func() {
		if v, err := ParseHandoverKeyRequest(b); err != nil || v.NAIOptions != 1 {
			t.Fatal(v, err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per HKReq decode, want 0", allocs)
	}
}
