package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mip6tls"
)

// acceptAll is an SAProvisioner whose HA accepts every SA.
type acceptAll struct{}

func (acceptAll) Provision(context.Context, *hac.Provisioned) error { return nil }

// limitedHAC is a HAC node on 127.0.0.1 with limits l, one PSK
// subscriber mn@example.com, serving until the test ends; boot runs a
// bootstrap from the local address from (the zero Addr: the kernel's).
type limitedHAC struct {
	*HAC
	boot func(from netip.Addr) error
}

func openLimitedHAC(t *testing.T, l hac.Limits, handshake time.Duration) *limitedHAC {
	t.Helper()
	ca := eaptest.NewCert(t, "HAC limits CA", nil, 0)
	cert := eaptest.NewCert(t, "hac.example.com", ca, x509.ExtKeyUsageServerAuth, "hac.example.com")
	subs := hac.NewMemory()
	psk := []byte("limits-test-psk")
	if err := subs.Put(context.Background(), hac.Subscriber{Identity: "mn@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK}, PSK: psk,
		HomeAddress: netip.MustParseAddr("2001:db8:1::100")}); err != nil {
		t.Fatal(err)
	}
	h, err := OpenHAC(HACSpec{Listen: netip.MustParseAddrPort("127.0.0.1:0"), Certificate: cert.TLS(), Limits: l, HandshakeTimeout: handshake,
		Role: hac.Config{Subscribers: subs, Provisioner: acceptAll{}, HomeAgent: netip.MustParseAddr("2001:db8:1::1")}})
	if err != nil {
		t.Fatal(err)
	}
	serveUntilCleanup(t, "HAC Serve", h.Serve)
	roots := eaptest.NewPool(ca)
	boot := func(from netip.Addr) error {
		d := &net.Dialer{Timeout: 5 * time.Second}
		if from.IsValid() {
			d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, 0))
		}
		raw, err := d.Dial("tcp", h.Addr().String())
		if err != nil {
			return err
		}
		defer raw.Close()
		_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
		c := tls.Client(raw, &tls.Config{RootCAs: roots, ServerName: "hac.example.com"})
		if err := c.Handshake(); err != nil {
			return err
		}
		_, err = hacclient.Run(c, hacclient.Config{Identity: "mn@example.com", PSK: psk})
		return err
	}
	return &limitedHAC{HAC: h, boot: boot}
}

// refused connects to addr from the local address from (the zero Addr:
// the kernel's) and reports whether the server reset the connection
// without a word: the connect itself fails with ECONNRESET (the reset
// came before the dialer checked the socket) or a read ends with an error
// other than the deadline.
func refused(addr string, from netip.Addr) error {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if from.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, 0))
	}
	c, err := d.Dial("tcp", addr)
	if errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 1))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("not refused: %v", err)
	}
	return nil
}

// dialOpen opens n TCP connections to h from the local address from (the
// zero Addr: the kernel's) that send nothing, closed when the test ends,
// and returns them.
func dialOpen(t *testing.T, h *limitedHAC, from netip.Addr, n int) []net.Conn {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	if from.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, 0))
	}
	var cs []net.Conn
	for range n {
		c, err := d.Dial("tcp", h.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		cs = append(cs, c)
	}
	return cs
}

