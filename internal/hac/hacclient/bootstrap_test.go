package hacclient_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/mip6tls"
)

var (
	mnPSK    = []byte("mn1-pre-shared-key")
	mnHoA    = netip.MustParseAddr("2001:db8:1::100")
	mnPrefix = netip.MustParsePrefix("2001:db8:1::/64")
)

func pskStore(t testing.TB) *hac.Memory {
	st := hac.NewMemory()
	err := st.Put(context.Background(), hac.Subscriber{Identity: "mn1@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK},
		PSK: mnPSK, HomeAddress: mnHoA, HomePrefix: mnPrefix})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func clientTLS(p *pki, version uint16) *tls.Config {
	return &tls.Config{RootCAs: eaptest.NewPool(p.ca), ServerName: hacName, MinVersion: version, MaxVersion: version}
}

func bootstrap(t *testing.T, addr string, cfg hacclient.Config) (*hacclient.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return hacclient.Bootstrap(ctx, addr, cfg)
}

// checkProvisioned checks that the MN and the HA hold the same SA.
func checkProvisioned(t *testing.T, r *hacclient.Result, ha *haRecorder, identity mip6tls.MNIdentifier) {
	t.Helper()
	got := ha.received()
	if len(got) != 1 {
		t.Fatalf("HA received %d SAs, want 1", len(got))
	}
	p := got[0]
	if p.Identity != identity || p.SA.SPI != r.SA.SPI || p.SA.CipherSuite != r.SA.CipherSuite || !p.SA.ValidityEnd.Equal(r.SA.ValidityEnd) {
		t.Fatalf("HA has %s SPI %d %v until %v; MN has SPI %d %v until %v", p.Identity, p.SA.SPI, p.SA.CipherSuite, p.SA.ValidityEnd,
			r.SA.SPI, r.SA.CipherSuite, r.SA.ValidityEnd)
	}
	for _, k := range [][2]*mip6tls.Key{{&p.SA.MNToHAIntegrity, &r.SA.MNToHAIntegrity}, {&p.SA.HAToMNIntegrity, &r.SA.HAToMNIntegrity},
		{&p.SA.MNToHAEncryption, &r.SA.MNToHAEncryption}, {&p.SA.HAToMNEncryption, &r.SA.HAToMNEncryption}} {
		if !k[0].Equal(k[1]) || k[0].Len() == 0 {
			t.Fatalf("a key differs between the HA and the MN (or is empty)")
		}
	}
	if r.SA.MNToHAIntegrity.Equal(&r.SA.HAToMNIntegrity) {
		t.Fatal("the two integrity keys are equal")
	}
	if r.Bootstrap.HomeAgent6 != homeAgent || r.Bootstrap.HomeAddress6 != mnHoA || r.Bootstrap.HomePrefix6 != mnPrefix || r.Bootstrap.ServicePort() != mip6tls.DefaultServicePort {
		t.Fatalf("bootstrap %+v", r.Bootstrap)
	}
	if until := time.Until(r.SA.ValidityEnd); until < hac.DefaultSALifetime-time.Minute || until > hac.DefaultSALifetime {
		t.Fatalf("validity ends in %v", until)
	}
}

// TestPSKBootstrap runs the §5.8 exchange from the client to the HAC role
// over real TLS 1.2 and 1.3 on loopback, the SA reaching a test HA over
// the mutual-TLS channel before the MN.
func TestPSKBootstrap(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			p := newPKI(t)
			ha := startHA(t, p)
			h := startHAC(t, p, hac.Config{Subscribers: pskStore(t), Provisioner: channelClient(p, ha.addr)}, v)
			var keylog bytes.Buffer
			r, err := bootstrap(t, h.addr, hacclient.Config{Identity: "mn1@example.com", PSK: mnPSK, TLS: clientTLS(p, v),
				Scope: mip6tls.SAScopeAll, KeyLog: &keylog})
			if err != nil {
				t.Fatal(err)
			}
			if r.Method != mip6tls.AuthMethodPSK || r.TLSVersion != v || r.SA.CipherSuite != mip6tls.CipherSuiteAES128CBCSHA256 || r.SA.Scope != mip6tls.SAScopeAll {
				t.Fatalf("result %+v", r)
			}
			checkProvisioned(t, r, ha, "mn1@example.com")
			res, err := h.waitOutcome(t, 1)
			if err != nil || res.Status != mip6tls.StatusOK || res.SPI != r.SA.SPI {
				t.Fatalf("HAC: %+v, %v", res, err)
			}
			checkKeyLog(t, keylog.Bytes(), v)
			if got := h.role.Stats().Bootstraps["psk"]["ok"]; got != 1 {
				t.Fatalf("bootstraps psk/ok = %d", got)
			}
		})
	}
}

