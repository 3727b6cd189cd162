// Package hacclient is the mobile node's side of the RFC 6618 bootstrap:
// it opens TLS to a Home Agent Controller (the HAC's certificate checked
// against the configured CAs and server name; TLS 1.2 or 1.3), runs the
// §5.3 lockstep exchange with the PSK (§5.8) or EAP (§5.9, EAP-TLS
// through internal/eap/tlspeer) method, and returns the security
// association (§4.3, §5.6) and bootstrapping data (§5.7) the HAC sends.
package hacclient

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"github.com/fhkey/fhkey/internal/coalesce"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
	"github.com/fhkey/fhkey/mip6tls"
)

// ErrConfig: the Config cannot run a bootstrap.
var ErrConfig = errors.New("hacclient: bad configuration")

// DefaultTimeout bounds a bootstrap whose context has no deadline.
const DefaultTimeout = 30 * time.Second

// Config configures a bootstrap.
type Config struct {
	// Identity is the MN's NAI (§5.5.1).
	Identity mip6tls.MNIdentifier
	// PSK enables the psk method (§5.8).
	PSK []byte
	// EAP enables the eap method with EAP-TLS (§5.9); its Identity
	// defaults to Identity.
	EAP *tlspeer.Config
	// Methods is the MN's preference (§5.5.2); nil: psk if PSK is set,
	// then eap if EAP is.
	Methods []mip6tls.AuthMethod
	// TLS is the client configuration of the connection to the HAC:
	// RootCAs and ServerName (required), MinVersion/MaxVersion (TLS 1.2
	// and 1.3; nothing older), Certificates if the HAC asks.
	TLS *tls.Config
	// KeyLog, if set, receives the TLS secrets of the connection to the
	// HAC in the SSLKEYLOGFILE format (Wireshark).
	KeyLog io.Writer
	// Scope is the SA scope asked for (§5.6.4); CipherSuites the MN's
	// list (§5.6.5; nil: the five of §5.6.5, AES first).
	Scope        mip6tls.SAScope
	CipherSuites mip6tls.CipherSuiteList
	// Rand is the source of mn-rand (nil: crypto/rand).
	Rand io.Reader
}

// DefaultCipherSuites is the MN's list when Config.CipherSuites is nil.
var DefaultCipherSuites = mip6tls.CipherSuiteList{mip6tls.CipherSuiteAES128CBCSHA256, mip6tls.CipherSuiteAES128CBCSHA,
	mip6tls.CipherSuite3DESEDECBCSHA, mip6tls.CipherSuiteNullSHA256, mip6tls.CipherSuiteNullSHA}

// Result is a successful bootstrap: the method the HAC chose, the SA (its
// ValidityEnd is when it expires) and the bootstrapping data. Zero the SA
// when done with it.
type Result struct {
	Method    mip6tls.AuthMethod
	SA        mip6tls.SecurityAssociation
	Bootstrap mip6tls.Bootstrap
	// TLSVersion is the version of the connection to the HAC.
	TLSVersion uint16
}

func (c *Config) methods() []mip6tls.AuthMethod {
	if c.Methods != nil {
		return c.Methods
	}
	var ms []mip6tls.AuthMethod
	if len(c.PSK) > 0 {
		ms = append(ms, mip6tls.AuthMethodPSK)
	}
	if c.EAP != nil {
		ms = append(ms, mip6tls.AuthMethodEAP)
	}
	return ms
}

func (c *Config) tlsConfig() (*tls.Config, error) {
	if c.TLS == nil || c.TLS.ServerName == "" {
		return nil, fmt.Errorf("%w: TLS.ServerName is needed to check the HAC's certificate", ErrConfig)
	}
	t := c.TLS
	if (t.MinVersion != 0 && t.MinVersion < tls.VersionTLS12) || t.InsecureSkipVerify {
		return nil, fmt.Errorf("%w: TLS below 1.2 or without verification", ErrConfig)
	}
	// RFC 6618 §9.2 relies on the TLS session: no renegotiation. The
	// caller's configuration is used as it is when it needs no change
	// (a clone per bootstrap is a few hundred octets of garbage).
	if t.MinVersion != 0 && t.Renegotiation == tls.RenegotiateNever && c.KeyLog == nil {
		return t, nil
	}
	t = t.Clone()
	t.MinVersion = max(t.MinVersion, tls.VersionTLS12)
	t.Renegotiation = tls.RenegotiateNever
	if c.KeyLog != nil {
		t.KeyLogWriter = c.KeyLog
	}
	return t, nil
}

