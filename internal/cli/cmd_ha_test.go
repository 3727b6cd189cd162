package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/node/nodetest"
)

// TestHACheck: `fhkey ha --check` accepts the shipped sample with its TLS
// files present, lists each problem of a broken copy (exit 1), and the
// usage errors exit 2; --help names the document.
func TestHACheck(t *testing.T) {
	dir := t.TempDir()
	pki := eaptest.NewPKI(t)
	for name, b := range map[string][]byte{"ha-cert.pem": pki.Server.CertPEM, "ha-key.pem": pki.Server.KeyPEM, "hac-ca.pem": pki.CA.CertPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := nodetest.RelocateExample(t, dir, "ha.toml", nil)
	if code, out, errOut := runDaemonCLI(t, "ha", "-c", file, "--check"); code != 0 || !strings.Contains(out, ": ok") {
		t.Errorf("ha --check sample: exit %d\n%s%s", code, out, errOut)
	}
	if err := os.Chmod(filepath.Join(dir, "ha-key.pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runDaemonCLI(t, "ha", "-c", file, "--check"); code != 1 || !strings.Contains(out, "hac_channel.key") {
		t.Errorf("ha --check, world-readable key: exit %d, output:\n%s", code, out)
	}
	bad := nodetest.RelocateExample(t, dir, "ha.toml", func(s string) string {
		return strings.Replace(s, `prefix = "2001:db8:1::/64"`, `prefix = "2001:db8:1::1/64"`, 1)
	})
	if code, out, _ := runDaemonCLI(t, "ha", "-c", bad, "--check"); code != 1 || !strings.Contains(out, "home_link.prefix") {
		t.Errorf("ha --check, prefix with host bits: exit %d, output:\n%s", code, out)
	}
	for _, args := range [][]string{{"ha"}, {"ha", "-c", bad, "extra"}} {
		if code, _, _ := runDaemonCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
	if code, out, _ := runDaemonCLI(t, "ha", "--help"); code != 0 || !strings.Contains(out, "docs/ha.md") || !strings.Contains(out, "--check") {
		t.Errorf("ha --help: exit %d\n%s", code, out)
	}
}
