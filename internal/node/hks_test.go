package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
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

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/hks/hkstest"
	"github.com/fhkey/fhkey/internal/hks/subscribers"
	"github.com/fhkey/fhkey/internal/node/nodetest"
	"github.com/fhkey/fhkey/internal/radius"
)

// hksDaemon is an `fhkey hks` run in process by daemon.Run, with fake
// signals, its log kept.
type hksDaemon struct {
	t        *testing.T
	file     string
	sigs     chan os.Signal
	reloaded chan error
	done     chan error
	http     net.Addr
	mu       sync.Mutex
	logs     bytes.Buffer
}

// startHKSDaemon runs HKSOptions(file) and waits until it is ready.
func startHKSDaemon(t *testing.T, file string) *hksDaemon {
	t.Helper()
	return startDaemon(t, file, func(stderr io.Writer) daemon.Options[*config.HKSConfig] { return HKSOptions(file, stderr) })
}

// startDaemon runs the daemon of options in process and waits until it is
// ready (the HAC's tests use it too).
func startDaemon[C any](t *testing.T, file string, options func(stderr io.Writer) daemon.Options[C]) *hksDaemon {
	t.Helper()
	d := &hksDaemon{t: t, file: file, sigs: make(chan os.Signal, 2), reloaded: make(chan error, 1), done: make(chan error, 1)}
	ready := make(chan net.Addr, 1)
	o := options(writerFunc(func(p []byte) (int, error) { d.mu.Lock(); defer d.mu.Unlock(); return d.logs.Write(p) }))
	o.Signals, o.Ready, o.Reloaded = d.sigs, func(a net.Addr) { ready <- a }, func(err error) { d.reloaded <- err }
	o.Notify = func(string) error { return nil }
	go func() { d.done <- daemon.Run(context.Background(), o) }()
	select {
	case d.http = <-ready:
	case err := <-d.done:
		t.Fatalf("daemon stopped: %v\n%s", err, d.log())
	case <-time.After(20 * time.Second):
		t.Fatalf("daemon not ready\n%s", d.log())
	}
	return d
}

func (d *hksDaemon) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.String()
}