// Bootstrap dials the HAC at addr (host:port) over TCP and runs Run. The
// connection is bounded by ctx's deadline (DefaultTimeout if none) and
// closed on return.
func Bootstrap(ctx context.Context, addr string, cfg Config) (*Result, error) {
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	conn, err := Dial(ctx, addr, tc)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	return Run(conn, cfg)
}

// Dial opens TCP to addr and completes a TLS handshake with tc, both
// bounded by ctx (its deadline stays the connection's). The connection
// runs over a coalesce.Conn: the handshake's Finished and the first
// request leave in one write, and a final close_notify is not held back.
// `fhkey bench tls` dials its bare handshakes with it too, so that both
// sides of its comparison use the MN's transport.
func Dial(ctx context.Context, addr string, tc *tls.Config) (*tls.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("hacclient: TLS to %s: %w", addr, err)
	}
	conn := tls.Client(coalesce.New(nc), tc)
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if err := conn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("hacclient: TLS to %s: %w", addr, err)
	}
	return conn, nil
}

// Run runs the bootstrap on an established TLS connection to the HAC: the
// CB-octets are the tls-server-end-point binding of the certificate the
// HAC presented (§5.8).
func Run(conn *tls.Conn, cfg Config) (*Result, error) {
	if err := conn.Handshake(); err != nil {
		return nil, fmt.Errorf("hacclient: TLS handshake: %w", err)
	}
	st := conn.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return nil, fmt.Errorf("hacclient: the HAC sent no certificate")
	}
	cb, err := mip6tls.ServerEndpointBinding(st.PeerCertificates[0])
	if err != nil {
		return nil, err
	}
	methods := cfg.methods()
	if len(methods) == 0 {
		return nil, fmt.Errorf("%w: neither PSK nor EAP", ErrConfig)
	}
	if cfg.CipherSuites == nil {
		cfg.CipherSuites = DefaultCipherSuites
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	x := &exchanger{rw: conn}
	r, err := x.run(&cfg, methods, cb)
	if r != nil {
		r.TLSVersion = st.Version
	}
	return r, err
}

// exchanger sends requests and reads responses in lockstep (§5.3).
type exchanger struct {
	rw   io.ReadWriter
	step mip6tls.Lockstep
}

// exchange sends one request and returns its response, parsed but not
// verified, and whether it ends the exchange.
func (x *exchanger) exchange(wire []byte) ([]byte, mip6tls.Message, bool, error) {
	id, err := x.step.NextIdentifier()
	if err != nil {
		return nil, mip6tls.Message{}, false, err
	}
	if wire[1] != id {
		return nil, mip6tls.Message{}, false, fmt.Errorf("hacclient: request Identifier %d, next is %d", wire[1], id)
	}
	if err := x.step.Request(id, false); err != nil {
		return nil, mip6tls.Message{}, false, err
	}
	if _, err := x.rw.Write(wire); err != nil {
		return nil, mip6tls.Message{}, false, err
	}
	resp, err := ReadContainer(x.rw, mip6tls.MaxContentLen)
	if err != nil {
		return nil, mip6tls.Message{}, false, err
	}
	m, err := mip6tls.ParseMessage(resp)
	if err != nil {
		return nil, mip6tls.Message{}, false, err
	}
	_, final := mip6tls.Find[mip6tls.StatusCode](m)
	if _, err := x.step.Response(m.Identifier, final); err != nil {
		return nil, mip6tls.Message{}, false, err
	}
	return resp, m, final, nil
}

// next returns the Identifier of the next request.
func (x *exchanger) next() uint8 { id, _ := x.step.NextIdentifier(); return id }

