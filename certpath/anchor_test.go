package certpath

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"io"
	"testing"
)

func TestTrustAnchorNames(t *testing.T) {
	l := newLab(t)
	// The subjectPublicKey bits of an RSA key are its PKCS #1 RSAPublicKey:
	// an independent way to the RFC 6495 §3 hash input.
	bits := x509.MarshalPKCS1PublicKey(&testKeys().ta.PublicKey)
	s1, s224, s256, s384, s512 := sha1.Sum(bits), sha256.Sum224(bits), sha256.Sum256(bits), sha512.Sum384(bits), sha512.Sum512(bits)
	fqdn := []byte("\x02ta\x07example\x03net\x00")
	tests := []struct {
		t    NameType
		want []byte
	}{
		{NameTypeDERName, l.ta.Certificate.RawSubject},
		{NameTypeFQDN, fqdn},
		{NameTypeSHA1SKI, s1[:]},
		{NameTypeSHA224SKI, s224[:]},
		{NameTypeSHA256SKI, s256[:]},
		{NameTypeSHA384SKI, s384[:]},
		{NameTypeSHA512SKI, s512[:]},
	}
	for _, tt := range tests {
		got, err := l.ta.Name(tt.t)
		if err != nil {
			t.Errorf("Name(%d): %v", tt.t, err)
			continue
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("Name(%d) = %x, want %x", tt.t, got, tt.want)
		}
		if !l.ta.Matches(tt.t, tt.want) {
			t.Errorf("Matches(%d, %x) = false", tt.t, tt.want)
		}
		if l.ta2.Matches(tt.t, tt.want) {
			t.Errorf("other anchor Matches(%d, %x)", tt.t, tt.want)
		}
		bad := bytes.Clone(tt.want)
		bad[len(bad)-2] ^= 0x01
		if l.ta.Matches(tt.t, bad) {
			t.Errorf("Matches(%d, %x) with a flipped bit", tt.t, bad)
		}
	}
	if !bytes.Equal(l.ta.Certificate.SubjectKeyId, s1[:]) {
		t.Errorf("SKI extension %x is not the RFC 6487 §4.8.2 hash %x", l.ta.Certificate.SubjectKeyId, s1)
	}
	if !l.ta.Matches(NameTypeFQDN, []byte("\x02TA\x07Example\x03NET\x00")) {
		t.Error("FQDN match is case-sensitive")
	}
	for _, nt := range []NameType{0, 8, 253, 255} {
		if _, err := l.ta.Name(nt); !errors.Is(err, ErrNoName) {
			t.Errorf("Name(%d) = %v, want ErrNoName", nt, err)
		}
		if l.ta.Matches(nt, nil) {
			t.Errorf("Matches(%d, nil)", nt)
		}
	}
	if _, err := l.ta2.Name(NameTypeFQDN); !errors.Is(err, ErrNoName) {
		t.Errorf("Name(FQDN) without subjectAltName = %v, want ErrNoName", err)
	}
}

func TestFQDNWire(t *testing.T) {
	want := []byte{
		11, 't', 'r', 'u', 's', 't', 'a', 'n', 'c', 'h', 'o', 'r', // label "trustanchor"
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', // label "example"
		3, 'c', 'o', 'm', // label "com"
		0, // root label
	}
	for _, name := range []string{"trustanchor.example.com", "trustanchor.example.com."} {
		got, err := FQDNWire(name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("FQDNWire(%q) = %x, %v; want %x", name, got, err, want)
		}
	}
	if s, err := ParseFQDNWire(want); err != nil || s != "trustanchor.example.com" {
		t.Errorf("ParseFQDNWire = %q, %v", s, err)
	}
	for _, name := range []string{"", ".", "a..b", "bad name.example", string(make([]byte, 64)) + ".example"} {
		if w, err := FQDNWire(name); err == nil {
			t.Errorf("FQDNWire(%q) = %x, want an error", name, w)
		}
	}
	bad := []struct {
		name string
		b    []byte
		eof  bool
	}{
		{"empty", nil, true},
		{"no root label", []byte{1, 'a'}, true},
		{"label truncated", []byte{3, 'a', 'b'}, true},
		{"root only", []byte{0}, false},
		{"octets after root", []byte{1, 'a', 0, 0}, false},
		{"compression pointer", []byte{0xc0, 0x0c}, false},
	}
	for _, tt := range bad {
		_, err := ParseFQDNWire(tt.b)
		if !errors.Is(err, ErrParse) || errors.Is(err, io.ErrUnexpectedEOF) != tt.eof {
			t.Errorf("%s: ParseFQDNWire(%x) = %v", tt.name, tt.b, err)
		}
	}
}
