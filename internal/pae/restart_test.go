package pae

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/keystore"
)

// boltRun is one run of the AR: an authenticator on port eth1 storing
// into the MSK table of a bbolt file, on the world's fake clock.
type boltRun struct {
	*world
	b    *keystore.Bolt
	msks *keystore.MSKs
}

// startRun opens the key store at path and an authenticator on it, and
// restores what the store holds (as the router node does); t0 is the
// clock's time.
func startRun(t *testing.T, path string, t0 time.Time, cfg Config) *boltRun {
	t.Helper()
	r := &boltRun{}
	clock := func() time.Time {
		if r.world == nil {
			return t0
		}
		return r.now
	}
	var err error
	if r.b, err = keystore.OpenBolt(path, keystore.WithClock(clock), keystore.WithNoSync()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.b.Close() })
	if r.msks, err = r.b.MSKs(); err != nil {
		t.Fatal(err)
	}
	cfg.Port, cfg.Store = "eth1", r.msks
	r.world = newWorld(t, cfg)
	r.now = t0
	r.a.Restore(Authorizations(r.msks.Holders(t0), "eth1"), t0)
	return r
}

// TestRestartReauthentication: an AR that authenticated a supplicant
// (MSK lifetime 600 s, re-authentication planned at 480 s) stops and
// starts again on its bbolt file; the new authenticator re-authenticates
// the supplicant at the planned 480 s (not at 479 s), or at its first
// tick when the AR was down past it, and the new MSK replaces the old in
// the file with its new expiry.
func TestRestartReauthentication(t *testing.T) {
	for _, tc := range []struct {
		name         string
		down, due    time.Duration // restart at t0+down; Request at t0+due
		earlyNothing bool          // a tick before due sends nothing
	}{
		{"restarted before the planned time", 100 * time.Second, 480 * time.Second, true},
		{"down past the planned time", 500 * time.Second, 500 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.db")
			t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			life := 600 * time.Second
			first, second := testMSK(), testMSK()
			second[0] = 0xff
			run := startRun(t, path, t0, Config{})
			run.authenticate(macA, run.one(macA, eapolPDU(eap.EAPOLStart, nil)), "mn@example.com", first, life)
			if h := run.msks.Holders(t0); len(h) != 1 || h[0].Port != "eth1" || !h[0].Authenticated.Equal(t0) || h[0].MAC != macA {
				t.Fatalf("stored %+v, want port eth1, authenticated at t0, MAC %v", h, macA)
			}
			run.b.Close()

			run = startRun(t, path, t0.Add(tc.down), Config{})
			if s := run.a.Stats(); s.Restored != 1 || s.Authorized != 1 {
				t.Fatalf("after the restart: stats %+v", s)
			}
			if tc.earlyNothing {
				if out := run.a.Tick(t0.Add(tc.due - time.Second)); len(out) != 0 {
					t.Fatalf("re-authentication before the planned time: %d frames", len(out))
				}
			}
			f := run.tickOne(t0.Add(tc.due))
			if f.Dst != macA {
				t.Fatalf("Identity Request to %v, want %v", f.Dst, macA)
			}
			run.authenticate(macA, f, "mn@example.com", second, life)
			msk, expires, ok := run.msks.LookupMSK([]byte("mn@example.com"))
			if !ok || msk[0] != 0xff || !expires.Equal(t0.Add(tc.due+life)) {
				t.Fatalf("after re-authentication: MSK %x.. (%v), expires %v; want ff.., %v", msk[0], ok, expires, t0.Add(tc.due+life))
			}
			if s := run.a.Stats(); s.Reauthenticated != 1 || s.Accepted != 1 {
				t.Fatalf("stats %+v", s)
			}
			// The timer restarts from the new MSK: 480 s later.
			if out := run.a.Tick(t0.Add(tc.due + 479*time.Second)); len(out) != 0 {
				t.Fatalf("next re-authentication early: %d frames", len(out))
			}
			if f := run.tickOne(t0.Add(tc.due + 480*time.Second)); f.Dst != macA {
				t.Fatalf("next Identity Request to %v", f.Dst)
			}
		})
	}
}

