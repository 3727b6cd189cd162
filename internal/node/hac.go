package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/mip6tls"
)

// HACSpec is what OpenHAC needs: the TLS listener's address and
// certificate, and the role's configuration (subscribers, EAP relay,
// HAC→HA channel).
type HACSpec struct {
	Listen      netip.AddrPort
	Certificate tls.Certificate
	// TLSMinVersion is tls.VersionTLS12 or 13 (the maximum is 1.3).
	TLSMinVersion uint16
	// SessionTimeout bounds each MN's connection (0: 30 s).
	SessionTimeout time.Duration
	// KeyLog, if set, receives the TLS secrets (SSLKEYLOGFILE format).
	KeyLog io.Writer
	Role   hac.Config
	Logger *slog.Logger
}

// HAC is a running Home Agent Controller: a TLS listener whose
// connections each carry one MN's bootstrap through the role.
type HAC struct {
	Role    *hac.HAC
	ln      net.Listener
	cb      []byte
	timeout time.Duration
	log     *slog.Logger
	wg      sync.WaitGroup
}

// OpenHAC listens on spec.Listen with TLS 1.2/1.3 (renegotiation is never
// offered by a crypto/tls server) and builds the role. The certificate's
// channel binding (RFC 5929 tls-server-end-point) is computed once: the
// HAC's auth values cover it (RFC 6618 §5.8).
func OpenHAC(spec HACSpec) (*HAC, error) {
	if len(spec.Certificate.Certificate) == 0 {
		return nil, errors.New("node: HAC without a TLS certificate")
	}
	leaf := spec.Certificate.Leaf
	if leaf == nil {
		return nil, errors.New("node: HAC certificate not parsed")
	}
	cb, err := mip6tls.ServerEndpointBinding(leaf)
	if err != nil {
		return nil, fmt.Errorf("node: HAC certificate: %w", err)
	}
	role, err := hac.New(spec.Role)
	if err != nil {
		return nil, err
	}
	ln, err := tls.Listen("tcp", spec.Listen.String(), HACTLSConfig(spec))
	if err != nil {
		return nil, fmt.Errorf("node: HAC listen: %w", err)
	}
	timeout := spec.SessionTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &HAC{Role: role, ln: ln, cb: cb, timeout: timeout, log: log}, nil
}

// HACTLSConfig is the server configuration of the HAC's listener for
// spec: its certificate (the chain as given, no callbacks), TLS
// spec.TLSMinVersion (0: 1.2) to 1.3, the standard library's defaults for
// cipher suites, curves (X25519MLKEM768 first) and session tickets, no
// client certificate (RFC 6618 §4.1: the MN authenticates inside the
// TLS session), spec.KeyLog. `fhkey bench tls` gives its bare TLS server the
// same configuration, so that the two sides do the same handshake.
func HACTLSConfig(spec HACSpec) *tls.Config {
	min := spec.TLSMinVersion
	if min == 0 {
		min = tls.VersionTLS12
	}
	return &tls.Config{Certificates: []tls.Certificate{spec.Certificate}, MinVersion: min, MaxVersion: tls.VersionTLS13,
		KeyLogWriter: spec.KeyLog}
}

// Addr is the listener's address (with the port the kernel chose).
func (h *HAC) Addr() net.Addr { return h.ln.Addr() }

// Serve accepts MNs until ctx ends or the listener fails, one goroutine
// per connection, and waits for them.
func (h *HAC) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { h.ln.Close() })
	defer stop()
	defer h.wg.Wait()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.session(ctx, c.(*tls.Conn))
		}()
	}
}

// session runs one MN's bootstrap under the session deadline and closes
// the connection (RFC 6618 §5.3: "MUST close the transport connection").
func (h *HAC) session(ctx context.Context, c *tls.Conn) {
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	_ = c.SetDeadline(time.Now().Add(h.timeout))
	// Handshake, not HandshakeContext: the deadline above and the
	// AfterFunc already bound it and end it with ctx, without the extra
	// goroutine per connection that HandshakeContext starts.
	if err := c.Handshake(); err != nil {
		h.log.Debug("HAC: TLS handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	r, err := h.Role.Serve(ctx, c, h.cb)
	attrs := []any{"remote", c.RemoteAddr().String(), "mn", string(r.Identity), "method", string(r.Method),
		"status", uint16(r.Status), "tls", tls.VersionName(c.ConnectionState().Version)}
	if err != nil {
		h.log.Info("bootstrap failed", append(attrs, "err", err)...)
		return
	}
	h.log.Info("bootstrap", append(attrs, "spi", uint32(r.SPI))...)
}

// Close closes the listener.
func (h *HAC) Close() error { return h.ln.Close() }

// portOf converts a configured port (0: none) to the §5.7.2 parameter.
func portOf(p uint16) mip6tls.ServicePort { return mip6tls.ServicePort(p) }
