package pae

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/radius"
)

// reject runs src from an EAPOL-Start to an Access-Reject and checks the
// EAP-Failure forwarded.
func (w *world) reject(src MAC) {
	w.t.Helper()
	req := eapOf(w.t, w.one(src, eapolPDU(eap.EAPOLStart, nil)))
	failure := eapPacket(eap.CodeFailure, req.Identifier, 0, "")
	w.backend.answers = []radius.EAPResult{{Outcome: radius.EAPReject, EAP: failure}}
	if got := w.one(src, eapResponse(req.Identifier, eap.TypeIdentity, "mn@example.com")); !bytes.Equal(got.PDU[4:], failure) {
		w.t.Fatalf("got % x, want the EAP-Failure", got.PDU)
	}
}

// TestQuietPeriod: after an Access-Reject the MAC's EAPOL-Starts and
// EAP-Responses are dropped and counted for DefaultQuietPeriod (60 s,
// IEEE 802.1X-2004 quietPeriod), while another MAC is served; at 60 s a
// Start is answered again, and the entry is gone after the next tick.
func TestQuietPeriod(t *testing.T) {
	w := newWorld(t, Config{})
	t0 := w.now
	w.reject(macA)
	if s := w.a.Stats(); s.QuietMACs != 1 || s.Rejected != 1 {
		t.Fatalf("stats %+v", s)
	}
	w.now = t0.Add(59 * time.Second)
	w.none(macA, eapolPDU(eap.EAPOLStart, nil))
	w.none(macA, eapResponse(1, eap.TypeIdentity, "mn@example.com"))
	w.a.Tick(w.now)
	if s := w.a.Stats(); s.Quiet != 2 || s.Started != 1 || s.Unexpected != 0 || s.RateLimited != 0 || s.QuietMACs != 1 {
		t.Fatalf("during the quiet period: stats %+v", s)
	}
	if len(w.backend.users) != 1 {
		t.Fatalf("server contacted during the quiet period: users %q", w.backend.users)
	}
	w.one(macB, eapolPDU(eap.EAPOLStart, nil)) // another MAC is not held

	w.now = t0.Add(60 * time.Second)
	if req := eapOf(t, w.one(macA, eapolPDU(eap.EAPOLStart, nil))); req.Code != eap.CodeRequest || req.Type != eap.TypeIdentity {
		t.Fatalf("after the quiet period: %+v, want an EAP-Request/Identity", req)
	}
	if out := w.a.Tick(w.now); len(out) != 0 { // the Start was answered: no restart
		t.Fatalf("tick after the answered Start: %d frames", len(out))
	}
	if s := w.a.Stats(); s.QuietMACs != 0 || s.Quiet != 2 || s.QuietRestarts != 0 {
		t.Fatalf("after the quiet period: stats %+v", s)
	}
}

