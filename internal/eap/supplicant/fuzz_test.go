package supplicant

import (
	"bytes"
	"crypto/tls"
	"net"
	"testing"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
)

// FuzzHandleFrame: a session that learned its authenticator from an
// Identity Request takes any frame without panicking; a frame from
// another address is ignored and changes nothing; a frame ignored from
// the authenticator does not restart authWhile; a reply is a well-formed
// EAPOL-EAP PDU carrying an EAP Response.
func FuzzHandleFrame(f *testing.F) {
	pki := eaptest.NewPKI(f)
	cfg := tlspeer.Config{Identity: "mn@example.com", TLS: &tls.Config{
		Certificates: []tls.Certificate{pki.Client.TLS()}, RootCAs: pki.Pool(), ServerName: eaptest.ServerName}}
	auth := net.HardwareAddr{2, 0, 0, 0, 0xa0, 1}
	eapol := func(p eap.Packet) []byte {
		b, _ := p.Marshal()
		pdu, _ := eap.EAPOL{Version: 2, Type: eap.EAPOLEAPPacket, Body: b}.Marshal()
		return pdu
	}
	identity := eapol(eap.Packet{Code: eap.CodeRequest, Identifier: 1, Type: eap.TypeIdentity})
	for _, seed := range [][]byte{
		eapol(eap.Packet{Code: eap.CodeRequest, Identifier: 2, Type: eap.TypeTLS, Data: []byte{0x20}}),
		eapol(eap.Packet{Code: eap.CodeRequest, Identifier: 2, Type: eap.TypeTLS, Data: []byte{0xc0, 0, 0, 0x10, 0}}),
		eapol(eap.Packet{Code: eap.CodeRequest, Identifier: 2, Type: 4, Data: []byte{1, 0}}),
		eapol(eap.Packet{Code: eap.CodeSuccess, Identifier: 2}),
		eapol(eap.Packet{Code: eap.CodeFailure, Identifier: 2}),
		eapol(eap.Packet{Code: eap.CodeResponse, Identifier: 2, Type: eap.TypeIdentity}),
		{3, 1, 0, 0}, {1, 0, 0, 5, 1, 1, 0, 5, 1}, {},
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, pdu []byte, fromAuthenticator bool) {
		peer, err := tlspeer.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		s := &session{peer: peer, version: eap.EAPOLVersion2004}
		if a := s.handle(identity, auth); !a.taken || a.reply == nil || !bytes.Equal(s.auth, auth) {
			t.Fatalf("Identity Request not taken: %+v", a)
		}
		src := net.HardwareAddr{2, 0, 0, 0, 0xbb, 1}
		if fromAuthenticator {
			src = auth
		}
		a := s.handle(pdu, src)
		if !bytes.Equal(s.auth, auth) {
			t.Fatalf("authenticator changed to %s", s.auth)
		}
		if !fromAuthenticator && (a.taken || a.reply != nil || a.outcome != pending) {
			t.Fatalf("frame from another address taken: %+v", a)
		}
		if !a.taken && (a.reply != nil || a.outcome != pending) {
			t.Fatalf("ignored frame acted on: %+v", a)
		}
		if a.reply != nil {
			e, err := eap.ParseEAPOL(a.reply)
			if err != nil {
				t.Fatal(err)
			}
			if p, err := e.EAP(); err != nil || p.Code != eap.CodeResponse {
				t.Fatalf("reply %+v: %v", p, err)
			}
		}
		if a.outcome == failed && a.err == nil {
			t.Fatal("failure without a cause")
		}
	})
}
