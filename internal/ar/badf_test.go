package ar

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/mh"
)

// TestSignBADFBytes pins the FBU an MN sends from the NCoA with the Home
// Address option PCoA, field by field, and recomputes its BADF
// Authenticator independently over NCoA | PAR | MH Data with the Checksum as
// zero (RFC 5568 §6.4.5, RFC 6275 §6.2.7).
func TestSignBADFBytes(t *testing.T) {
	pcoa, ncoa, par := w6("2001:db8:1::100"), w6("2001:db8:2::100"), w6("2001:db8:1::1")
	material := bytes.Repeat([]byte{0x0b}, 20)
	key, err := hokey.NewKey(hokey.HMACSHA1Trunc96, material)
	if err != nil {
		t.Fatal(err)
	}
	fbu := mh.FastBindingUpdate{Sequence: 0x1234, Acknowledge: true, HomeRegistration: true, Lifetime: 10 * time.Second,
		Options: []mh.Option{mh.BindingAuthorizationDataForFMIPv6{SPI: 0, Authenticator: make([]byte, 12)}}}
	got, err := SignBADF(fbu, &key, ncoa, par, pcoa, par)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Join([][]byte{
		{59},             // Payload Proto: No Next Header
		{3},              // Header Len: (32 / 8) - 1
		{8},              // MH Type: Fast Binding Update
		{0},              // Reserved
		{0, 0},           // Checksum (filled below)
		{0x12, 0x34},     // Sequence #
		{0xc0, 0x00},     // A, H set; L, K clear; Reserved
		{0x00, 0x0a},     // Lifetime: 10 s
		{1, 0},           // PadN, 2 octets: the BADF ends the header (8n+6)
		{21},             // BADF Type
		{16},             // Option Length: SPI + 96-bit Authenticator
		{0, 0, 0, 0},     // SPI 0: SEND-based handover key
		make([]byte, 12), // Authenticator (filled below)
	}, nil)
	mobilityData := append(append(ncoa.AsSlice(), par.AsSlice()...), want[:20]...)
	mac := hmac.New(sha1.New, material)
	mac.Write(mobilityData)
	copy(want[20:], mac.Sum(nil)[:12])
	// The checksum uses the home address (PCoA) as the source (RFC 6275
	// §6.1.1).
	binary.BigEndian.PutUint16(want[4:], inet.Checksum(pcoa, par, inet.ProtocolMobility, want))
	if !bytes.Equal(got, want) {
		t.Fatalf("FBU\n got %x\nwant %x", got, want)
	}
}
