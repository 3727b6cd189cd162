package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/config"
)

const baseMN = `interface = "wlan0"
key = "mn.key"
cga = "mn-cga.json"
trust_anchors = ["ta.pem"]
`

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness runs Run on a real mobile node configuration file with fake
// signals.
type harness struct {
	t        *testing.T
	file     string
	sigs     chan os.Signal
	log      *syncBuffer
	rt       chan *Runtime[*config.MNConfig]
	ready    chan net.Addr
	reloaded chan error
	done     chan error
}

func (h *harness) write(content string) {
	h.t.Helper()
	if err := os.WriteFile(h.file, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func start(t *testing.T, content string, mod func(*Options[*config.MNConfig])) *harness {
	t.Helper()
	h := &harness{
		t: t, file: filepath.Join(t.TempDir(), "mn.toml"), sigs: make(chan os.Signal, 1), log: new(syncBuffer),
		rt: make(chan *Runtime[*config.MNConfig], 1), ready: make(chan net.Addr, 1), reloaded: make(chan error, 1), done: make(chan error, 1),
	}
	h.write(content)
	o := Options[*config.MNConfig]{
		Name: "mn", ConfigFile: h.file, Load: config.LoadMN, Settings: MNSettings,
		Start: func(ctx context.Context, rt *Runtime[*config.MNConfig]) error {
			rt.Go("worker", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
			h.rt <- rt
			return nil
		},
		Status:   func() any { return map[string]int{"keys": 3} },
		Signals:  h.sigs,
		Stderr:   h.log,
		Notify:   func(string) error { return nil },
		Ready:    func(a net.Addr) { h.ready <- a },
		Reloaded: func(err error) { h.reloaded <- err },
	}
	if mod != nil {
		mod(&o)
	}
	go func() { h.done <- Run(context.Background(), o) }()
	return h
}

func (h *harness) runtime() *Runtime[*config.MNConfig] {
	select {
	case rt := <-h.rt:
		h.rt <- rt
		return rt
	case err := <-h.done:
		h.t.Fatalf("Run returned %v before starting", err)
	case <-time.After(5 * time.Second):
		h.t.Fatal("daemon did not start")
	}
	return nil
}

func (h *harness) hup() error {
	h.t.Helper()
	h.sigs <- syscall.SIGHUP
	select {
	case err := <-h.reloaded:
		return err
	case <-time.After(5 * time.Second):
		h.t.Fatal("no reload")
	}
	return nil
}

func (h *harness) stop(sig os.Signal) error {
	h.t.Helper()
	h.sigs <- sig
	select {
	case err := <-h.done:
		return err
	case <-time.After(5 * time.Second):
		h.t.Fatal("Run did not return after", sig)
	}
	return nil
}

func TestReload(t *testing.T) {
	h := start(t, baseMN, nil)
	rt := h.runtime()
	first := rt.Config()
	if first.Log.Level != slog.LevelInfo {
		t.Fatalf("level %v", first.Log.Level)
	}
	if rt.Logger.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("debug enabled at level info")
	}

	// A good new configuration replaces the old one; the level follows.
	h.write(baseMN + "[log]\nlevel = \"debug\"\n")
	if err := h.hup(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	second := rt.Config()
	if second == first || second.Log.Level != slog.LevelDebug {
		t.Fatalf("config after reload: %+v", second.Log)
	}
	if !rt.Logger.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("log level not applied")
	}

	// A bad one is refused and the running one kept.
	h.write(baseMN + "[log]\nlevel = \"loud\"\n")
	if err := h.hup(); !errors.Is(err, config.ErrInvalid) {
		t.Fatalf("reload of a bad configuration: %v", err)
	}
	if rt.Config() != second {
		t.Error("bad configuration replaced the running one")
	}
	if !strings.Contains(h.log.String(), "keeping the running configuration") {
		t.Errorf("failure not logged:\n%s", h.log)
	}

	// A missing file too.
	os.Remove(h.file)
	if err := h.hup(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reload of a missing file: %v", err)
	}
	if rt.Config() != second {
		t.Error("missing configuration replaced the running one")
	}

	if err := h.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: Run = %v", err)
	}
}

func TestReloadHookRefuses(t *testing.T) {
	errRefused := errors.New("interface cannot change")
	var calls int
	h := start(t, baseMN, func(o *Options[*config.MNConfig]) {
		o.Reload = func(_ context.Context, old, new *config.MNConfig) error {
			calls++
			if old.Interface != new.Interface {
				return errRefused
			}
			return nil
		}
	})
	rt := h.runtime()
	first := rt.Config()
	h.write(strings.Replace(baseMN, "wlan0", "wlan1", 1))
	if err := h.hup(); !errors.Is(err, errRefused) {
		t.Fatalf("reload = %v, want the hook's error", err)
	}
	if rt.Config() != first {
		t.Error("refused configuration installed")
	}
	h.write(baseMN + "[handover_keys]\nhkepk_handovers = 3\n")
	if err := h.hup(); err != nil {
		t.Fatal(err)
	}
	if rt.Config().HKEPKHandovers != 3 || calls != 2 {
		t.Errorf("handovers %d, hook calls %d", rt.Config().HKEPKHandovers, calls)
	}
	if err := h.stop(syscall.SIGINT); err != nil {
		t.Fatalf("SIGINT: Run = %v", err)
	}
}

func get(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// getAccept GETs url with an Accept header.
func getAccept(t *testing.T, url, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	return do(t, req)
}

// hasMediaType reports whether resp's Content-Type is typ with param=value.
func hasMediaType(resp *http.Response, typ, param, value string) bool {
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return err == nil && mt == typ && params[param] == value
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestHTTPEndpoints(t *testing.T) {
	reg := NewRegistry()
	keys := prometheus.NewCounter(prometheus.CounterOpts{Name: "fhkey_keys_issued_total", Help: "Handover keys issued."})
	reg.MustRegister(keys)
	keys.Add(5)
	h := start(t, baseMN+"[http]\nlisten = \"127.0.0.1:0\"\n", func(o *Options[*config.MNConfig]) { o.Metrics = reg })
	h.runtime()
	var addr net.Addr
	select {
	case addr = <-h.ready:
	case <-time.After(5 * time.Second):
		t.Fatal("not ready")
	}
	if addr == nil {
		t.Fatal("HTTP not started")
	}
	base := "http://" + addr.String()

	resp, body := get(t, "GET", base+"/metrics")
	if resp.StatusCode != 200 || !hasMediaType(resp, "text/plain", "version", "0.0.4") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("/metrics: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	for _, want := range []string{
		"# HELP fhkey_keys_issued_total Handover keys issued.\n# TYPE fhkey_keys_issued_total counter\nfhkey_keys_issued_total 5\n",
		"fhkey_config_reloads_total{result=\"failure\"} 0\n",
		"fhkey_config_reloads_total{result=\"success\"} 0\n",
		"# TYPE fhkey_start_time_seconds gauge\n",
		"# TYPE go_goroutines gauge\n",
		"# TYPE process_start_time_seconds gauge\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	// OpenMetrics when the scraper asks for it: counters' TYPE without the
	// _total suffix, the samples with it, a closing # EOF.
	resp, body = getAccept(t, base+"/metrics", "application/openmetrics-text; version=1.0.0")
	if resp.StatusCode != 200 || !hasMediaType(resp, "application/openmetrics-text", "version", "1.0.0") {
		t.Errorf("/metrics as OpenMetrics: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"# TYPE fhkey_keys_issued counter\n", "\nfhkey_keys_issued_total 5.0\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics as OpenMetrics lacks %q:\n%s", want, body)
		}
	}
	if !strings.HasSuffix(body, "\n# EOF\n") {
		t.Errorf("/metrics as OpenMetrics does not end with # EOF:\n%s", body)
	}
	// ?name[]= restricts the answer to the named families.
	if _, body = get(t, "GET", base+"/metrics?name[]=fhkey_keys_issued_total"); body != "# HELP fhkey_keys_issued_total Handover keys issued.\n# TYPE fhkey_keys_issued_total counter\nfhkey_keys_issued_total 5\n" {
		t.Errorf("/metrics?name[]=fhkey_keys_issued_total:\n%s", body)
	}

	resp, body = get(t, "GET", base+"/status")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/status: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var st struct {
		Daemon     string         `json:"daemon"`
		ConfigFile string         `json:"config_file"`
		Uptime     *float64       `json:"uptime_seconds"`
		Role       map[string]int `json:"role"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/status is not JSON: %v\n%s", err, body)
	}
	if st.Daemon != "mn" || st.ConfigFile != h.file || st.Uptime == nil || st.Role["keys"] != 3 {
		t.Errorf("/status = %s", body)
	}

	// A failed reload shows in /status and /metrics.
	h.write("bogus = 1\n")
	if err := h.hup(); !errors.Is(err, config.ErrUnknownKey) {
		t.Fatalf("reload: %v", err)
	}
	_, body = get(t, "GET", base+"/status")
	if !strings.Contains(body, `"last_reload_error"`) {
		t.Errorf("/status after a failed reload: %s", body)
	}
	_, body = get(t, "GET", base+"/metrics")
	if !strings.Contains(body, "fhkey_config_reloads_total{result=\"failure\"} 1\n") {
		t.Errorf("/metrics after a failed reload:\n%s", body)
	}

	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/", 404},
		{"GET", "/metrics/", 404},
		{"GET", "/debug/pprof/", 404},
		{"GET", "/statusx", 404},
		{"POST", "/metrics", 405},
		{"DELETE", "/status", 405},
		{"HEAD", "/metrics", 200},
	} {
		resp, body := get(t, tc.method, base+tc.path)
		if resp.StatusCode != tc.code {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.code)
		}
		if tc.method == "HEAD" && body != "" {
			t.Errorf("HEAD returned a body")
		}
	}
	if err := h.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The listener is closed after the stop.
	if c, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		c.Close()
		t.Error("HTTP still listening after stop")
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	for _, tc := range []struct {
		listen string
		allow  bool
		ok     bool
	}{
		{"127.0.0.1:0", false, true},
		{"0.0.0.0:0", false, false},
		{"[::]:0", false, false},
		{"0.0.0.0:0", true, true},
	} {
		ln, err := Listen(config.HTTP{Listen: netip.MustParseAddrPort(tc.listen), AllowNonLoopback: tc.allow})
		if ln != nil {
			ln.Close()
		}
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, config.ErrInvalid)) {
			t.Errorf("Listen(%s, allow=%v) = %v", tc.listen, tc.allow, err)
		}
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte(baseMN), 0o644)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte(baseMN+"x = 1\n"), 0o644)
	opts := func(file string, startFn func(context.Context, *Runtime[*config.MNConfig]) error) Options[*config.MNConfig] {
		return Options[*config.MNConfig]{
			Name: "mn", ConfigFile: file, Load: config.LoadMN, Settings: MNSettings, Start: startFn,
			Signals: make(chan os.Signal), Stderr: io.Discard, Notify: func(string) error { return nil },
			StopTimeout: 100 * time.Millisecond,
		}
	}
	idle := func(ctx context.Context, rt *Runtime[*config.MNConfig]) error { return nil }

	t.Run("bad configuration", func(t *testing.T) {
		if err := Run(context.Background(), opts(bad, idle)); !errors.Is(err, config.ErrUnknownKey) {
			t.Errorf("Run = %v", err)
		}
	})
	t.Run("start fails", func(t *testing.T) {
		errStart := errors.New("no such interface")
		err := Run(context.Background(), opts(good, func(ctx context.Context, rt *Runtime[*config.MNConfig]) error { return errStart }))
		if !errors.Is(err, errStart) {
			t.Errorf("Run = %v", err)
		}
	})
	t.Run("task fails", func(t *testing.T) {
		errTask := errors.New("socket closed")
		err := Run(context.Background(), opts(good, func(ctx context.Context, rt *Runtime[*config.MNConfig]) error {
			rt.Go("reader", func(ctx context.Context) error { return errTask })
			rt.Go("other", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
			return nil
		}))
		if !errors.Is(err, errTask) {
			t.Errorf("Run = %v", err)
		}
	})
	t.Run("task panics", func(t *testing.T) {
		err := Run(context.Background(), opts(good, func(ctx context.Context, rt *Runtime[*config.MNConfig]) error {
			rt.Go("buggy", func(ctx context.Context) error { panic("boom") })
			return nil
		}))
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Errorf("Run = %v", err)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		started := make(chan struct{})
		go func() { <-started; cancel() }()
		err := Run(ctx, opts(good, func(ctx context.Context, rt *Runtime[*config.MNConfig]) error {
			rt.Go("worker", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
			close(started)
			return nil
		}))
		if err != nil {
			t.Errorf("Run = %v, want a clean stop", err)
		}
	})
	t.Run("stop timeout", func(t *testing.T) {
		sigs := make(chan os.Signal, 1)
		o := opts(good, func(ctx context.Context, rt *Runtime[*config.MNConfig]) error {
			rt.Go("stuck", func(ctx context.Context) error { time.Sleep(2 * time.Second); return nil })
			sigs <- syscall.SIGTERM
			return nil
		})
		o.Signals = sigs
		t0 := time.Now()
		if err := Run(context.Background(), o); !errors.Is(err, ErrStopTimeout) {
			t.Errorf("Run = %v", err)
		}
		if d := time.Since(t0); d > time.Second {
			t.Errorf("stop took %v with a 100 ms timeout", d)
		}
	})
	t.Run("missing hooks", func(t *testing.T) {
		if err := Run(context.Background(), opts(good, nil)); err == nil {
			t.Error("Run without Start succeeded")
		}
	})
}

func TestNotify(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	h := start(t, baseMN, func(o *Options[*config.MNConfig]) { o.Notify = nil }) // SystemdNotifier from the environment
	h.runtime()
	h.hup()
	h.stop(syscall.SIGTERM)
	var got []string
	buf := make([]byte, 256)
	for i := 0; i < 4; i++ {
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		msg := string(buf[:n])
		if strings.HasPrefix(msg, "RELOADING=1\nMONOTONIC_USEC=") {
			msg = "RELOADING=1"
		}
		got = append(got, msg)
	}
	want := []string{"READY=1", "RELOADING=1", "READY=1", "STOPPING=1"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("notifications %q, want %q", got, want)
	}
	if SystemdNotifier() == nil {
		t.Error("no notifier with NOTIFY_SOCKET set")
	}
	t.Setenv("NOTIFY_SOCKET", "")
	if SystemdNotifier() != nil {
		t.Error("notifier without NOTIFY_SOCKET")
	}
}

func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	l, lv := NewLogger(&b, config.Log{Level: slog.LevelWarn, Format: config.LogJSON})
	l.Info("hidden")
	l.Warn("shown", "k", 1)
	var rec map[string]any
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil || rec["msg"] != "shown" || rec["k"] != 1.0 {
		t.Errorf("JSON log %q: %v", b.String(), err)
	}
	lv.Set(slog.LevelDebug)
	b.Reset()
	l.Debug("now")
	if !strings.Contains(b.String(), `"msg":"now"`) {
		t.Errorf("level change not applied: %q", b.String())
	}
	b.Reset()
	l, _ = NewLogger(&b, config.Log{Level: slog.LevelInfo, Format: config.LogText})
	l.Info("hello", "k", "v")
	if !strings.Contains(b.String(), "level=INFO msg=hello k=v") {
		t.Errorf("text log %q", b.String())
	}
}

func TestGroup(t *testing.T) {
	g, ctx := NewGroup(context.Background())
	errFirst := errors.New("first")
	g.Go("a", func(ctx context.Context) error { return errFirst })
	g.Go("b", func(ctx context.Context) error { <-ctx.Done(); return errors.New("second") })
	if err := g.Wait(); !errors.Is(err, errFirst) || !strings.Contains(err.Error(), "task a") {
		t.Errorf("Wait = %v", err)
	}
	if ctx.Err() == nil {
		t.Error("context not cancelled")
	}
	if !errors.Is(context.Cause(ctx), errFirst) {
		t.Errorf("cause %v", context.Cause(ctx))
	}

	g, _ = NewGroup(context.Background())
	g.Go("ok", func(ctx context.Context) error { return nil })
	if err := g.Wait(); err != nil {
		t.Errorf("Wait = %v", err)
	}
}