// TestHACMaxSessions: over loopback TCP, max_sessions connections are
// admitted (each waits for its ClientHello), the next is reset before any
// TLS and counted as max_sessions, and closing one admits another, which
// bootstraps.
func TestHACMaxSessions(t *testing.T) {
	const max = 3
	h := openLimitedHAC(t, hac.Limits{MaxSessions: max}, 0)
	open := dialOpen(t, h, netip.Addr{}, max)
	testenv.Eventually(t, 5*time.Second, "max_sessions connections admitted", func() (bool, string) {
		s := h.Connections()
		return s.Active == max, fmt.Sprintf("%+v", s)
	})
	if err := refused(h.Addr().String(), netip.Addr{}); err != nil {
		t.Fatalf("connection %d: %v", max+1, err)
	}
	if err := h.boot(netip.Addr{}); err == nil {
		t.Fatal("a bootstrap got through a full HAC")
	}
	if s := h.Connections(); s.Refused[hac.RefusedMaxSessions] != 2 || s.Refused[hac.RefusedRate] != 0 || s.Active != max {
		t.Fatalf("%+v, want 2 refused as max_sessions, %d active", s, max)
	}
	if st := h.Role.Stats(); st.Sessions != 0 {
		t.Fatalf("the role saw %d sessions of refused connections", st.Sessions)
	}

	open[0].Close()
	open = open[1:]
	testenv.Eventually(t, 5*time.Second, "the closed connection's slot freed", func() (bool, string) {
		s := h.Connections()
		return s.Active == max-1, fmt.Sprintf("%+v", s)
	})
	if err := h.boot(netip.Addr{}); err != nil {
		t.Fatalf("after a close: %v", err)
	}
	if s := h.Connections(); s.Refused[hac.RefusedMaxSessions] != 2 {
		t.Fatalf("%+v", s)
	}
}

// TestHACPerSourceRate: a burst from one source beyond per_source's burst
// is reset before TLS and counted as rate; another source (127.0.0.2) is
// still admitted; a reload to a larger burst hands out no fresh tokens.
func TestHACPerSourceRate(t *testing.T) {
	const burst = 3
	// 1 token in 1000 s: none refills during the test.
	h := openLimitedHAC(t, hac.Limits{MaxSessions: 100, PerSource: hac.Rate{PerSecond: 0.001, Burst: burst}}, 0)
	one, two := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	for i := range burst {
		if err := h.boot(one); err != nil {
			t.Fatalf("bootstrap %d of the burst: %v", i+1, err)
		}
	}
	for i := range 2 {
		if err := refused(h.Addr().String(), one); err != nil {
			t.Fatalf("connection %d beyond the burst: %v", i+1, err)
		}
	}
	if err := h.boot(two); err != nil {
		t.Fatalf("another source: %v", err)
	}
	if s := h.Connections(); s.Refused[hac.RefusedRate] != 2 || s.Refused[hac.RefusedMaxSessions] != 0 || s.Tracked != 2 {
		t.Fatalf("%+v, want 2 refused as rate, 2 sources tracked", s)
	}
	spec := HACSpec{Certificate: h.live.Load().tls.Certificates[0], Limits: hac.Limits{MaxSessions: 100, PerSource: hac.Rate{PerSecond: 0.001, Burst: 50}}}
	if err := h.Reconfigure(spec); err != nil {
		t.Fatal(err)
	}
	if err := h.boot(one); err == nil {
		t.Fatal("a reload refilled the source's bucket")
	}
}

// TestHACHandshakeTimeout: a connection that sends no ClientHello is
// closed at handshake_timeout (well before the session timeout), counted
// as a handshake failure, and its slot freed.
func TestHACHandshakeTimeout(t *testing.T) {
	h := openLimitedHAC(t, hac.Limits{MaxSessions: 1}, 200*time.Millisecond)
	c, err := net.Dial("tcp", h.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The session timeout is 30 s: a close before the 10 s read deadline
	// is the handshake timeout's.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a silent connection was not closed: %v", err)
	}
	testenv.Eventually(t, 5*time.Second, "the handshake failure counted, the slot freed", func() (bool, string) {
		s := h.Connections()
		return s.HandshakeFailed == 1 && s.Active == 0, fmt.Sprintf("%+v", s)
	})
	if err := h.boot(netip.Addr{}); err != nil {
		t.Fatal(err)
	}
}

// failingListener fails Accept with errs in turn, then as closed.
type failingListener struct {
	net.Listener
	errs []error
}

