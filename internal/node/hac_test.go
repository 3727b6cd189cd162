package node

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
	"github.com/fhkey/fhkey/internal/hac/hachannel"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mip6tls"
)

// hacFixture is a `fhkey hac` configuration in a test directory: a CA,
// the HAC's server certificate (hac.example.com) and channel client
// certificate, a test HA behind the mutual-TLS channel (received: the
// last SPI it was given), a bolt subscriber file with one PSK subscriber
// mn@example.com, and hac.toml (listen and HTTP on 127.0.0.1 port 0) with
// extra appended to its top-level keys.
type hacFixture struct {
	dir, file string
	ca        *eaptest.Cert
	psk       []byte
	received  *atomic.Uint32
}

func newHACFixture(t *testing.T, extra string) *hacFixture {
	t.Helper()
	f := &hacFixture{dir: t.TempDir(), psk: []byte("daemon-test-psk"), received: new(atomic.Uint32)}
	f.ca = eaptest.NewCert(t, "HAC test CA", nil, 0)
	f.writeCert(t, "hac.example.com")
	hacClient := eaptest.NewCert(t, "hac", f.ca, x509.ExtKeyUsageClientAuth)
	haCert := eaptest.NewCert(t, "ha.example.com", f.ca, x509.ExtKeyUsageServerAuth, "ha.example.com")
	f.write(t, "ca.pem", f.ca.CertPEM)
	f.write(t, "client-cert.pem", hacClient.CertPEM)
	f.write(t, "client-key.pem", hacClient.KeyPEM)

	// The test HA.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ha := &hachannel.Server{TLS: &tls.Config{Certificates: []tls.Certificate{haCert.TLS()}, ClientCAs: eaptest.NewPool(f.ca)},
		Handler: func(_ context.Context, p *hac.Provisioned) error { f.received.Store(uint32(p.SA.SPI)); return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	haDone := make(chan error, 1)
	go func() { haDone <- ha.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-haDone })

	store, err := hac.OpenBolt(filepath.Join(f.dir, "subscribers.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, hac.Subscriber{Identity: "mn@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK}, PSK: f.psk,
		HomeAddress: netip.MustParseAddr("2001:db8:1::100")}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	f.file = f.write(t, "hac.toml", []byte(f.config(ln.Addr().String(), extra)))
	if err := config.CheckHAC(f.file); err != nil {
		t.Fatal(err)
	}
	return f
}

// config is hac.toml with the HA channel at channel and extra top-level
// keys.
func (f *hacFixture) config(channel, extra string) string {
	return fmt.Sprintf(`listen = "127.0.0.1:0"
certificate = "hac-cert.pem"
key = "hac-key.pem"
%s
[subscribers]
path = "subscribers.db"
[home_agent]
address = "2001:db8:1::1"
channel = %q
server_name = "ha.example.com"
ca = "ca.pem"
certificate = "client-cert.pem"
key = "client-key.pem"
[http]
listen = "127.0.0.1:0"
`, extra, channel)
}

func (f *hacFixture) write(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeCert issues a server certificate for hac.example.com with common
// name cn and writes it to hac-cert.pem and hac-key.pem.
func (f *hacFixture) writeCert(t *testing.T, cn string) *eaptest.Cert {
	t.Helper()
	c := eaptest.NewCert(t, cn, f.ca, x509.ExtKeyUsageServerAuth, "hac.example.com")
	f.write(t, "hac-cert.pem", c.CertPEM)
	f.write(t, "hac-key.pem", c.KeyPEM)
	return c
}

// bootstrap runs a PSK bootstrap of mn@example.com with TLS version v.
func (f *hacFixture) bootstrap(ctx context.Context, addr string, v uint16) (*hacclient.Result, error) {
	return hacclient.Bootstrap(ctx, addr, hacclient.Config{Identity: "mn@example.com", PSK: f.psk,
		TLS: &tls.Config{RootCAs: eaptest.NewPool(f.ca), ServerName: "hac.example.com", MinVersion: v, MaxVersion: v}})
}

// TestHACDaemon runs `fhkey hac` in process on loopback: a bolt store
// with one PSK subscriber, a test HA behind the mutual-TLS channel, the
// bootstrap over TLS 1.2 and 1.3 from hacclient, /status, /metrics and the
// --keylog file.
func TestHACDaemon(t *testing.T) {
	f := newHACFixture(t, "")
	ctx := context.Background()
	keylog := filepath.Join(f.dir, "keys.log")
	d := startDaemon(t, f.file, func(stderr io.Writer) daemon.Options[*config.HACConfig] { return HACOptions(f.file, keylog, stderr) })
	defer func() {
		if err := d.stop(); err != nil {
			t.Error(err)
		}
	}()
	if code, body := d.get("/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	st := hacStatus(t, d)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		r, err := f.bootstrap(ctx, st.Listen, v)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tls.VersionName(v), err, d.log())
		}
		if uint32(r.SA.SPI) != f.received.Load() || r.TLSVersion != v || r.Bootstrap.HomeAgent6 != netip.MustParseAddr("2001:db8:1::1") {
			t.Fatalf("SPI %d at the MN, %d at the HA; %+v", r.SA.SPI, f.received.Load(), r)
		}
	}
	// The HAC counts a session once its last response is out: the MN may
	// read it first.
	testenv.Eventually(t, 5*time.Second, "bootstraps counted", func() (bool, string) {
		_, m := d.get("/metrics")
		got := metric(m, `fhkey_hac_bootstraps_total{method="psk",outcome="ok"}`)
		return got == "2", "psk/ok = " + got
	})
	_, m := d.get("/metrics")
	for _, series := range []string{`fhkey_hac_connections_refused_total{reason="max_sessions"}`, `fhkey_hac_connections_refused_total{reason="rate"}`,
		`fhkey_hac_connections_refused_total{reason="per_source"}`} {
		if got := metric(m, series); got != "0" {
			t.Errorf("%s = %q, want 0 from the start", series, got)
		}
	}
	if st := hacStatus(t, d); st.Subscribers != 1 || st.Limits.MaxSessions != config.DefaultHACMaxSessions || st.Limits.PerSourceBurst != 10 ||
		st.Limits.MaxPerSource != config.DefaultHACMaxPerSource {
		t.Errorf("/status: %+v", st)
	}
	if strings.Contains(d.log(), string(f.psk)) {
		t.Error("the PSK appears in the log")
	}
	checkKeyLogFile(t, keylog)
}

// hacStatus returns the role part of the daemon's /status.
func hacStatus(t *testing.T, d *hksDaemon) HACStatus {
	t.Helper()
	var st struct {
		Role HACStatus `json:"role"`
	}
	if code, body := d.get("/status"); code != 200 || json.Unmarshal([]byte(body), &st) != nil || st.Role.Listen == "" {
		t.Fatalf("/status: %d %s", code, body)
	}
	return st.Role
}

// checkKeyLogFile checks the SSLKEYLOGFILE (NSS key log) lines of both
// connections: TLS 1.2's CLIENT_RANDOM and TLS 1.3's traffic secrets,
// "LABEL <64 hex client random> <hex secret>".
func checkKeyLogFile(t *testing.T, name string) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fi, _ := f.Stat(); fi.Mode().Perm() != 0o600 {
		t.Errorf("key log mode %v", fi.Mode().Perm())
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 || len(fs[1]) != 64 {
			t.Fatalf("key log line %q", sc.Text())
		}
		seen[fs[0]] = true
	}
	for _, l := range []string{"CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"} {
		if !seen[l] {
			t.Errorf("key log has no %s line", l)
		}
	}
}
