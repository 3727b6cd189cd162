package node

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mip6tls"
)

// mip6Lab is an HA node (fake home link, HAC channel on loopback) and
// `fhkey hac`'s daemon provisioning it, with one PSK subscriber.
type mip6Lab struct {
	dir  string
	pki  *eaptest.PKI
	ha   *HA
	link *fakeLink
	hac  *hksDaemon
	psk  []byte
}

func (l *mip6Lab) write(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(l.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// hacListen is the HAC daemon's TLS address from its /status.
func (l *mip6Lab) hacListen(t *testing.T) string {
	var st struct {
		Role HACStatus `json:"role"`
	}
	if code, body := l.hac.get("/status"); code != 200 || json.Unmarshal([]byte(body), &st) != nil || st.Role.Listen == "" {
		t.Fatalf("HAC /status: %d %s", code, body)
	}
	return st.Role.Listen
}

func startMIP6Lab(t *testing.T) *mip6Lab {
	l := &mip6Lab{dir: t.TempDir(), pki: eaptest.NewPKI(t), link: newFakeLink(), psk: []byte("mip6-bootstrap-test-psk")}
	h, err := OpenHA(HASpec{Listen: netip.MustParseAddrPort("[::1]:0"), HomeLink: l.link,
		Role:          ha.Config{HomePrefix: haHomePrefix, Address: netip.IPv6Loopback()},
		ChannelListen: netip.MustParseAddrPort("[::1]:0"),
		ChannelTLS: &tls.Config{Certificates: []tls.Certificate{l.pki.Server.TLS()}, ClientCAs: l.pki.Pool(),
			ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}})
	if err != nil {
		t.Fatal(err)
	}
	l.ha = h
	t.Cleanup(func() { _ = h.Close() })
	serveUntilCleanup(t, "HA Serve", h.Serve)

	for name, b := range map[string][]byte{"hac-cert.pem": l.pki.Server.CertPEM, "hac-key.pem": l.pki.Server.KeyPEM,
		"ca.pem": l.pki.CA.CertPEM, "client-cert.pem": l.pki.Client.CertPEM, "client-key.pem": l.pki.Client.KeyPEM, "mn.psk": l.psk} {
		l.write(t, name, b)
	}
	store, err := hac.OpenBolt(filepath.Join(l.dir, "subscribers.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(context.Background(), hac.Subscriber{Identity: "mn@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK},
		PSK: l.psk, HomeAddress: haHoA}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	file := l.write(t, "hac.toml", fmt.Appendf(nil, `listen = "127.0.0.1:0"
certificate = "hac-cert.pem"
key = "hac-key.pem"
[subscribers]
path = "subscribers.db"
[home_agent]
address = "::1"
port = %d
channel = %q
server_name = %q
ca = "ca.pem"
certificate = "client-cert.pem"
key = "client-key.pem"
[http]
listen = "127.0.0.1:0"
`, h.Addr().Port(), h.ChannelAddr().String(), eaptest.ServerName))
	l.hac = startDaemon(t, file, func(stderr io.Writer) daemon.Options[*config.HACConfig] { return HACOptions(file, "", stderr) })
	t.Cleanup(func() {
		if err := l.hac.stop(); err != nil {
			t.Error(err)
		}
	})
	return l
}

// mip6Config writes the configuration of `fhkey mip6` against the lab.
func (l *mip6Lab) mip6Config(t *testing.T, extra string) string {
	return l.write(t, "mip6.toml", fmt.Appendf(nil, `care_of = "2001:db8:2::55"
lifetime = "60s"
%s
[mip6tls]
hac = %q
server_name = %q
ca = "ca.pem"
identity = "mn@example.com"
psk_file = "mn.psk"
keylog = "mip6-keys.log"
[http]
listen = "127.0.0.1:0"
`, extra, l.hacListen(t), eaptest.ServerName))
}

// TestMIP6DaemonBootstrap runs `fhkey mip6`'s daemon as the command does
// (MIP6Options with HACBootstrapper) against `fhkey hac`'s daemon and an HA
// node over loopback: the PSK bootstrap over TLS, the SA provisioned to the
// HA over the mutual-TLS channel, BU → BA, the TLS secrets in the keylog.
func TestMIP6DaemonBootstrap(t *testing.T) {
	l := startMIP6Lab(t)
	file := l.mip6Config(t, "")
	if err := config.CheckMIP6(file); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("HAC log:\n%s", l.hac.log())
		}
	})
	mn := startDaemon(t, file, func(stderr io.Writer) daemon.Options[*config.MIP6Config] {
		return MIP6Options(file, stderr, "", HACBootstrapper)
	})
	defer func() {
		if err := mn.stop(); err != nil {
			t.Error(err)
		}
	}()
	var st struct {
		Role mip6mn.Status `json:"role"`
	}
	testenv.Eventually(t, 10*time.Second, "MN registered", func() (bool, string) {
		code, body := mn.get("/status")
		if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
			return false, body
		}
		return st.Role.State == mip6mn.StateRegistered && !st.Role.Outstanding, body
	})
	bs := l.ha.Role.Bindings()
	if len(bs) != 1 || bs[0].HomeAddress != haHoA || st.Role.HomeAddress != haHoA ||
		st.Role.HomeAgent != l.ha.Addr() || st.Role.SA.Scope != 1 || st.Role.Counters.Bootstraps != 0 || st.Role.Counters.BindingAcknowledgementsAccepted != 1 {
		t.Fatalf("HA bindings %s; MN %+v", formatBindings(bs), st.Role)
	}
	if sas := l.ha.Role.SAs(time.Now()); len(sas) != 1 || uint32(sas[0].SPI) != st.Role.SA.SPI {
		t.Fatalf("HA SAs %+v, MN SPI %d", sas, st.Role.SA.SPI)
	}
	if !l.link.routed(haHoA) {
		t.Error("the HA routes no home address to the home link")
	}
	if strings.Contains(mn.log(), string(l.psk)) {
		t.Error("the PSK appears in the log")
	}
	b, err := os.ReadFile(filepath.Join(l.dir, "mip6-keys.log"))
	if err != nil || !strings.Contains(string(b), "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") {
		t.Fatalf("keylog: %v %q", err, b)
	}
}

// TestHACBootstrapperRefused: a wrong PSK fails the daemon's start with
// the bootstrap error; nothing reaches the HA.
func TestHACBootstrapperRefused(t *testing.T) {
	l := startMIP6Lab(t)
	file := l.mip6Config(t, "")
	l.write(t, "mn.psk", []byte("not-the-subscriber-psk"))
	cfg, err := config.LoadMIP6(file)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	boot, err := HACBootstrapper(cfg, sec, nil)
	if err != nil {
		t.Fatal(err)
	}
	clear(sec.PSK) // the bootstrapper keeps its own copy
	if _, _, err := boot.Bootstrap(context.Background()); err == nil {
		t.Fatal("bootstrap with a wrong PSK succeeded")
	}
	if sas := l.ha.Role.SAs(time.Now()); len(sas) != 0 {
		t.Fatalf("the HA got SAs %+v", sas)
	}
}
