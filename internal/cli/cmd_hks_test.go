package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/hks/subscribers"
)

// TestHKSSubscriber: add (generated and from a file), list with and
// without keys, remove — through Run, on a bbolt store; the HMK appears
// only with --show-key.
func TestHKSSubscriber(t *testing.T) {
	dir := t.TempDir()
	store := "bolt:" + filepath.Join(dir, "subs.db")
	hmkHex := hex.EncodeToString(seqBytes(0, 64))
	hmkFile := filepath.Join(dir, "hmk")
	if err := os.WriteFile(hmkFile, []byte(hmkHex+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun := func(want int, args ...string) string {
		t.Helper()
		code, stdout, stderr := run(t, "", args...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d: %s", args, code, want, stderr)
		}
		if strings.Contains(stdout+stderr, hmkHex) && !strings.Contains(strings.Join(args, " "), "--show-key") {
			t.Fatalf("%v printed the HMK", args)
		}
		return stdout
	}
	if out := mustRun(0, "hks", "subscriber", "add", "--store", store, "--nai", "gen@example.com"); out != "" {
		t.Fatalf("add printed %q", out)
	}
	mustRun(0, "hks", "subscriber", "add", "--store", store, "--nai", "mn@example.com", "--hmk-file", hmkFile,
		"--ar-prefix", "2001:db8:1::/64", "--max-lifetime", "10m")
	mustRun(1, "hks", "subscriber", "add", "--store", store, "--nai", "mn@example.com", "--hmk-file", hmkFile)
	mustRun(0, "hks", "subscriber", "add", "--store", store, "--nai", "mn@example.com", "--hmk-file", hmkFile, "--replace", "--disabled")
	if err := os.Chmod(hmkFile, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(1, "hks", "subscriber", "add", "--store", store, "--nai", "x@example.com", "--hmk-file", hmkFile)
	mustRun(2, "hks", "subscriber", "add", "--nai", "x@example.com")
	mustRun(2, "hks", "subscriber", "add", "--store", "mysql:x", "--nai", "x@example.com")

	out := mustRun(0, "hks", "subscriber", "list", "--store", store)
	if !strings.Contains(out, "gen@example.com") || !strings.Contains(out, "mn@example.com") || !strings.HasPrefix(out, "NAI ") {
		t.Fatalf("list:\n%s", out)
	}
	var subs []hksSubscriberJSON
	if err := json.Unmarshal([]byte(mustRun(0, "hks", "subscriber", "list", "--store", store, "--json", "--show-key")), &subs); err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 || subs[1].NAI != "mn@example.com" || subs[1].HMK != hmkHex || subs[1].Enabled || len(subs[0].HMK) != 128 {
		t.Fatalf("list --json --show-key: %+v", subs)
	}

	// The subscriber file works with the role.
	s, err := subscribers.OpenBolt(filepath.Join(dir, "subs.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(context.Background(), "mn@example.com")
	s.Close()
	if err != nil || hex.EncodeToString(got.HMK) != hmkHex || got.Enabled {
		t.Fatalf("stored %v %v", got, err)
	}

	mustRun(0, "hks", "subscriber", "remove", "--store", store, "--nai", "gen@example.com")
	mustRun(1, "hks", "subscriber", "remove", "--store", store, "--nai", "gen@example.com")
	if out := mustRun(0, "hks", "subscriber", "list", "--store", store); strings.Contains(out, "gen@") {
		t.Fatalf("after remove:\n%s", out)
	}
}

// TestHKSCheck: --check on a configuration and its secret files.
func TestHKSCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hks.toml")
	conf := "[[client]]\naddress = \"::1\"\nsecret_file = \"ar.secret\"\n[subscribers]\npath = \"subs.db\"\n"
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := run(t, "", "hks", "-c", file, "--check")
	if code != 1 || !strings.Contains(stdout, "client[0].secret_file") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
	if err := os.WriteFile(filepath.Join(dir, "ar.secret"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := run(t, "", "hks", "-c", file, "--check"); code != 0 || !strings.Contains(stdout, ": ok") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	// The subscriber commands take the store from the file.
	if code, _, stderr := run(t, "", "hks", "subscriber", "add", "-c", file, "--nai", "mn@example.com"); code != 0 {
		t.Fatalf("add -c: %s", stderr)
	}
	if code, stdout, _ := run(t, "", "hks", "subscriber", "list", "-c", file); code != 0 || !strings.Contains(stdout, "mn@example.com") {
		t.Fatalf("list -c: %s", stdout)
	}
}
