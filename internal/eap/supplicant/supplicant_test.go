package supplicant_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/eap/supplicant"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
)

// fastConfig is a supplicant with short timers and a PKI of its own (no
// server runs: the tests script the authenticator).
func fastConfig(t *testing.T) supplicant.Config {
	t.Helper()
	p := eaptest.NewPKI(t)
	cfg := supplicantConfig(p, 0, nil, eaptest.ServerName)
	cfg.StartPeriod, cfg.AuthPeriod, cfg.HeldPeriod = 30*time.Millisecond, 60*time.Millisecond, time.Hour
	return cfg
}

// run starts Authenticate in the background; the channel gives its error.
func run(t *testing.T, s *supplicant.Supplicant, link *eaptest.MemoryLink) <-chan error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() {
		_, err := s.Authenticate(ctx, link)
		done <- err
	}()
	return done
}

// expect reads the next frame at the authenticator end and checks its
// Packet Type.
func expect(t *testing.T, l *eaptest.MemoryLink, typ eap.EAPOLType) eap.EAPOL {
	t.Helper()
	_ = l.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	n, src, err := l.ReadFrom(buf)
	if err != nil {
		t.Fatalf("waiting for %s: %v", typ, err)
	}
	e, err := eap.ParseEAPOL(buf[:n])
	if err != nil || e.Type != typ || !bytes.Equal(src, supplicantMAC) {
		t.Fatalf("got %+v from %s (%v), want %s", e, src, err, typ)
	}
	return e
}

// request sends an EAP packet from src to the supplicant.
func request(t *testing.T, l *eaptest.MemoryLink, src []byte, p eap.Packet) {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	pdu, _ := eap.EAPOL{Version: eap.EAPOLVersion2004, Type: eap.EAPOLEAPPacket, Body: b}.Marshal()
	if err := l.Inject(eaptest.Frame{PDU: pdu, Src: src, Dst: supplicantMAC}); err != nil {
		t.Fatal(err)
	}
}

func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Authenticate did not return")
		return nil
	}
}

var identityRequest = eap.Packet{Code: eap.CodeRequest, Identifier: 1, Type: eap.TypeIdentity}

// identified starts an authentication and takes it to the Identity
// Response: the supplicant has learned the authenticator.
func identified(t *testing.T) (*supplicant.Supplicant, *eaptest.MemoryLink, *eaptest.MemoryLink, <-chan error) {
	t.Helper()
	s, err := supplicant.New(fastConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	sup, auth := eaptest.NewMemoryLinks(supplicantMAC, authenticatorMAC)
	done := run(t, s, sup)
	expect(t, auth, eap.EAPOLStart)
	request(t, auth, authenticatorMAC, identityRequest)
	// docs/eap.md: EAPOL version 2, EAP Response, Identifier 1, Length
	// 19, Type 1 (Identity), the NAI.
	want, _ := hex.DecodeString("02000013" + "02010013" + "01" + hex.EncodeToString([]byte("mn@example.com")))
	if e, _ := expect(t, auth, eap.EAPOLEAPPacket).Marshal(); !bytes.Equal(e, want) {
		t.Fatalf("Identity Response %x, want %x", e, want)
	}
	return s, sup, auth, done
}

// TestFailureThenHeld: EAP-Failure after the Identity Response ends the
// authentication with ErrFailure and no MSK; the next Authenticate waits
// the held period and sends nothing meanwhile.
func TestFailureThenHeld(t *testing.T) {
	s, sup, auth, done := identified(t)
	request(t, auth, authenticatorMAC, eap.Packet{Code: eap.CodeFailure, Identifier: 1})
	if err := wait(t, done); !errors.Is(err, supplicant.ErrFailure) || !errors.Is(err, tlspeer.ErrFailure) {
		t.Fatalf("err = %v, want ErrFailure", err)
	}
	if st := s.Status(); st.State != supplicant.StateFailed || st.Authenticator != authenticatorMAC.String() {
		t.Fatalf("status %+v", st)
	}
	n := len(sup.Frames())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Authenticate(ctx, sup); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("held: err = %v", err)
	}
	if len(sup.Frames()) != n {
		t.Fatal("a frame was sent during the held period")
	}
}

