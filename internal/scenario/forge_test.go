package scenario

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/mh"
)

// TestForgeFBU: the forgery is a well-formed FBU a PAR parses and whose
// checksum verifies with the home address (RFC 6275 §6.1.1), carrying the
// victim's PCoA in the Home Address option and the BADF last with the
// authenticator length of the AT, computed with a fresh random key each time.
func TestForgeFBU(t *testing.T) {
	par := netip.MustParseAddr("2001:db8:1::1")
	pcoa := netip.MustParseAddr("2001:db8:1::2")
	att := netip.MustParseAddr("2001:db8:2::66")
	for _, at := range []hokey.AlgorithmType{hokey.HMACSHA1Trunc96, hokey.HMACSHA256Trunc128} {
		p, err := ForgeFBU(par, pcoa, att, at)
		if err != nil {
			t.Fatal(err)
		}
		if p.Src != att || p.Dst != par || p.HomeAddress != pcoa || p.NextHeader != inet.ProtocolMobility {
			t.Fatalf("AT %d: addressing %+v", at, p)
		}
		if err := mh.VerifyChecksum(p.Payload, pcoa, par); err != nil {
			t.Fatalf("AT %d: checksum: %v", at, err)
		}
		m, err := mh.ParseMessage(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		fbu, ok := m.(mh.FastBindingUpdate)
		if !ok || len(fbu.Options) == 0 {
			t.Fatalf("AT %d: %#v", at, m)
		}
		badf, ok := fbu.Options[len(fbu.Options)-1].(mh.BindingAuthorizationDataForFMIPv6)
		if !ok || badf.SPI != 0 || len(badf.Authenticator) != at.AuthenticatorLen() {
			t.Fatalf("AT %d: last option %#v", at, fbu.Options[len(fbu.Options)-1])
		}
		q, err := ForgeFBU(par, pcoa, att, at)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(p.Payload, q.Payload) {
			t.Fatalf("AT %d: two forgeries with the same authenticator", at)
		}
	}
}

// TestForgeFBUMSK: the MSK-mode forgery carries the NAI and the MN-HA
// option of the AT's SPI last, its checksum verifies with the PCoA, and
// two forgeries differ (a fresh MSK each).
func TestForgeFBUMSK(t *testing.T) {
	par := netip.MustParseAddr("2001:db8:1::1")
	pcoa := netip.MustParseAddr("2001:db8:1::2")
	att := netip.MustParseAddr("2001:db8:2::66")
	p, err := ForgeFBUMSK(par, pcoa, att, "mn@example.com", hokey.HMACSHA256Trunc128)
	if err != nil {
		t.Fatal(err)
	}
	if p.Src != att || p.Dst != par || p.HomeAddress != pcoa || mh.VerifyChecksum(p.Payload, pcoa, par) != nil {
		t.Fatalf("addressing or checksum %+v", p)
	}
	if nai, err := mh.MobileNodeNAI(p.Payload); err != nil || string(nai) != "mn@example.com" {
		t.Fatalf("NAI %q %v", nai, err)
	}
	m, err := mh.ParseMessage(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var auth *mh.MobilityMessageAuthentication
	for _, o := range m.(mh.FastBindingUpdate).Options {
		switch o := o.(type) {
		case mh.MobilityMessageAuthentication:
			auth = &o
		case mh.Pad1, mh.PadN:
		default:
			if auth != nil {
				t.Fatalf("option %#v after the authenticator", o)
			}
		}
	}
	if spi, _ := hokey.FHKSPI(hokey.HMACSHA256Trunc128); auth == nil || auth.SPI != spi {
		t.Fatalf("authentication option %#v", auth)
	}
	q, err := ForgeFBUMSK(par, pcoa, att, "mn@example.com", hokey.HMACSHA256Trunc128)
	if err != nil || bytes.Equal(p.Payload, q.Payload) {
		t.Fatalf("second forgery equal or failed: %v", err)
	}
}
