package mip6tls

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustKey(t testing.TB, material []byte) Key {
	t.Helper()
	k, err := NewKey(material)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	rand32 = unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	hex32  = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
	date   = time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC)
)

// parameterCases: every parameter of RFC 6618 §5.5-§5.7, its TV-header as
// marshalled, one per row.
func parameterCases(t testing.TB) []struct {
	p    Parameter
	line []byte
} {
	return []struct {
		p    Parameter
		line []byte
	}{
		{MNIdentifier("mn1@example.com"), line("mn-id", "mn1@example.com")},
		{AuthMethods{AuthMethodPSK}, line("auth-method", "psk")},
		{AuthMethods{AuthMethodPSK, AuthMethodEAP}, line("auth-method", "psk,eap")},
		{EAPPayload(unhex("02010006016d")), line("eap-payload", "02010006016D")},
		{StatusOK, line("status-code", "200")},
		{StatusGatewayTimeout, line("status-code", "504")},
		{MessageAuthenticator(rand32), line("auth", hex32)},
		{RetryAfter{date}, line("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")},
		{MNRand(rand32), line("mn-rand", hex32)},
		{HACRand(rand32), line("hac-rand", hex32)},
		{SPI(1), line("mip6-spi", "1")},
		{MaxSPI, line("mip6-spi", "268435455")},
		{MNHAKey{MNToHA, IntegrityKey, mustKey(t, unhex("0102"))}, line("mip6-mn-to-ha-ikey", "0102")},
		{MNHAKey{HAToMN, IntegrityKey, mustKey(t, unhex("0304"))}, line("mip6-ha-to-mn-ikey", "0304")},
		{MNHAKey{MNToHA, EncryptionKey, mustKey(t, unhex("05"))}, line("mip6-mn-to-ha-ekey", "05")},
		{MNHAKey{HAToMN, EncryptionKey, mustKey(t, unhex("ff"))}, line("mip6-ha-to-mn-ekey", "FF")},
		{SAValidityEnd{date}, line("mip6-sa-validity-end", "Sun, 06 Nov 1994 08:49:37 GMT")},
		{SAScopeSignaling, line("mip6-sas", "0")},
		{SAScopeAll, line("mip6-sas", "1")},
		{CipherSuiteAES128CBCSHA256, line("mip6-ciphersuite", "{00,3C}")},
		{CipherSuiteList{CipherSuiteNullSHA, CipherSuiteNullSHA256, CipherSuite3DESEDECBCSHA, CipherSuiteAES128CBCSHA, CipherSuiteAES128CBCSHA256},
			line("mip6-suitelist", "{00,02},{00,3B},{00,0A},{00,2F},{00,3C}")},
		{CipherSuiteList{0xC02F}, line("mip6-suitelist", "{C0,2F}")},
		{HomeAgentAddress{netip.MustParseAddr("2001:db8::1")}, line("mip6-haa-ip6", "2001:db8:0:0:0:0:0:1")},
		{HomeAgentAddress{netip.MustParseAddr("192.0.2.1")}, line("mip6-haa-ip4", "192.0.2.1")},
		{ServicePort(DefaultServicePort), line("mip6-port", "7872")},
		{ServicePort(65535), line("mip6-port", "65535")},
		{HomeAddress{netip.MustParseAddr("2001:db8:1:2:a:b:c:d")}, line("mip6-ip6-hoa", "2001:db8:1:2:a:b:c:d")},
		{HomeAddress{netip.MustParseAddr("198.51.100.7")}, line("mip6-ip4-hoa", "198.51.100.7")},
		{HomeNetworkPrefix{netip.MustParsePrefix("2001:db8:1:2::/64")}, line("mip6-ip6-hnp", "2001:db8:1:2:0:0:0:0/64")},
		{HomeNetworkPrefix{netip.MustParsePrefix("198.51.100.0/24")}, line("mip6-ip4-hnp", "198.51.100.0/24")},
		{DNSServer{netip.MustParseAddr("2001:db8::53")}, line("dns-ip6", "2001:db8:0:0:0:0:0:53")},
		{DNSServer{netip.MustParseAddr("192.0.2.53")}, line("dns-ip4", "192.0.2.53")},
		{Unknown{TVHeader{"x-vendor", "anything, kept"}}, line("x-vendor", "anything, kept")},
	}
}

