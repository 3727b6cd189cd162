package cga

import (
	"encoding/hex"
	"encoding/pem"
	"os"
	"strings"
	"testing"
)

// testKey returns the DER SubjectPublicKeyInfo in testdata/rsaBITS.pub.pem.
func testKey(t testing.TB, bits string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/rsa" + bits + ".pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		t.Fatalf("testdata/rsa%s.pub.pem: no PUBLIC KEY block", bits)
	}
	return blk.Bytes
}

// unhex decodes hex written with spaces and newlines, as in the RFCs; a
// '#' starts a comment that runs to the end of the line.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	var digits strings.Builder
	for line := range strings.Lines(s) {
		line, _, _ = strings.Cut(line, "#")
		digits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(digits.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