// ReadContainer reads one §5.1 container from a stream: the header, then
// the Length octets it announces, at most limit.
func ReadContainer(r io.Reader, limit int) ([]byte, error) {
	hdr := make([]byte, mip6tls.ContainerHeaderLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	_, n, err := mip6tls.ParseContainerHeader(hdr)
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%w: %w: container of %d octets, limit %d", mip6tls.ErrParse, mip6tls.ErrLength, n, limit)
	}
	buf := make([]byte, mip6tls.ContainerHeaderLen+n)
	copy(buf, hdr)
	if _, err := io.ReadFull(r, buf[mip6tls.ContainerHeaderLen:]); err != nil {
		return nil, fmt.Errorf("%w: container truncated: %w", mip6tls.ErrParse, err)
	}
	return buf, nil
}

// refusal reads a final response that ends the exchange before success:
// verified with one of keys, it is a *mip6tls.StatusError; otherwise an
// ErrAuth error naming the unauthenticated status.
func refusal(wire []byte, m mip6tls.Message, cb []byte, keys ...[]byte) error {
	status, _ := mip6tls.Find[mip6tls.StatusCode](m)
	var err error
	for _, k := range keys {
		if len(k) == 0 {
			continue
		}
		if _, err = mip6tls.VerifyMessage(wire, k, mip6tls.SenderHAC, cb); err == nil {
			return &mip6tls.StatusError{Code: status}
		}
	}
	return fmt.Errorf("%w (unauthenticated status-code %d)", err, uint16(status))
}

func (x *exchanger) run(cfg *Config, methods []mip6tls.AuthMethod, cb []byte) (*Result, error) {
	var mnRand mip6tls.MNRand
	if _, err := io.ReadFull(cfg.Rand, mnRand[:]); err != nil {
		return nil, err
	}
	w1, err := mip6tls.InitRequest(cfg.Identity, mnRand, methods...)
	if err != nil {
		return nil, err
	}
	w2, m2, final, err := x.exchange(w1)
	if err != nil {
		return nil, err
	}
	if final {
		return nil, refusal(w2, m2, cb, cfg.PSK, mip6tls.EAPSharedKey(nil))
	}
	chosen, _ := mip6tls.Find[mip6tls.AuthMethods](m2)
	switch {
	case len(chosen) != 1 || !slices.Contains(methods, chosen[0]):
		return nil, fmt.Errorf("%w: %w: the HAC selected %v, offered %v", mip6tls.ErrAuth, mip6tls.ErrMismatch, chosen, methods)
	case chosen[0] == mip6tls.AuthMethodPSK:
		return x.psk(cfg, mnRand, w2, cb)
	}
	return x.eap(cfg, w2, cb)
}

// psk runs messages 2-4 of §5.8.
func (x *exchanger) psk(cfg *Config, mnRand mip6tls.MNRand, w2, cb []byte) (*Result, error) {
	hacRand, err := mip6tls.CheckPSKInitResponse(w2, mnRand, cfg.PSK, cb)
	if err != nil {
		return nil, err
	}
	w3, err := mip6tls.PSKDoneRequest(x.next(), mnRand, hacRand, cfg.Scope, cfg.CipherSuites, cfg.PSK, cb)
	if err != nil {
		return nil, err
	}
	w4, _, _, err := x.exchange(w3)
	if err != nil {
		return nil, err
	}
	r, err := mip6tls.CheckPSKDoneResponse(w4, mnRand, hacRand, cfg.CipherSuites, cfg.PSK, cb)
	return done(mip6tls.AuthMethodPSK, r, err)
}

// done turns a Response/MHAuth-Done into a Result.
func done(method mip6tls.AuthMethod, r mip6tls.DoneResult, err error) (*Result, error) {
	if err != nil {
		return nil, err
	}
	if r.Status != mip6tls.StatusOK {
		return nil, &mip6tls.StatusError{Code: r.Status}
	}
	return &Result{Method: method, SA: r.SA, Bootstrap: r.Bootstrap}, nil
}
