package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/pcapread"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mh"
)

// TestDemoMSKNoFreeRADIUS: without root, or without the freeradius
// binary, `fhkey demo --mode msk` says so in one line (exit 1) before
// building anything.
func TestDemoMSKNoFreeRADIUS(t *testing.T) {
	oldUID, oldLook := geteuid, lookPath
	defer func() { geteuid, lookPath = oldUID, oldLook }()
	geteuid = func() int { return 1000 }
	if code, _, stderr := runCLI("demo", "--mode", "msk"); code != 1 || !strings.Contains(stderr, "root") {
		t.Errorf("as non-root: exit %d, stderr %q", code, stderr)
	}
	geteuid = func() int { return 0 }
	lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	code, out, stderr := runCLI("demo", "--mode", "msk", "--prefix", "fhk-nofr-")
	if code != 1 || !strings.Contains(stderr, "freeradius not found") || !strings.Contains(stderr, "apt-get install freeradius") ||
		strings.Count(strings.TrimSpace(stderr), "\n") != 0 || out != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if code, _, stderr := runCLI("demo", "--mode", "msk", "--in-process"); code != 2 {
		t.Errorf("--in-process: exit %d, %s", code, stderr)
	}
}

// TestDemoMSK runs `fhkey demo --mode msk --json --pcap F --show-keys K`
// (every daemon a process, this test binary as fhkey) and checks the
// outcome, that the capture holds EAPOL, RADIUS and the FBU, that the
// FBU's RFC 4285 authenticator verifies with the FHK derived from the
// keys file's MSK, NAI, PAR and AT, as a reader would check it by hand,
// that the summary carries the same msk, nai, par and at (and `fhkey msk
// derive` with them gives that FHK), and that a run without --show-keys
// has none of them.
func TestDemoMSK(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	testenv.RequireTool(t, "freeradius")
	prefix := fmt.Sprintf("fhk-nm%d-", os.Getpid())
	t.Cleanup(func() { testbed.Down(context.Background(), prefix) })
	dir := t.TempDir()
	pcapFile, keysFile := filepath.Join(dir, "msk.pcap"), filepath.Join(dir, "keys.json")
	code, out, stderr := runCLI("demo", "--mode", "msk", "--json", "--prefix", prefix, "--cache-dir", filepath.Join(dir, "cache"),
		"--count", "50", "--timeout", "1m", "--pcap", pcapFile, "--show-keys", keysFile)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	var raw map[string]any
	var sum demo.MSKNetnsSummary
	if err := json.Unmarshal([]byte(out), &raw); err != nil || json.Unmarshal([]byte(out), &sum) != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	for _, k := range []string{"key_provisioned", "fbu_accepted", "forged_rejected", "stream_redirected"} {
		if v, _ := raw["outcome"].(map[string]any)[k].(bool); !v {
			t.Errorf("outcome %s = %v", k, raw["outcome"].(map[string]any)[k])
		}
	}
	if !sum.OK || sum.Mode != "msk" || !sum.Outcome.UnknownNAIRejected || !sum.Outcome.AttackerGotNothing || sum.Packets.Redirected.Received < 48 {
		t.Fatalf("summary %+v", sum)
	}
	if fi, err := os.Stat(keysFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keys file: %v %v", fi, err)
	}
	var keys []demo.MSKKeyEntry
	b, err := os.ReadFile(keysFile)
	if err != nil || json.Unmarshal(b, &keys) != nil || len(keys) != 1 {
		t.Fatalf("keys file %s: %v", b, err)
	}
	msk, err := hex.DecodeString(keys[0].MSK)
	if err != nil {
		t.Fatal(err)
	}
	fhk, err := hokey.DeriveFHK(msk, keys[0].NAI, keys[0].PAR, hokey.AlgorithmType(keys[0].AT))
	if err != nil {
		t.Fatal(err)
	}
	checkMSKShownKeys(t, raw, keys[0], hex.EncodeToString(fhk.Bytes()))
	eapol, radius, verified := checkMSKCapture(t, pcapFile, &fhk, keys[0].PAR)
	if eapol == 0 || radius == 0 || verified == 0 || sum.PcapFrames == 0 {
		t.Errorf("capture: %d EAPOL, %d RADIUS frames, %d FBUs verified with the keys file's FHK (of %d frames)", eapol, radius, verified, sum.PcapFrames)
	}
	for _, st := range sum.Steps {
		if st.Step == "FBU/FBack" && (!strings.Contains(st.Description, "RFC 4285 MN-HA authentication option (MSK mode)") || strings.Contains(st.Description, "BADF")) {
			t.Errorf("FBU/FBack step: %s", st.Description)
		}
	}
	checkMSKDecodeVerify(t, pcapFile, keysFile, sum.Addresses["attacker"])

	// Without --show-keys (and --pcap) the summary has no key and no
	// keys file.
	code, out, stderr = runCLI("demo", "--mode", "msk", "--json", "--prefix", prefix, "--cache-dir", filepath.Join(dir, "cache"),
		"--count", "10", "--timeout", "1m")
	raw = nil
	if err := json.Unmarshal([]byte(out), &raw); code != 0 || err != nil {
		t.Fatalf("without --show-keys: exit %d, %v\n%s\n%s", code, err, out, stderr)
	}
	for _, k := range []string{"msk", "nai", "par", "at", "keys", "pcap"} {
		if _, ok := raw[k]; ok {
			t.Errorf("without --show-keys the summary has %q: %s", k, out)
		}
	}
}

