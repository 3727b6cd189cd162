package supplicant_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/eap/supplicant"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
	"github.com/fhkey/fhkey/internal/radius"
)

// One FreeRADIUS EAP-TLS server per test binary, on loopback.
var freeRADIUS = eaptest.NewFreeRADIUS("supplicant-secret-91b2")

func TestMain(m *testing.M) { freeRADIUS.Main(m) }

var (
	supplicantMAC    = net.HardwareAddr{0x02, 0, 0, 0, 0x5e, 0x01}
	authenticatorMAC = net.HardwareAddr{0x02, 0, 0, 0, 0xa0, 0x01}
	otherMAC         = net.HardwareAddr{0x02, 0, 0, 0, 0xbb, 0x01}
)

func supplicantConfig(p *eaptest.PKI, version uint16, roots *eaptest.Cert, serverName string) supplicant.Config {
	pool := p.Pool()
	if roots != nil {
		pool = eaptest.NewPool(roots)
	}
	return supplicant.Config{Peer: tlspeer.Config{Identity: "mn@example.com", TLS: &tls.Config{
		Certificates: []tls.Certificate{p.Client.TLS()}, RootCAs: pool, ServerName: serverName,
		MinVersion: version, MaxVersion: version,
	}}, StartPeriod: 200 * time.Millisecond, AuthPeriod: 5 * time.Second}
}

// authenticateThroughFreeRADIUS runs the supplicant against the relay
// authenticator and returns both ends' outcomes.
func authenticateThroughFreeRADIUS(t *testing.T, cfg supplicant.Config) (*supplicant.Supplicant, *eaptest.MemoryLink, supplicant.Result, error, radius.EAPResult, error) {
	t.Helper()
	relay, err := radius.NewEAPRelay(radius.EAPRelayConfig{
		Servers: []radius.HomeServer{{Addr: freeRADIUS.Addr, Secret: freeRADIUS.Secret}},
		NAS:     radius.NAS{Identifier: "fhkey-ar"}, Timeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	s, err := supplicant.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sup, auth := eaptest.NewMemoryLinks(supplicantMAC, authenticatorMAC)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type relayed struct {
		res radius.EAPResult
		err error
	}
	done := make(chan relayed, 1)
	go func() {
		res, err := eaptest.RelayAuthenticator(ctx, auth, relay)
		done <- relayed{res, err}
	}()
	res, err := s.Authenticate(ctx, sup)
	r := <-done
	return s, sup, res, err, r.res, r.err
}

// TestFreeRADIUS: the supplicant authenticates with EAP-TLS (TLS 1.2 and
// 1.3) through an authenticator relaying to FreeRADIUS; its MSK is the
// one of the Access-Accept, its Start went to the PAE group address, its
// Responses to the authenticator, and Logoff goes there too.
func TestFreeRADIUS(t *testing.T) {
	fr := freeRADIUS.Require(t)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			before := time.Now()
			s, link, res, err, relayed, rerr := authenticateThroughFreeRADIUS(t, supplicantConfig(freeRADIUS.PKI, v, nil, eaptest.ServerName))
			if err != nil || rerr != nil {
				t.Fatalf("supplicant: %v, authenticator: %v\nFreeRADIUS output:\n%s", err, rerr, fr.Output())
			}
			if relayed.Outcome != radius.EAPAccept || !relayed.HaveMSK {
				t.Fatalf("outcome %d, MSK %v", relayed.Outcome, relayed.HaveMSK)
			}
			if !res.MSK.Equal(&relayed.MSK) || res.MSK.Equal(&eap.MSK{}) {
				t.Fatal("the supplicant's MSK differs from the MS-MPPE keys of the Access-Accept")
			}
			if !bytes.Equal(res.Authenticator, authenticatorMAC) || res.TLSVersion != v || res.At.Before(before) {
				t.Fatalf("result %v, TLS %#x", res, res.TLSVersion)
			}
			if str := fmt.Sprint(res); bytes.Contains([]byte(str), []byte(fmt.Sprintf("%x", res.MSK[:8]))) {
				t.Fatalf("String shows the MSK: %s", str)
			}
			st := s.Status()
			if st.State != supplicant.StateAuthenticated || st.Authenticator != authenticatorMAC.String() || st.Identity != "mn@example.com" || st.Authentications != 1 {
				t.Fatalf("status %+v", st)
			}
			sent := link.Frames()
			if len(sent) < 3 || !bytes.Equal(sent[0].Dst, net.HardwareAddr(eap.PAEGroupAddress[:])) || sent[0].PDU[1] != byte(eap.EAPOLStart) {
				t.Fatalf("first frame %+v, want EAPOL-Start to the PAE group address", sent[0])
			}
			for _, f := range sent[1:] {
				if !bytes.Equal(f.Dst, authenticatorMAC) {
					t.Fatalf("Response to %s, want the authenticator %s", f.Dst, authenticatorMAC)
				}
			}
			if err := s.Logoff(link); err != nil {
				t.Fatal(err)
			}
			last := link.Frames()[len(sent)]
			if !bytes.Equal(last.Dst, authenticatorMAC) || !bytes.Equal(last.PDU, []byte{2, byte(eap.EAPOLLogoff), 0, 0}) {
				t.Fatalf("logoff frame %x to %s", last.PDU, last.Dst)
			}
		})
	}
}

// TestFreeRADIUSWrongServer: a server certificate that does not verify
// (another CA, another name) fails the authentication: ErrFailure, no
// MSK, and the authenticator sees no Access-Accept.
func TestFreeRADIUSWrongServer(t *testing.T) {
	freeRADIUS.Require(t)
	p := freeRADIUS.PKI
	for name, cfg := range map[string]func(uint16) supplicant.Config{
		"wrong CA":   func(v uint16) supplicant.Config { return supplicantConfig(p, v, p.RogueCA, eaptest.ServerName) },
		"wrong name": func(v uint16) supplicant.Config { return supplicantConfig(p, v, nil, "aaa.example.org") },
	} {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			t.Run(name+"/"+tls.VersionName(v), func(t *testing.T) {
				s, _, res, err, relayed, _ := authenticateThroughFreeRADIUS(t, cfg(v))
				t.Logf("ended with %v", err)
				if !errors.Is(err, supplicant.ErrFailure) || !errors.Is(err, tlspeer.ErrTLS) && !errors.Is(err, tlspeer.ErrFailure) {
					t.Fatalf("err = %v, want ErrFailure from the handshake", err)
				}
				if !res.MSK.Equal(&eap.MSK{}) || relayed.Outcome == radius.EAPAccept {
					t.Fatalf("MSK or Access-Accept after a failure (outcome %d)", relayed.Outcome)
				}
				if st := s.Status(); st.State != supplicant.StateFailed || st.Error == "" {
					t.Fatalf("status %+v", st)
				}
			})
		}
	}
}
