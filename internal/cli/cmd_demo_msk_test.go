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
// outcome, that the capture holds EAPOL, RADIUS and the FBU, and that the
// FBU's RFC 4285 authenticator verifies with the FHK derived from the
// keys file's MSK, NAI, PAR and AT, as a reader would check it by hand.
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
	eapol, radius, verified := checkMSKCapture(t, pcapFile, &fhk, keys[0].PAR)
	if eapol == 0 || radius == 0 || verified == 0 || sum.PcapFrames == 0 {
		t.Errorf("capture: %d EAPOL, %d RADIUS frames, %d FBUs verified with the keys file's FHK (of %d frames)", eapol, radius, verified, sum.PcapFrames)
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
