package testenv

import (
	"context"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/radius/freeradius"
)

// EAPTLSServer is one FreeRADIUS EAP-TLS server (freeradius.StartEAPTLS)
// shared by a test binary: on IPv4 loopback, a free port, a private
// directory, certificates from its PKI, one authenticator client
// (127.0.0.1) with Secret. The first Get starts it; the package's
// TestMain calls Close after m.Run.
type EAPTLSServer struct {
	Secret []byte
	// PKI and Addr are set by the first Get.
	PKI  *PKI
	Addr netip.AddrPort

	mu     sync.Mutex
	dir    string
	shared *Shared
}

// NewEAPTLSServer returns the (not yet started) server.
func NewEAPTLSServer(secret []byte) *EAPTLSServer {
	e := &EAPTLSServer{Secret: secret}
	e.shared = NewShared(e.start)
	return e
}

// Get returns the running server, starting it on first use; without
// freeradius it stops t as Unavailable does.
func (e *EAPTLSServer) Get(t testing.TB) *Server {
	t.Helper()
	RequireTool(t, "freeradius")
	e.mu.Lock()
	if e.PKI == nil {
		e.PKI = NewPKI(t)
	}
	e.mu.Unlock()
	s, err := e.shared.Get()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *EAPTLSServer) start() (*Server, error) {
	dir, err := os.MkdirTemp("", "fhkey-eaptls-")
	if err != nil {
		return nil, err
	}
	e.dir = dir
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e.Addr = c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := e.PKI
	return freeradius.StartEAPTLS(ctx, freeradius.EAPTLSConfig{Dir: dir, Listen: e.Addr,
		Client: netip.MustParseAddr("127.0.0.1"), ClientSecret: e.Secret,
		CA: p.CA.CertPEM, Certificate: p.Server.CertPEM, Key: p.Server.KeyPEM})
}

// Close stops the server (by its PID) if it was started and removes its
// directory.
func (e *EAPTLSServer) Close() error {
	err := e.shared.Close()
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
	return err
}