// checkMSKShownKeys checks that the --json summary of a run with
// --show-keys carries the keys file's msk, nai, par and at at its top
// level, value for value, and that `fhkey msk derive` with them prints
// fhk, the FHK the capture's FBU is verified with.
func checkMSKShownKeys(t *testing.T, raw map[string]any, file demo.MSKKeyEntry, fhk string) {
	t.Helper()
	at, _ := raw["at"].(float64)
	if raw["msk"] != file.MSK || raw["nai"] != file.NAI || raw["par"] != file.PAR.String() || at != float64(file.AT) || len(file.MSK) != 128 {
		t.Fatalf("summary msk/nai/par/at %v %v %v %v; keys file %+v", raw["msk"], raw["nai"], raw["par"], raw["at"], file)
	}
	code, out, stderr := runCLI("msk", "derive", "--msk", raw["msk"].(string), "--nai", raw["nai"].(string), "--par", raw["par"].(string),
		"--at", fmt.Sprint(at), "--json")
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || got["fhk"] != fhk {
		t.Fatalf("fhkey msk derive with the summary's keys: exit %d, %v, %s (want fhk %s)\n%s", code, err, out, fhk, stderr)
	}
}

// checkMSKDecodeVerify runs `fhkey decode --verify --keys` on the MSK
// demo's capture and keys file: the MN's FBU and the PAR's FBacks have a
// valid MN-HA option, the attacker's FBU with the MN's NAI and a guessed
// MSK is invalid (exit 1), its FBU with an unknown NAI is no-key.
func checkMSKDecodeVerify(t *testing.T, pcapFile, keysFile, attacker string) {
	t.Helper()
	code, stdout, stderr := runDecodeCLI(t, "", "decode", "--verify", "--keys", keysFile, "--json", pcapFile)
	if code != 1 || !strings.Contains(stderr, "failing verification") {
		t.Fatalf("decode: exit %d (want 1: the forged FBU): %s", code, stderr)
	}
	lines, sum := parseDecodeJSON(t, stdout)
	count := map[string]int{}
	for _, l := range lines {
		v := l.Verify
		typ, _ := l.Message["type"].(string)
		if v == nil || v.MNHA == "" || v.MNHA == "absent" {
			continue
		}
		who := "MN"
		if l.IPv6.Source == attacker {
			who = "attacker"
		}
		count[who+" "+typ+" "+v.MNHA]++
		switch {
		case v.BADF != "absent" || v.MHChecksum != "good":
			t.Errorf("packet %d %s: %+v", l.Packet, typ, v)
		case who == "attacker" && v.MNHA == "invalid" && !strings.Contains(v.Reasons["mn_ha"], "authenticator"):
			t.Errorf("forged FBU %d: reason %q", l.Packet, v.Reasons["mn_ha"])
		}
	}
	// FBUs may be captured twice (NAR's access link and the PAR's link to
	// the NAR); the FBack 129 to the forgery is signed with the real FHK.
	fbu, fback := "FastBindingUpdate", "FastBindingAcknowledgment"
	t.Logf("MN-HA verdicts %v; summary %+v", count, sum.Summary)
	if count["MN "+fbu+" valid"] == 0 || count["MN "+fbu+" invalid"]+count["MN "+fbu+" no-key"] != 0 ||
		count["MN "+fback+" valid"] < 2 || count["MN "+fback+" invalid"]+count["MN "+fback+" no-key"] != 0 ||
		count["attacker "+fbu+" invalid"] == 0 || count["attacker "+fbu+" no-key"] == 0 || count["attacker "+fbu+" valid"] != 0 ||
		sum.Summary.Invalid != count["attacker "+fbu+" invalid"] || sum.Summary.Malformed != 0 {
		t.Errorf("MN-HA verdicts %v; summary %+v", count, sum.Summary)
	}
}

// checkMSKCapture counts the EAPOL and RADIUS frames of the demo's pcap
// and the FBUs to par whose authenticator verifies with fhk (care-of =
// the source, home = the Home Address option).
func checkMSKCapture(t *testing.T, file string, fhk *hokey.Key, par netip.Addr) (eapol, radius, verified int) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapread.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	for {
		fr, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(fr.Data) > 14 && fr.Data[12] == 0x88 && fr.Data[13] == 0x8e {
			eapol++
			continue
		}
		p, err := pcapread.Decode(fr.LinkType, fr.Data)
		if err != nil {
			continue
		}
		ip := p.IPv6
		switch ip.Protocol {
		case inet.ProtocolUDP:
			radius++
		case inet.ProtocolMobility:
			home, ok := ip.HomeAddress()
			if len(ip.Payload) > 2 && ip.Payload[2] == mh.TypeFastBindingUpdate && ok && ip.Destination == par &&
				hokey.VerifyFHK(ip.Payload, fhk, ip.Source, home) == nil {
				verified++
			}
		}
	}
}