// checkKeyLog checks the NSS key log format Wireshark reads
// (SSLKEYLOGFILE): "LABEL <client random hex> <secret hex>" lines.
func checkKeyLog(t *testing.T, b []byte, version uint16) {
	t.Helper()
	want := map[string]bool{"CLIENT_RANDOM": version == tls.VersionTLS12, "CLIENT_TRAFFIC_SECRET_0": version == tls.VersionTLS13,
		"SERVER_TRAFFIC_SECRET_0": version == tls.VersionTLS13, "CLIENT_HANDSHAKE_TRAFFIC_SECRET": version == tls.VersionTLS13}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || len(f[1]) != 64 {
			t.Fatalf("key log line %q", sc.Text())
		}
		delete(want, f[0])
	}
	for label, needed := range want {
		if needed {
			t.Fatalf("key log has no %s line:\n%s", label, b)
		}
	}
}

// TestBadServerCertificate: a HAC whose certificate does not chain to the
// MN's CA is refused in the handshake; nothing is provisioned.
func TestBadServerCertificate(t *testing.T) {
	p := newPKI(t)
	ha := startHA(t, p)
	rogue := *p
	rogue.hacServer = p.rogue
	h := startHAC(t, &rogue, hac.Config{Subscribers: pskStore(t), Provisioner: channelClient(p, ha.addr)}, tls.VersionTLS13)
	_, err := bootstrap(t, h.addr, hacclient.Config{Identity: "mn1@example.com", PSK: mnPSK, TLS: clientTLS(p, tls.VersionTLS13)})
	var unknownAuthority x509.UnknownAuthorityError
	if !errors.As(err, &unknownAuthority) {
		t.Fatalf("err = %v", err)
	}
	if n := len(ha.received()); n != 0 {
		t.Fatalf("HA received %d SAs", n)
	}
}

// TestWrongPSK: the MN holds another PSK: the HAC's Response/MHAuth-Init
// does not verify, the MN stops, and no SA is made.
func TestWrongPSK(t *testing.T) {
	p := newPKI(t)
	ha := startHA(t, p)
	h := startHAC(t, p, hac.Config{Subscribers: pskStore(t), Provisioner: channelClient(p, ha.addr)}, tls.VersionTLS13)
	_, err := bootstrap(t, h.addr, hacclient.Config{Identity: "mn1@example.com", PSK: []byte("not-the-psk"), TLS: clientTLS(p, tls.VersionTLS13)})
	if !errors.Is(err, mip6tls.ErrBadAuthenticator) {
		t.Fatalf("err = %v", err)
	}
	res, _ := h.waitOutcome(t, 1)
	if res.SPI != 0 || len(ha.received()) != 0 {
		t.Fatalf("HAC %+v, HA %d SAs", res, len(ha.received()))
	}
}

// TestUnknownIdentity: the HAC answers 401 at once.
func TestUnknownIdentity(t *testing.T) {
	p := newPKI(t)
	ha := startHA(t, p)
	h := startHAC(t, p, hac.Config{Subscribers: pskStore(t), Provisioner: channelClient(p, ha.addr)}, tls.VersionTLS13)
	_, err := bootstrap(t, h.addr, hacclient.Config{Identity: "nobody@example.com", PSK: mnPSK, TLS: clientTLS(p, tls.VersionTLS13)})
	if !isStatus(err, mip6tls.StatusUnauthorized) {
		t.Fatalf("err = %v", err)
	}
	if res, herr := h.waitOutcome(t, 1); !errors.Is(herr, hac.ErrUnknownSubscriber) || res.Status != mip6tls.StatusUnauthorized {
		t.Fatalf("HAC %+v, %v", res, herr)
	}
}

