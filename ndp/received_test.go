package ndp_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/ndp"
)

// sendTag is the CGA Message Type tag for SEND (RFC 3971 §5.2).
var sendTag = []byte{0x08, 0x6f, 0xca, 0x5e, 0x10, 0xb2, 0x00, 0xc9, 0x9c, 0x8c, 0xe0, 0x01, 0x64, 0x27, 0x7c, 0x08}

var (
	sendSrc = netip.MustParseAddr("fe80::1")
	sendDst = netip.MustParseAddr("fe80::a")
)

// signedData is the octet sequence RFC 3971 §5.2 signs, with the message
// part taken from covered.
func signedData(covered []byte) []byte {
	s, d := sendSrc.As16(), sendDst.As16()
	return wire(sendTag, s[:], d[:], covered)
}

// signedRtSolPr returns a SEND-signed RtSolPr carrying a Handover Key Request
// (RFC 5269 §3), signed with the test key: the size of the messages the
// mobile node sends.
func signedRtSolPr(tb testing.TB) []byte {
	tb.Helper()
	h := sha1.Sum(testSPKI)
	m := &ndp.RouterSolicitationForProxyAdvertisement{
		Identifier: 0x4242,
		Options: []ndp.Option{
			&ndp.LinkLayerAddress{OptionCode: ndp.LLASource, LinkLayerAddress: mac},
			&ndp.LinkLayerAddress{OptionCode: ndp.LLANewAccessPoint, LinkLayerAddress: seq(0xa0, 6)},
			&ndp.CGA{Parameters: cga.Parameters{Modifier: testModifier, SubnetPrefix: [8]byte{0xfe, 0x80}, PublicKey: testSPKI}},
			&ndp.HandoverKeyRequest{AT: 1, HandoverKeyEncryptionPublicKey: testSPKI},
			ndp.NewTimestamp(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)),
			&ndp.Nonce{Nonce: seq(0xc0, 6)},
			&ndp.RSASignature{KeyHash: [16]byte(h[:16]), DigitalSignature: make([]byte, 256)},
		},
	}
	msg, err := ndp.MarshalMessage(m)
	if err != nil {
		tb.Fatal(err)
	}
	off, err := ndp.RSASignatureOffset(msg)
	if err != nil {
		tb.Fatal(err)
	}
	digest := sha1.Sum(signedData(msg[:off]))
	sig, err := rsa.SignPKCS1v15(nil, testKey, crypto.SHA1, digest[:])
	if err != nil {
		tb.Fatal(err)
	}
	copy(msg[off+20:], sig)
	return msg
}

func TestRSASignatureOffsetCoversTheSignedOctets(t *testing.T) {
	msg := signedRtSolPr(t)
	off, err := ndp.RSASignatureOffset(msg)
	if err != nil {
		t.Fatal(err)
	}
	// Octets: header 8, LLA 16 + 16, CGA 328, HKReq 304, Timestamp 16,
	// Nonce 8.
	if want := 8 + 16 + 16 + 328 + 304 + 16 + 8; off != want {
		t.Fatalf("RSASignatureOffset = %d, want %d", off, want)
	}
	// A verifier that takes the signature from the parsed option and the
	// covered octets from the received message accepts it.
	m, err := ndp.ParseMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	opts := m.(*ndp.RouterSolicitationForProxyAdvertisement).Options
	rsaOpt := opts[len(opts)-1].(*ndp.RSASignature)
	sig, pad, err := rsaOpt.Signature(testKey.Size())
	if err != nil || len(pad) != 4 {
		t.Fatalf("Signature: padding %d octets, %v", len(pad), err)
	}
	digest := sha1.Sum(signedData(msg[:off]))
	if err := rsa.VerifyPKCS1v15(&testKey.PublicKey, crypto.SHA1, digest[:], sig); err != nil {
		t.Fatalf("signature over msg[:off] does not verify: %v", err)
	}
	// One octet fewer or more is not what was signed.
	for _, n := range []int{off - 1, off + 1} {
		d := sha1.Sum(signedData(msg[:n]))
		if rsa.VerifyPKCS1v15(&testKey.PublicKey, crypto.SHA1, d[:], sig) == nil {
			t.Fatalf("signature also verifies over msg[:%d]", n)
		}
	}
	// Options after the first RSA Signature option do not move it (RFC
	// 3971 §5.2.2: they are ignored).
	trailing := wire(msg, 14, 1, seq(1, 6), 12, 3, zeros(22))
	if got, err := ndp.RSASignatureOffset(trailing); err != nil || got != off {
		t.Fatalf("with trailing options: RSASignatureOffset = %d, %v; want %d", got, err, off)
	}
}

