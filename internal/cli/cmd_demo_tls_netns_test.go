package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// TestDemoTLSNetnsUsage: root is needed, --in-process, --pcap, --keylog
// and --show-keys are usage errors with --netns.
func TestDemoTLSNetnsUsage(t *testing.T) {
	oldUID := geteuid
	defer func() { geteuid = oldUID }()
	geteuid = func() int { return 1000 }
	if code, _, stderr := runCLI("demo", "--mode", "tls", "--netns"); code != 1 || !strings.Contains(stderr, "root") {
		t.Errorf("as non-root: exit %d, stderr %q", code, stderr)
	}
	for _, extra := range [][]string{{"--in-process"}, {"--pcap", "x.pcap"}, {"--keylog", "k"}, {"--show-keys", "k"}} {
		if code, _, stderr := runCLI(append([]string{"demo", "--mode", "tls", "--netns"}, extra...)...); code != 2 {
			t.Errorf("%v: exit %d, %s", extra, code, stderr)
		}
	}
}

// TestDemoTLSNetns runs `fhkey demo --mode tls --netns --json` (every
// daemon a process, this test binary as fhkey) and checks the issue's
// outcome booleans; without freeradius (lookPath fails) the EAP step is
// skipped with one line on stderr and the run still succeeds.
func TestDemoTLSNetns(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	testenv.RequireTool(t, "freeradius")
	for _, withEAP := range []bool{true, false} {
		t.Run(fmt.Sprintf("eap=%v", withEAP), func(t *testing.T) {
			prefix := fmt.Sprintf("fhk-nt%d%s-", os.Getpid(), map[bool]string{true: "e", false: "p"}[withEAP])
			t.Cleanup(func() { testbed.Down(context.Background(), prefix) })
			if !withEAP {
				oldLook := lookPath
				defer func() { lookPath = oldLook }()
				lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
			}
			code, out, stderr := runCLI("demo", "--mode", "tls", "--netns", "--json", "--prefix", prefix, "--count", "50", "--timeout", "2m")
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
			}
			var raw map[string]any
			var sum demo.TLSNetnsSummary
			if err := json.Unmarshal([]byte(out), &raw); err != nil || json.Unmarshal([]byte(out), &sum) != nil {
				t.Fatalf("--json: %v\n%s", err, out)
			}
			for _, k := range []string{"bootstrapped", "binding_acknowledged", "data_through_ha", "tampered_rejected", "replay_rejected", "reregistered", "ha_restart_kept_binding"} {
				if v, _ := raw["outcome"].(map[string]any)[k].(bool); !v {
					t.Errorf("outcome %s = %v", k, raw["outcome"].(map[string]any)[k])
				}
			}
			eap := sum.Outcome.EAPBootstrapped
			if !sum.OK || sum.Mode != "tls" || (withEAP && (eap == nil || !*eap)) || (!withEAP && eap != nil) {
				t.Fatalf("summary %+v", sum)
			}
			if skipped := strings.Contains(stderr, "freeradius not found"); skipped == withEAP || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("stderr %q", stderr)
			}
		})
	}
}
