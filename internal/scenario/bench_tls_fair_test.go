package scenario

import (
	"bytes"
	"context"
	"crypto/tls"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/hac/hacclient"
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

// TestBenchTLSSameHandshake checks the fairness of the bootstrap figure:
// the bench's bare TLS server and the HAC node do the same TLS 1.3
// handshake with the same client (version, cipher suite, key exchange
// group, the same certificate chain octets, a new session each time) and
// both issue session tickets, the same number.
func TestBenchTLSSameHandshake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := startTLSBench(ctx, TLSBenchConfig{Clients: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := b.close(); err != nil {
			t.Error(err)
		}
	}()
	record := func(run func(*tlsBench) error) *handshakeRecorder {
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
	hac := record(func(b *tlsBench) error {
		_, err := hacclient.Bootstrap(ctx, b.hac.Addr().String(), b.client)
		return err
	})
	bare := record(func(b *tlsBench) error { return b.handshake(ctx) })
	h, s := hac.state, bare.state
	if h.Version != tls.VersionTLS13 || s.Version != h.Version || s.CipherSuite != h.CipherSuite || s.CurveID != h.CurveID ||
		h.DidResume || s.DidResume {
		t.Errorf("HAC: %s %s %v resumed %v; bare: %s %s %v resumed %v",
			tls.VersionName(h.Version), tls.CipherSuiteName(h.CipherSuite), h.CurveID, h.DidResume,
			tls.VersionName(s.Version), tls.CipherSuiteName(s.CipherSuite), s.CurveID, s.DidResume)
	}
	if len(h.PeerCertificates) == 0 || len(h.PeerCertificates) != len(s.PeerCertificates) {
		t.Fatalf("certificate chains of %d (HAC) and %d (bare) certificates", len(h.PeerCertificates), len(s.PeerCertificates))
	}
	for i := range h.PeerCertificates {
		if !bytes.Equal(h.PeerCertificates[i].Raw, s.PeerCertificates[i].Raw) {
			t.Errorf("certificate %d differs", i)
		}
	}
	if hac.tickets == 0 || hac.tickets != bare.tickets {
		t.Errorf("session tickets: HAC %d, bare %d", hac.tickets, bare.tickets)
	}
	t.Logf("both: %s %s %v, %d certificate(s), %d ticket(s)", tls.VersionName(h.Version), tls.CipherSuiteName(h.CipherSuite),
		h.CurveID, len(h.PeerCertificates), hac.tickets)
}
