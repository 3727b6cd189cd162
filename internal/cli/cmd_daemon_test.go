package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/node/nodetest"
)

func runDaemonCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestDaemonCheckExamples runs --check on the shipped samples against
// generated credentials, and on broken copies: exit 1, every problem listed.
func TestDaemonCheckExamples(t *testing.T) {
	c := nodetest.LabCredentials(t)
	dir := t.TempDir()
	nodetest.WriteDaemonCreds(t, dir, c)
	for _, cmd := range []string{"ar", "mn"} {
		file := nodetest.RelocateExample(t, dir, cmd+".toml", nil)
		if code, out, errOut := runDaemonCLI(t, cmd, "-c", file, "--check"); code != 0 || !strings.Contains(out, ": ok") {
			t.Errorf("%s --check sample: exit %d\n%s%s", cmd, code, out, errOut)
		}
	}
	// Two problems at once: a world-readable key and an unknown key.
	if err := os.Chmod(filepath.Join(dir, "ar.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := nodetest.RelocateExample(t, dir, "ar.toml", func(s string) string { return s + "\nbogus = 1\n" })
	code, out, _ := runDaemonCLI(t, "ar", "-c", bad, "--check")
	if code != 1 || !strings.Contains(out, "bogus") || !strings.Contains(out, "ar.key") {
		t.Errorf("ar --check broken: exit %d, output:\n%s", code, out)
	}
	if err := config.CheckAR(bad, time.Now()); err == nil {
		t.Error("CheckAR accepted the broken file")
	}
	for _, args := range [][]string{{"ar"}, {"mn"}, {"ar", "-c", bad, "extra"}} {
		if code, _, _ := runDaemonCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
	for _, cmd := range []string{"ar", "mn"} {
		if code, out, _ := runDaemonCLI(t, cmd, "--help"); code != 0 || !strings.Contains(out, "docs/deployment.md") || !strings.Contains(out, "--check") {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, out)
		}
	}
}