// get returns the status code and body of an HTTP GET of path.
func (d *hksDaemon) get(path string) (int, string) {
	d.t.Helper()
	resp, err := http.Get("http://" + d.http.String() + path)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stop sends SIGTERM and returns Run's result.
func (d *hksDaemon) stop() error {
	d.sigs <- syscall.SIGTERM
	select {
	case err := <-d.done:
		return err
	case <-time.After(15 * time.Second):
		d.t.Fatal("daemon did not stop")
		return nil
	}
}

// hksFixture is the sample hks.toml relocated to a test directory: RADIUS
// and HTTP on 127.0.0.1 port 0, the clients 127.0.0.1 (secret arSecret)
// and 192.0.2.0/24, and a bolt store with one subscriber.
type hksFixture struct {
	dir, file string
	sub       subscribers.Subscriber
}

const hksTestSecret = "ar1-secret-3e7a"

func newHKSFixture(t *testing.T) *hksFixture {
	t.Helper()
	dir := t.TempDir()
	f := &hksFixture{dir: dir, sub: subscribers.Subscriber{NAI: "mn@example.com", HMK: bytes.Repeat([]byte{0x5a, 0xc3}, 32), Enabled: true}}
	f.file = nodetest.RelocateExample(t, dir, "hks.toml", func(s string) string {
		return strings.NewReplacer(`listen = "127.0.0.1:1812"`, `listen = "127.0.0.1:0"`,
			`address = "2001:db8:1::1"`, `address = "127.0.0.1"`,
			`listen = "127.0.0.1:9752"`, `listen = "127.0.0.1:0"`).Replace(s)
	})
	f.writeSecret(t, "radius-ar1.secret", hksTestSecret)
	f.writeSecret(t, "radius-lab.secret", "lab-secret-0c51")
	store, err := subscribers.OpenBolt(filepath.Join(dir, "hks-subscribers.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Put(context.Background(), &f.sub); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *hksFixture) writeSecret(t *testing.T, name, secret string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// request is a valid HKReq of the fixture's subscriber at time ts.
func (f *hksFixture) request(ts time.Time) hkstest.Request {
	return hkstest.Request{MessageID: 7, PRF: hokey.PRFHMACSHA256, MAC: hokey.MACHMACSHA256, NAI: f.sub.NAI, HMK: f.sub.HMK,
		MNNonce: bytes.Repeat([]byte{0xa5}, 16), Time: ts,
		CoA: netip.MustParseAddr("2001:db8:1::100"), AR: netip.MustParseAddr("2001:db8:1::1")}
}

func keyRequest(t *testing.T, r hkstest.Request) aaa.KeyRequest {
	t.Helper()
	b, err := r.Sign()
	if err != nil {
		t.Fatal(err)
	}
	return aaa.KeyRequest{NAI: r.NAI, AR: r.AR, HKReq: b}
}

// radiusClient is an AR's RADIUS client for realm example.com → addr.
func radiusClient(t *testing.T, addr netip.AddrPort, secret string, timeout time.Duration, tries int) *radius.Client {
	t.Helper()
	c, err := radius.NewClient(radius.ClientConfig{
		Realms: map[string][]radius.HomeServer{"example.com": {{Addr: addr, Secret: []byte(secret)}}},
		NAS:    radius.NAS{Identifier: "test-ar"}, Timeout: timeout, Tries: tries,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// metric returns the value of series in a /metrics text, or "" if absent.
func metric(text, series string) string {
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			return v
		}
	}
	return ""
}

// TestHKSDaemon runs `fhkey hks` in process on loopback (no root): a bolt
// store with one subscriber, RADIUS on a kernel-chosen port reported in
// /status. An AR's radius.Client gets the HK that hokey.DeriveHK gives
// independently; a request with a bad MN-HKS MAC is discarded (an
// Access-Reject without fhkey attributes: aaa.ErrDiscarded) and counted;
// a request under a wrong RADIUS secret gets no answer and is counted; a
// SIGHUP with a rotated secret applies it at once and logs a changed
// lifetime as restart-only; SIGTERM stops it cleanly.
func TestHKSDaemon(t *testing.T) {
	f := newHKSFixture(t)
	d := startHKSDaemon(t, f.file)
	if code, body := d.get("/readyz"); code != 200 || body != "serving\n" && body != "serving" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	code, body := d.get("/status")
	var st struct {
		Daemon string    `json:"daemon"`
		Role   HKSStatus `json:"role"`
	}
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("/status: %d %v\n%s", code, err, body)
	}
	addr, err := netip.ParseAddrPort(st.Role.Listen)
	if err != nil || addr.Addr() != netip.MustParseAddr("127.0.0.1") || addr.Port() == 0 {
		t.Fatalf("/status listen %q: want 127.0.0.1 and the bound port", st.Role.Listen)
	}
	wantClients := []HKSClientStatus{{"client[0]", "127.0.0.1/32"}, {"client[1]", "192.0.2.0/24"}}
	if st.Daemon != "hks" || st.Role.SubscriberStore != "bolt" || len(st.Role.Clients) != 2 ||
		st.Role.Clients[0] != wantClients[0] || st.Role.Clients[1] != wantClients[1] {
		t.Errorf("/status role %+v", st.Role)
	}
	if strings.Contains(body, hksTestSecret) || strings.Contains(d.log(), hksTestSecret) {
		t.Error("a RADIUS secret appears in /status or the log")
	}

	ctx := context.Background()
	c := radiusClient(t, addr, hksTestSecret, 2*time.Second, 2)
	r := f.request(time.Now())
	kr, err := c.RequestKey(ctx, keyRequest(t, r))
	if err != nil || kr.Status != 0 {
		t.Fatalf("RequestKey: %+v, %v\n%s", kr, err, d.log())
	}
	want, err := r.HK(kr.HKSNonce)
	if err != nil {
		t.Fatal(err)
	}
	if !kr.HK.Equal(&want) || kr.HK.MACAlgorithm() != hokey.MACHMACSHA256 || kr.Lifetime != time.Hour {
		t.Errorf("HK from the daemon differs from hokey.DeriveHK's, or lifetime %v", kr.Lifetime)
	}

	// A bad MN-HKS MAC: discarded by the HKS (§6.4), counted.
	bad := keyRequest(t, f.request(time.Now().Add(time.Millisecond)))
	bad.HKReq[len(bad.HKReq)-8] ^= 0x01 // inside the AUTH Value (before the PadN)
	if _, err := c.RequestKey(ctx, bad); !errors.Is(err, aaa.ErrDiscarded) {
		t.Errorf("bad MAC: %v, want aaa.ErrDiscarded", err)
	}
	// A wrong RADIUS secret: dropped unanswered, quickly given up.
	wrong := radiusClient(t, addr, "not-the-secret", 100*time.Millisecond, 1)
	if _, err := wrong.RequestKey(ctx, keyRequest(t, f.request(time.Now().Add(2*time.Millisecond)))); !errors.Is(err, aaa.ErrNoAnswer) {
		t.Errorf("wrong secret: %v, want aaa.ErrNoAnswer", err)
	}
	_, m := d.get("/metrics")
	for series, want := range map[string]string{
		`fhkey_hks_requests_total`:                                          "2",
		`fhkey_hks_keys_issued_total`:                                       "1",
		`fhkey_hks_discarded_total{reason="bad_mac"}`:                       "1",
		`fhkey_radius_server_responses_total{code="access_accept"}`:         "1",
		`fhkey_radius_server_discards_total`:                                "1",
		`fhkey_radius_server_dropped_total{reason="message_authenticator"}`: "1",
		`fhkey_radius_server_received_total`:                                "3",
		`fhkey_hks_refused_total{status="invalid_timestamp"}`:               "0",
		`fhkey_config_reloads_total{result="success"}`:                      "0",
		`fhkey_radius_server_dropped_total{reason="overload"}`:              "0",
		`fhkey_hks_store_errors_total`:                                      "0",
		`fhkey_radius_server_responses_total{code="access_reject"}`:         "1",
		`fhkey_radius_server_duplicates_total{outcome="answered"}`:          "0",
		`fhkey_radius_server_errors_total{kind="handler"}`:                  "0",
		`fhkey_hks_replays_total`:                                           "0",
		`fhkey_hks_refused_total{status="administratively_prohibited"}`:     "0",
		`fhkey_radius_server_dropped_total{reason="unknown_client"}`:        "0",
		`fhkey_radius_server_status_server_total`:                           "0",
		`fhkey_hks_discarded_total{reason="unknown_subscriber"}`:            "0",
		`fhkey_radius_server_duplicates_total{outcome="in_progress"}`:       "0",
		`fhkey_radius_server_dropped_total{reason="invalid_request"}`:       "0",
		`fhkey_hks_discarded_total{reason="malformed"}`:                     "0",
		`fhkey_radius_server_errors_total{kind="send"}`:                     "0",
	} {
		if got := metric(m, series); got != want {
			t.Errorf("/metrics %s = %q, want %s", series, got, want)
		}
	}

	// SIGHUP: the AR's secret rotated (live) and the lifetime changed
	// (restart-only).
	f.writeSecret(t, "radius-ar1.secret", "rotated-secret-91d0")
	edited := strings.Replace(mustRead(t, f.file), `lifetime = "1h"`, `lifetime = "30m"`, 1)
	if err := os.WriteFile(f.file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	d.sigs <- syscall.SIGHUP
	if err := <-d.reloaded; err != nil {
		t.Fatalf("reload: %v\n%s", err, d.log())
	}
	live, restart := reloadRecords(d.log())
	if !strings.Contains(live, "settings=[Clients]") || !strings.Contains(restart, "settings=[KeyLifetime]") {
		t.Errorf("reload records: live %q, restart-only %q", live, restart)
	}
	stale := radiusClient(t, addr, hksTestSecret, 100*time.Millisecond, 1)
	if _, err := stale.RequestKey(ctx, keyRequest(t, f.request(time.Now().Add(3*time.Millisecond)))); !errors.Is(err, aaa.ErrNoAnswer) {
		t.Errorf("old secret after the reload: %v, want aaa.ErrNoAnswer", err)
	}
	rotated := radiusClient(t, addr, "rotated-secret-91d0", 2*time.Second, 2)
	if kr, err := rotated.RequestKey(ctx, keyRequest(t, f.request(time.Now().Add(4*time.Millisecond)))); err != nil || kr.Status != 0 || kr.Lifetime != time.Hour {
		t.Errorf("rotated secret: %+v, %v (lifetime stays 1h until the restart)", kr, err)
	}
	if err := d.stop(); err != nil {
		t.Errorf("stop: %v\n%s", err, d.log())
	}
	if l := d.log(); !strings.Contains(l, "handover key server serving") || !strings.Contains(l, "stopped") ||
		strings.Contains(l, "rotated-secret-91d0") {
		t.Errorf("logs:\n%s", l)
	}
}

// TestHKSReadBatch: the HKS reads one request per system call only with the
// PostgreSQL store, so that its readers overlap the database round trips;
// the local stores take the RADIUS server's recvmmsg batches.
func TestHKSReadBatch(t *testing.T) {
	for st, want := range map[config.SubscriberStoreType]int{
		config.SubscriberStorePostgres: 1, config.SubscriberStoreBolt: 0,
	} {
		if got := HKSReadBatch(st); got != want {
			t.Errorf("%s: ReadBatch %d, want %d", st, got, want)
		}
	}
}
