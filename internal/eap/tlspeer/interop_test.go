package tlspeer_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/internal/testenv"
)

// One FreeRADIUS EAP-TLS server per test binary (TestMain), on loopback,
// from a private directory, with certificates made here.
var (
	frSecret   = []byte("eap-tls-secret-3c7d")
	freeRADIUS = testenv.NewEAPTLSServer(frSecret)
	shared     struct {
		pki  *testenv.PKI
		addr netip.AddrPort
	}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := freeRADIUS.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func requireFreeRADIUS(t *testing.T) *testenv.Server {
	t.Helper()
	s := freeRADIUS.Get(t)
	shared.pki, shared.addr = freeRADIUS.PKI, freeRADIUS.Addr
	return s
}

// authenticate runs one EAP-TLS conversation: the fhkey peer ↔ the fhkey
// relay ↔ FreeRADIUS. It returns the peer, the last relay result and the
// error that ended it.
func authenticate(t *testing.T, cfg tlspeer.Config, mtu uint32) (*tlspeer.Peer, radius.EAPResult, error) {
	t.Helper()
	relay, err := radius.NewEAPRelay(radius.EAPRelayConfig{
		Servers: []radius.HomeServer{{Addr: shared.addr, Secret: frSecret}},
		NAS:     radius.NAS{Identifier: "fhkey-ar"}, FramedMTU: mtu, Timeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	peer, err := tlspeer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peer.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The authenticator starts with an EAP-Request/Identity (RFC 3748 §5.1).
	req, _ := eap.Packet{Code: eap.CodeRequest, Identifier: 1, Type: eap.TypeIdentity}.Marshal()
	s := relay.NewSession(cfg.Identity)
	var res radius.EAPResult
	for round := 0; round < 100; round++ {
		resp, err := peer.Handle(req)
		if err != nil || resp == nil {
			return peer, res, err
		}
		if res, err = s.Send(ctx, resp); err != nil {
			return peer, res, fmt.Errorf("relay: %w (stats %+v)", err, relay.Stats())
		}
		req = res.EAP
	}
	return peer, res, errors.New("no end after 100 rounds")
}

func peerConfig(p *testenv.PKI, version uint16, cert tls.Certificate) tlspeer.Config {
	return tlspeer.Config{Identity: "mn@example.com", TLS: &tls.Config{
		Certificates: []tls.Certificate{cert}, RootCAs: p.Pool(), ServerName: "radius.example.com",
		MinVersion: version, MaxVersion: version,
	}}
}

// TestFreeRADIUSEAPTLS: EAP-TLS with TLS 1.2 and 1.3 succeeds and the
// peer's MSK equals the one the relay decrypts from the Access-Accept's
// MS-MPPE keys.
func TestFreeRADIUSEAPTLS(t *testing.T) {
	fr := requireFreeRADIUS(t)
	// Small fragments both ways: FreeRADIUS fragments to Framed-MTU, the
	// peer to FragmentSize.
	for _, tc := range []struct {
		v         uint16
		mtu, frag int
	}{{tls.VersionTLS12, 1100, 0}, {tls.VersionTLS13, 1100, 0}, {tls.VersionTLS12, 200, 150}, {tls.VersionTLS13, 200, 150}} {
		v := tc.v
		t.Run(fmt.Sprintf("%s/mtu%d", tls.VersionName(v), tc.mtu), func(t *testing.T) {
			cfg := peerConfig(shared.pki, v, shared.pki.Client.TLS())
			cfg.FragmentSize = tc.frag
			peer, res, err := authenticate(t, cfg, uint32(tc.mtu))
			if err != nil {
				t.Fatalf("%v\nFreeRADIUS output:\n%s", err, fr.Output())
			}
			if res.Outcome != radius.EAPAccept || !res.HaveMSK {
				t.Fatalf("outcome %d, MSK %v", res.Outcome, res.HaveMSK)
			}
			msk, emsk, ok := peer.Keys()
			if !ok || peer.Version() != v {
				t.Fatalf("peer keys %v, version %#x", ok, peer.Version())
			}
			if !msk.Equal(&res.MSK) {
				t.Fatal("the peer's MSK differs from the MS-MPPE keys of the Access-Accept")
			}
			if msk.Equal(&eap.MSK{}) || emsk.Equal(&eap.EMSK{}) {
				t.Fatal("zero key")
			}
		})
	}
}

// TestFreeRADIUSEAPTLSWrongClient: a client certificate from another CA
// gets EAP-Failure through an Access-Reject, and no MSK.
func TestFreeRADIUSEAPTLSWrongClient(t *testing.T) {
	requireFreeRADIUS(t)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			peer, res, err := authenticate(t, peerConfig(shared.pki, v, shared.pki.RogueClient.TLS()), 1100)
			t.Logf("ended with %v", err)
			if !errors.Is(err, tlspeer.ErrFailure) && !errors.Is(err, tlspeer.ErrTLS) {
				t.Fatalf("err = %v, want EAP-Failure", err)
			}
			if res.HaveMSK || res.Outcome == radius.EAPAccept {
				t.Fatalf("outcome %d with MSK %v", res.Outcome, res.HaveMSK)
			}
			if _, _, ok := peer.Keys(); ok {
				t.Fatal("the peer has keys")
			}
		})
	}
}