func TestParameterRoundTrip(t *testing.T) {
	for _, tc := range parameterCases(t) {
		t.Run(tc.p.Name(), func(t *testing.T) {
			wire := container(1, cat(tc.line, eom))
			got, err := MarshalMessage(Message{Identifier: 1, Parameters: []Parameter{tc.p}})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, wire) {
				t.Fatalf("MarshalMessage = %q, want %q", got, wire)
			}
			m, err := ParseMessage(wire)
			if err != nil {
				t.Fatal(err)
			}
			if m.Identifier != 1 || len(m.Parameters) != 1 || !reflect.DeepEqual(m.Parameters[0], tc.p) {
				t.Fatalf("ParseMessage = %#v, want %#v", m, tc.p)
			}
		})
	}
}

// Values in other spellings that the grammar allows parse to the same
// parameter (names and literals are case-insensitive, RFC 2616 §2.1).
func TestParameterSpellings(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Parameter
	}{
		{"AUTH-METHOD: PSK , Eap", AuthMethods{AuthMethodPSK, AuthMethodEAP}},
		{"mip6-spi:000042", SPI(42)},
		{"mip6-ciphersuite: { 00 , 3b }", CipherSuiteNullSHA256},
		{"mip6-suitelist:{00,2f} ,{00,3c}", CipherSuiteList{CipherSuiteAES128CBCSHA, CipherSuiteAES128CBCSHA256}},
		{"mip6-haa-ip6:2001:0DB8:0000:0:0:0:0:0001", HomeAgentAddress{netip.MustParseAddr("2001:db8::1")}},
		{"dns-ip4:010.000.002.001", DNSServer{netip.MustParseAddr("10.0.2.1")}},
		{"eap-payload:0a0B", EAPPayload{0x0a, 0x0b}},
		{"mip6-port:00080", ServicePort(80)},
	} {
		t.Run(tc.line, func(t *testing.T) {
			m, err := ParseMessage(container(1, cat(s(tc.line+"\r\n"), eom)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.Parameters[0], tc.want) {
				t.Fatalf("got %#v, want %#v", m.Parameters[0], tc.want)
			}
		})
	}
}

func TestParseParameterErrors(t *testing.T) {
	long := strings.Repeat("AB", MaxKeyLen+1)
	for _, line := range []string{
		"mn-id:", "mn-id:a b", "mn-id:user@", "mn-id:\xff",
		"auth-method:", "auth-method:psk,", "auth-method:tls",
		"eap-payload:", "eap-payload:0", "eap-payload:zz",
		"status-code:201", "status-code:20", "status-code:2000", "status-code:abc",
		"auth:00", "auth:" + hex32 + "00",
		"retry-after:Sun, 6 Nov 1994 08:49:37 GMT", "retry-after:Mon, 06 Nov 1994 08:49:37 GMT",
		"retry-after:Sun, 06 Nov 1994 08:49:37 UTC", "retry-after:784111777",
		"mn-rand:" + hex32[:62], "hac-rand:" + hex32 + "0000",
		"mip6-spi:0", "mip6-spi:268435456", "mip6-spi:-1", "mip6-spi:12345678901", "mip6-spi:1a",
		"mip6-mn-to-ha-ikey:", "mip6-ha-to-mn-ekey:" + long, "mip6-mn-to-ha-ekey:0x01",
		"mip6-sa-validity-end:yesterday",
		"mip6-sas:2", "mip6-sas:O", "mip6-sas:01",
		"mip6-ciphersuite:{00,2F},{00,3C}", "mip6-ciphersuite:{C0,2F}", "mip6-ciphersuite:{002F}", "mip6-ciphersuite:002F",
		"mip6-suitelist:", "mip6-suitelist:{00,2F}{00,3C}", "mip6-suitelist:{00,2F},", "mip6-suitelist:{00,2G}",
		"mip6-haa-ip6:2001:db8::1", "mip6-haa-ip6:192.0.2.1", "mip6-haa-ip6:1:2:3:4:5:6:7:12345",
		"mip6-haa-ip6:1:2:3:4:5:6:7:8%eth0", "mip6-haa-ip6:1:2:3:4:5:6:1.2.3.4",
		"mip6-haa-ip4:256.0.0.1", "mip6-haa-ip4:1.2.3", "mip6-haa-ip4:1.2.3.4.5", "mip6-haa-ip4:1.2.3.0004", "mip6-haa-ip4:2001:db8:0:0:0:0:0:1",
		"mip6-port:0", "mip6-port:65536", "mip6-port:100000",
		"mip6-ip6-hoa:::1", "mip6-ip4-hoa:1.2.3.-4",
		"mip6-ip6-hnp:2001:db8:0:0:0:0:0:0", "mip6-ip6-hnp:2001:db8:0:0:0:0:0:0/129", "mip6-ip6-hnp:2001:db8:0:0:0:0:0:0/064",
		"mip6-ip4-hnp:10.0.0.0/33", "mip6-ip4-hnp:10.0.0.0/",
		"dns-ip6:", "dns-ip4:a.b.c.d",
	} {
		t.Run(line, func(t *testing.T) {
			_, err := ParseMessage(container(1, cat(s(line+"\r\n"), eom)))
			if !errors.Is(err, ErrParse) || !errors.Is(err, ErrValue) {
				t.Fatalf("ParseMessage = %v, want ErrParse and ErrValue", err)
			}
		})
	}
}

