package hachannel_test

import (
	"testing"

	"github.com/fhkey/fhkey/internal/hac/hachannel"
)

// FuzzParseRequest: a request that parses marshals back to one that parses
// to the same SA.
func FuzzParseRequest(f *testing.F) {
	b, err := hachannel.MarshalRequest(1, exampleProvisioned(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{0, 1, 0, 4, '\r', '\n', '\r', '\n'})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, p, err := hachannel.ParseRequest(b)
		if err != nil {
			return
		}
		again, err := hachannel.MarshalRequest(id, p)
		if err != nil {
			t.Fatalf("parsed, cannot marshal: %v", err)
		}
		id2, p2, err := hachannel.ParseRequest(again)
		if err != nil || id2 != id || p2.SA.SPI != p.SA.SPI || p2.Identity != p.Identity || !p2.SA.MNToHAIntegrity.Equal(&p.SA.MNToHAIntegrity) {
			t.Fatalf("re-parse: %v", err)
		}
	})
}
