package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/node/nodetest"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/keystore"
)

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
	// With the access router's live fields: those are left out, the
	// restart-only fields of the same sections are named by path.
	new = *old
	new.Interface, new.KeyLifetime, new.Forwarding.Lifetime, new.Forwarding.TUN = "eth1", 2*time.Hour, time.Second, "fhkfw1"
	new.Limits.PerSource.Burst, new.SEND.MinKeyBits, new.SEND.Timestamp.Delta = 9, 2048, time.Minute
	want := []string{"Interface", "Forwarding.TUN", "SEND.Timestamp"}
	if got := restartOnly(old, &new, arLive...); !slices.Equal(got, want) {
		t.Errorf("restartOnly(live) = %v, want %v", got, want)
	}
	want = []string{"KeyLifetime", "Forwarding.Lifetime", "Limits.PerSource", "SEND.MinKeyBits"}
	if got := changedLive(old, &new, arLive); !slices.Equal(got, want) {
		t.Errorf("changedLive = %v, want %v", got, want)
	}
}

// TestARLiveFields: every live path names a configuration field, and a
// change of all of them is live only.
func TestARLiveFields(t *testing.T) {
	for _, path := range arLive {
		if !fieldByPath(reflect.ValueOf(config.ARConfig{}), path).IsValid() {
			t.Errorf("arLive: %q names no field of config.ARConfig", path)
		}
	}
	old := &config.ARConfig{Limits: config.DefaultLimits}
	new := &config.ARConfig{Algorithms: []hokey.AlgorithmType{hokey.HMACSHA1Trunc96}, KeyLifetime: time.Hour,
		Forwarding: config.Forwarding{Lifetime: time.Second}, Neighbors: []config.Neighbor{{AccessPoint: []byte{1}}},
		Limits: config.Limits{PerSource: config.Rate{PerSecond: 1, Burst: 1}, PerKey: config.Rate{PerSecond: 1, Burst: 1},
			Total: config.Rate{PerSecond: 1, Burst: 1}, UnsecuredReplies: config.Rate{PerSecond: 1, Burst: 1}, MaxTracked: 1},
		SEND: config.SEND{MinKeyBits: 2048, MaxKeyBits: 2048}}
	if got := changedLive(old, new, arLive); !slices.Equal(got, arLive) {
		t.Errorf("changedLive = %v, want all of %v", got, arLive)
	}
	if got := restartOnly(old, new, arLive...); len(got) != 0 {
		t.Errorf("restartOnly = %v, want none", got)
	}
}

// TestARSettingsZeroRate: a zero rate is unlimited in the configuration
// (docs/deployment.md), which is the zero ar.Rate, whatever the burst.
func TestARSettingsZeroRate(t *testing.T) {
	cfg := &config.ARConfig{Limits: config.DefaultLimits}
	cfg.Limits.PerKey = config.Rate{PerSecond: 0, Burst: 5}
	s := arSettings(cfg)
	if s.Limits.PerKey != (ar.Rate{}) || s.Limits.PerSource != (ar.Rate{PerSecond: 2, Burst: 5}) {
		t.Errorf("limits %+v, want PerKey unlimited and PerSource 2/s burst 5", *s.Limits)
	}
}