func TestMarshalParameterErrors(t *testing.T) {
	for _, p := range []Parameter{
		MNIdentifier(""), MNIdentifier("a b"),
		AuthMethods{}, AuthMethods{"tls"},
		EAPPayload{},
		StatusCode(201),
		RetryAfter{date.Add(time.Millisecond)}, RetryAfter{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		SPI(0), MaxSPI + 1,
		MNHAKey{MNToHA, IntegrityKey, Key{}}, MNHAKey{2, IntegrityKey, mustKey(t, b(1))},
		SAValidityEnd{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		SAScope(2),
		CipherSuite(0xC02F), CipherSuiteList{},
		HomeAgentAddress{}, HomeAgentAddress{netip.MustParseAddr("::ffff:192.0.2.1")}, HomeAgentAddress{netip.MustParseAddr("fe80::1%eth0")},
		ServicePort(0),
		HomeAddress{}, HomeNetworkPrefix{}, DNSServer{},
		Unknown{TVHeader{"mn-id", "shadow"}},
	} {
		t.Run(fmt.Sprintf("%T %v", p, p), func(t *testing.T) {
			_, err := MarshalMessage(Message{Identifier: 1, Parameters: []Parameter{p}})
			if !errors.Is(err, ErrMarshal) || !errors.Is(err, ErrValue) {
				t.Fatalf("MarshalMessage = %v, want ErrMarshal and ErrValue", err)
			}
		})
	}
}

func TestStatusCodeString(t *testing.T) {
	for c, want := range map[StatusCode]string{
		StatusContinue: "100 Continue", StatusOK: "200 OK", StatusBadRequest: "400 Bad Request",
		StatusUnauthorized: "401 Unauthorized", StatusInternalServerError: "500 Internal Server Error",
		StatusNotImplemented: "501 Not Implemented", StatusServiceUnavailable: "503 Service Unavailable",
		StatusGatewayTimeout: "504 Gateway Time-out",
	} {
		if got := c.String(); got != want {
			t.Errorf("%d: String = %q, want %q", uint16(c), got, want)
		}
	}
}

func TestCipherSuiteSelect(t *testing.T) {
	mn := CipherSuiteList{0xC02F, CipherSuiteAES128CBCSHA, CipherSuiteAES128CBCSHA256}
	if c, ok := mn.Select([]CipherSuite{0xC02F, CipherSuiteAES128CBCSHA256, CipherSuiteAES128CBCSHA}); !ok || c != CipherSuiteAES128CBCSHA256 {
		t.Fatalf("Select = %v, %v; want AES_128_CBC_SHA256 (HAC's first defined suite the MN offers)", c, ok)
	}
	if _, ok := mn.Select([]CipherSuite{CipherSuiteNullSHA}); ok {
		t.Fatal("Select found a suite the MN did not offer")
	}
}
