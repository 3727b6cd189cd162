package pae

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/radius"
)

// authenticate runs src through an authentication whose Access-Accept
// carries msk and Session-Timeout life, starting from the Identity
// Request idReq (an EAPOL-Start's answer or a re-authentication's).
func (w *world) authenticate(src MAC, idReq Frame, nai string, msk eap.MSK, life time.Duration) {
	w.t.Helper()
	req := eapOf(w.t, idReq)
	if req.Code != eap.CodeRequest || req.Type != eap.TypeIdentity {
		w.t.Fatalf("got %+v, want an EAP-Request/Identity", req)
	}
	w.backend.answers = []radius.EAPResult{
		{Outcome: radius.EAPContinue, EAP: eapPacket(eap.CodeRequest, 7, eap.TypeTLS, "\x20")},
		{Outcome: radius.EAPAccept, EAP: eapPacket(eap.CodeSuccess, 8, 0, ""), MSK: msk, HaveMSK: true, SessionTimeout: life},
	}
	w.one(src, eapResponse(req.Identifier, eap.TypeIdentity, nai))
	if f := w.one(src, eapResponse(7, eap.TypeTLS, "\x00")); eapOf(w.t, f).Code != eap.CodeSuccess {
		w.t.Fatalf("got %+v, want EAP-Success", eapOf(w.t, f))
	}
}

// tickOne advances the clock to at, ticks, and returns the one frame
// sent (failing otherwise).
func (w *world) tickOne(at time.Time) Frame {
	w.t.Helper()
	w.now = at
	out := w.a.Tick(at)
	if len(out) != 1 {
		w.t.Fatalf("tick at %v: %d frames, want 1", at, len(out))
	}
	return out[0]
}

// TestReauthentication: at 0.8 × Session-Timeout the authenticator sends
// an EAP-Request/Identity to the authenticated MAC (not a tick earlier);
// the session's new MSK replaces the old in the store with a new expiry,
// and the timer restarts from it. A re-authentication the server rejects
// forwards the EAP-Failure and keeps the stored MSK; the next attempt is
// the restart at the end of the quiet period the Reject started; the
// authorization is forgotten when the MSK expires.
func TestReauthentication(t *testing.T) {
	w := newWorld(t, Config{})
	t0, life := w.now, 600*time.Second
	first, second := testMSK(), testMSK()
	second[0] = 0xff
	w.authenticate(macA, w.one(macA, eapolPDU(eap.EAPOLStart, nil)), "mn@example.com", first, life)

	if out := w.a.Tick(t0.Add(479 * time.Second)); len(out) != 0 {
		t.Fatalf("re-authentication before 0.8 × Session-Timeout: %d frames", len(out))
	}
	t1 := t0.Add(480 * time.Second)
	f := w.tickOne(t1)
	if f.Dst != macA {
		t.Fatalf("Identity Request to %v, want %v", f.Dst, macA)
	}
	w.authenticate(macA, f, "mn@example.com", second, life)
	rec := w.store.m["mn@example.com"]
	if !bytes.Equal(rec.MSK[:], second[:]) || !rec.Expires.Equal(t1.Add(life)) {
		t.Fatalf("after re-authentication: MSK %x.., expires %v; want %x.., %v", rec.MSK[0], rec.Expires, second[0], t1.Add(life))
	}
	if s := w.a.Stats(); s.Reauthenticated != 1 || s.ReauthFailed != 0 || s.Started != 2 || s.Accepted != 2 || s.Authorized != 1 {
		t.Fatalf("stats %+v", s)
	}

	// The next one is due 480 s after the re-authentication; rejected.
	if out := w.a.Tick(t1.Add(479 * time.Second)); len(out) != 0 {
		t.Fatalf("second re-authentication early: %d frames", len(out))
	}
	f = w.tickOne(t1.Add(480 * time.Second))
	failure := eapPacket(eap.CodeFailure, 1, 0, "")
	w.backend.answers = []radius.EAPResult{{Outcome: radius.EAPReject, EAP: failure}}
	if got := w.one(macA, eapResponse(eapOf(t, f).Identifier, eap.TypeIdentity, "mn@example.com")); !bytes.Equal(got.PDU[4:], failure) {
		t.Fatalf("got % x, want the EAP-Failure", got.PDU)
	}
	if rec := w.store.m["mn@example.com"]; !bytes.Equal(rec.MSK[:], second[:]) || !rec.Expires.Equal(t1.Add(life)) || len(w.store.deleted) != 0 {
		t.Fatalf("after a failed re-authentication the MSK changed: %x.., %v, deleted %q", rec.MSK[0], rec.Expires, w.store.deleted)
	}
	if s := w.a.Stats(); s.Reauthenticated != 1 || s.ReauthFailed != 1 || s.Rejected != 1 {
		t.Fatalf("stats %+v", s)
	}
	// The Reject started a quiet period; at its end the authenticator
	// restarts the MAC (802.1X-2004 HELD → RESTART), not before.
	if out := w.a.Tick(t1.Add(539 * time.Second)); len(out) != 0 {
		t.Fatalf("re-authentication again during the quiet period: %d frames", len(out))
	}
	if f := w.tickOne(t1.Add(540 * time.Second)); eapOf(t, f).Type != eap.TypeIdentity {
		t.Fatalf("at the end of the quiet period: %+v, want an EAP-Request/Identity", eapOf(t, f))
	}
	w.a.Tick(t1.Add(life))
	if s := w.a.Stats(); s.Authorized != 0 {
		t.Errorf("authorization kept after its MSK expired: %+v", s)
	}
}

