package cli

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHACSubscriber adds, lists and removes HAC subscribers in a bbolt
// file; the PSK is printed only with --show-key.
func TestHACSubscriber(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "hac.db")
	psk := "hac-cli-test-psk"
	pskFile := filepath.Join(dir, "psk")
	if err := os.WriteFile(pskFile, []byte(psk+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun := func(want int, args ...string) string {
		t.Helper()
		code, stdout, stderr := run(t, "", args...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d: %s", args, code, want, stderr)
		}
		return stdout
	}
	mustRun(0, "hac", "subscriber", "add", "--store", store, "--id", "mn@example.com", "--psk-file", pskFile,
		"--hoa", "2001:db8:1::100", "--hnp", "2001:db8:1::/64")
	gen := mustRun(0, "hac", "subscriber", "add", "--store", store, "--id", "gen@example.com", "--methods", "psk,eap", "--show-key")
	if len(strings.TrimSpace(gen)) != 64 {
		t.Fatalf("generated PSK %q", gen)
	}
	mustRun(0, "hac", "subscriber", "add", "--store", store, "--id", "eap@example.com", "--methods", "eap")
	mustRun(1, "hac", "subscriber", "add", "--store", store, "--id", "mn@example.com", "--psk-file", pskFile)
	mustRun(1, "hac", "subscriber", "add", "--store", store, "--id", "x@example.com", "--methods", "ike")
	mustRun(2, "hac", "subscriber", "add", "--id", "x@example.com")
	out := mustRun(0, "hac", "subscriber", "list", "--store", store)
	if !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "2001:db8:1::100") || strings.Contains(out, hex.EncodeToString([]byte(psk))) {
		t.Fatalf("list:\n%s", out)
	}
	if out := mustRun(0, "hac", "subscriber", "list", "--store", store, "--show-key"); !strings.Contains(out, hex.EncodeToString([]byte(psk))) {
		t.Fatalf("list --show-key:\n%s", out)
	}
	mustRun(0, "hac", "subscriber", "remove", "--store", store, "--id", "mn@example.com")
	mustRun(1, "hac", "subscriber", "remove", "--store", store, "--id", "mn@example.com")
}

// TestHACHelp: --help names the flags.
func TestHACHelp(t *testing.T) {
	_, stdout, stderr := run(t, "", "hac", "--help")
	for _, want := range []string{"--keylog FILE", "--check", "subscriber add"} {
		if !strings.Contains(stdout+stderr, want) {
			t.Fatalf("--help lacks %q:\n%s%s", want, stdout, stderr)
		}
	}
}