// logRecords decodes the JSON log lines in b.
func logRecords(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range bytes.Lines(b) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// settingsLogged returns the "settings" of the record with message msg, and
// whether there is one.
func settingsLogged(recs []map[string]any, msg string) ([]string, bool) {
	for _, r := range recs {
		if r["msg"] != msg {
			continue
		}
		var out []string
		list, _ := r["settings"].([]any)
		for _, v := range list {
			s, _ := v.(string)
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// TestARReload drives the access router's reload on a router built from the
// sample configuration as the daemon builds it (no sockets, no root): a
// change of rate limits and key lifetime is applied to the running router
// and logged as such, a changed interface is logged as restart-only (until
// the restart), and an update the router refuses changes nothing.
func TestARReload(t *testing.T) {
	c := nodetest.LabCredentials(t)
	dir := t.TempDir()
	nodetest.WriteDaemonCreds(t, dir, c)
	load := func(edit func(string) string) *config.ARConfig {
		t.Helper()
		cfg, err := config.LoadAR(nodetest.RelocateExample(t, dir, "ar.toml", edit))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	old := load(nil)
	cr, err := old.Open(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	spec := arSpec(old, cr)
	r, err := ar.New(ar.Config{Address: spec.Address, Parameters: spec.Parameters, Signer: spec.Signer, Store: keystore.NewMemory(),
		Algorithms: spec.Algorithms, KeyLifetime: spec.KeyLifetime, ForwardingLifetime: spec.ForwardingLifetime,
		Neighbors: spec.Neighbors, Limits: spec.Limits, Verifier: spec.Verifier})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Settings(), arSettings(old); !reflect.DeepEqual(got, want) {
		t.Fatalf("router built from arSpec runs %+v, not arSettings %+v", got, want)
	}
	new := load(func(s string) string {
		return strings.NewReplacer(`per_source = { rate = 2.0, burst = 5 }`, `per_source = { rate = 4.0, burst = 8 }`,
			`lifetime = "12h"`, `lifetime = "1h"`, `interface = "eth1"`, `interface = "eth2"`).Replace(s)
	})

	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	if err := reloadAR(r, old, old, new, log); err != nil {
		t.Fatal(err)
	}
	recs := logRecords(t, logs.Bytes())
	if got, ok := settingsLogged(recs, "settings applied live"); !ok || !slices.Equal(got, []string{"KeyLifetime", "Limits.PerSource"}) {
		t.Errorf("applied live: %v (logged %v), want [KeyLifetime Limits.PerSource]\n%s", got, ok, logs.String())
	}
	if got, ok := settingsLogged(recs, "changed settings take effect at the next restart"); !ok || !slices.Equal(got, []string{"Interface"}) {
		t.Errorf("restart-only: %v (logged %v), want [Interface]\n%s", got, ok, logs.String())
	}
	s := r.Settings()
	if s.KeyLifetime != time.Hour || s.Limits.PerSource != (ar.Rate{PerSecond: 4, Burst: 8}) || !reflect.DeepEqual(s, arSettings(new)) {
		t.Errorf("router settings after the reload: %+v", s)
	}

	// The same file again: nothing to apply, the interface still pending.
	logs.Reset()
	if err := reloadAR(r, old, new, new, log); err != nil {
		t.Fatal(err)
	}
	recs = logRecords(t, logs.Bytes())
	if _, ok := settingsLogged(recs, "settings applied live"); ok {
		t.Errorf("unchanged reload applied settings:\n%s", logs.String())
	}
	if got, _ := settingsLogged(recs, "changed settings take effect at the next restart"); !slices.Equal(got, []string{"Interface"}) {
		t.Errorf("pending restart-only settings %v, want [Interface]", got)
	}

	// Refused by the router (out of the Key Lifetime field's range): an
	// error, and the router keeps its settings.
	bad := *new
	bad.KeyLifetime, bad.Limits.Total = 0x10000*time.Second, config.Rate{PerSecond: 1, Burst: 1}
	if err := reloadAR(r, old, new, &bad, log); !errors.Is(err, ar.ErrInvalidSetting) {
		t.Errorf("invalid reload: %v, want ar.ErrInvalidSetting", err)
	}
	if got := r.Settings(); !reflect.DeepEqual(got, s) {
		t.Errorf("a refused reload changed the router: %+v", got)
	}
}

// TestARDaemonOnLoopback runs the AR daemon in process on lo (root: raw
// sockets) with the bolt store and the HTTP endpoint, reads /status and
// /metrics, reloads with SIGHUP and stops with SIGTERM.
func TestARDaemonOnLoopback(t *testing.T) {
	testenv.RequireRoot(t)
	c := nodetest.LabCredentials(t)
	dir := t.TempDir()
	nodetest.WriteDaemonCreds(t, dir, c)
	file := nodetest.RelocateExample(t, dir, "ar.toml", func(s string) string {
		s = strings.Replace(s, `interface = "eth1"`, `interface = "lo"`, 1)
		s = strings.Replace(s, "enabled = true", "enabled = false", 1)
		return strings.Replace(s, `listen = "127.0.0.1:9750"`, `listen = "127.0.0.1:0"`, 1)
	})
	sigs := make(chan os.Signal, 2)
	ready := make(chan net.Addr, 1)
	reloaded := make(chan error, 1)
	var logs bytes.Buffer
	var mu sync.Mutex
	o := AROptions(file, writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) }))
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
	// A reload with a new level, new rate limits and key lifetime (applied
	// live) and a new interface (restart-only).
	edited := strings.NewReplacer(`level = "info"`, `level = "debug"`, `per_source = { rate = 2.0, burst = 5 }`, `per_source = { rate = 4.0, burst = 8 }`,
		`lifetime = "12h"`, `lifetime = "1h"`, `interface = "lo"`, `interface = "eth9"`).Replace(mustRead(t, file))
	if err := os.WriteFile(file, []byte(edited+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sigs <- syscall.SIGHUP
	if err := <-reloaded; err != nil {
		t.Errorf("reload: %v", err)
	}
	mu.Lock()
	live, restart := reloadRecords(logs.String())
	mu.Unlock()
	if !strings.Contains(live, "settings=\"[KeyLifetime Limits.PerSource]\"") {
		t.Errorf("applied-live record %q, want settings [KeyLifetime Limits.PerSource]", live)
	}
	if !strings.Contains(restart, "settings=[Interface]") {
		t.Errorf("restart-only record %q, want settings [Interface]", restart)
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
