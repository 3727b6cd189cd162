package cli

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/testenv"
)

var (
	daemonCredsOnce sync.Once
	daemonCreds     *lab.Credentials
	daemonCredsErr  error
)

// labCredentials loads the lab credentials (cached with `fhkey demo`'s).
func labCredentials(t *testing.T) *lab.Credentials {
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

// writeDaemonCreds writes the PAR's and the MN's credentials in the files
// the sample configurations name: ar.key, ar-cga.json, ar-cert.pem, ta.pem,
// mn.key, mn-cga.json (previous CoA), mn-cga-new.json (new CoA).
func writeDaemonCreds(t *testing.T, dir string, c *lab.Credentials) {
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

// relocateExample writes examples/NAME into dir with its /etc/fhkey and
// /var/lib/fhkey paths pointing there, and edit applied.
func relocateExample(t *testing.T, dir, name string, edit func(string) string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
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

func runDaemonCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestDaemonCheckExamples runs --check on the shipped samples against
// generated credentials, and on broken copies: exit 1, every problem listed.
func TestDaemonCheckExamples(t *testing.T) {
	c := labCredentials(t)
	dir := t.TempDir()
	writeDaemonCreds(t, dir, c)
	for _, cmd := range []string{"ar", "mn"} {
		file := relocateExample(t, dir, cmd+".toml", nil)
		if code, out, errOut := runDaemonCLI(t, cmd, "-c", file, "--check"); code != 0 || !strings.Contains(out, ": ok") {
			t.Errorf("%s --check sample: exit %d\n%s%s", cmd, code, out, errOut)
		}
	}
	// Two problems at once: a world-readable key and an unknown key.
	if err := os.Chmod(filepath.Join(dir, "ar.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := relocateExample(t, dir, "ar.toml", func(s string) string { return s + "\nbogus = 1\n" })
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

// TestRestartOnly: every changed setting but log and http is reported.
func TestRestartOnly(t *testing.T) {
	old := &config.ARConfig{Interface: "eth0", KeyLifetime: time.Hour}
	new := *old
	new.Interface, new.Log.Format = "eth1", config.LogJSON
	if got := restartOnly(old, &new); len(got) != 1 || got[0] != "Interface" {
		t.Errorf("restartOnly = %v, want [Interface]", got)
	}
	if got := restartOnly(old, old); len(got) != 0 {
		t.Errorf("restartOnly(same) = %v", got)
	}
}

// TestARDaemonOnLoopback runs the AR daemon in process on lo (root: raw
// sockets) with the bolt store and the HTTP endpoint, reads /status and
// /metrics, reloads with SIGHUP and stops with SIGTERM.
func TestARDaemonOnLoopback(t *testing.T) {
	testenv.RequireRoot(t)
	c := labCredentials(t)
	dir := t.TempDir()
	writeDaemonCreds(t, dir, c)
	file := relocateExample(t, dir, "ar.toml", func(s string) string {
		s = strings.Replace(s, `interface = "eth1"`, `interface = "lo"`, 1)
		s = strings.Replace(s, "enabled = true", "enabled = false", 1)
		return strings.Replace(s, `listen = "127.0.0.1:9750"`, `listen = "127.0.0.1:0"`, 1)
	})
	sigs := make(chan os.Signal, 2)
	ready := make(chan net.Addr, 1)
	reloaded := make(chan error, 1)
	var logs bytes.Buffer
	var mu sync.Mutex
	o := arOptions(file, writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) }))
	o.Signals, o.Ready, o.Reloaded = sigs, func(a net.Addr) { ready <- a }, func(err error) { reloaded <- err }
	o.Notify = func(string) error { return nil }
	done := make(chan error, 1)
	go func() { done <- daemon.Run(context.Background(), o) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("daemon stopped: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("daemon not ready")
	}
	get := func(path string) string {
		resp, err := http.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		return string(b)
	}
	var st struct {
		Daemon string `json:"daemon"`
		Role   struct {
			Address   string `json:"address"`
			Interface string `json:"interface"`
			KeysHeld  *int   `json:"keys_held"`
		} `json:"role"`
	}
	if err := json.Unmarshal([]byte(get("/status")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Daemon != "ar" || st.Role.Address != c.PAR.CGA.Address.String() || st.Role.Interface != "lo" || st.Role.KeysHeld == nil {
		t.Errorf("/status = %+v", st)
	}
	m := get("/metrics")
	for _, want := range []string{"fhkey_ar_fbu_received_total 0", "fhkey_ar_keys_held 0", "fhkey_config_reloads_total"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ar-keys.db")); err != nil {
		t.Errorf("bolt store not created: %v", err)
	}
	// A reload with a new level and a restart-only change.
	if err := os.WriteFile(file, []byte(strings.Replace(mustRead(t, file), `level = "info"`, `level = "debug"`, 1)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sigs <- syscall.SIGHUP
	if err := <-reloaded; err != nil {
		t.Errorf("reload: %v", err)
	}
	sigs <- syscall.SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("stop: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("daemon did not stop")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "access router serving") || !strings.Contains(logs.String(), "stopped") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
