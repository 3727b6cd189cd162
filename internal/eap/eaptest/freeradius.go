package eaptest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/radius/freeradius"
	"github.com/fhkey/fhkey/internal/testenv"
)

// FreeRADIUS is one FreeRADIUS EAP-TLS server shared by the tests of a
// binary: started by the first Require, with the certificates of PKI,
// stopped by Close (the package's TestMain).
type FreeRADIUS struct {
	// PKI made by the first Require.
	PKI *PKI
	// Addr is the server's UDP address on loopback; Secret the shared
	// secret of the client 127.0.0.1.
	Addr   netip.AddrPort
	Secret []byte

	dir    string
	shared *testenv.Shared
}

// NewFreeRADIUS returns the shared server, not started.
func NewFreeRADIUS(secret string) *FreeRADIUS {
	f := &FreeRADIUS{Secret: []byte(secret)}
	f.shared = testenv.NewShared(f.start)
	return f
}

func (f *FreeRADIUS) start() (*testenv.Server, error) {
	dir, err := os.MkdirTemp("", "fhkey-eaptls-")
	if err != nil {
		return nil, err
	}
	f.dir = dir
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.Addr = c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := f.PKI
	return freeradius.StartEAPTLS(ctx, freeradius.EAPTLSConfig{Dir: dir, Listen: f.Addr,
		Client: netip.MustParseAddr("127.0.0.1"), ClientSecret: f.Secret,
		CA: p.CA.CertPEM, Certificate: p.Server.CertPEM, Key: p.Server.KeyPEM})
}

// Require returns the running server, starting it the first time; t
// stops as testenv.Unavailable says when freeradius is not installed.
func (f *FreeRADIUS) Require(t *testing.T) *testenv.Server {
	t.Helper()
	testenv.RequireTool(t, "freeradius")
	if f.PKI == nil {
		f.PKI = NewPKI(t)
	}
	s, err := f.shared.Get()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Main runs the tests of m, stops the server and exits: the TestMain of
// a package whose tests use f.
func (f *FreeRADIUS) Main(m *testing.M) {
	code := m.Run()
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// Close stops the server if it runs and removes its directory.
func (f *FreeRADIUS) Close() error {
	err := f.shared.Close()
	if f.dir != "" {
		os.RemoveAll(f.dir)
	}
	return err
}
