package hac_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/mip6tls"
)

// FuzzServe feeds a session arbitrary request octets (a PSK MHAuth-Init
// then anything): it must end without panicking and provision nothing
// that a correctly signed MHAuth-Done did not ask for.
func FuzzServe(f *testing.F) {
	w1, _ := mip6tls.PSKInitRequest("mn1@example.com", mnRand)
	f.Add(w1)
	e1, _ := mip6tls.InitRequest("mn2@example.com", mnRand, mip6tls.AuthMethodEAP)
	f.Add(e1)
	f.Add(append(append([]byte{}, w1...), 0, 2, 0, 4, '\r', '\n', '\r', '\n'))
	h, _ := newHAC(f, hac.Config{EAP: func(string) hac.EAPSession { return continuing{} }})
	f.Fuzz(func(t *testing.T, b []byte) {
		rw := struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(b), io.Discard}
		r, _ := h.Serve(context.Background(), rw, cb)
		if r.SPI != 0 {
			t.Fatalf("SA %d provisioned from fuzzed input", r.SPI)
		}
	})
}
