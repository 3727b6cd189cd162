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
)

// TestReauthenticate: waiting for a re-authentication, the supplicant
// ignores an Identity Request from another address and other frames of
// its authenticator; the authenticator's unsolicited
// EAP-Request/Identity gets the Identity Response (exact bytes, with the
// Request's Identifier) without any EAPOL-Start, and the exchange runs
// to its outcome (here an EAP-Failure: ErrFailure).
func TestReauthenticate(t *testing.T) {
	s, err := supplicant.New(fastConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	sup, auth := eaptest.NewMemoryLinks(supplicantMAC, authenticatorMAC)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := s.Reauthenticate(ctx, sup, authenticatorMAC)
		done <- err
	}()
	request(t, auth, otherMAC, eap.Packet{Code: eap.CodeRequest, Identifier: 4, Type: eap.TypeIdentity})
	request(t, auth, authenticatorMAC, eap.Packet{Code: eap.CodeFailure, Identifier: 4})
	request(t, auth, authenticatorMAC, eap.Packet{Code: eap.CodeRequest, Identifier: 5, Type: eap.TypeIdentity})
	want, _ := hex.DecodeString("02000013" + "02050013" + "01" + hex.EncodeToString([]byte("mn@example.com")))
	if e, _ := expect(t, auth, eap.EAPOLEAPPacket).Marshal(); !bytes.Equal(e, want) {
		t.Fatalf("Identity Response %x, want %x", e, want)
	}
	request(t, auth, authenticatorMAC, eap.Packet{Code: eap.CodeFailure, Identifier: 5})
	if err := wait(t, done); !errors.Is(err, supplicant.ErrFailure) {
		t.Fatalf("err = %v, want ErrFailure", err)
	}
	if n := len(sup.Frames()); n != 1 {
		t.Fatalf("%d frames sent, want the Identity Response only", n)
	}
}

// TestReauthenticateCancel: with no Identity Request, Reauthenticate
// returns ctx's error when ctx ends, and sends nothing.
func TestReauthenticateCancel(t *testing.T) {
	s, _ := supplicant.New(fastConfig(t))
	sup, _ := eaptest.NewMemoryLinks(supplicantMAC, authenticatorMAC)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Reauthenticate(ctx, sup, authenticatorMAC)
		done <- err
	}()
	cancel()
	if err := wait(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(sup.Frames()); n != 0 {
		t.Fatalf("%d frames sent", n)
	}
	if _, err := s.Reauthenticate(context.Background(), sup, nil); !errors.Is(err, supplicant.ErrConfig) {
		t.Fatalf("no authenticator: err = %v", err)
	}
}
