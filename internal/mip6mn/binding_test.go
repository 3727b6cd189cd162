package mip6mn

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mh"
)

func unhex(t *testing.T, rows ...string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(rows, ""), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBindingUpdateBytes: the PType 8 packet of the first home
// registration under a fixed SA, checked octet by octet, and the sealed
// packet opened with the standard library's AES-CBC and HMAC-SHA1 (not
// mip6udp).
func TestBindingUpdateBytes(t *testing.T) {
	s := newSetup(t, 1, nil)
	if err := s.mn.SetCareOfAddress(testCareOf); err != nil {
		t.Fatal(err)
	}
	sent := s.wire.take()
	if len(sent) != 1 {
		t.Fatalf("%d packets sent, want 1", len(sent))
	}
	wantPayload := unhex(t,
		// Destination Options header (RFC 6275 §6.3)
		"87",                               // Next Header 135 (Mobility Header)
		"02",                               // Hdr Ext Len 2 (24 octets)
		"01020000",                         // PadN, 2 octets: the option at 8n+6
		"c9 10",                            // Home Address option, length 16
		"20010db8000100000000000000000100", // home address 2001:db8:1::100
		// Mobility Header, Binding Update (RFC 6275 §6.1.7)
		"3b",                               // Payload Proto 59
		"03",                               // Header Len 3 (32 octets)
		"05",                               // MH Type 5
		"00",                               // Reserved
		"7028",                             // Checksum (pseudo-header HoA -> HA; computed independently in Python)
		"0001",                             // Sequence 1
		"c000",                             // A, H; L, K clear
		"0096",                             // Lifetime 150 x 4 s = 600 s
		"0100",                             // PadN, 2 octets: the next option at 8n+6
		"0310",                             // Alternate Care-of Address option, length 16
		"20010db8000200000000000000000055", // care-of address 2001:db8:2::55
	)
	nh, payload, err := BindingUpdatePayload(1, 600*time.Second, testHome, testCareOf, testHomeAgent.Addr())
	if err != nil || nh != 60 || !bytes.Equal(payload, wantPayload) {
		t.Fatalf("BindingUpdatePayload = %d %x %v\nwant 60 %x", nh, payload, err, wantPayload)
	}
	if err := mh.VerifyChecksum(payload[24:], testHome, testHomeAgent.Addr()); err != nil {
		t.Fatal(err)
	}

	pkt := sent[0]
	header := unhex(t, "80abcdef", "00000001") // PType 8, SPI 0x0abcdef, Sequence Number 1
	iv := bytes.Repeat([]byte{0xa5}, 16)
	if len(pkt) != 8+16+64+12 || !bytes.Equal(pkt[:8], header) || !bytes.Equal(pkt[8:24], iv) {
		t.Fatalf("packet %x: want header %x, IV %x, 64 octets of ciphertext, 12 of ICV", pkt, header, iv)
	}
	ikey, ekey := key(t, 20, 0x10), key(t, 16, 0x70)
	mac := hmac.New(sha1.New, ikey.Bytes()) // mip6-mn-to-ha-ikey
	mac.Write(pkt[:len(pkt)-12])
	if icv := mac.Sum(nil)[:12]; !hmac.Equal(icv, pkt[len(pkt)-12:]) {
		t.Fatalf("ICV %x, want HMAC-SHA1-96 %x", pkt[len(pkt)-12:], icv)
	}
	block, _ := aes.NewCipher(ekey.Bytes()) // mip6-mn-to-ha-ekey
	plain := make([]byte, 64)
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, pkt[24:88])
	want := append(append(wantPayload, 1, 2, 3, 4, 5, 6), 6, 60) // Padding, Pad Length 6, Next Header 60
	if !bytes.Equal(plain, want) {
		t.Fatalf("plaintext\n%x\nwant\n%x", plain, want)
	}
}

func TestBindingUpdatePayloadErrors(t *testing.T) {
	for _, tc := range []struct {
		name         string
		home, careOf string
	}{
		{"IPv4 care-of address", "2001:db8:1::100", "192.0.2.1"},
		{"multicast care-of address", "2001:db8:1::100", "ff02::1"},
		{"link-local home address", "fe80::1", "2001:db8:2::55"},
	} {
		_, _, err := BindingUpdatePayload(1, 600*time.Second, mustAddr(tc.home), mustAddr(tc.careOf), testHomeAgent.Addr())
		if !errors.Is(err, ErrAddress) {
			t.Errorf("%s: %v, want ErrAddress", tc.name, err)
		}
	}
}

// TestParseHomeAgentMessageErrors: each malformation of the BA payload
// is ErrParse (or ErrAddress for another home address).
func TestParseHomeAgentMessageErrors(t *testing.T) {
	ba, _ := mh.MarshalMessage(mh.BindingAcknowledgement{Sequence: 1, Lifetime: 600 * time.Second})
	_ = mh.SetChecksum(ba, testHomeAgent.Addr(), testHome)
	rh := func(mod func([]byte)) []byte {
		b := append(AppendRoutingType2(nil, testHome), ba...)
		mod(b)
		return b
	}
	for _, tc := range []struct {
		name    string
		nh      uint8
		payload []byte
		want    error
	}{
		{"next header 60", 60, ba, ErrParse},
		{"bad checksum", 135, append([]byte{}, ba[:len(ba)-1]...), ErrParse},
		{"short routing header", 43, ba[:10], ErrParse},
		{"routing type 0", 43, rh(func(b []byte) { b[2] = 0 }), ErrParse},
		{"segments left 0", 43, rh(func(b []byte) { b[3] = 0 }), ErrParse},
		{"hdr ext len 4", 43, rh(func(b []byte) { b[1] = 4 }), ErrParse},
		{"routing header then ICMPv6", 43, rh(func(b []byte) { b[0] = 58 }), ErrParse},
		{"another home address", 43, rh(func(b []byte) { b[23] ^= 1 }), ErrAddress},
	} {
		if _, err := ParseHomeAgentMessage(tc.nh, tc.payload, testHome, testHomeAgent.Addr()); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, nh := range []uint8{135, 43} {
		p := ba
		if nh == 43 {
			p = rh(func([]byte) {})
		}
		m, err := ParseHomeAgentMessage(nh, p, testHome, testHomeAgent.Addr())
		if a, ok := m.(mh.BindingAcknowledgement); err != nil || !ok || a.Sequence != 1 {
			t.Errorf("next header %d: %#v %v", nh, m, err)
		}
	}
}
