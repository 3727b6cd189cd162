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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fhkey/fhkey/internal/coalesce"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/mip6tls"
)

// HACSpec is what OpenHAC needs: the TLS listener's address and
// certificate, the connection limits, and the role's configuration
// (subscribers, EAP relay, HAC→HA channel).
type HACSpec struct {
	Listen      netip.AddrPort
	Certificate tls.Certificate
	// TLSMinVersion is tls.VersionTLS12 or 13 (the maximum is 1.3).
	TLSMinVersion uint16
	// SessionTimeout bounds each MN's connection, TLS handshake included
	// (0: 30 s); HandshakeTimeout bounds its TLS handshake (0 or more than
	// SessionTimeout: SessionTimeout).
	SessionTimeout, HandshakeTimeout time.Duration
	// Limits bound the connections (the zero value: unlimited; fhkey hac
	// sets the defaults of docs/tls.md, "Limits").
	Limits hac.Limits
	// KeyLog, if set, receives the TLS secrets (SSLKEYLOGFILE format).
	KeyLog io.Writer
	Role   hac.Config
	Logger *slog.Logger
}

// hacLive is what a new connection is served with; Reconfigure replaces
// it at once, a connection keeps the one it was accepted with.
type hacLive struct {
	tls *tls.Config
	// cb is the channel binding of tls's certificate (RFC 5929
	// tls-server-end-point), which the auth values cover (RFC 6618 §5.8).
	cb                 []byte
	session, handshake time.Duration
	maxSessions        int
	maxPerSource       int
}

// HAC is a running Home Agent Controller: a TCP listener whose
// connections, admitted by the limits, each carry one MN's bootstrap
// through the role inside TLS.
type HAC struct {
	Role    *hac.HAC
	ln      net.Listener
	keyLog  io.Writer
	live    atomic.Pointer[hacLive]
	limiter *hac.SourceLimiter
	log     *slog.Logger
	wg      sync.WaitGroup

	mu     sync.Mutex
	active int
	// perSource counts the open connections of each source
	// (hac.SourceKey) that has one: at most active entries.
	perSource                                          map[netip.Prefix]int
	refusedMax, refusedRate, refusedPerSource, hsFails atomic.Uint64
}

// OpenHAC listens on spec.Listen (TCP; TLS 1.2/1.3 on each admitted
// connection, renegotiation never offered by a crypto/tls server) and
// builds the role.
func OpenHAC(spec HACSpec) (*HAC, error) {
	live, err := newHACLive(spec)
	if err != nil {
		return nil, err
	}
	role, err := hac.New(spec.Role)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", spec.Listen.String())
	if err != nil {
		return nil, fmt.Errorf("node: HAC listen: %w", err)
	}
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &HAC{Role: role, ln: ln, keyLog: spec.KeyLog, log: log, perSource: map[netip.Prefix]int{},
		limiter: hac.NewSourceLimiter(spec.Limits.PerSource, spec.Limits.MaxTracked)}
	h.live.Store(live)
	return h, nil
}

// newHACLive checks spec's certificate and computes its channel binding.
func newHACLive(spec HACSpec) (*hacLive, error) {
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
	l := &hacLive{tls: HACTLSConfig(spec), cb: cb, session: spec.SessionTimeout, handshake: spec.HandshakeTimeout,
		maxSessions: spec.Limits.MaxSessions, maxPerSource: spec.Limits.MaxPerSource}
	if l.session <= 0 {
		l.session = 30 * time.Second
	}
	if l.handshake <= 0 || l.handshake > l.session {
		l.handshake = l.session
	}
	return l, nil
}

