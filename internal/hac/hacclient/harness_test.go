package hacclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hachannel"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mip6tls"
)

var freeRADIUS = eaptest.NewFreeRADIUS("hac-eap-secret-91b2")

func TestMain(m *testing.M) { freeRADIUS.Main(m) }

const hacName = "hac.example.com"

// pki is the HAC's and the HA's certificates, from one CA, and a rogue CA.
type pki struct {
	ca, hacServer, hacClient, haServer, rogue *eaptest.Cert
}

func newPKI(t testing.TB) *pki {
	ca := eaptest.NewCert(t, "Test HAC CA", nil, 0)
	rogue := eaptest.NewCert(t, "Rogue CA", nil, 0)
	return &pki{
		ca:        ca,
		hacServer: eaptest.NewCert(t, hacName, ca, x509.ExtKeyUsageServerAuth, hacName),
		hacClient: eaptest.NewCert(t, "hac-client", ca, x509.ExtKeyUsageClientAuth),
		haServer:  eaptest.NewCert(t, "ha.example.com", ca, x509.ExtKeyUsageServerAuth, "ha.example.com"),
		rogue:     eaptest.NewCert(t, hacName, rogue, x509.ExtKeyUsageServerAuth, hacName),
	}
}

// haRecorder is a test HA: a hachannel.Server on loopback recording the
// SAs it receives.
type haRecorder struct {
	addr string
	mu   sync.Mutex
	got  []hac.Provisioned
}

func (h *haRecorder) received() []hac.Provisioned {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hac.Provisioned(nil), h.got...)
}

func startHA(t testing.TB, p *pki) *haRecorder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &haRecorder{addr: ln.Addr().String()}
	srv := &hachannel.Server{
		TLS: &tls.Config{Certificates: []tls.Certificate{p.haServer.TLS()}, ClientCAs: eaptest.NewPool(p.ca)},
		Handler: func(_ context.Context, pr *hac.Provisioned) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.got = append(h.got, *pr) // keys copied with the value
			return nil
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("HA channel server: %v", err)
		}
	})
	return h
}

func channelClient(p *pki, addr string) *hachannel.Client {
	return &hachannel.Client{Addr: addr, TLS: &tls.Config{
		Certificates: []tls.Certificate{p.hacClient.TLS()}, RootCAs: eaptest.NewPool(p.ca), ServerName: "ha.example.com"}}
}

var homeAgent = netip.MustParseAddr("2001:db8:a::1")

// hacServer runs a HAC role behind a TLS listener on loopback: one
// session per connection, as the node does.
type hacServer struct {
	addr    string
	role    *hac.HAC
	mu      sync.Mutex
	results []hac.Result
	errs    []error
}

func (s *hacServer) outcomes() ([]hac.Result, []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hac.Result(nil), s.results...), append([]error(nil), s.errs...)
}

func startHAC(t testing.TB, p *pki, cfg hac.Config, version uint16) *hacServer {
	if cfg.HomeAgent == (netip.Addr{}) {
		cfg.HomeAgent = homeAgent
	}
	role, err := hac.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	own := p.hacServer.Cert
	cb, err := mip6tls.ServerEndpointBinding(own)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{p.hacServer.TLS()}, MinVersion: tls.VersionTLS12, MaxVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	s := &hacServer{addr: ln.Addr().String(), role: role}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				r, err := role.Serve(context.Background(), c, cb)
				s.mu.Lock()
				s.results, s.errs = append(s.results, r), append(s.errs, err)
				s.mu.Unlock()
			}()
		}
	}()
	return s
}

// waitOutcome waits until the HAC has finished n sessions.
func (s *hacServer) waitOutcome(t *testing.T, n int) (hac.Result, error) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, "HAC sessions", func() (bool, string) {
		rs, _ := s.outcomes()
		return len(rs) >= n, fmt.Sprintf("%d sessions finished, want %d", len(rs), n)
	})
	rs, errs := s.outcomes()
	return rs[n-1], errs[n-1]
}

func isStatus(err error, code mip6tls.StatusCode) bool {
	var se *mip6tls.StatusError
	return errors.As(err, &se) && se.Code == code
}
