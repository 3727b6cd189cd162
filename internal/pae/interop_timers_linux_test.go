//go:build linux

package pae_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/pae"
	"github.com/fhkey/fhkey/internal/testenv"
)

// TestWpaSupplicantReauthentication: the authenticator's periodic
// re-authentication (IEEE 802.1X-2004 §8.2.4, reAuthTimer) with an
// independent supplicant. FreeRADIUS sends no Session-Timeout, so each
// MSK lives MSKLifetime (4 s) and is renewed half-way, 2 s after it was
// stored. wpa_supplicant answers the authenticator's
// EAP-Request/Identity in AUTHENTICATED (eapol_supp_sm.c SUPP_PAE
// AUTHENTICATED → RESTART on eapolEap) with a new EAP-TLS exchange, with
// no EAPOL-Start of its own and its port authorized throughout; each
// re-authentication stores a new MSK, and the one the authenticator
// holds is the last one wpa_supplicant derived.
func TestWpaSupplicantReauthentication(t *testing.T) {
	for _, tc := range []struct{ name, phase1 string }{
		{"TLS 1.2", eaptest.PhaseTLS12},
		{"TLS 1.3", eaptest.PhaseTLS13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const lifetime = 4 * time.Second
			l := startLink(t, "r", pae.Config{MSKLifetime: lifetime, ReauthFraction: 0.5, MinReauthPeriod: time.Second})
			w := l.wpaSupplicant(t, freeRADIUS.PKI.Client, tc.phase1)
			nai := []byte("mn@example.com")
			testenv.Eventually(t, 20*time.Second, "wpa_supplicant authenticated", func() (bool, string) {
				out := w.Output()
				return strings.Contains(out, "SUPP_PAE entering state AUTHENTICATED") && l.auth.Stats().Accepted >= 1,
					fmt.Sprintf("stats %+v\n%s", l.auth.Stats(), tail(out, 20))
			})
			if _, expires, ok := l.msks.LookupMSK(nai); !ok || time.Until(expires) > lifetime {
				t.Fatalf("MSK stored %v, expires in %v: want MSKLifetime %v (no Session-Timeout)", ok, time.Until(expires), lifetime)
			}
			starts := strings.Count(w.Output(), "EAPOL: txStart")

			// Two re-authentications, each with its MSK at both ends.
			var keys []hokey.MSK
			testenv.Eventually(t, 15*time.Second, "two re-authentications, the stored MSK the supplicant's last", func() (bool, string) {
				s := l.auth.Stats()
				out := w.Output()
				keys = supplicantMSKs(t, out)
				stored, _, ok := l.msks.LookupMSK(nai)
				same := ok && len(keys) > 0 && stored.Equal(&keys[len(keys)-1])
				return s.Reauthenticated >= 2 && uint64(len(keys)) == s.Accepted && same,
					fmt.Sprintf("stats %+v, %d keys derived, stored is the last: %v\n%s", s, len(keys), same, tail(out, 20))
			})
			for i := range keys {
				for j := range i {
					if keys[i].Equal(&keys[j]) {
						t.Errorf("MSK %d equals MSK %d", i, j)
					}
				}
			}
			if s := l.auth.Stats(); s.ReauthFailed != 0 || s.Rejected != 0 || s.Retransmissions != 0 || s.Authorized != 1 {
				t.Errorf("stats %+v", s)
			}
			out := w.Output()
			if n := strings.Count(out, "EAPOL: txStart"); n != starts {
				t.Errorf("wpa_supplicant sent %d EAPOL-Starts after its first authentication: the re-authentications are the authenticator's", n-starts)
			}
			if n := strings.Count(out, "SUPP_PAE entering state RESTART"); n < 2 {
				t.Errorf("wpa_supplicant restarted %d times, want ≥ 2", n)
			}
			if strings.Contains(out, "CTRL-EVENT-EAP-FAILURE") || strings.Contains(out, "SUPP_PAE entering state HELD") {
				t.Error("wpa_supplicant saw a failure")
			}
			// The port stayed authorized: wpa_supplicant sets it
			// unauthorized only in HELD, DISCONNECTED and LOGOFF.
			testenv.Eventually(t, 5*time.Second, "wpa_supplicant authorized", func() (bool, string) {
				st, err := w.status()
				return err == nil && st["Supplicant PAE state"] == "AUTHENTICATED" && st["suppPortStatus"] == "Authorized",
					fmt.Sprintf("%v %v", st, err)
			})
		})
	}
}