// Reconfigure applies, for the connections accepted from now on, spec's
// Certificate (with its channel binding), TLSMinVersion, SessionTimeout,
// HandshakeTimeout and Limits; the other fields are ignored (the key log
// stays the one OpenHAC was given). Established connections keep the
// certificate and timeouts they were accepted with. A certificate that
// cannot serve (none, unparsed, no channel binding) is an error and
// changes nothing.
func (h *HAC) Reconfigure(spec HACSpec) error {
	spec.KeyLog = h.keyLog
	live, err := newHACLive(spec)
	if err != nil {
		return err
	}
	h.limiter.Set(spec.Limits.PerSource, spec.Limits.MaxTracked, time.Now())
	h.live.Store(live)
	return nil
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
// per admitted connection, and waits for them. A connection the limits
// refuse is reset before its TLS handshake (admit). Accept errors that
// pass — out of descriptors or memory — are logged and retried after a
// back-off (5 ms doubling to 1 s) instead of ending the daemon.
func (h *HAC) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { h.ln.Close() })
	defer stop()
	defer h.wg.Wait()
	var backoff time.Duration
	for {
		c, err := h.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if !transientAccept(err) {
				return err
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			h.log.Warn("HAC: accept failed, retrying", "err", err, "retry_in", backoff.String())
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		live := h.live.Load()
		source, reason := h.admit(c, live)
		if reason != "" {
			h.log.Debug("HAC: connection refused", "remote", c.RemoteAddr().String(), "reason", reason)
			refuse(c)
			continue
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer h.release(source)
			// The last response and the close_notify leave in one
			// write (coalesce).
			h.session(ctx, tls.Server(coalesce.New(c), live.tls), live)
		}()
	}
}

// transientAccept reports whether an Accept error is one of the
// resource shortages that pass (EMFILE, ENFILE, ENOBUFS, ENOMEM).
func transientAccept(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// admit charges c to its source's bucket, then takes a session slot and
// one of its source's; it returns the source (hac.SourceKey; the zero
// Prefix for an address that does not parse, which no per-source limit
// applies to) and the reason of a refusal (hac.RefusedRate,
// hac.RefusedMaxSessions, hac.RefusedPerSource) or "".
func (h *HAC) admit(c net.Conn, live *hacLive) (netip.Prefix, string) {
	var source netip.Prefix
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		if !h.limiter.Allow(ap.Addr(), time.Now()) {
			h.refusedRate.Add(1)
			return source, hac.RefusedRate
		}
		source = hac.SourceKey(ap.Addr())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if live.maxSessions > 0 && h.active >= live.maxSessions {
		h.refusedMax.Add(1)
		return source, hac.RefusedMaxSessions
	}
	if source.IsValid() {
		if live.maxPerSource > 0 && h.perSource[source] >= live.maxPerSource {
			h.refusedPerSource.Add(1)
			return source, hac.RefusedPerSource
		}
		h.perSource[source]++
	}
	h.active++
	return source, ""
}

// release frees the session slot of an admitted connection from source.
func (h *HAC) release(source netip.Prefix) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.active--
	if !source.IsValid() {
		return
	}
	if n := h.perSource[source] - 1; n > 0 {
		h.perSource[source] = n
	} else {
		delete(h.perSource, source)
	}
}

// refuse closes c with a reset (SO_LINGER 0): no TIME_WAIT is kept for a
// connection that never carried anything.
func refuse(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// Connections returns the connection counters.
func (h *HAC) Connections() hac.ConnectionStats {
	h.mu.Lock()
	active, sources := h.active, len(h.perSource)
	h.mu.Unlock()
	return hac.ConnectionStats{Active: active, Sources: sources, HandshakeFailed: h.hsFails.Load(), Tracked: h.limiter.Len(),
		Refused: map[string]uint64{hac.RefusedMaxSessions: h.refusedMax.Load(), hac.RefusedRate: h.refusedRate.Load(),
			hac.RefusedPerSource: h.refusedPerSource.Load()}}
}

// session runs one MN's bootstrap and closes the connection (RFC 6618
// §5.3: "MUST close the transport connection"): the TLS handshake within
// the handshake timeout, the whole connection within the session
// timeout, both counted from the accept.
func (h *HAC) session(ctx context.Context, c *tls.Conn, live *hacLive) {
	defer c.Close()
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, start.Add(live.session))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	_ = c.SetDeadline(start.Add(live.handshake))
	// Handshake, not HandshakeContext: the deadline above and the
	// AfterFunc already bound it and end it with ctx, without the extra
	// goroutine per connection that HandshakeContext starts.
	if err := c.Handshake(); err != nil {
		h.hsFails.Add(1)
		h.log.Debug("HAC: TLS handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	_ = c.SetDeadline(start.Add(live.session))
	r, err := h.Role.Serve(ctx, c, live.cb)
	// The record is built only if it is kept: the peer's address and
	// the connection state cost allocations on every bootstrap.
	if !h.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
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
