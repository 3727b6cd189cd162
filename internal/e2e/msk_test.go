package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/forward"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/peer"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// mskMNStatus is the part of the MN's /status the MSK test reads.
type mskMNStatus struct {
	EAP *struct {
		State           string `json:"state"`
		Identity        string `json:"identity"`
		Error           string `json:"error"`
		Authentications int    `json:"authentications"`
	} `json:"eap"`
	Handover *struct {
		PreviousRouter string `json:"previous_router"`
		Status         int    `json:"status"`
		Error          string `json:"error"`
	} `json:"handover"`
}

// mskARStatus is the part of an AR's /status the MSK test reads.
type mskARStatus struct {
	Bindings []forward.Entry `json:"bindings"`
	EAP      *struct {
		Authenticated []struct {
			NAI     string    `json:"nai"`
			MAC     string    `json:"mac"`
			Expires time.Time `json:"expires"`
		} `json:"authenticated"`
	} `json:"eap"`
}

// writeVariant writes, beside file, name: file's text with old replaced
// by new (once; failing if absent).
func writeVariant(t *testing.T, file, name, old, new string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", file, old)
	}
	out := filepath.Join(filepath.Dir(file), name)
	if err := os.WriteFile(out, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// authenticated returns the MAC recorded for nai and its expiry.
func (s *mskARStatus) authenticated(nai string) (string, time.Time, bool) {
	if s.EAP == nil {
		return "", time.Time{}, false
	}
	for _, h := range s.EAP.Authenticated {
		if h.NAI == nai {
			return h.MAC, h.Expires, true
		}
	}
	return "", time.Time{}, false
}

// TestMSKDaemonProcesses runs the MSK mode (issue 12, docs/msk.md) on the
// testbed as a user does, every daemon a process: FreeRADIUS as EAP-TLS
// server in the PAR's namespace on the PAR–NAR link (both routers reach
// it), MSK-only `fhkey ar` on the PAR and the NAR (802.1X authenticators
// on acc0, bbolt key stores, forwarders) and `fhkey mn` in the MSK mode.
// An MN with a client certificate of another CA fails EAP-TLS: no MSK at
// the PAR, and an FBU for its NAI is refused (unknown NAI); its MAC's
// quiet period drops the genuine MN's first EAPOL-Starts. The genuine MN
// authenticates (the PAR's /status shows its NAI and the MAC of its par0);
// the PAR is SIGKILLed and restarted on its bbolt file and still holds the
// MSK, rebuilds its re-authentication timer and re-authenticates the MN
// (new MSK at both ends); restarted again, it keeps the new MSK; the MN moves, authenticates at the NAR, its FBU is accepted by the
// restarted PAR (MSK mode counter) and the CN's stream follows it; an FBU
// with a wrong MSK and one with an unknown NAI are rejected and the
// binding is unchanged.
func TestMSKDaemonProcesses(t *testing.T) {
	t.Parallel()
	testenv.RequireTool(t, "freeradius")
	b := newBed(t, "k", true)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	nai := lab.EAPNAI
	secret := []byte("ar-to-eap-server-5b2e")
	parAddr, pcoa := b.creds.PAR.CGA.Address, b.creds.MN.PCoA.Address
	pki, err := lab.NewEAPPKI()
	if err != nil {
		t.Fatal(err)
	}
	files, err := scenario.WriteMSKDaemonFiles(b.dir, b.creds, scenario.MSKDaemonOptions{
		DaemonOptions: scenario.DaemonOptions{HTTP: scenario.DefaultDaemonHTTP, LogLevel: "debug"}, Secret: secret, PKI: pki,
		QuietPeriod: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fr, err := (&peer.FreeRADIUS{Dir: t.TempDir(), Listen: scenario.DefaultMSKRADIUS, Debug: true,
		Command: []string{"ip", "netns", "exec", b.tb.Namespace(testbed.PAR)},
		Clients: []peer.FreeRADIUSClient{{Name: "access_routers", Prefix: scenario.MSKRADIUSClients, Secret: string(secret),
			RequireMessageAuthenticator: true}},
		EAPTLS: &peer.EAPTLSServer{CA: pki.CA.CertPEM, Certificate: pki.Server.CertPEM, Key: pki.Server.KeyPEM}}).Start(ctx)
	stopAtCleanup(t, "FreeRADIUS", fr, err)
	par := startDaemon(t, b.tb, testbed.PAR, "PAR", "ar", "-c", files.PAR)
	nar := startDaemon(t, b.tb, testbed.NAR, "NAR", "ar", "-c", files.NAR)
	atk := listenMH(t, b.tb, testbed.Attacker)
	forge := func(nai string) {
		t.Helper()
		p, err := scenario.ForgeFBUMSK(parAddr, pcoa, testbed.AddrAttacker, nai, hokey.HMACSHA256Trunc128)
		if err != nil {
			t.Fatal(err)
		}
		if err := atk.WritePacket(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	var ms mskMNStatus
	var ps mskARStatus
	waitMN := func(mobile *process, what string, cond func() bool) {
		t.Helper()
		testenv.Eventually(t, 20*time.Second, what, func() (bool, string) {
			ms = mskMNStatus{}
			mobile.status(&ms)
			return cond(), fmt.Sprintf("MN eap %+v, handover %+v", ms.EAP, ms.Handover)
		})
	}

	// EAP failure: a client certificate of another CA. No MSK at the PAR;
	// an FBU for the NAI is refused without an answer (unknown NAI).
	rogue := startDaemon(t, b.tb, testbed.MN, "MN (rogue certificate)", "mn", "-c", files.MNRogue)
	waitMN(rogue, "EAP failure of the rogue MN", func() bool { return ms.EAP != nil && ms.EAP.State == "failed" && ms.EAP.Error != "" })
	par.waitMetric(`fhkey_pae_outcomes_total{outcome="rejected"}`, 1)
	if par.status(&ps); ps.EAP == nil || len(ps.EAP.Authenticated) != 0 {
		t.Fatalf("PAR holds MSKs after the EAP failure: %+v", ps.EAP)
	}
	par.waitMetric(`fhkey_pae_quiet`, 1) // the MAC's quiet period (8 s) started
	rogue.stop()
	forge(nai)
	par.waitMetric(`fhkey_ar_fbu_msk_total{outcome="unknown_nai"}`, 1)

	// The genuine MN authenticates at the PAR, which records its NAI with
	// the MAC of the MN's par0. It runs on the rogue's MAC address, so
	// its first EAPOL-Starts fall in the quiet period (dropped, counted);
	// its retries after it succeed.
	mobile := startDaemon(t, b.tb, testbed.MN, "MN", "mn", "-c", files.MN)
	testenv.Eventually(t, 10*time.Second, "EAPOL-Starts dropped in the quiet period", func() (bool, string) {
		v := par.metric(`fhkey_pae_dropped_total{reason="quiet"}`)
		return v >= 1, fmt.Sprintf("dropped quiet %v", v)
	})
	waitMN(mobile, "EAP-TLS success at the PAR", func() bool { return ms.EAP != nil && ms.EAP.State == "authenticated" })
	var mnMAC string
	if err := b.tb.Do(testbed.MN, func() error {
		ifi, err := net.InterfaceByName(testbed.IfaceMNToPAR)
		if err == nil {
			mnMAC = ifi.HardwareAddr.String()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	par.waitMetric(`fhkey_pae_outcomes_total{outcome="accepted"}`, 1)
	par.status(&ps)
	mac, expires, ok := ps.authenticated(nai)
	if !ok || mac != mnMAC || time.Until(expires) < 50*time.Minute {
		t.Fatalf("PAR /status eap %+v: want %s with MAC %s for about an hour", ps.EAP, nai, mnMAC)
	}

	// The PAR dies and comes back on its bbolt file: the MSK is there,
	// and so is its re-authentication timer. The restarted PAR runs with
	// reauth_fraction 0.002 and min_reauth_period 1 s, so that the
	// re-authentication planned at authentication + 7.2 s (at the first
	// tick if that passed) comes during the test: it sends the MN an
	// EAP-Request/Identity, and the MN's new MSK replaces the old at both
	// ends (a later expiry at the PAR, a second authentication at the
	// MN; the FBU below is accepted with it).
	parReauth := writeVariant(t, files.PAR, "par-msk-reauth.toml", "[eap]\n", "[eap]\nreauth_fraction = 0.002\nmin_reauth_period = \"1s\"\n")
	par.kill()
	par = startDaemon(t, b.tb, testbed.PAR, "PAR (restarted)", "ar", "-c", parReauth)
	ps = mskARStatus{}
	par.status(&ps)
	if mac2, exp2, ok := ps.authenticated(nai); !ok || mac2 != mac || (!exp2.Equal(expires) && !exp2.After(expires)) {
		t.Fatalf("restarted PAR /status eap %+v: want the MSK of %s kept", ps.EAP, nai)
	}
	par.waitMetric(`fhkey_pae_reauthentications_total{result="ok"}`, 1)
	waitMN(mobile, "re-authentication by the restarted PAR", func() bool { return ms.EAP != nil && ms.EAP.Authentications == 2 })
	par.status(&ps)
	if mac2, exp2, ok := ps.authenticated(nai); !ok || mac2 != mac || !exp2.After(expires) {
		t.Fatalf("PAR /status eap %+v after the re-authentication: want %s with MAC %s and an expiry after %v", ps.EAP, nai, mac, expires)
	}
	_, expires, _ = ps.authenticated(nai)
	// Once more with the sample's timers (0.8 of an hour): the new MSK is
	// kept and nothing is due, so no re-authentication runs during the
	// move. The next one of the short timers would come 7.2 s after the
	// one just seen; the kill follows within milliseconds.
	par.kill()
	par = startDaemon(t, b.tb, testbed.PAR, "PAR (restarted again)", "ar", "-c", files.PAR)
	ps = mskARStatus{}
	par.status(&ps)
	if mac2, exp2, ok := ps.authenticated(nai); !ok || mac2 != mac || !exp2.Equal(expires) {
		t.Fatalf("restarted PAR /status eap %+v: want the new MSK of %s kept", ps.EAP, nai)
	}

	// The move: the MN authenticates at the NAR, sends the FBU signed with
	// the FHK of the PAR's MSK to the restarted PAR, the stream follows.
	recv, cn, dst := b.stream(pcoa)
	from, to, _ := cn.Stream(ctx, dst, 20, time.Millisecond, nil) // the PAR learns the PCoA's MAC
	if s := recv.Await(from, to, 20, 5*time.Second); s.Received < 20 {
		t.Fatalf("stream before the move: %+v", s)
	}
	if err := b.tb.Move(ctx); err != nil {
		t.Fatal(err)
	}
	waitMN(mobile, "handover", func() bool { return ms.Handover != nil })
	if h := ms.Handover; h.Status != 0 || h.Error != "" || h.PreviousRouter != parAddr.String() {
		t.Fatalf("MN handover %+v: want FBack status 0 from the PAR", h)
	}
	if v := par.metric(`fhkey_ar_fbu_msk_total{outcome="accepted"}`); !oneExchange(uint64(v)) {
		t.Fatalf("PAR accepted %v FBUs of the MSK mode", v)
	}
	nar.waitMetric(`fhkey_pae_outcomes_total{outcome="accepted"}`, 1)
	from, to, _ = cn.Stream(ctx, dst, 200, time.Millisecond, nil)
	if s := recv.Await(from, to, 190, 10*time.Second); s.Received < 190 {
		t.Fatalf("redirected stream: %+v, want >= 95%% of 200", s)
	}

	// Forgeries from the attacker for the PCoA: the MN's NAI with another
	// MSK (bad_auth), an NAI the PAR has no MSK for (unknown_nai). The
	// binding stays as the MN's FBU made it.
	par.status(&ps)
	before := ps.Bindings
	if len(before) != 1 || before[0].PreviousCoA != pcoa || before[0].NewCoA != b.creds.MN.NCoA.Address {
		t.Fatalf("PAR bindings after the FBU: %+v", before)
	}
	forge(nai)
	par.waitMetric(`fhkey_ar_fbu_msk_total{outcome="bad_auth"}`, 1)
	forge("eve@example.com")
	par.waitMetric(`fhkey_ar_fbu_msk_total{outcome="unknown_nai"}`, 1) // counted since the restart
	par.status(&ps)
	if !reflect.DeepEqual(ps.Bindings, before) {
		t.Fatalf("bindings changed by forgeries: %+v, want %+v", ps.Bindings, before)
	}
	if v := par.metric(`fhkey_ar_fbu_msk_total{outcome="accepted"}`); !oneExchange(uint64(v)) {
		t.Fatalf("PAR accepted %v FBUs after the forgeries", v)
	}
	for _, p := range []*process{mobile, par, nar} {
		p.stop()
	}
}
