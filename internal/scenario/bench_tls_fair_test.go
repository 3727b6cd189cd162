package scenario

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/hac/hacclient"
	"github.com/fhkey/fhkey/internal/lab"
)

// handshakeRecorder is a client configuration's VerifyConnection and
// ClientSessionCache: it keeps the last connection state the client saw
// and counts the session tickets the server sent.
type handshakeRecorder struct {
	mu      sync.Mutex
	state   tls.ConnectionState
	tickets int
}

func (r *handshakeRecorder) verify(cs tls.ConnectionState) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state = cs
	return nil
}

func (r *handshakeRecorder) Get(string) (*tls.ClientSessionState, bool) { return nil, false }

func (r *handshakeRecorder) Put(_ string, s *tls.ClientSessionState) {
	if s == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tickets++
}

// sameHandshake reports how the handshakes hac and bare recorded differ:
// not both TLS 1.3 with the same cipher suite and key exchange group, a
// resumed session, certificate chains of other octets, or not the same
// non-zero number of session tickets. nil when they are the same.
func sameHandshake(hac, bare *handshakeRecorder) error {
	h, s := hac.state, bare.state
	var errs []error
	if h.Version != tls.VersionTLS13 || s.Version != h.Version || s.CipherSuite != h.CipherSuite || s.CurveID != h.CurveID ||
		h.DidResume || s.DidResume {
		errs = append(errs, fmt.Errorf("HAC: %s %s %v resumed %v; bare: %s %s %v resumed %v",
			tls.VersionName(h.Version), tls.CipherSuiteName(h.CipherSuite), h.CurveID, h.DidResume,
			tls.VersionName(s.Version), tls.CipherSuiteName(s.CipherSuite), s.CurveID, s.DidResume))
	}
	if len(h.PeerCertificates) == 0 || len(h.PeerCertificates) != len(s.PeerCertificates) {
		errs = append(errs, fmt.Errorf("certificate chains of %d (HAC) and %d (bare) certificates", len(h.PeerCertificates), len(s.PeerCertificates)))
	} else {
		for i := range h.PeerCertificates {
			if !bytes.Equal(h.PeerCertificates[i].Raw, s.PeerCertificates[i].Raw) {
				errs = append(errs, fmt.Errorf("certificate %d differs", i))
			}
		}
	}
	if hac.tickets == 0 || hac.tickets != bare.tickets {
		errs = append(errs, fmt.Errorf("session tickets: HAC %d, bare %d", hac.tickets, bare.tickets))
	}
	return errors.Join(errs...)
}

// startFairBench starts the bench's nodes and returns them with the
// recorder of one handshake: run gets a copy of the bench whose client
// records the handshake it does.
func startFairBench(t *testing.T, ctx context.Context) (*tlsBench, func(*testing.T, func(*tlsBench) error) *handshakeRecorder) {
	t.Helper()
	b, err := startTLSBench(ctx, TLSBenchConfig{Clients: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.close(); err != nil {
			t.Error(err)
		}
	})
	return b, func(t *testing.T, run func(*tlsBench) error) *handshakeRecorder {
		t.Helper()
		r := &handshakeRecorder{}
		bb := *b
		bb.client.TLS = b.client.TLS.Clone()
		bb.client.TLS.VerifyConnection, bb.client.TLS.ClientSessionCache = r.verify, r
		if err := run(&bb); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// bootstrapHAC is one bootstrap with the bench's HAC node.
func bootstrapHAC(ctx context.Context) func(*tlsBench) error {
	return func(b *tlsBench) error {
		_, err := hacclient.Bootstrap(ctx, b.hac.Addr().String(), b.client)
		return err
	}
}

// TestBenchTLSSameHandshake checks the fairness of the bootstrap figure:
// the bench's bare TLS server and the HAC node do the same TLS 1.3
// handshake with the same client (version, cipher suite, key exchange
// group, the same certificate chain octets, a new session each time) and
// both issue session tickets, the same number
// (TestSameHandshakeDetectsDifference shows the check fails otherwise).
func TestBenchTLSSameHandshake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, record := startFairBench(t, ctx)
	hac := record(t, bootstrapHAC(ctx))
	bare := record(t, func(b *tlsBench) error { return b.handshake(ctx) })
	if err := sameHandshake(hac, bare); err != nil {
		t.Fatal(err)
	}
	h := hac.state
	t.Logf("both: %s %s %v, %d certificate(s), %d ticket(s)", tls.VersionName(h.Version), tls.CipherSuiteName(h.CipherSuite),
		h.CurveID, len(h.PeerCertificates), hac.tickets)
}

// TestSameHandshakeDetectsDifference is the negative of
// TestBenchTLSSameHandshake: real handshakes with bare servers that differ
// from the HAC in one respect each (the protocol version, the key exchange
// group, the certificate, the chain, the session tickets) fail
// sameHandshake, naming what differs.
func TestSameHandshakeDetectsDifference(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, record := startFairBench(t, ctx)
	hac := record(t, bootstrapHAC(ctx))
	otherCA, err := lab.NewEAPCert("another CA", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	otherLeaf, err := lab.NewEAPCert(benchHACName, otherCA, x509.ExtKeyUsageServerAuth, benchHACName)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		server func(*tls.Config)
		client func(*tls.Config)
		want   string
	}{
		{"TLS 1.2", func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS12, tls.VersionTLS12 },
			func(c *tls.Config) { c.MinVersion = tls.VersionTLS12 }, "bare: TLS 1.2"},
		{"other group", func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.CurveP384} }, nil, "bare: TLS 1.3 TLS_AES_128_GCM_SHA256 CurveP384"},
		{"other certificate", func(c *tls.Config) { c.Certificates = []tls.Certificate{otherLeaf.TLS()} },
			func(c *tls.Config) { c.RootCAs = c.RootCAs.Clone(); c.RootCAs.AddCert(otherCA.Cert) }, "certificate 0 differs"},
		{"longer chain", func(c *tls.Config) {
			c.Certificates = []tls.Certificate{c.Certificates[0]}
			c.Certificates[0].Certificate = append(slices.Clip(c.Certificates[0].Certificate), otherCA.Cert.Raw)
		}, nil, "certificate chains of 1 (HAC) and 2 (bare)"},
		{"no session tickets", func(c *tls.Config) { c.SessionTicketsDisabled = true }, nil, "bare 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := b.bare.config.Clone()
			tc.server(config)
			s, err := startBareTLS(config)
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			bare := record(t, func(b *tlsBench) error {
				b.bare = s
				if tc.client != nil {
					tc.client(b.client.TLS)
				}
				return b.handshake(ctx)
			})
			err = sameHandshake(hac, bare)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("sameHandshake = %v, want an error naming %q", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("more than the one difference reported: %v", err)
			}
		})
	}
}
