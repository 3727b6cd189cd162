package cli

import (
	"os"

	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/lab"
)

// TestMIP6Command: --help names the configuration and the docs; --check
// reports a missing CA file alone while the PSK is 0600, and a
// world-readable PSK (exit 1); without -c it is a usage error; the daemon
// stops on unusable files, and on a failed bootstrap (no HAC listening)
// instead of running keyless.
func TestMIP6Command(t *testing.T) {
	if code, out, _ := runDaemonCLI(t, "mip6", "--help"); code != 0 || !strings.Contains(out, "docs/mip6mn.md") ||
		!strings.Contains(out, "--keylog") || !strings.Contains(out, "examples/mip6.toml") {
		t.Errorf("mip6 --help: exit %d\n%s", code, out)
	}
	if code, _, _ := runDaemonCLI(t, "mip6"); code != 2 {
		t.Errorf("mip6 without -c: exit %d, want 2", code)
	}
	dir := t.TempDir()
	psk := filepath.Join(dir, "mn.psk")
	write := func(name, s string, mode os.FileMode) {
		if err := os.WriteFile(name, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(name, mode); err != nil {
			t.Fatal(err)
		}
	}
	write(psk, "a pre-shared key\n", 0o600)
	cfg := filepath.Join(dir, "mip6.toml")
	write(cfg, "care_of = \"2001:db8:2::55\"\n[mip6tls]\nhac = \"[::1]:7443\"\nserver_name = \"hac\"\nca = \"none.pem\"\nidentity = \"mn@example.com\"\npsk_file = \"mn.psk\"\n", 0o644)
	code, out, _ := runDaemonCLI(t, "mip6", "-c", cfg, "--check")
	if code != 1 || !strings.Contains(out, "mip6tls.ca") || strings.Contains(out, "psk_file") {
		t.Errorf("mip6 --check without the CA file: exit %d\n%s", code, out)
	}
	write(psk, "a pre-shared key\n", 0o644)
	if code, out, _ := runDaemonCLI(t, "mip6", "-c", cfg, "--check"); code != 1 || !strings.Contains(out, "psk_file") {
		t.Errorf("mip6 --check with a world-readable PSK: exit %d\n%s", code, out)
	}
	if code, _, errOut := runDaemonCLI(t, "mip6", "-c", cfg); code != 1 || strings.Contains(errOut, "bootstrap client") {
		t.Errorf("mip6 with unusable files: exit %d\n%s", code, errOut)
	}
	// The HAC client is wired (node.HACBootstrapper): with usable files and
	// no HAC listening, the daemon stops on the failed bootstrap.
	ca, err := lab.NewEAPCert("mip6 test CA", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(dir, "none.pem"), string(ca.CertPEM), 0o644)
	write(psk, "a pre-shared key\n", 0o600)
	write(cfg, "care_of = \"2001:db8:2::55\"\n[mip6tls]\nhac = \"[::1]:1\"\nserver_name = \"hac\"\nca = \"none.pem\"\nidentity = \"mn@example.com\"\npsk_file = \"mn.psk\"\n", 0o644)
	if code, _, errOut := runDaemonCLI(t, "mip6", "-c", cfg); code != 1 || !strings.Contains(errOut, "bootstrap: hacclient: TLS to [::1]:1") {
		t.Errorf("mip6 with no HAC listening: exit %d\n%s", code, errOut)
	}
}
