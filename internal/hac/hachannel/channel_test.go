package hachannel_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hachannel"
	"github.com/fhkey/fhkey/mip6tls"
)

func exampleProvisioned(t testing.TB) *hac.Provisioned {
	key := func(b byte, n int) mip6tls.Key {
		k, err := mip6tls.NewKey(bytes.Repeat([]byte{b}, n))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	return &hac.Provisioned{
		Identity: "mn1@example.com",
		SA: mip6tls.SecurityAssociation{SPI: 4660, CipherSuite: mip6tls.CipherSuiteAES128CBCSHA256, Scope: mip6tls.SAScopeAll,
			ValidityEnd:     time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
			MNToHAIntegrity: key(1, 32), HAToMNIntegrity: key(2, 32), MNToHAEncryption: key(3, 16), HAToMNEncryption: key(4, 16)},
		Bootstrap: mip6tls.Bootstrap{HomeAddress6: netip.MustParseAddr("2001:db8:1::100"), HomePrefix6: netip.MustParsePrefix("2001:db8:1::/64")},
	}
}

// TestRequestBytes pins the channel request's octets (docs/tls.md).
func TestRequestBytes(t *testing.T) {
	b, err := hachannel.MarshalRequest(7, exampleProvisioned(t))
	if err != nil {
		t.Fatal(err)
	}
	want := "mn-id:mn1@example.com\r\n" +
		"mip6-sas:1\r\n" +
		"mip6-spi:4660\r\n" +
		"mip6-mn-to-ha-ikey:" + hexRun("01", 32) + "\r\n" +
		"mip6-ha-to-mn-ikey:" + hexRun("02", 32) + "\r\n" +
		"mip6-mn-to-ha-ekey:" + hexRun("03", 16) + "\r\n" +
		"mip6-ha-to-mn-ekey:" + hexRun("04", 16) + "\r\n" +
		"mip6-sa-validity-end:Wed, 02 Jan 2030 03:04:05 GMT\r\n" +
		"mip6-ciphersuite:{00,3C}\r\n" +
		"mip6-ip6-hoa:2001:db8:1:0:0:0:0:100\r\n" +
		"mip6-ip6-hnp:2001:db8:1:0:0:0:0:0/64\r\n" +
		"\r\n\r\n"
	if b[0] != 0 || b[1] != 7 || int(b[2])<<8|int(b[3]) != len(want) || string(b[4:]) != want {
		t.Fatalf("got\n%q\nwant content\n%q", b, want)
	}
	id, p, err := hachannel.ParseRequest(b)
	if err != nil || id != 7 || p.SA.SPI != 4660 || !p.SA.HAToMNEncryption.Equal(&exampleProvisioned(t).SA.HAToMNEncryption) || p.Bootstrap.HomeAddress6 != exampleProvisioned(t).Bootstrap.HomeAddress6 {
		t.Fatalf("%d %+v %v", id, p, err)
	}
}

func hexRun(h string, n int) string { return string(bytes.Repeat([]byte(h), n)) }

// TestParseRequestNegative: a request without mn-id or with an incomplete
// SA is refused.
func TestParseRequestNegative(t *testing.T) {
	b, _ := mip6tls.MarshalMessage(mip6tls.Message{Identifier: 1, Parameters: []mip6tls.Parameter{mip6tls.SPI(5)}})
	if _, _, err := hachannel.ParseRequest(b); !errors.Is(err, mip6tls.ErrMissing) {
		t.Fatal(err)
	}
	b, _ = mip6tls.MarshalMessage(mip6tls.Message{Identifier: 1, Parameters: []mip6tls.Parameter{mip6tls.MNIdentifier("a@b"), mip6tls.SPI(5)}})
	if _, _, err := hachannel.ParseRequest(b); !errors.Is(err, mip6tls.ErrMissing) || !errors.Is(err, mip6tls.ErrParse) {
		t.Fatal(err)
	}
	r, _ := hachannel.MarshalResponse(3, mip6tls.StatusOK)
	if _, err := hachannel.ParseResponse(r, 4); !errors.Is(err, mip6tls.ErrOutOfStep) {
		t.Fatal(err)
	}
}

type channelPKI struct{ ca, ha, hacClient, rogueClient *eaptest.Cert }

func newChannelPKI(t *testing.T) channelPKI {
	ca := eaptest.NewCert(t, "Channel CA", nil, 0)
	rogue := eaptest.NewCert(t, "Rogue CA", nil, 0)
	return channelPKI{ca: ca, ha: eaptest.NewCert(t, "ha.example.com", ca, x509.ExtKeyUsageServerAuth, "ha.example.com"),
		hacClient:   eaptest.NewCert(t, "hac", ca, x509.ExtKeyUsageClientAuth),
		rogueClient: eaptest.NewCert(t, "hac", rogue, x509.ExtKeyUsageClientAuth)}
}

// startServer serves the channel on loopback; handler errors with fail.
func startServer(t *testing.T, p channelPKI, fail error) (string, func() []mip6tls.SPI) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []mip6tls.SPI
	srv := &hachannel.Server{TLS: &tls.Config{Certificates: []tls.Certificate{p.ha.TLS()}, ClientCAs: eaptest.NewPool(p.ca)},
		Handler: func(_ context.Context, pr *hac.Provisioned) error {
			mu.Lock()
			defer mu.Unlock()
			if fail == nil {
				got = append(got, pr.SA.SPI)
			}
			return fail
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String(), func() []mip6tls.SPI { mu.Lock(); defer mu.Unlock(); return append([]mip6tls.SPI(nil), got...) }
}

func client(p channelPKI, addr string, cert *eaptest.Cert) *hachannel.Client {
	return &hachannel.Client{Addr: addr, TLS: &tls.Config{Certificates: []tls.Certificate{cert.TLS()}, RootCAs: eaptest.NewPool(p.ca), ServerName: "ha.example.com"}}
}

// TestChannelOverMutualTLS: SAs reach the handler over one connection and
// are acknowledged; a client certificate from another CA is refused; a
// handler error is a refusal at the HAC.
func TestChannelOverMutualTLS(t *testing.T) {
	p := newChannelPKI(t)
	addr, got := startServer(t, p, nil)
	c := client(p, addr, p.hacClient)
	defer c.Close()
	pr := exampleProvisioned(t)
	for spi := range mip6tls.SPI(3) {
		pr.SA.SPI = spi + 1
		if err := c.Provision(context.Background(), pr); err != nil {
			t.Fatal(err)
		}
	}
	if g := got(); len(g) != 3 || g[2] != 3 {
		t.Fatalf("HA got %v", g)
	}

	rogue := client(p, addr, p.rogueClient)
	defer rogue.Close()
	if err := rogue.Provision(context.Background(), pr); err == nil {
		t.Fatal("a client certificate from another CA was accepted")
	}
	if g := got(); len(g) != 3 {
		t.Fatalf("HA got %v", g)
	}

	addr2, _ := startServer(t, p, errors.New("no room"))
	refused := client(p, addr2, p.hacClient)
	defer refused.Close()
	if err := refused.Provision(context.Background(), pr); !errors.Is(err, hachannel.ErrRefused) {
		t.Fatal(err)
	}
}
