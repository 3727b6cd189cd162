package mh

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"errors"
	"io"
	"net/netip"
	"testing"
)

// hmacSHA196 is First(96, HMAC_SHA1(key, data)), the default of RFC 5568
// §6.4.5 and RFC 6275 §6.2.7.
func hmacSHA196(key, data []byte) []byte {
	m := hmac.New(sha1.New, key)
	m.Write(data)
	return m.Sum(nil)[:12]
}

func TestCoveredByBADF(t *testing.T) {
	_, _, wire := fbuWithBADF()
	msg := bytes.Clone(wire)
	if err := SetChecksum(msg, mnCoA, parAddr); err != nil {
		t.Fatal(err)
	}
	c, err := CoveredByBADF(msg, newCoA, parAddr)
	if err != nil {
		t.Fatal(err)
	}
	// The BADF option is at offset 46 (see fbuWithBADF); its Authenticator
	// starts after Type, Length and SPI, at 52.
	mhData := bytes.Clone(wire[:52]) // wire has a zero Checksum
	want := cat(
		a16("2001:db8:2::100"), // care-of address (the NCoA being registered)
		a16("2001:db8:1::1"),   // PAR's address in place of "correspondent"
		mhData,                 // MH Data: up to the Authenticator, Checksum 0
	)
	if !bytes.Equal(c.Data, want) {
		t.Fatalf("Data:\n got %x\nwant %x", c.Data, want)
	}
	if c.Offset != 52 || !bytes.Equal(c.Authenticator, auth96) || c.SPI != 0 {
		t.Fatalf("got offset %d, authenticator %x, SPI %d", c.Offset, c.Authenticator, c.SPI)
	}
	if !c.Equal(auth96) || c.Equal(auth96[:11]) || c.Equal(seq(13)[1:]) {
		t.Fatal("Equal does not compare the authenticator")
	}
}

