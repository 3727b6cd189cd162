// Package nodetest holds what the tests of the daemons (internal/node) and
// of their commands (internal/cli) share: the lab credentials, written in
// the files the sample configurations name, and the samples themselves
// relocated to a test directory.
package nodetest

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/lab"
)

var (
	daemonCredsOnce sync.Once
	daemonCreds     *lab.Credentials
	daemonCredsErr  error
)

// LabCredentials loads the lab credentials (cached with `fhkey demo`'s).
func LabCredentials(t testing.TB) *lab.Credentials {
	t.Helper()
	daemonCredsOnce.Do(func() {
		dir, err := lab.DefaultDir()
		if err != nil {
			dir = filepath.Join(os.TempDir(), "fhkey-cli-lab")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		daemonCreds, daemonCredsErr = lab.Load(ctx, dir, nil)
	})
	if daemonCredsErr != nil {
		t.Fatal(daemonCredsErr)
	}
	return daemonCreds
}

// WriteDaemonCreds writes the PAR's and the MN's credentials in the files
// the sample configurations name: ar.key, ar-cga.json, ar-cert.pem, ta.pem,
// mn.key, mn-cga.json (previous CoA), mn-cga-new.json (new CoA).
func WriteDaemonCreds(t testing.TB, dir string, c *lab.Credentials) {
	t.Helper()
	write := func(name string, mode os.FileMode, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, mode); err != nil {
			t.Fatal(err)
		}
	}
	key := func(k *rsa.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	cgaJSON := func(a lab.CGA) []byte {
		p, err := a.Parameters.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(map[string]string{"address": a.Address.String(), "params": hex.EncodeToString(p)})
		return b
	}
	write("ta.pem", 0o644, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.AnchorDER}))
	write("ar.key", 0o600, key(c.PAR.Key))
	write("ar-cga.json", 0o644, cgaJSON(c.PAR.CGA))
	write("ar-cert.pem", 0o644, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.PAR.Path[len(c.PAR.Path)-1]}))
	write("mn.key", 0o600, key(c.MN.Key))
	write("mn-cga.json", 0o644, cgaJSON(c.MN.PCoA))
	write("mn-cga-new.json", 0o644, cgaJSON(c.MN.NCoA))
}

// RelocateExample writes examples/NAME into dir with its /etc/fhkey and
// /var/lib/fhkey paths pointing there, and edit applied.
func RelocateExample(t testing.TB, dir, name string, edit func(string) string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("/etc/fhkey/", dir+"/", "/var/lib/fhkey/", dir+"/").Replace(string(b))
	if edit != nil {
		s = edit(s)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// examplesDir is the repository's examples/ directory, found from the
// module root above the test's working directory.
func examplesDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "examples")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("nodetest: no go.mod above the working directory")
		}
		dir = parent
	}
}