func TestRSASignatureOffsetErrors(t *testing.T) {
	unsigned := wire(
		133, 0, u16(0), u32(0), // Router Solicitation
		14, 1, seq(1, 6), // Nonce
	)
	tests := []struct {
		name string
		msg  []byte
		want error
		eof  bool
	}{
		{"no RSA Signature option", unsigned, ndp.ErrNoRSASignature, false},
		{"no options", wire(133, 0, u16(0), u32(0)), ndp.ErrNoRSASignature, false},
		{"unknown message type", wire(128, 0, u16(0), u32(0), 12, 3, zeros(22)), ndp.ErrUnknownMessage, false},
		{"unknown FMIPv6 subtype", wire(154, 0, u16(0), 4, 0, u16(0), 12, 3, zeros(22)), ndp.ErrUnknownMessage, false},
		{"RSA Signature option too short", wire(133, 0, u16(0), u32(0), 12, 2, zeros(14)), ndp.ErrParse, true},
		{"option of length zero before it", wire(133, 0, u16(0), u32(0), 14, 0, 12, 3, zeros(20)), ndp.ErrParse, false},
		{"truncated option before it", wire(133, 0, u16(0), u32(0), 14, 9, zeros(6)), ndp.ErrParse, true},
		{"truncated header", wire(134, 0, u16(0), zeros(6)), ndp.ErrParse, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			off, err := ndp.RSASignatureOffset(tc.msg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("RSASignatureOffset = %d, %v; want %v", off, err, tc.want)
			}
			if tc.eof != errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %q: wraps io.ErrUnexpectedEOF = %v, want %v", err, !tc.eof, tc.eof)
			}
		})
	}
}

func TestOptionsOffset(t *testing.T) {
	tests := []struct {
		msg  []byte
		want int
	}{
		{wire(133, 0, zeros(6)), 8},
		{wire(134, 0, zeros(14)), 16},
		{wire(135, 0, zeros(22)), 24},
		{wire(136, 0, zeros(22)), 24},
		{wire(137, 0, zeros(38)), 40},
		{wire(148, 0, zeros(6)), 8},
		{wire(149, 0, zeros(10)), 12},
		{wire(154, 0, u16(0), 2, 0, u16(0)), 8},
		{wire(154, 0, u16(0), 3, 0, u16(0)), 8},
	}
	for _, tc := range tests {
		if got, err := ndp.OptionsOffset(tc.msg); err != nil || got != tc.want {
			t.Errorf("OptionsOffset(type %d) = %d, %v; want %d", tc.msg[0], got, err, tc.want)
		}
		// The offset agrees with what ParseMessage consumes as fixed
		// fields: a message cut one octet short fails as truncated.
		if _, err := ndp.OptionsOffset(tc.msg[:tc.want-1]); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("OptionsOffset(type %d, %d octets) = %v, want io.ErrUnexpectedEOF", tc.msg[0], tc.want-1, err)
		}
	}
	if _, err := ndp.OptionsOffset(wire(1, 4, zeros(6))); !errors.Is(err, ndp.ErrUnknownMessage) {
		t.Errorf("OptionsOffset(Destination Unreachable) = %v, want ErrUnknownMessage", err)
	}
}

func TestOptionSpans(t *testing.T) {
	msg := signedRtSolPr(t)
	spans, err := ndp.OptionSpans(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := []ndp.OptionSpan{
		{Type: ndp.OptionLinkLayerAddress, Offset: 8, Length: 16},
		{Type: ndp.OptionLinkLayerAddress, Offset: 24, Length: 16},
		{Type: ndp.OptionCGA, Offset: 40, Length: 328},
		{Type: ndp.OptionHandoverKeyRequest, Offset: 368, Length: 304},
		{Type: ndp.OptionTimestamp, Offset: 672, Length: 16},
		{Type: ndp.OptionNonce, Offset: 688, Length: 8},
		{Type: ndp.OptionRSASignature, Offset: 696, Length: 280},
	}
	if !reflect.DeepEqual(spans, want) {
		t.Fatalf("OptionSpans:\n got %+v\nwant %+v", spans, want)
	}
	if len(msg) != 976 {
		t.Fatalf("message of %d octets, want 976", len(msg))
	}
	// Spans and parsed options agree on the octets of each option.
	opts, err := ndp.ParseOptions(msg[8:])
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range spans {
		b, err := ndp.MarshalOptions(opts[i : i+1])
		if err != nil || !bytes.Equal(b, msg[s.Offset:s.Offset+s.Length]) {
			t.Errorf("span %d: option octets differ (%v)", i, err)
		}
	}
}
