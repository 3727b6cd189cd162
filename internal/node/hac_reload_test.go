package node

import (
	"context"
	"crypto/tls"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
	"github.com/fhkey/fhkey/mip6tls"
)

// TestHACDaemonReload: SIGHUP on `fhkey hac` rotates the server
// certificate (a new TLS client sees the new one and bootstraps: the
// channel binding follows the certificate; a connection established
// before the reload finishes its bootstrap under the old one), applies the
// subscriber file as edited while the daemon runs (the file is not held)
// and the new [limits]; a restart-only change is logged as such. A reload
// that fails — a bad PEM, an invalid configuration, a subscriber path
// naming no file — changes nothing and the HAC serves on with the old
// settings.
func TestHACDaemonReload(t *testing.T) {
	f := newHACFixture(t, "")
	ctx := context.Background()
	d := startDaemon(t, f.file, func(stderr io.Writer) daemon.Options[*config.HACConfig] { return HACOptions(f.file, "", stderr) })
	defer func() {
		if err := d.stop(); err != nil {
			t.Error(err)
		}
	}()
	addr := hacStatus(t, d).Listen
	roots := eaptest.NewPool(f.ca)
	served := func(t *testing.T) string {
		t.Helper()
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "hac.example.com"})
		if err != nil {
			t.Fatalf("%v\n%s", err, d.log())
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	reload := func() error {
		d.sigs <- syscall.SIGHUP
		return <-d.reloaded
	}
	if cn := served(t); cn != "hac.example.com" {
		t.Fatalf("before the reload the HAC serves %q", cn)
	}
	// Established before the reload: keeps the old certificate.
	held, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "hac.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	f.writeCert(t, "hac rotated")
	sub, err := hac.OpenBolt(filepath.Join(f.dir, "subscribers.db"), 0)
	if err != nil {
		t.Fatalf("the running daemon holds the subscriber file: %v", err)
	}
	psk2 := []byte("second-subscriber-psk")
	err = sub.Put(ctx, hac.Subscriber{Identity: "mn2@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK}, PSK: psk2,
		HomeAddress: netip.MustParseAddr("2001:db8:1::200")})
	if cerr := sub.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	channel := hacStatus(t, d).HomeAgent
	// All connections come from 127.0.0.1: more than the default burst.
	const limits = "[limits]\nmax_sessions = 7\nper_source = { rate = 1000.0, burst = 1000 }\n"
	f.write(t, "hac.toml", []byte(f.config(channel, limits+"[security_associations]\nlifetime = \"1h\"")))
	if err := reload(); err != nil {
		t.Fatalf("reload: %v\n%s", err, d.log())
	}
	if cn := served(t); cn != "hac rotated" {
		t.Fatalf("after the reload the HAC serves %q", cn)
	}
	if _, err := f.bootstrap(ctx, addr, tls.VersionTLS13); err != nil {
		t.Fatalf("bootstrap under the new certificate: %v\n%s", err, d.log())
	}
	if _, err := hacclient.Run(held, hacclient.Config{Identity: "mn@example.com", PSK: f.psk}); err != nil {
		t.Fatalf("the connection established before the reload: %v\n%s", err, d.log())
	}
	if _, err := hacclient.Bootstrap(ctx, addr, hacclient.Config{Identity: "mn2@example.com", PSK: psk2,
		TLS: &tls.Config{RootCAs: roots, ServerName: "hac.example.com"}}); err != nil {
		t.Fatalf("the subscriber added while running: %v\n%s", err, d.log())
	}
	st := hacStatus(t, d)
	if st.Limits.MaxSessions != 7 || st.Subscribers != 2 {
		t.Fatalf("/status after the reload: %+v", st)
	}
	live, restart := reloadRecords(d.log())
	if !strings.Contains(live, "subscribers=2") || !strings.Contains(restart, "SALifetime") || strings.Contains(restart, "Limits") {
		t.Fatalf("live: %q\nrestart: %q", live, restart)
	}

	good := f.config(channel, limits)
	for _, bad := range []struct {
		name string
		prep func()
	}{
		{"bad PEM", func() {
			f.write(t, "hac-cert.pem", []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"))
		}},
		{"key of another certificate", func() {
			other := eaptest.NewCert(t, "hac other", f.ca, 0, "hac.example.com")
			f.write(t, "hac-key.pem", other.KeyPEM)
		}},
		{"invalid configuration", func() { f.write(t, "hac.toml", []byte(f.config(channel, "[limits]\nmax_sessions = 0"))) }},
		{"subscriber path naming no file", func() {
			f.write(t, "hac.toml", []byte(strings.Replace(good, `path = "subscribers.db"`, `path = "typo.db"`, 1)))
		}},
	} {
		t.Run(bad.name, func(t *testing.T) {
			f.writeCert(t, "hac rotated again")
			f.write(t, "hac.toml", []byte(good))
			bad.prep()
			if err := reload(); err == nil {
				t.Fatalf("reload accepted\n%s", d.log())
			}
			if cn := served(t); cn != "hac rotated" {
				t.Fatalf("a failed reload changed the certificate: %q", cn)
			}
			if _, err := f.bootstrap(ctx, addr, tls.VersionTLS12); err != nil {
				t.Fatalf("after a failed reload: %v\n%s", err, d.log())
			}
			if st := hacStatus(t, d); st.Limits.MaxSessions != 7 || st.Subscribers != 2 {
				t.Fatalf("/status after a failed reload: %+v", st)
			}
		})
	}
	if _, err := hacclient.Bootstrap(ctx, addr, hacclient.Config{Identity: "mn2@example.com", PSK: psk2,
		TLS: &tls.Config{RootCAs: roots, ServerName: "hac.example.com"}}); err != nil {
		t.Fatalf("after the failed reloads, the subscribers are the old ones: %v", err)
	}
}