// TestSilentAuthenticator: nobody answers: MaxStart EAPOL-Starts, then
// ErrNoAuthenticator.
func TestSilentAuthenticator(t *testing.T) {
	cfg := fastConfig(t)
	cfg.MaxStart = 3
	s, _ := supplicant.New(cfg)
	sup, auth := eaptest.NewMemoryLinks(supplicantMAC, authenticatorMAC)
	if err := wait(t, run(t, s, sup)); !errors.Is(err, supplicant.ErrNoAuthenticator) {
		t.Fatalf("err = %v, want ErrNoAuthenticator", err)
	}
	for range 3 {
		expect(t, auth, eap.EAPOLStart)
	}
	if n := len(sup.Frames()); n != 3 {
		t.Fatalf("%d frames sent, want 3 EAPOL-Starts", n)
	}
}

// TestAuthenticatorGoesSilent: an exchange abandoned after the Identity
// Response: authWhile runs out, the supplicant starts again up to
// MaxStart, then ErrTimeout.
func TestAuthenticatorGoesSilent(t *testing.T) {
	_, sup, auth, done := identified(t)
	if err := wait(t, done); !errors.Is(err, supplicant.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	expect(t, auth, eap.EAPOLStart)
	expect(t, auth, eap.EAPOLStart)
	if n := len(sup.Frames()); n != 4 {
		t.Fatalf("%d frames, want 3 Starts and a Response", n)
	}
}

// TestNakAndOtherSources: a method other than EAP-TLS gets a Legacy Nak
// offering EAP-TLS (RFC 3748 §5.3.1); once the authenticator is learned,
// frames from another address (a Failure, a Request) change nothing.
func TestNakAndOtherSources(t *testing.T) {
	_, sup, auth, done := identified(t)
	request(t, auth, otherMAC, eap.Packet{Code: eap.CodeFailure, Identifier: 1})
	request(t, auth, otherMAC, eap.Packet{Code: eap.CodeRequest, Identifier: 9, Type: eap.TypeIdentity})
	request(t, auth, authenticatorMAC, eap.Packet{Code: eap.CodeRequest, Identifier: 2, Type: 4, Data: []byte{1, 0}}) // MD5-Challenge
	// Legacy Nak: Response, Identifier 2, Length 6, Type 3, Type 13.
	if b, _ := expect(t, auth, eap.EAPOLEAPPacket).Marshal(); !bytes.Equal(b, []byte{2, 0, 0, 6, 2, 2, 0, 6, 3, 13}) {
		t.Fatalf("got %x, want a Nak offering EAP-TLS", b)
	}
	request(t, auth, authenticatorMAC, eap.Packet{Code: eap.CodeFailure, Identifier: 2})
	if err := wait(t, done); !errors.Is(err, supplicant.ErrFailure) {
		t.Fatalf("err = %v", err)
	}
	for _, f := range sup.Frames()[1:] {
		if !bytes.Equal(f.Dst, authenticatorMAC) {
			t.Fatalf("a frame to %s", f.Dst)
		}
	}
}

// TestConfigErrors: the configurations New refuses.
func TestConfigErrors(t *testing.T) {
	good := fastConfig(t)
	for name, mod := range map[string]func(*supplicant.Config){
		"no identity":     func(c *supplicant.Config) { c.Peer.Identity = "" },
		"no certificate":  func(c *supplicant.Config) { c.Peer.TLS = c.Peer.TLS.Clone(); c.Peer.TLS.Certificates = nil },
		"negative period": func(c *supplicant.Config) { c.StartPeriod = -1 },
		"EAPOL version 4": func(c *supplicant.Config) { c.EAPOLVersion = 4 },
	} {
		cfg := good
		mod(&cfg)
		if _, err := supplicant.New(cfg); !errors.Is(err, supplicant.ErrConfig) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
