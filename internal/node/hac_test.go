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

// TestHACDaemon runs `fhkey hac` in process on loopback: a bolt store
// with one PSK subscriber, a test HA behind the mutual-TLS channel, the
// bootstrap over TLS 1.2 and 1.3 from hacclient, /status, /metrics and the
// --keylog file.
func TestHACDaemon(t *testing.T) {
	dir := t.TempDir()
	ca := eaptest.NewCert(t, "HAC test CA", nil, 0)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hacCert := eaptest.NewCert(t, "hac.example.com", ca, x509.ExtKeyUsageServerAuth, "hac.example.com")
	hacClient := eaptest.NewCert(t, "hac", ca, x509.ExtKeyUsageClientAuth)
	haCert := eaptest.NewCert(t, "ha.example.com", ca, x509.ExtKeyUsageServerAuth, "ha.example.com")
	write("hac-cert.pem", hacCert.CertPEM)
	write("hac-key.pem", hacCert.KeyPEM)
	write("ca.pem", ca.CertPEM)
	write("client-cert.pem", hacClient.CertPEM)
	write("client-key.pem", hacClient.KeyPEM)

	// The test HA.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var received atomic.Uint32
	ha := &hachannel.Server{TLS: &tls.Config{Certificates: []tls.Certificate{haCert.TLS()}, ClientCAs: eaptest.NewPool(ca)},
		Handler: func(_ context.Context, p *hac.Provisioned) error { received.Store(uint32(p.SA.SPI)); return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	haDone := make(chan error, 1)
	go func() { haDone <- ha.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-haDone })

	store, err := hac.OpenBolt(filepath.Join(dir, "subscribers.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	psk := []byte("daemon-test-psk")
	if err := store.Put(ctx, hac.Subscriber{Identity: "mn@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK}, PSK: psk,
		HomeAddress: netip.MustParseAddr("2001:db8:1::100")}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	file := write("hac.toml", fmt.Appendf(nil, `listen = "127.0.0.1:0"
certificate = "hac-cert.pem"
key = "hac-key.pem"
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
`, ln.Addr().String()))
	if err := config.CheckHAC(file); err != nil {
		t.Fatal(err)
	}
	keylog := filepath.Join(dir, "keys.log")
	d := startDaemon(t, file, func(stderr io.Writer) daemon.Options[*config.HACConfig] { return HACOptions(file, keylog, stderr) })
	defer func() {
		if err := d.stop(); err != nil {
			t.Error(err)
		}
	}()
	if code, body := d.get("/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	var st struct {
		Role HACStatus `json:"role"`
	}
	if code, body := d.get("/status"); code != 200 || json.Unmarshal([]byte(body), &st) != nil || st.Role.Listen == "" {
		t.Fatalf("/status: %d %s", code, body)
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		r, err := hacclient.Bootstrap(ctx, st.Role.Listen, hacclient.Config{Identity: "mn@example.com", PSK: psk,
			TLS: &tls.Config{RootCAs: eaptest.NewPool(ca), ServerName: "hac.example.com", MinVersion: v, MaxVersion: v}})
		if err != nil {
			t.Fatalf("%s: %v\n%s", tls.VersionName(v), err, d.log())
		}
		if uint32(r.SA.SPI) != received.Load() || r.TLSVersion != v || r.Bootstrap.HomeAgent6 != netip.MustParseAddr("2001:db8:1::1") {
			t.Fatalf("SPI %d at the MN, %d at the HA; %+v", r.SA.SPI, received.Load(), r)
		}
	}
	// The HAC counts a session once its last response is out: the MN may
	// read it first.
	testenv.Eventually(t, 5*time.Second, "bootstraps counted", func() (bool, string) {
		_, m := d.get("/metrics")
		got := metric(m, `fhkey_hac_bootstraps_total{method="psk",outcome="ok"}`)
		return got == "2", "psk/ok = " + got
	})
	if strings.Contains(d.log(), string(psk)) {
		t.Error("the PSK appears in the log")
	}
	checkKeyLogFile(t, keylog)
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