// TestReauthenticationTimeout: a supplicant that does not answer the
// re-authentication's Identity Request gets it MaxRetransmissions times
// again; then the session ends as failed and the MSK stays.
func TestReauthenticationTimeout(t *testing.T) {
	w := newWorld(t, Config{RetransmitInterval: time.Second, MaxRetransmissions: 1})
	t0 := w.now
	w.authenticate(macA, w.one(macA, eapolPDU(eap.EAPOLStart, nil)), "mn@example.com", testMSK(), time.Hour)
	req := w.tickOne(t0.Add(48 * time.Minute))
	if again := w.tickOne(w.now.Add(time.Second)); !bytes.Equal(again.PDU, req.PDU) {
		t.Fatalf("retransmitted % x, want % x", again.PDU, req.PDU)
	}
	w.a.Tick(w.now.Add(2 * time.Second))
	if s := w.a.Stats(); s.ReauthFailed != 1 || s.Expired != 1 || s.Sessions != 0 || len(w.store.m) != 1 {
		t.Fatalf("stats %+v, store %d", s, len(w.store.m))
	}
}

// TestReauthTime: 0.8 × lifetime, at least MinReauthPeriod, none when
// that reaches the expiry; other fractions and minimums; none when off.
func TestReauthTime(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		cfg  Config
		life time.Duration
		want time.Duration // 0: none
	}{
		{Config{}, time.Hour, 48 * time.Minute},
		{Config{}, 100 * time.Second, 80 * time.Second},
		{Config{}, 70 * time.Second, time.Minute},
		{Config{}, time.Minute, 0},
		{Config{}, 30 * time.Second, 0},
		{Config{ReauthFraction: 0.5}, time.Hour, 30 * time.Minute},
		{Config{ReauthFraction: 0.5, MinReauthPeriod: 40 * time.Minute}, time.Hour, 40 * time.Minute},
		{Config{MinReauthPeriod: 10 * time.Second}, 30 * time.Second, 24 * time.Second},
		{Config{DisableReauth: true}, time.Hour, 0},
	} {
		cfg := c.cfg
		cfg.Backend, cfg.Store = &fakeBackend{}, &fakeStore{}
		cfg, err := cfg.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		got := cfg.reauthTime(now, c.life)
		if (c.want == 0) != got.IsZero() || (c.want != 0 && got.Sub(now) != c.want) {
			t.Errorf("%+v life %v: re-authentication at %v, want +%v", c.cfg, c.life, got, c.want)
		}
	}
}

// TestReauthConfigErrors: a fraction outside 0 < f < 1 is refused.
func TestReauthConfigErrors(t *testing.T) {
	for _, f := range []float64{-0.1, 1, 1.5, math.NaN()} {
		if _, err := New(Config{Backend: &fakeBackend{}, Store: &fakeStore{}, ReauthFraction: f}); err == nil {
			t.Errorf("ReauthFraction %v accepted", f)
		}
	}
}

// TestReauthDisabled: with DisableReauth no Identity Request is sent
// before the MSK expires.
func TestReauthDisabled(t *testing.T) {
	w := newWorld(t, Config{DisableReauth: true})
	t0 := w.now
	w.authenticate(macA, w.one(macA, eapolPDU(eap.EAPOLStart, nil)), "mn@example.com", testMSK(), 600*time.Second)
	for _, at := range []time.Duration{480 * time.Second, 599 * time.Second} {
		if out := w.a.Tick(t0.Add(at)); len(out) != 0 {
			t.Fatalf("tick at +%v: %d frames", at, len(out))
		}
	}
}
