package tlspeer

import (
	"crypto/tls"
	"testing"
)

// FuzzHandle: EAP packets fed to a peer after EAP-TLS Start (so the TLS
// client runs) never panic nor block, and never complete the method.
func FuzzHandle(f *testing.F) {
	f.Add([]byte{1, 2, 0, 6, 13, 0x00}, []byte{3, 3, 0, 4})
	f.Add([]byte{1, 2, 0, 11, 13, 0xc0, 0, 0, 0, 9, 22}, []byte{1, 3, 0, 7, 13, 0x00, 3})
	cert := tls.Certificate{Certificate: [][]byte{{0}}}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		p, err := New(Config{Identity: "x", TLS: &tls.Config{Certificates: []tls.Certificate{cert}, ServerName: "s"}})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, err := p.Handle([]byte{1, 1, 0, 6, 13, 0x20}); err != nil {
			t.Fatal(err)
		}
		p.Handle(a)
		p.Handle(b)
		if _, _, ok := p.Keys(); ok {
			t.Fatal("keys from garbage")
		}
	})
}
