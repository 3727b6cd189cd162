package mip6tls

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/testenv"
)

func readCert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The worked example of docs/tls.md, "Worked example".
var (
	examplePSK     = []byte("fhkey-example-psk")
	exampleMNRand  = MNRand(unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"))
	exampleHACRand = HACRand(unhex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"))
	// SHA-256 of testdata/hac-ecdsa-sha256.pem's DER (ecdsa-with-SHA256).
	exampleCB = unhex("2b587282c4f59d030f652a5b30a181522a6a8a811feb98d21f17887648d4cb1f")
	// The msg-octets of Request/MHAuth-Done, Identifier 2.
	exampleMsgOctets = cat(
		line("mn-rand", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"),
		line("hac-rand", "202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F"),
		line("mip6-sas", "1"),
		line("mip6-suitelist", "{00,2F},{00,3C}"),
	)
	exampleAuth = "3f44e833f1672d7e337c4b7ce796de123fca3698f3f581b2f4f9a88f48d1fd57"
)

func exampleRequest() Message {
	return Message{Identifier: 2, Parameters: []Parameter{
		exampleMNRand, exampleHACRand, SAScopeAll,
		CipherSuiteList{CipherSuiteAES128CBCSHA, CipherSuiteAES128CBCSHA256},
	}}
}

func TestWorkedExample(t *testing.T) {
	cb, err := ServerEndpointBinding(readCert(t, "hac-ecdsa-sha256.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cb, exampleCB) {
		t.Fatalf("CB-octets = %x, want %x", cb, exampleCB)
	}
	wire, err := SignMessage(exampleRequest(), examplePSK, SenderMN, cb)
	if err != nil {
		t.Fatal(err)
	}
	want := container(2, cat(exampleMsgOctets, line("auth", strings.ToUpper(exampleAuth)), eom))
	if !bytes.Equal(wire, want) {
		t.Fatalf("SignMessage =\n%q\nwant\n%q", wire, want)
	}
	// docs/tls.md: Ver 0, Identifier 2, Length 268; 193 octets covered.
	if !bytes.Equal(wire[:4], b(0x00, 0x02, 0x01, 0x0c)) || len(exampleMsgOctets) != 193 {
		t.Fatalf("container header % x, msg-octets %d octets", wire[:4], len(exampleMsgOctets))
	}
	msgOctets, a, err := MsgOctets(wire)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msgOctets, exampleMsgOctets) || hex.EncodeToString(a[:]) != exampleAuth {
		t.Fatalf("MsgOctets = %q, %x", msgOctets, a)
	}
	if _, err := VerifyMessage(wire, examplePSK, SenderMN, cb); err != nil {
		t.Fatal(err)
	}
}

// TestWorkedExampleOpenSSL computes the example's CB-octets and auth a
// second time, with openssl(1).
func TestWorkedExampleOpenSSL(t *testing.T) {
	openssl := testenv.RequireTool(t, "openssl")
	dir := t.TempDir()
	der := filepath.Join(dir, "cert.der")
	run := func(stdin []byte, args ...string) string {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openssl %s: %v", strings.Join(args, " "), err)
		}
		f := strings.Fields(string(out))
		if len(f) == 0 {
			return ""
		}
		return f[len(f)-1]
	}
	run(nil, "x509", "-in", filepath.Join("testdata", "hac-ecdsa-sha256.pem"), "-outform", "DER", "-out", der)
	derBytes, err := os.ReadFile(der)
	if err != nil {
		t.Fatal(err)
	}
	if got := run(derBytes, "dgst", "-sha256"); got != hex.EncodeToString(exampleCB) {
		t.Fatalf("openssl CB-octets = %s, want %x", got, exampleCB)
	}
	input := cat(s("MN"), exampleMsgOctets, exampleCB)
	got := run(input, "dgst", "-sha256", "-mac", "HMAC", "-macopt", "hexkey:"+hex.EncodeToString(examplePSK))
	if got != exampleAuth {
		t.Fatalf("openssl auth = %s, want %s", got, exampleAuth)
	}
}

func TestServerEndpointBindingHash(t *testing.T) {
	for _, tc := range []struct {
		file string
		hash func([]byte) []byte
	}{
		// RFC 5929 §4.1: SHA-1 signatures are bound with SHA-256.
		{"hac-rsa-sha1.pem", func(b []byte) []byte { h := sha256.Sum256(b); return h[:] }},
		{"hac-ecdsa-sha256.pem", func(b []byte) []byte { h := sha256.Sum256(b); return h[:] }},
		// "use the hash function associated with the certificate's
		// signatureAlgorithm".
		{"hac-ecdsa-sha384.pem", func(b []byte) []byte { h := sha512.Sum384(b); return h[:] }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := readCert(t, tc.file)
			got, err := ServerEndpointBinding(c)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.hash(c.Raw); !bytes.Equal(got, want) {
				t.Fatalf("binding %x, want %x", got, want)
			}
		})
	}
	// "uses no hash functions ... undefined at this time".
	if _, err := ServerEndpointBinding(readCert(t, "hac-ed25519.pem")); !errors.Is(err, ErrAuth) || !errors.Is(err, ErrChannelBinding) {
		t.Fatalf("Ed25519: %v", err)
	}
	if _, err := ServerEndpointBinding(nil); !errors.Is(err, ErrChannelBinding) {
		t.Fatalf("nil certificate: %v", err)
	}
}

func TestVerifyMessageErrors(t *testing.T) {
	wire, err := SignMessage(exampleRequest(), examplePSK, SenderMN, exampleCB)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(wire)
	flipped[ContainerHeaderLen+len("mn-rand:")] ^= 1 // '0' -> '1' in mn-rand
	otherCB := bytes.Clone(exampleCB)
	otherCB[0] ^= 1
	unsigned, err := MarshalMessage(exampleRequest())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		wire []byte
		key  []byte
		from Sender
		cb   []byte
		want error
	}{
		{"payload changed", flipped, examplePSK, SenderMN, exampleCB, ErrBadAuthenticator},
		{"other PSK", wire, []byte("fhkey-example-psl"), SenderMN, exampleCB, ErrBadAuthenticator},
		{"HAC label", wire, examplePSK, SenderHAC, exampleCB, ErrBadAuthenticator},
		{"other server certificate", wire, examplePSK, SenderMN, otherCB, ErrBadAuthenticator},
		{"no auth", unsigned, examplePSK, SenderMN, exampleCB, ErrNoAuthenticator},
		{"empty key", wire, nil, SenderMN, exampleCB, ErrKey},
		{"empty CB-octets", wire, examplePSK, SenderMN, nil, ErrChannelBinding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := VerifyMessage(tc.wire, tc.key, tc.from, tc.cb); !errors.Is(err, ErrAuth) || !errors.Is(err, tc.want) {
				t.Fatalf("VerifyMessage = %v, want ErrAuth and %v", err, tc.want)
			}
		})
	}
	if _, err := VerifyMessage(wire[:10], examplePSK, SenderMN, exampleCB); !errors.Is(err, ErrParse) {
		t.Fatalf("truncated: %v", err)
	}
	signed := exampleRequest()
	signed.Parameters = append(signed.Parameters, MessageAuthenticator{})
	if _, err := SignMessage(signed, examplePSK, SenderMN, exampleCB); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("SignMessage of a signed message: %v", err)
	}
}

// The authenticator covers the received octets: a sender that writes
// white space and other cases (which re-marshal would drop) still verifies.
func TestVerifyReceivedOctets(t *testing.T) {
	msgOctets := cat(s("MN-Rand: "+hex.EncodeToString(exampleMNRand[:])+"\r\n"), s("mip6-sas:\t1\r\n"))
	a, err := ComputeAuthenticator(examplePSK, SenderMN, msgOctets, exampleCB)
	if err != nil {
		t.Fatal(err)
	}
	wire := container(9, cat(msgOctets, s("Auth: "+hex.EncodeToString(a[:])+"\r\n"), eom))
	m, err := VerifyMessage(wire, examplePSK, SenderMN, exampleCB)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := Find[MNRand](m); r != exampleMNRand {
		t.Fatalf("mn-rand %x", r)
	}
}

func TestEAPSharedKey(t *testing.T) {
	if got := EAPSharedKey(nil); string(got) != "1" {
		t.Fatalf("no MSK: %q", got)
	}
	msk := bytes.Repeat([]byte{7}, 64)
	if got := EAPSharedKey(msk); !bytes.Equal(got, msk) {
		t.Fatal("MSK not used")
	}
}
