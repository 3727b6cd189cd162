package pae

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/radius"
)

// TestStoreWriteDoesNotBlock: while the MSK of one supplicant is being
// written (keystore.MSKs fsyncs), the authenticator serves the others —
// another MAC's Start gets its Identity Request — and the writing
// session stays busy: its own Start and Logoff are dropped, nothing is
// stored twice; once the write ends, its EAP-Success goes out and the
// MSK is there.
func TestStoreWriteDoesNotBlock(t *testing.T) {
	w := newWorld(t, Config{})
	success := eapPacket(eap.CodeSuccess, 8, 0, "")
	w.backend.answers = []radius.EAPResult{{Outcome: radius.EAPAccept, EAP: success, MSK: testMSK(), HaveMSK: true}}
	w.store.entered, w.store.gate = make(chan struct{}), make(chan struct{})
	w.one(macA, eapolPDU(eap.EAPOLStart, nil))
	done := make(chan []Frame, 1)
	go func() {
		done <- w.a.Handle(context.Background(), macA, eapResponse(1, eap.TypeIdentity, "mn@example.com"))
	}()
	<-w.store.entered // macA's MSK is being written

	other := make(chan []Frame, 1)
	go func() { other <- w.a.Handle(context.Background(), macB, eapolPDU(eap.EAPOLStart, nil)) }()
	select {
	case out := <-other:
		if len(out) != 1 || eapOf(t, out[0]).Type != eap.TypeIdentity {
			t.Fatalf("macB during the write: %v", out)
		}
	case <-time.After(10 * time.Second):
		close(w.store.gate)
		t.Fatal("macB's Start waited for macA's MSK write")
	}
	w.none(macA, eapolPDU(eap.EAPOLStart, nil))
	w.none(macA, eapolPDU(eap.EAPOLLogoff, nil))
	if s := w.a.Stats(); s.Sessions != 2 || s.Unexpected != 2 || s.Logoffs != 0 || s.Accepted != 0 {
		t.Errorf("during the write: stats %+v", s)
	}
	close(w.store.gate)
	out := <-done
	if len(out) != 1 || out[0].Dst != macA || !bytes.Equal(out[0].PDU[4:], success) {
		t.Fatalf("after the write: %v", out)
	}
	if _, ok := w.store.m["mn@example.com"]; !ok {
		t.Fatal("MSK not stored")
	}
	if s := w.a.Stats(); s.Sessions != 1 || s.Authorized != 1 || s.Accepted != 1 {
		t.Errorf("after the write: stats %+v", s)
	}
}
