package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/node/nodetest"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, nil, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestTestbedUsage checks the errors that come before anything is built:
// they need no root.
func TestTestbedUsage(t *testing.T) {
	for _, args := range [][]string{
		{"testbed"},
		{"testbed", "sideways"},
		{"testbed", "up", "--prefix", "other-"},
		{"testbed", "down", "--prefix", "fhk-A-"},
		{"testbed", "move", "--to", "cn"},
		{"testbed", "status", "extra"},
		{"demo", "--netns", "--pcap", "x.pcap"},
		{"demo", "--netns", "--count", "0"},
		{"demo", "--in-process"},
		{"demo", "--mode", "aaa", "--netns", "--in-process"},
		{"bench"},
		{"bench", "nope"},
		{"bench", "fbu-rtt", "--n", "0"},
		{"bench", "flood", "--prefix", "x-"},
		{"bench", "fbu-rtt", "--plot", "x.svg"},
		{"testbed", "configs"},
		{"testbed", "configs", "--out", "d", "--forwarding-lifetime", "1500ms"},
		{"testbed", "configs", "--out", "d", "--forwarding-lifetime", "70000s"},
	} {
		if code, _, stderr := runCLI(args...); code != 2 || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q; want usage error 2", args, code, stderr)
		}
	}
}

// TestTestbedNotRoot: every subcommand refuses to run without root, with
// an error saying so (exit 1), before touching anything.
func TestTestbedNotRoot(t *testing.T) {
	old := geteuid
	geteuid = func() int { return 1000 }
	defer func() { geteuid = old }()
	for _, args := range [][]string{{"testbed", "up"}, {"testbed", "down"}, {"testbed", "move"}, {"testbed", "status"}, {"testbed", "configs", "--out", t.TempDir()}, {"demo", "--netns"}, {"demo", "--mode", "aaa", "--netns"}, {"bench", "fbu-rtt"}} {
		code, _, stderr := runCLI(args...)
		if code != 1 || !strings.Contains(stderr, "root") {
			t.Errorf("%q as non-root: exit %d, stderr %q", args, code, stderr)
		}
	}
	if err := requireRoot(); !errors.Is(err, errNotRoot) {
		t.Errorf("requireRoot: %v", err)
	}
}