// TestWpaSupplicantQuietPeriod: a client certificate from another CA is
// rejected by FreeRADIUS; wpa_supplicant gets the EAP-Failure through
// the authenticator and no MSK is stored. Its MAC address is then quiet
// for QuietPeriod (IEEE 802.1X-2004 §8.2.4.1.2), after which the
// authenticator restarts it with an EAP-Request/Identity (HELD →
// RESTART), and a new session runs to a second rejection, at least the
// period after the first.
//
//   - retrying: wpa_supplicant held for 1 s after a failure, then
//     sending an EAPOL-Start every second (heldPeriod and startPeriod set
//     through its control interface; with eapFail still set each Start
//     takes it back to HELD, eapol_supp_sm.c CONNECTING): its Starts in
//     the period are dropped and counted with no session created.
//   - held: wpa_supplicant's default heldPeriod (60 s), longer than the
//     period: it sends no Start; it answers the authenticator's
//     Request/Identity in HELD (HELD → RESTART on eapolEap), so the
//     second session is the authenticator's, not 60 s later.
func TestWpaSupplicantQuietPeriod(t *testing.T) {
	const quiet = 3 * time.Second
	for _, tc := range []struct {
		name  string
		set   []string
		held  bool // wpa_supplicant sends no Start after the failure
		drops uint64
	}{
		{"retrying", []string{"EAPOL::heldPeriod 1", "EAPOL::startPeriod 1"}, false, 2},
		{"held", nil, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rejections := &logTimes{msg: "pae: access rejected"}
			l := startLink(t, "q", pae.Config{QuietPeriod: quiet, Logger: slog.New(rejections)})
			w := l.wpaSupplicant(t, freeRADIUS.PKI.RogueClient, eaptest.PhaseTLS12, tc.set...)
			testenv.Eventually(t, 20*time.Second, "wpa_supplicant rejected", func() (bool, string) {
				return strings.Contains(w.Output(), "CTRL-EVENT-EAP-FAILURE") && l.auth.Stats().Rejected == 1,
					fmt.Sprintf("stats %+v\n%s", l.auth.Stats(), tail(w.Output(), 20))
			})
			if _, _, ok := l.msks.LookupMSK([]byte("mn@example.com")); ok || l.msks.Len() != 0 || l.auth.Stats().Accepted != 0 {
				t.Errorf("MSK stored after a rejection (stats %+v)", l.auth.Stats())
			}
			starts := strings.Count(w.Output(), "EAPOL: txStart")

			if tc.drops > 0 {
				// Quiet counted first, then (read after) still one
				// session ever started.
				testenv.Eventually(t, 5*time.Second, "EAPOL-Starts dropped", func() (bool, string) {
					s := l.auth.Stats()
					return s.Quiet >= tc.drops, fmt.Sprintf("stats %+v\n%s", s, tail(w.Output(), 10))
				})
				if s := l.auth.Stats(); s.Started != 1 || s.Sessions != 0 || s.QuietMACs != 1 {
					t.Fatalf("during the quiet period: stats %+v", s)
				}
			}

			testenv.Eventually(t, 10*time.Second, "a new session after the quiet period", func() (bool, string) {
				s := l.auth.Stats()
				return s.Started == 2 && s.Rejected == 2 && strings.Count(w.Output(), "CTRL-EVENT-EAP-FAILURE") == 2,
					fmt.Sprintf("stats %+v\n%s", s, tail(w.Output(), 10))
			})
			// Answered during the period, the retrying supplicant's
			// second rejection would follow the first by about 1 s.
			// (The log times are taken just after the authenticator's
			// clock reading that starts the period: hence the margin.)
			if at := rejections.times(); len(at) != 2 || at[1].Sub(at[0]) < quiet-time.Second {
				t.Errorf("rejections at %v: want %v apart at least (quiet period %v)", at, quiet-time.Second, quiet)
			}
			s, out := l.auth.Stats(), w.Output()
			if n := strings.Count(out, "EAPOL: txStart"); tc.held && (n != starts || s.Quiet != 0 || s.QuietRestarts != 1) {
				t.Errorf("held: %d EAPOL-Starts after the failure, stats %+v; want none, the authenticator's restart", n-starts, s)
			} else if !tc.held && uint64(n-starts) < s.Quiet {
				t.Errorf("%d EAPOL-Starts after the failure, %d dropped", n-starts, s.Quiet)
			}
			if n := strings.Count(out, "SUPP_PAE entering state RESTART"); n != 2 {
				t.Errorf("wpa_supplicant restarted %d times, want 2", n)
			}
			t.Logf("stats %+v", s)
		})
	}
}

// logTimes is a slog.Handler keeping the time of each record whose
// message is msg.
type logTimes struct {
	msg string
	mu  sync.Mutex
	at  []time.Time
}

func (h *logTimes) Enabled(context.Context, slog.Level) bool { return true }
func (h *logTimes) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logTimes) WithGroup(string) slog.Handler            { return h }
func (h *logTimes) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.mu.Lock()
		h.at = append(h.at, r.Time)
		h.mu.Unlock()
	}
	return nil
}

func (h *logTimes) times() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.at...)
}