// TestBADFRoundTrip signs an FBU with a handover key the way a mobile node
// does and verifies the received bytes the way the PAR does.
func TestBADFRoundTrip(t *testing.T) {
	key := []byte("0123456789abcdef0123")
	fbu := FastBindingUpdate{Sequence: 99, Acknowledge: true, HomeRegistration: true, Lifetime: 10e9, Options: []Option{
		AlternateCareOfAddress{Address: newCoA},
		BindingAuthorizationDataForFMIPv6{SPI: 0, Authenticator: make([]byte, 12)}, // placeholder
	}}
	msg, err := MarshalMessage(fbu)
	if err != nil {
		t.Fatal(err)
	}
	// Sender: MAC over the covered data, write it, then the checksum.
	c, err := CoveredByBADF(msg, newCoA, parAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteAuthenticator(msg, c, hmacSHA196(key, c.Data)); err != nil {
		t.Fatal(err)
	}
	if err := SetChecksum(msg, mnCoA, parAddr); err != nil {
		t.Fatal(err)
	}
	// Receiver.
	verify := func(msg []byte, par netip.Addr) bool {
		t.Helper()
		if err := VerifyChecksum(msg, mnCoA, parAddr); err != nil {
			t.Fatal(err)
		}
		rc, err := CoveredByBADF(msg, newCoA, par)
		if err != nil {
			t.Fatal(err)
		}
		return rc.Equal(hmacSHA196(key, rc.Data))
	}
	if !verify(msg, parAddr) {
		t.Fatal("a correctly signed FBU does not verify")
	}
	if verify(msg, narAddr) {
		t.Fatal("verified with the wrong PAR address")
	}
	for _, i := range []int{2, 7, 20, len(msg) - 13, len(msg) - 1} { // MH Type, Sequence, CoA, SPI, Authenticator
		bad := bytes.Clone(msg)
		bad[i] ^= 0x01
		if i == 2 {
			bad[i] = TypeFastBindingAcknowledgment // same layout, other type
		}
		SetChecksum(bad, mnCoA, parAddr)
		if verify(bad, parAddr) {
			t.Fatalf("verified after flipping a bit at offset %d", i)
		}
	}
	m, err := ParseMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	opts := m.(FastBindingUpdate).Options
	if got := opts[len(opts)-1].(BindingAuthorizationDataForFMIPv6).Authenticator; bytes.Equal(got, make([]byte, 12)) {
		t.Fatal("authenticator not written")
	}
}

func TestCoveredByBindingAuthorizationData(t *testing.T) {
	wire := messageCases()[3].wire // Binding Acknowledgement with BAD at 18
	c, err := CoveredByBindingAuthorizationData(wire, mnCoA, parAddr)
	if err != nil {
		t.Fatal(err)
	}
	want := cat(a16("2001:db8:1::100"), a16("2001:db8:1::1"), wire[:20])
	if !bytes.Equal(c.Data, want) || c.Offset != 20 || !bytes.Equal(c.Authenticator, auth96) {
		t.Fatalf("got %+v", c)
	}
}

func TestCoveredByMobilityMessageAuthentication(t *testing.T) {
	wire := messageCases()[2].wire // BU; authentication option at 45
	c, err := CoveredByMobilityMessageAuthentication(wire, AuthenticationSubtypeMNHA, mnCoA, addr("2001:db8:ffff::1"))
	if err != nil {
		t.Fatal(err)
	}
	want := cat(
		a16("2001:db8:1::100"),  // care-of address
		a16("2001:db8:ffff::1"), // home address
		wire[:52],               // MH up to and including the Mobility SPI (45+2+1+4)
	)
	if !bytes.Equal(c.Data, want) || c.Offset != 52 || c.SPI != 256 || c.Subtype != 1 || !bytes.Equal(c.Authenticator, auth96) {
		t.Fatalf("got %+v", c)
	}
	// Padding after the option is allowed.
	padded := buWith(b(0), b(9, 17, 1), u32(256), auth96, b(1, 6), zeros(6))
	if _, err := CoveredByMobilityMessageAuthentication(padded, 1, mnCoA, mnCoA); err != nil {
		t.Fatal(err)
	}
	// MN-HA before MN-AAA (RFC 4285 §5.1) is allowed.
	both := buWith(b(0), b(9, 17, 1), u32(256), auth96, b(1, 2, 0, 0), b(0), b(9, 17, 2), u32(3), auth96)
	if c, err := CoveredByMobilityMessageAuthentication(both, 1, mnCoA, mnCoA); err != nil || c.Offset != 20 {
		t.Fatal(c, err)
	}
}

func TestCoveredByMAC(t *testing.T) {
	req := messageCases()[8].wire // HKReq; MAC at 68, then PadN
	c, err := CoveredByMAC(req, MACSubtypeMNHKS)
	if err != nil {
		t.Fatal(err)
	}
	// "up to and including the Algorithm Type field of this option"
	if !bytes.Equal(c.Data, req[:72]) || c.Offset != 72 || c.AlgorithmType != 1 || !bytes.Equal(c.Authenticator, auth96) {
		t.Fatalf("got %+v", c)
	}
	// The Checksum is taken as zero.
	sum := bytes.Clone(req)
	SetChecksum(sum, mnCoA, parAddr)
	if c2, err := CoveredByMAC(sum, MACSubtypeMNHKS); err != nil || !bytes.Equal(c2.Data, c.Data) {
		t.Fatalf("checksum changes the covered data: %v", err)
	}
	resp := messageCases()[9].wire // HKResp; MAC at 36
	if c, err := CoveredByMAC(resp, MACSubtypeMNAR); err != nil || !bytes.Equal(c.Data, resp[:40]) {
		t.Fatal(c, err)
	}
	// Round trip with an HMAC-SHA1 over a handover key.
	key := seq(20)
	msg := bytes.Clone(resp)
	c, _ = CoveredByMAC(msg, MACSubtypeMNAR)
	full := hmac.New(sha1.New, key)
	full.Write(c.Data)
	mac := full.Sum(nil)[:12]
	if err := WriteAuthenticator(msg, c, mac); err != nil {
		t.Fatal(err)
	}
	if c, _ = CoveredByMAC(msg, MACSubtypeMNAR); !c.Equal(mac) {
		t.Fatal("MAC round trip failed")
	}
}

func TestCoveredErrors(t *testing.T) {
	badfThenPad := cat(
		b(59), b(3), b(8), b(0), u16(0), // FBU, 32 octets
		u16(7), b(0xc0, 0), u16(40), // Sequence, flags, Lifetime
		b(21, 16), u32(0), auth96, // BADF at 12
		b(1, 0), // PadN after it
	)
	noBADF, _ := MarshalMessage(FastBindingUpdate{Options: []Option{AlternateCareOfAddress{Address: newCoA}}})
	macThenTS, _ := MarshalMessage(HandoverKeyRequest{KeyCareOfAddress: mnCoA, Options: []Option{
		MessageAuthenticationCode{Subtype: MACSubtypeMNAR, AlgorithmType: 1, AuthValue: auth96}, Timestamp{Value: ntpTS}}})
	macs := func(subtypes ...uint8) []byte {
		opts := []Option{}
		for _, st := range subtypes {
			opts = append(opts, MessageAuthenticationCode{Subtype: st, AlgorithmType: 1, AuthValue: auth96})
		}
		m, err := MarshalMessage(HandoverKeyRequest{Verify: true, KeyCareOfAddress: mnCoA, Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	hksAR, arHKS, hksHKS, arAR := macs(1, 2), macs(2, 1), macs(1, 1), macs(2, 2)
	// The MN-HKS MAC may be followed by the MN-AR MAC (V flag), which
	// covers it.
	if c, err := CoveredByMAC(hksAR, MACSubtypeMNHKS); err != nil || c.Offset != 28 {
		t.Fatalf("MN-HKS then MN-AR: %v %v", c, err)
	}
	if c, err := CoveredByMAC(hksAR, MACSubtypeMNAR); err != nil || c.Offset != 44 || !bytes.Equal(c.Data[24:40], hksAR[24:40]) {
		t.Fatalf("MN-AR after MN-HKS: %v %v", c, err)
	}
	authThenID := buWith(b(0), b(9, 17, 1), u32(256), auth96, b(8, 2, 1, 'x'))
	_, _, fbu := fbuWithBADF()
	for _, tc := range []struct {
		name  string
		err   error
		cause error
	}{
		{"BADF followed by PadN", err2(CoveredByBADF(badfThenPad, newCoA, parAddr)), ErrBADFNotLast},
		{"BADF not last is ErrNotLast", err2(CoveredByBADF(badfThenPad, newCoA, parAddr)), ErrNotLast},
		{"no BADF", err2(CoveredByBADF(noBADF, newCoA, parAddr)), ErrNoOption},
		{"unknown MH Type", err2(CoveredByBADF(cat(b(59, 0, 200, 0), zeros(4)), newCoA, parAddr)), ErrNoOption},
		{"truncated", err2(CoveredByBADF(fbu[:40], newCoA, parAddr)), io.ErrUnexpectedEOF},
		{"option overrun", err2(CoveredByBADF(buWith(b(1, 200)), newCoA, parAddr)), io.ErrUnexpectedEOF},
		{"IPv4 care-of address", err2(CoveredByBADF(fbu, addr("192.0.2.1"), parAddr)), ErrValue},
		{"BADF of SPI only", err2(CoveredByBADF(buWith(b(1, 4), zeros(4), b(21, 4), u32(0)), newCoA, parAddr)), ErrOptionLength},
		{"MAC followed by Timestamp", err2(CoveredByMAC(macThenTS, MACSubtypeMNAR)), ErrNotLast},
		{"MAC subtype absent", err2(CoveredByMAC(macThenTS, MACSubtypeMNHKS)), ErrNoOption},
		{"MN-AR MAC followed by MN-HKS MAC", err2(CoveredByMAC(arHKS, MACSubtypeMNAR)), ErrNotLast},
		{"MN-HKS MAC followed by MN-HKS MAC", err2(CoveredByMAC(hksHKS, MACSubtypeMNHKS)), ErrNotLast},
		{"MN-AR MAC followed by MN-AR MAC", err2(CoveredByMAC(arAR, MACSubtypeMNAR)), ErrNotLast},
		{"MAC in a BU", err2(CoveredByMAC(fbu, MACSubtypeMNAR)), ErrNoOption},
		{"authentication followed by MN-ID", err2(CoveredByMobilityMessageAuthentication(authThenID, 1, mnCoA, mnCoA)), ErrNotLast},
		{"authentication subtype absent", err2(CoveredByMobilityMessageAuthentication(authThenID, 2, mnCoA, mnCoA)), ErrNoOption},
		{"bad codepoints", err2(Codepoints{MAC: 5}.CoveredByMAC(fbu, 1)), ErrCodepoints},
	} {
		if !errors.Is(tc.err, ErrAuthenticator) || !errors.Is(tc.err, tc.cause) {
			t.Errorf("%s: %v, want ErrAuthenticator and %v", tc.name, tc.err, tc.cause)
		}
	}
	c := &Covered{Authenticator: make([]byte, 12), Offset: 52}
	if err := WriteAuthenticator(make([]byte, 64), c, make([]byte, 11)); !errors.Is(err, ErrMarshal) || !errors.Is(err, ErrValue) {
		t.Errorf("short authenticator: %v", err)
	}
	if err := WriteAuthenticator(make([]byte, 60), c, make([]byte, 12)); !errors.Is(err, ErrValue) {
		t.Errorf("authenticator beyond the message: %v", err)
	}
}

func err2(_ *Covered, err error) error { return err }