// TestDemoAAANetnsNoFreeRADIUS: without the freeradius binary the AAA
// netns demo says so in one line (exit 1) before building anything.
func TestDemoAAANetnsNoFreeRADIUS(t *testing.T) {
	oldUID, oldLook := geteuid, lookPath
	geteuid = func() int { return 0 }
	lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	defer func() { geteuid, lookPath = oldUID, oldLook }()
	code, out, stderr := runCLI("demo", "--mode", "aaa", "--netns", "--prefix", "fhk-nofr-")
	if code != 1 || !strings.Contains(stderr, "freeradius not found") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || out != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

// TestTestbedLifecycle runs up, status, move, status, move back, down.
func TestTestbedLifecycle(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	prefix := fmt.Sprintf("fhk-c%d-", os.Getpid())
	t.Cleanup(func() { testbed.Down(context.Background(), prefix) })
	if code, out, stderr := runCLI("testbed", "up", "--prefix", prefix, "--attacker"); code != 0 || !strings.Contains(out, prefix+"atk") {
		t.Fatalf("up: exit %d\n%s%s", code, out, stderr)
	}
	status := func(want string) {
		t.Helper()
		code, out, stderr := runCLI("testbed", "status", "--prefix", prefix)
		if code != 0 || !strings.Contains(out, "MN attached to the "+want+"'s link") || !strings.Contains(out, testbed.AddrMNPrevious.String()) {
			t.Fatalf("status: exit %d\n%s%s", code, out, stderr)
		}
	}
	status("PAR")
	dir := filepath.Join(t.TempDir(), "daemons")
	code, out, stderr := runCLI("testbed", "configs", "--prefix", prefix, "--out", dir)
	if code != 0 || !strings.Contains(out, "ip netns exec "+prefix+"par fhkey ar -c "+filepath.Join(dir, "par.toml")) {
		t.Fatalf("configs: exit %d\n%s%s", code, out, stderr)
	}
	for _, f := range []string{"par.toml", "nar.toml", "mn.toml"} {
		cmd := "ar"
		if f == "mn.toml" {
			cmd = "mn"
		}
		if code, out, stderr := runCLI(cmd, "-c", filepath.Join(dir, f), "--check"); code != 0 {
			t.Errorf("%s --check %s: exit %d\n%s%s", cmd, f, code, out, stderr)
		}
	}
	ncoa := nodetest.LabCredentials(t).MN.NCoA.Address.String()
	if out, err := exec.Command("ip", "-n", prefix+"mn", "-6", "addr", "show", "dev", testbed.IfaceMNToNAR).Output(); err != nil || !strings.Contains(string(out), ncoa) {
		t.Errorf("configs did not put the new care-of CGA on the MN's %s: %v\n%s", testbed.IfaceMNToNAR, err, out)
	}
	if code, out, stderr := runCLI("testbed", "move", "--prefix", prefix); code != 0 {
		t.Fatalf("move: exit %d\n%s%s", code, out, stderr)
	}
	status("NAR")
	if code, out, stderr := runCLI("testbed", "move", "--prefix", prefix, "--to", "par"); code != 0 {
		t.Fatalf("move back: exit %d\n%s%s", code, out, stderr)
	}
	status("PAR")
	for range 2 { // down is idempotent
		if code, out, stderr := runCLI("testbed", "down", "--prefix", prefix); code != 0 {
			t.Fatalf("down: exit %d\n%s%s", code, out, stderr)
		}
	}
	if code, _, stderr := runCLI("testbed", "status", "--prefix", prefix); code != 1 || !strings.Contains(stderr, "not up") {
		t.Fatalf("status after down: exit %d, %s", code, stderr)
	}
}

// TestDemoNetns runs `fhkey demo --netns --json`, with the daemons as
// processes (this test binary as fhkey, TestMain) and with --in-process,
// and checks the outcome and the packet counts.
func TestDemoNetns(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	cache := filepath.Join(t.TempDir(), "cache")
	for i, mode := range [][]string{{}, {"--in-process"}} {
		t.Run(fmt.Sprint(append([]string{"demo", "--netns"}, mode...)), func(t *testing.T) {
			testDemoNetns(t, fmt.Sprintf("fhk-n%d%d-", i, os.Getpid()), cache, mode...)
		})
	}
	t.Run("demo --mode aaa --netns", func(t *testing.T) {
		testenv.RequireTool(t, "freeradius")
		testDemoAAANetns(t, fmt.Sprintf("fhk-na%d-", os.Getpid()), cache)
	})
}

// testDemoAAANetns runs `fhkey demo --mode aaa --netns --json` (every
// daemon a process, FreeRADIUS in between) with short streams.
func testDemoAAANetns(t *testing.T, prefix, cache string) {
	t.Cleanup(func() { testbed.Down(context.Background(), prefix) })
	code, out, stderr := runCLI("demo", "--mode", "aaa", "--netns", "--json", "--prefix", prefix, "--cache-dir", cache, "--count", "50", "--timeout", "1m")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	var sum demo.AAANetnsSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	oc := sum.Outcome
	if !sum.OK || sum.Mode != "aaa" || !oc.KeyProvisioned || !oc.FBUAccepted || !oc.ForgedRejected || !oc.StreamRedirected ||
		!oc.ForgedFBURejected || !oc.BindingUnchanged || !oc.ForgedHKReqDropped || !oc.AttackerGotNothing {
		t.Fatalf("outcome %+v", sum)
	}
	if m := sum.Metrics; m[`HKS fhkey_hks_discarded_total{reason="bad_mac"}`] != 1 || m["HKS fhkey_hks_keys_issued_total"] != 1 || m["PAR fhkey_ar_fbu_accepted_total"] != 1 {
		t.Errorf("metrics %v", m)
	}
	if p := sum.Packets; p.Redirected.Sent != 50 || p.Redirected.Received < 48 || p.AttackerTunnelled != 0 {
		t.Errorf("packets %+v", p)
	}
	for _, s := range sum.Steps {
		if !s.OK {
			t.Errorf("step %+v failed", s)
		}
	}
	if _, err := os.Stat("/var/run/netns/" + prefix + "par"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace %spar left behind: %v", prefix, err)
	}
}

func testDemoNetns(t *testing.T, prefix, cache string, mode ...string) {
	t.Cleanup(func() { testbed.Down(context.Background(), prefix) })
	code, out, stderr := runCLI(append([]string{"demo", "--netns", "--json", "--prefix", prefix, "--cache-dir", cache, "--timeout", "2m"}, mode...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	var sum demo.NetnsSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	oc := sum.Outcome
	if !sum.OK || !oc.KeyProvisioned || !oc.FBUAccepted || !oc.StreamRedirected || !oc.ForgedFBURejected || !oc.BindingUnchanged || !oc.AttackerGotNothing {
		t.Fatalf("outcome %+v", sum)
	}
	p := sum.Packets
	if p.Direct.Received != 20 || p.Redirected.Sent != 200 || p.Redirected.Received < 190 || p.AttackerTunnelled != 0 || p.AfterForgery.Received < 190 {
		t.Errorf("packets %+v", p)
	}
	if p.ForwarderPackets < uint64(p.Redirected.Received+p.AfterForgery.Received) || p.DecapsulatorPkts < p.ForwarderPackets {
		t.Errorf("forwarder %d / decapsulator %d packets, received %d+%d", p.ForwarderPackets, p.DecapsulatorPkts, p.Redirected.Received, p.AfterForgery.Received)
	}
	for _, s := range sum.Steps {
		if !s.OK {
			t.Errorf("step %+v failed", s)
		}
	}
	// Torn down at the end (no --keep).
	if _, err := os.Stat("/var/run/netns/" + prefix + "mn"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace %smn left behind: %v", prefix, err)
	}
}