func (l *failingListener) Accept() (net.Conn, error) {
	if len(l.errs) == 0 {
		return nil, net.ErrClosed
	}
	err := l.errs[0]
	l.errs = l.errs[1:]
	return nil, err
}

// TestHACAcceptBackoff: out of descriptors (EMFILE, ENFILE) Serve logs,
// backs off and accepts again instead of ending the daemon; another
// Accept error still ends Serve.
func TestHACAcceptBackoff(t *testing.T) {
	h := openLimitedHAC(t, hac.Limits{}, 0)
	var logs strings.Builder
	fl := &failingListener{Listener: h.ln, errs: []error{
		&net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)},
		&net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.ENFILE)}}}
	h2 := &HAC{Role: h.Role, ln: fl, limiter: h.limiter, log: slog.New(slog.NewTextHandler(&logs, nil))}
	h2.live.Store(h.live.Load())
	if err := h2.Serve(context.Background()); err != nil {
		t.Fatalf("Serve ended with %v after transient accept errors", err)
	}
	if len(fl.errs) != 0 || strings.Count(logs.String(), "accept failed, retrying") != 2 {
		t.Fatalf("left %v; log:\n%s", fl.errs, logs.String())
	}
	other := errors.New("accept: something else")
	h2.ln = &failingListener{Listener: h.ln, errs: []error{other}}
	if err := h2.Serve(context.Background()); !errors.Is(err, other) {
		t.Fatalf("Serve: %v, want the other error", err)
	}
}

// TestHACMaxPerSource: over loopback TCP, max_per_source connections from
// one source are admitted (each waits for its ClientHello), the next from
// it is reset before any TLS and counted as per_source, another source
// (127.0.0.2) still bootstraps, and closing one admits the first source
// again.
func TestHACMaxPerSource(t *testing.T) {
	const max = 2
	h := openLimitedHAC(t, hac.Limits{MaxSessions: 100, MaxPerSource: max}, 0)
	one, two := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	open := dialOpen(t, h, one, max)
	testenv.Eventually(t, 5*time.Second, "max_per_source connections admitted", func() (bool, string) {
		s := h.Connections()
		return s.Active == max && s.Sources == 1, fmt.Sprintf("%+v", s)
	})
	if err := refused(h.Addr().String(), one); err != nil {
		t.Fatalf("connection %d from one source: %v", max+1, err)
	}
	if err := h.boot(two); err != nil {
		t.Fatalf("another source: %v", err)
	}
	if s := h.Connections(); s.Refused[hac.RefusedPerSource] != 1 || s.Refused[hac.RefusedMaxSessions] != 0 || s.Refused[hac.RefusedRate] != 0 {
		t.Fatalf("%+v, want 1 refused as per_source", s)
	}
	open[0].Close()
	open = open[1:]
	testenv.Eventually(t, 5*time.Second, "the closed connection's slot freed", func() (bool, string) {
		s := h.Connections()
		return s.Active == max-1 && s.Sources == 1, fmt.Sprintf("%+v", s)
	})
	if err := h.boot(one); err != nil {
		t.Fatalf("after a close: %v", err)
	}
	open[0].Close()
	testenv.Eventually(t, 5*time.Second, "no source left", func() (bool, string) {
		s := h.Connections()
		return s.Active == 0 && s.Sources == 0, fmt.Sprintf("%+v", s)
	})
	// A reload applies a new limit to the connections accepted from then on.
	spec := HACSpec{Certificate: h.live.Load().tls.Certificates[0], Limits: hac.Limits{MaxSessions: 100, MaxPerSource: 0}}
	if err := h.Reconfigure(spec); err != nil {
		t.Fatal(err)
	}
	dialOpen(t, h, one, max+1)
	testenv.Eventually(t, 5*time.Second, "unlimited after the reload", func() (bool, string) {
		s := h.Connections()
		return s.Active == max+1, fmt.Sprintf("%+v", s)
	})
}
