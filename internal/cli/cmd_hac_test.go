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
	"github.com/fhkey/fhkey/internal/hac"
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
	if !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "2001:db8:1::100") || strings.Contains(out, psk) || strings.Contains(out, strings.TrimSpace(gen)) {
		t.Fatalf("list:\n%s", out)
	}
	// --show-key prints each PSK as its psk_file holds it: the line the
	// generated one was printed as, the file's octets for the other.
	if out := mustRun(0, "hac", "subscriber", "list", "--store", store, "--show-key"); !strings.Contains(out, psk) || !strings.Contains(out, strings.TrimSpace(gen)) {
		t.Fatalf("list --show-key:\n%s", out)
	}
	// The printed line, as the MN's psk_file, is the PSK the HAC holds.
	mnFile := filepath.Join(dir, "mn.psk")
	if err := os.WriteFile(mnFile, []byte(gen), 0o600); err != nil {
		t.Fatal(err)
	}
	mnPSK, err := config.LoadSecret(mnFile)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := hac.OpenBolt(store, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := hs.Get(context.Background(), "gen@example.com")
	hs.Close()
	if err != nil || !bytes.Equal(sub.PSK, mnPSK) {
		t.Fatalf("HAC's PSK %x, MN's psk_file %x (%v)", sub.PSK, mnPSK, err)
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