// TestRestore: what Restore and Authorizations take. Another port's
// record is not this authenticator's; one of no port (version 1 file)
// is, and, its authentication time unknown, is re-authenticated at the
// first tick; an expired one is skipped; a MAC authenticated since the
// start keeps its own timer; with DisableReauth nothing is sent; a
// restored MAC's Logoff deletes its MSK.
func TestRestore(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	macC, macD := MAC{2, 0, 0, 0, 0, 0xc}, MAC{2, 0, 0, 0, 0, 0xd}
	holders := []keystore.MSKHolder{
		{NAI: "a@example.com", MAC: macA, Authenticated: t0.Add(-100 * time.Second), Expires: t0.Add(500 * time.Second), Port: "eth1"},
		{NAI: "b@example.com", MAC: macB, Authenticated: t0.Add(-100 * time.Second), Expires: t0.Add(500 * time.Second), Port: "eth2"},
		{NAI: "c@example.com", MAC: macC, Expires: t0.Add(time.Hour)}, // version 1: no port, no time
		{NAI: "d@example.com", MAC: macD, Authenticated: t0.Add(-time.Hour), Expires: t0, Port: "eth1"},
	}
	list := Authorizations(holders, "eth1")
	if got := len(list); got != 3 || list[0].MAC != macA || list[1].MAC != macC || list[2].MAC != macD {
		t.Fatalf("Authorizations for eth1: %+v", list)
	}

	w := newWorld(t, Config{})
	w.now = t0
	if n := w.a.Restore(list, t0); n != 2 {
		t.Fatalf("Restore took %d, want 2 (a, c; d expired)", n)
	}
	var dst []MAC
	for _, f := range w.a.Tick(t0.Add(time.Second)) {
		dst = append(dst, f.Dst)
	}
	if !slices.Equal(dst, []MAC{macC}) {
		t.Fatalf("first tick sent to %v, want only %v (unknown authentication time)", dst, macC)
	}
	// a: authenticated at -100 s with 600 s of lifetime: due at +380 s.
	if out := w.a.Tick(t0.Add(379 * time.Second)); len(out) != 0 {
		t.Fatalf("a re-authenticated early: %d frames", len(out))
	}
	if f := w.tickOne(t0.Add(380 * time.Second)); f.Dst != macA {
		t.Fatalf("Request to %v, want %v", f.Dst, macA)
	}

	t.Run("kept", func(t *testing.T) {
		w := newWorld(t, Config{})
		w.authenticate(macA, w.one(macA, eapolPDU(eap.EAPOLStart, nil)), "a@example.com", testMSK(), time.Hour)
		if n := w.a.Restore(list[:1], w.now); n != 0 {
			t.Fatalf("Restore replaced a live authorization (%d)", n)
		}
		if out := w.a.Tick(w.now.Add(380 * time.Second)); len(out) != 0 {
			t.Fatalf("restored timer used: %d frames", len(out))
		}
	})
	t.Run("disabled", func(t *testing.T) {
		w := newWorld(t, Config{DisableReauth: true})
		w.now = t0
		if n := w.a.Restore(list, t0); n != 2 {
			t.Fatalf("Restore took %d", n)
		}
		if out := w.a.Tick(t0.Add(400 * time.Second)); len(out) != 0 {
			t.Fatalf("re-authentication with DisableReauth: %d frames", len(out))
		}
	})
	t.Run("logoff", func(t *testing.T) {
		w := newWorld(t, Config{})
		w.now = t0
		w.a.Restore(list, t0)
		w.none(macC, eapolPDU(eap.EAPOLLogoff, nil))
		if !slices.Equal(w.store.deleted, []string{"c@example.com"}) || w.a.Stats().Logoffs != 1 {
			t.Fatalf("Logoff of a restored MAC: deleted %q, stats %+v", w.store.deleted, w.a.Stats())
		}
	})
}