// TestHomeAgentDown: the HA channel cannot be reached: the MN gets 503
// and no SA.
func TestHomeAgentDown(t *testing.T) {
	p := newPKI(t)
	h := startHAC(t, p, hac.Config{Subscribers: pskStore(t), Provisioner: channelClient(p, "127.0.0.1:1")}, tls.VersionTLS13)
	r, err := bootstrap(t, h.addr, hacclient.Config{Identity: "mn1@example.com", PSK: mnPSK, TLS: clientTLS(p, tls.VersionTLS13)})
	if !isStatus(err, mip6tls.StatusServiceUnavailable) || r != nil {
		t.Fatalf("result %v, err = %v", r, err)
	}
	if res, herr := h.waitOutcome(t, 1); !errors.Is(herr, hac.ErrHomeAgent) || res.SPI != 0 {
		t.Fatalf("HAC %+v, %v", res, herr)
	}
	if got := h.role.Stats().Bootstraps["psk"][hac.OutcomeHAFailed]; got != 1 {
		t.Fatalf("bootstraps psk/ha_failed = %d", got)
	}
}

// TestEAPBootstrap runs the §5.9 exchange: the client's EAP-TLS peer inside
// the RFC 6618 messages, the HAC relaying to a real FreeRADIUS EAP-TLS
// server over RADIUS; the last messages are keyed with the MSK.
func TestEAPBootstrap(t *testing.T) {
	freeRADIUS.Require(t)
	eapPKI := freeRADIUS.PKI
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			p := newPKI(t)
			ha := startHA(t, p)
			h := startEAPHAC(t, p, ha, v)
			r, err := bootstrap(t, h.addr, hacclient.Config{Identity: "mn2@example.com", TLS: clientTLS(p, v),
				EAP: &tlspeer.Config{TLS: &tls.Config{Certificates: []tls.Certificate{eapPKI.Client.TLS()}, RootCAs: eapPKI.Pool(),
					ServerName: eaptest.ServerName}}})
			if err != nil {
				res, herr := h.waitOutcome(t, 1)
				t.Fatalf("%v (HAC: %+v, %v)", err, res, herr)
			}
			if r.Method != mip6tls.AuthMethodEAP {
				t.Fatalf("method %v", r.Method)
			}
			checkProvisioned(t, r, ha, "mn2@example.com")
			if res, herr := h.waitOutcome(t, 1); herr != nil || res.SPI != r.SA.SPI {
				t.Fatalf("HAC: %+v, %v", res, herr)
			}
			if got := h.role.Stats().Bootstraps["eap"]["ok"]; got != 1 {
				t.Fatalf("bootstraps eap/ok = %d", got)
			}
		})
	}
}

// TestEAPRejected: FreeRADIUS refuses a client certificate from another CA:
// the MN gets 401 with EAP-Failure, no SA.
func TestEAPRejected(t *testing.T) {
	freeRADIUS.Require(t)
	eapPKI := freeRADIUS.PKI
	p := newPKI(t)
	ha := startHA(t, p)
	h := startEAPHAC(t, p, ha, tls.VersionTLS13)
	_, err := bootstrap(t, h.addr, hacclient.Config{Identity: "mn2@example.com", TLS: clientTLS(p, tls.VersionTLS13),
		EAP: &tlspeer.Config{TLS: &tls.Config{Certificates: []tls.Certificate{eapPKI.RogueClient.TLS()}, RootCAs: eapPKI.Pool(),
			ServerName: eaptest.ServerName}}})
	if err == nil {
		t.Fatal("bootstrap succeeded with a rogue client certificate")
	}
	res, herr := h.waitOutcome(t, 1)
	if res.SPI != 0 || len(ha.received()) != 0 || herr == nil {
		t.Fatalf("HAC %+v, %v; HA %d SAs", res, herr, len(ha.received()))
	}
}

// startEAPHAC starts a HAC relaying EAP to the shared FreeRADIUS, serving
// mn2@example.com.
func startEAPHAC(t *testing.T, p *pki, ha *haRecorder, version uint16) *hacServer {
	relay, err := radius.NewEAPRelay(radius.EAPRelayConfig{
		Servers: []radius.HomeServer{{Addr: freeRADIUS.Addr, Secret: freeRADIUS.Secret}},
		NAS:     radius.NAS{Identifier: "fhkey-hac"}, Timeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	st := hac.NewMemory()
	if err := st.Put(context.Background(), hac.Subscriber{Identity: "mn2@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodEAP},
		HomeAddress: mnHoA, HomePrefix: mnPrefix}); err != nil {
		t.Fatal(err)
	}
	return startHAC(t, p, hac.Config{Subscribers: st, Provisioner: channelClient(p, ha.addr),
		EAP: func(id string) hac.EAPSession { return relay.NewSession(id) }}, version)
}
