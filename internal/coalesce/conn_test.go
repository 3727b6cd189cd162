package coalesce

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/lab"
)

// recorder is the connection under a Conn: it keeps each Write it is
// given, so that a test sees the system calls a Conn makes.
type recorder struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
	fail   error
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return 0, r.fail
	}
	r.writes = append(r.writes, bytes.Clone(p))
	return r.Conn.Write(p)
}

func (r *recorder) got() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writes
}

// pair returns a Conn over a recorder over one end of a TCP loopback
// connection, and the other end.
func pair(t *testing.T) (*Conn, *recorder, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	rec := &recorder{Conn: c}
	cc := New(rec)
	t.Cleanup(func() { cc.Close(); peer.Close() })
	return cc, rec, peer
}

func TestWritesWaitForRead(t *testing.T) {
	c, rec, peer := pair(t)
	for _, s := range []string{"one ", "two ", "three"} {
		if n, err := c.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if w := rec.got(); len(w) != 0 {
		t.Fatalf("written before a Read: %q", w)
	}
	go func() {
		buf := make([]byte, 13)
		_, _ = io.ReadFull(peer, buf)
		_, _ = peer.Write([]byte("answer"))
	}()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "answer" {
		t.Fatalf("Read = %q, %v", buf, err)
	}
	if w := rec.got(); len(w) != 1 || string(w[0]) != "one two three" {
		t.Fatalf("writes %q, want the three in one", w)
	}
}

func TestCloseAndFlushSend(t *testing.T) {
	c, rec, peer := pair(t)
	_, _ = c.Write([]byte("held"))
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("last"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(peer)
	if err != nil || string(all) != "heldlast" {
		t.Fatalf("peer read %q, %v", all, err)
	}
	if w := rec.got(); len(w) != 2 {
		t.Fatalf("writes %q, want 2", w)
	}
}

// TestDeadlines: a write deadline that has passed (tls.Conn.Close's
// "later writes fail") sends what is held first; a future one, or a past
// SetDeadline (an interruption), sends nothing.
func TestDeadlines(t *testing.T) {
	c, rec, _ := pair(t)
	_, _ = c.Write([]byte("x"))
	if err := c.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if w := rec.got(); len(w) != 0 {
		t.Fatalf("written on a deadline change: %q", w)
	}
	_ = c.SetDeadline(time.Time{})
	if err := c.SetWriteDeadline(time.Now()); err != nil {
		t.Fatal(err)
	}
	if w := rec.got(); len(w) != 1 || string(w[0]) != "x" {
		t.Fatalf("writes %q, want x before the deadline passed", w)
	}
}

func TestWriteErrorSticks(t *testing.T) {
	c, rec, _ := pair(t)
	boom := errors.New("boom")
	rec.fail = boom
	_, _ = c.Write([]byte("x"))
	if err := c.Flush(); !errors.Is(err, boom) {
		t.Fatalf("Flush = %v", err)
	}
	if _, err := c.Write([]byte("y")); !errors.Is(err, boom) {
		t.Fatalf("Write after a failure = %v", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, boom) {
		t.Fatalf("Read after a failure = %v", err)
	}
}

func TestLargeWrites(t *testing.T) {
	c, rec, peer := pair(t)
	go func() { _, _ = io.Copy(io.Discard, peer) }()
	_, _ = c.Write([]byte("small"))
	big := bytes.Repeat([]byte{7}, MaxBuffered+1)
	if n, err := c.Write(big); n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	w := rec.got()
	if len(w) != 2 || string(w[0]) != "small" || len(w[1]) != len(big) {
		t.Fatalf("writes of %d octets, want the held 5 then the large one on its own", lens(w))
	}
}

func lens(w [][]byte) []int {
	var n []int
	for _, b := range w {
		n = append(n, len(b))
	}
	return n
}

// TestTLS runs TLS 1.3 and 1.2 over Conns on both ends: the handshake
// completes (a Read sends what is held, so no side waits for octets the
// other holds) and, in TLS 1.3, the client's Finished and its first
// request leave in one write, the server's answer and close_notify in one.
func TestTLS(t *testing.T) {
	ca, err := lab.NewEAPCert("coalesce test CA", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := lab.NewEAPCert("server.example", ca, x509.ExtKeyUsageServerAuth, "server.example")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			c, rec, peer := pair(t)
			srec := &recorder{Conn: peer}
			server := tls.Server(New(srec), &tls.Config{Certificates: []tls.Certificate{cert.TLS()}, MinVersion: v, MaxVersion: v})
			done := make(chan error, 1)
			go func() {
				buf := make([]byte, 7)
				if _, err := io.ReadFull(server, buf); err != nil || string(buf) != "request" {
					done <- errors.Join(err, errors.New("server read "+string(buf)))
					return
				}
				_, _ = server.Write([]byte("response"))
				done <- server.Close()
			}()
			client := tls.Client(c, &tls.Config{RootCAs: pool, ServerName: "server.example", MinVersion: v, MaxVersion: v})
			if err := client.Handshake(); err != nil {
				t.Fatal(err)
			}
			if _, err := client.Write([]byte("request")); err != nil {
				t.Fatal(err)
			}
			all, err := io.ReadAll(client)
			if err != nil || string(all) != "response" {
				t.Fatalf("client read %q, %v", all, err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if v == tls.VersionTLS13 {
				// ClientHello; Finished (with the compatibility
				// change_cipher_spec) and the request.
				if w := rec.got(); len(w) != 2 {
					t.Errorf("client writes of %v octets, want 2", lens(w))
				}
				// The first flight; the response and close_notify.
				if w := srec.got(); len(w) != 2 {
					t.Errorf("server writes of %v octets, want 2", lens(w))
				}
			}
		})
	}
}