// TestQuietPeriodRestart: at the end of the quiet period the
// authenticator itself sends the MAC an EAP-Request/Identity
// (802.1X-2004 HELD → RESTART), not a tick earlier, and the Response
// runs a normal session; a MAC whose period ends while the session
// table is full of sessions waiting for the server gets none.
func TestQuietPeriodRestart(t *testing.T) {
	w := newWorld(t, Config{QuietPeriod: 10 * time.Second, MaxSessions: 1})
	t0 := w.now
	w.reject(macA)
	if out := w.a.Tick(t0.Add(10*time.Second - time.Nanosecond)); len(out) != 0 {
		t.Fatalf("restart during the quiet period: %d frames", len(out))
	}
	w.now = t0.Add(10 * time.Second)
	f := w.tickOne(w.now)
	req := eapOf(t, f)
	if f.Dst != macA || req.Code != eap.CodeRequest || req.Type != eap.TypeIdentity || req.Identifier != 2 {
		t.Fatalf("at the end of the quiet period: %+v to %v, want an EAP-Request/Identity (Identifier 2) to %v", req, f.Dst, macA)
	}
	if s := w.a.Stats(); s.QuietRestarts != 1 || s.Started != 2 || s.Sessions != 1 || s.QuietMACs != 0 {
		t.Fatalf("stats %+v", s)
	}
	w.backend.answers = []radius.EAPResult{{Outcome: radius.EAPReject, EAP: eapPacket(eap.CodeFailure, 2, 0, "")}}
	w.one(macA, eapResponse(req.Identifier, eap.TypeIdentity, "mn@example.com"))
	if len(w.backend.users) != 2 || w.a.Stats().Rejected != 2 || w.a.Stats().QuietMACs != 1 {
		t.Fatalf("the restarted session did not reach the server: users %q, stats %+v", w.backend.users, w.a.Stats())
	}

	// Full table (macB's Response at the server): no restart for macA.
	release, entered := make(chan struct{}), make(chan struct{})
	w.a.cfg.Backend = blockingBackend{entered: entered, release: release}
	w.now = t0.Add(11 * time.Second)
	reqB := eapOf(t, w.one(macB, eapolPDU(eap.EAPOLStart, nil)))
	done := make(chan []Frame)
	go func() {
		done <- w.a.Handle(context.Background(), macB, eapResponse(reqB.Identifier, eap.TypeIdentity, "b@example.com"))
	}()
	<-entered
	if out := w.a.Tick(t0.Add(30 * time.Second)); len(out) != 0 {
		t.Fatalf("restart with the table full: %d frames", len(out))
	}
	close(release)
	<-done
	if s := w.a.Stats(); s.QuietRestarts != 1 || s.QuietMACs != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestQuietPeriodConfig: QuietPeriod sets the period; a negative one
// disables it; outcomes other than a Reject (no answer from the server)
// start none.
func TestQuietPeriodConfig(t *testing.T) {
	t.Run("10s", func(t *testing.T) {
		w := newWorld(t, Config{QuietPeriod: 10 * time.Second})
		t0 := w.now
		w.reject(macA)
		w.now = t0.Add(9 * time.Second)
		w.none(macA, eapolPDU(eap.EAPOLStart, nil))
		w.now = t0.Add(10 * time.Second)
		w.one(macA, eapolPDU(eap.EAPOLStart, nil))
	})
	t.Run("disabled", func(t *testing.T) {
		w := newWorld(t, Config{QuietPeriod: -1})
		w.reject(macA)
		w.one(macA, eapolPDU(eap.EAPOLStart, nil))
		if s := w.a.Stats(); s.QuietMACs != 0 || s.Quiet != 0 {
			t.Fatalf("stats %+v", s)
		}
	})
	t.Run("server error", func(t *testing.T) {
		w := newWorld(t, Config{})
		req := eapOf(t, w.one(macA, eapolPDU(eap.EAPOLStart, nil)))
		w.backend.answers = nil // "script exhausted": no answer
		w.none(macA, eapResponse(req.Identifier, eap.TypeIdentity, "mn@example.com"))
		w.one(macA, eapolPDU(eap.EAPOLStart, nil))
		if s := w.a.Stats(); s.QuietMACs != 0 || s.BackendErrors != 1 {
			t.Fatalf("stats %+v", s)
		}
	})
}

// TestQuietBounded: rejections of many MAC addresses keep at most
// maxQuiet quiet entries; beyond, the entry ending first goes
// (QuietEvicted) and the newest MACs stay quiet.
func TestQuietBounded(t *testing.T) {
	w := newWorld(t, Config{MaxSessions: 2, NewSessions: Rate{PerSecond: 1e9, Burst: 1e9}})
	limit := w.a.maxQuiet() // 32
	const macs = 100
	for i := range macs {
		w.now = w.now.Add(time.Millisecond) // each ends later than the one before
		w.reject(floodMAC(i))
	}
	if s := w.a.Stats(); s.QuietMACs != limit || s.QuietEvicted != uint64(macs-limit) || s.Rejected != macs {
		t.Fatalf("stats %+v, want %d quiet", s, limit)
	}
	w.one(floodMAC(0), eapolPDU(eap.EAPOLStart, nil)) // evicted: served
	if out := w.a.Handle(context.Background(), floodMAC(macs-1), eapolPDU(eap.EAPOLStart, nil)); len(out) != 0 {
		t.Fatalf("newest rejected MAC answered: %d frames", len(out))
	}
}

// TestQuietDefersReauthentication: an authenticated MAC that is rejected
// on a later Start is not re-authenticated during its quiet period; the
// re-authentication is sent at the first tick after it.
func TestQuietDefersReauthentication(t *testing.T) {
	w := newWorld(t, Config{})
	t0 := w.now
	w.authenticate(macA, w.one(macA, eapolPDU(eap.EAPOLStart, nil)), "mn@example.com", testMSK(), 600*time.Second)
	w.now = t0.Add(450 * time.Second)
	w.reject(macA) // quiet until +510 s; re-authentication due at +480 s
	if out := w.a.Tick(t0.Add(480 * time.Second)); len(out) != 0 {
		t.Fatalf("re-authentication during the quiet period: %d frames", len(out))
	}
	if f := w.tickOne(t0.Add(510 * time.Second)); eapOf(t, f).Type != eap.TypeIdentity || f.Dst != macA {
		t.Fatalf("after the quiet period: %+v to %v", eapOf(t, f), f.Dst)
	}
}
