package mip6tls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
)

// hacCertificate returns a fresh ECDSA P-256 / SHA-256 server certificate
// for hac.example.com.
func hacCertificate(t *testing.T) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hac.example.com"},
		DNSNames: []string{"hac.example.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, c
}

// readContainer reads one container from a stream: the header, then the
// Length octets it announces.
func readContainer(r io.Reader) ([]byte, error) {
	buf := make([]byte, ContainerHeaderLen, ContainerHeaderLen+MaxContentLen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	_, n, err := ParseContainerHeader(buf)
	if err != nil {
		return nil, err
	}
	buf = buf[:ContainerHeaderLen+n]
	_, err = io.ReadFull(r, buf[ContainerHeaderLen:])
	return buf, err
}

// TestPSKExchangeOverTLS runs the PSK exchange over a real TLS connection
// on loopback, for TLS 1.2 (which RFC 6618 names) and 1.3: the MN takes
// CB-octets from the certificate it received, the HAC from its own, and
// each verifies the other's auth with them.
func TestPSKExchangeOverTLS(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) { pskOverTLS(t, version) })
	}
}

func pskOverTLS(t *testing.T, version uint16) {
	cert, leaf := hacCertificate(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	deadline := time.Now().Add(10 * time.Second)
	sa := exampleSA(t)
	hacDone := make(chan error, 1)
	go func() { hacDone <- hacServe(ln, deadline, leaf, &sa) }()

	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "hac.example.com", MinVersion: version, MaxVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	cb, err := ServerEndpointBinding(conn.ConnectionState().PeerCertificates[0])
	if err != nil {
		t.Fatal(err)
	}
	var step Lockstep
	exchange := func(wire []byte) []byte {
		t.Helper()
		req, err := ParseMessage(wire)
		if err != nil {
			t.Fatal(err)
		}
		if err := step.Request(req.Identifier, false); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(wire); err != nil {
			t.Fatal(err)
		}
		resp, err := readContainer(conn)
		if err != nil {
			t.Fatalf("reading response %d: %v (HAC: %v)", req.Identifier, err, drain(hacDone))
		}
		m, err := ParseMessage(resp)
		if err != nil {
			t.Fatal(err)
		}
		_, final := Find[StatusCode](m)
		if _, err := step.Response(m.Identifier, final); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	offered := CipherSuiteList{CipherSuiteAES128CBCSHA256}
	w1, err := PSKInitRequest("mn1@example.com", exampleMNRand)
	if err != nil {
		t.Fatal(err)
	}
	hacRand, err := CheckPSKInitResponse(exchange(w1), exampleMNRand, examplePSK, cb)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := step.NextIdentifier()
	w3, err := PSKDoneRequest(id, exampleMNRand, hacRand, SAScopeAll, offered, examplePSK, cb)
	if err != nil {
		t.Fatal(err)
	}
	r, err := CheckPSKDoneResponse(exchange(w3), exampleMNRand, hacRand, offered, examplePSK, cb)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusOK || r.SA.SPI != sa.SPI || !r.SA.MNToHAIntegrity.Equal(&sa.MNToHAIntegrity) || !step.Done() {
		t.Fatalf("result %+v, done %v", r, step.Done())
	}
	if err := <-hacDone; err != nil {
		t.Fatalf("HAC: %v", err)
	}
}

func drain(c chan error) error {
	select {
	case err := <-c:
		return err
	default:
		return nil
	}
}

// hacServe is the HAC side of one PSK exchange on one connection; its
// CB-octets come from its own certificate.
func hacServe(ln net.Listener, deadline time.Time, own *x509.Certificate, sa *SecurityAssociation) error {
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	cb, err := ServerEndpointBinding(own)
	if err != nil {
		return err
	}
	var step Lockstep
	receive := func() ([]byte, uint8, error) {
		wire, err := readContainer(c)
		if err != nil {
			return nil, 0, err
		}
		m, err := ParseMessage(wire)
		if err != nil {
			return nil, 0, err
		}
		_, status := Find[StatusCode](m)
		return wire, m.Identifier, step.Request(m.Identifier, status)
	}
	respond := func(id uint8, wire []byte, final bool) error {
		if _, err := step.Response(id, final); err != nil {
			return err
		}
		_, err := c.Write(wire)
		return err
	}
	w1, id, err := receive()
	if err != nil {
		return err
	}
	_, mnRand, err := CheckPSKInitRequest(w1)
	if err != nil {
		return err
	}
	w2, err := PSKInitResponse(id, mnRand, exampleHACRand, examplePSK, cb)
	if err != nil {
		return err
	}
	if err := respond(id, w2, false); err != nil {
		return err
	}
	w3, id, err := receive()
	if err != nil {
		return err
	}
	_, suites, err := CheckPSKDoneRequest(w3, mnRand, exampleHACRand, examplePSK, cb)
	if err != nil {
		return err
	}
	chosen := *sa
	chosen.CipherSuite, _ = suites.Select([]CipherSuite{CipherSuiteAES128CBCSHA256})
	w4, err := PSKDoneResponse(id, mnRand, exampleHACRand, StatusOK, &chosen, nil, examplePSK, cb)
	if err != nil {
		return err
	}
	return respond(id, w4, true)
}
