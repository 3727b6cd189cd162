package cli

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// run calls Run with buffers and returns the exit code and the streams.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, bytes.NewBufferString(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// readRSAKey parses the PEM private key in name.
func readRSAKey(t *testing.T, name, wantType string) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	blk, rest := pem.Decode(data)
	if blk == nil || blk.Type != wantType || len(rest) != 0 {
		t.Fatalf("%s: want exactly one %s PEM block", name, wantType)
	}
	var k any
	if wantType == "RSA PRIVATE KEY" {
		k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	} else {
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "mn.pem")
	if code, _, stderr := run(t, "", "keygen", "--bits", "1024", "--out", key); code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, stderr)
	}
	st, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	k := readRSAKey(t, key, "PRIVATE KEY")
	if k.N.BitLen() != 1024 {
		t.Errorf("%d-bit key, want 1024", k.N.BitLen())
	}
	before, _ := os.ReadFile(key)

	// No overwrite without --force.
	if code, _, _ := run(t, "", "keygen", "--bits", "1024", "--out", key); code != 1 {
		t.Errorf("second keygen without --force: exit %d, want 1", code)
	}
	if after, _ := os.ReadFile(key); !bytes.Equal(before, after) {
		t.Fatal("key file changed without --force")
	}

	// --force replaces it, mode 0600 even if the old file was 0644.
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "", "keygen", "--bits", "1024", "--format", "pkcs1", "--force", "--out", key); code != 0 {
		t.Fatalf("keygen --force: exit %d: %s", code, stderr)
	}
	if after, _ := os.ReadFile(key); bytes.Equal(before, after) {
		t.Fatal("key file not replaced with --force")
	}
	if st, _ := os.Stat(key); st.Mode().Perm() != 0o600 {
		t.Errorf("mode after --force %v, want 0600", st.Mode().Perm())
	}
	readRSAKey(t, key, "RSA PRIVATE KEY")
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the directory, want 1 (temporary file left?)", len(ents))
	}
}

func TestKeygenUsage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "k.pem")
	for _, args := range [][]string{
		{"keygen"},
		{"keygen", "--out", out, "--bits", "512"},
		{"keygen", "--out", out, "--bits", "8192"},
		{"keygen", "--out", out, "--format", "der"},
		{"keygen", "--out", out, "extra"},
		{"keygen", "--no-such-flag"},
	} {
		if code, _, _ := run(t, "", args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("usage error created %s", out)
	}
	code, stdout, _ := run(t, "", "keygen", "--help")
	if code != 0 || !bytes.Contains([]byte(stdout), []byte("--bits")) {
		t.Errorf("keygen --help: exit %d, output %q", code, stdout)
	}
}
