package mip6mn

import (
	"context"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/mip6sa"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// Timers of RFC 6275 §12 and §13 that the role uses (§11.8).
const (
	// InitialBindackTimeoutFirstReg is the first retransmission timer of
	// a Binding Update when there is no binding at the home agent
	// (RFC 6275 §13, default 1.5 s).
	InitialBindackTimeoutFirstReg = 1500 * time.Millisecond
	// InitialBindackTimeout is the first retransmission timer otherwise
	// (INITIAL_BINDACK_TIMEOUT, RFC 6275 §12).
	InitialBindackTimeout = time.Second
	// MaxBindackTimeout caps the doubling; the mobile node keeps
	// retransmitting at this rate (MAX_BINDACK_TIMEOUT, RFC 6275 §12,
	// §11.7.1 "SHOULD continue to periodically retransmit").
	MaxBindackTimeout = 32 * time.Second
)

// Defaults of the choices RFC 6618 and RFC 6275 leave to the
// implementation (docs/mip6mn.md).
const (
	// DefaultLifetime is the binding lifetime requested when the Config
	// gives none (shortened to the SA's remaining validity).
	DefaultLifetime = 600 * time.Second
	// DefaultRebootstrapMargin is how long before mip6-sa-validity-end
	// the role asks for a new SA, at most half the SA's remaining
	// validity when it was installed.
	DefaultRebootstrapMargin = 5 * time.Minute
	// MaxBootstrapRetry caps the back-off between failed bootstraps
	// (doubling from 1 s).
	MaxBootstrapRetry = time.Minute
)

// StatusSequenceOutOfWindow is the Binding Acknowledgement status 135
// (RFC 6275 §6.1.8): the Sequence Number field carries the last one the
// home agent accepted, and the mobile node continues after it (§11.7.1).
const StatusSequenceOutOfWindow = 135

// Bootstrapper provisions a fresh MN-HA security association: the TLS
// exchange with the Home Agent Controller of RFC 6618 §5 (the hac client
// implements it). The role owns what it returns and zeroes the SA's keys
// once its ciphers are keyed.
type Bootstrapper interface {
	Bootstrap(ctx context.Context) (*mip6tls.SecurityAssociation, *mip6tls.Bootstrap, error)
}

// Config is what the role is given. Now and Send are required.
type Config struct {
	// Now is the clock.
	Now func() time.Time
	// Send sends one UDP payload to the home agent's service port. It
	// must not call back into the role.
	Send func(to netip.AddrPort, packet []byte) error
	// Bootstrapper gives new SAs before the current one ends; nil means
	// the role cannot renew (Tick only reports it).
	Bootstrapper Bootstrapper
	// HomeAddress, when valid, is used instead of the HAC's mip6-ip6-hoa.
	HomeAddress netip.Addr
	// HomeAgent, when valid, is used when the HAC gives no mip6-haa-ip6.
	HomeAgent netip.AddrPort
	// Lifetime is the binding lifetime to request (DefaultLifetime).
	Lifetime time.Duration
	// RebootstrapMargin: see DefaultRebootstrapMargin.
	RebootstrapMargin time.Duration
	// AllowPlaintextData lets user data travel as PType 0 when the SA's
	// mip6-sas is 0 (RFC 6618 §6.4); otherwise such data is dropped, both
	// ways.
	AllowPlaintextData bool
	// Rand is the IV source of the sealed packets (nil: crypto/rand).
	Rand io.Reader
}

// State is the registration state of the binding with the home agent.
type State string

// The registration states.
const (
	StateIdle        State = "idle"        // no care-of address yet
	StateRegistering State = "registering" // Binding Update sent, no binding
	StateRegistered  State = "registered"  // accepted, lifetime running
	StateRefused     State = "refused"     // refused; retried every MaxBindackTimeout
)

// session is one installed SA with the addresses it applies to.
type session struct {
	pair      *mip6sa.Pair
	home      netip.Addr
	homeAgent netip.AddrPort
}

// MobileNode is the RFC 6618 mobile node role. It is safe for concurrent
// use: HandlePacket, SendData and Tick may run on different goroutines.
type MobileNode struct {
	cfg Config
	c   counters

	mu   sync.Mutex
	cur  *session
	prev *session // the SA replaced last, still accepted inbound until a BA on cur

	coa         netip.Addr
	state       State
	seq         uint16        // Sequence Number of the last Binding Update
	outstanding bool          // a Binding Update awaits its acknowledgement
	rto         time.Duration // current retransmission timeout
	nextTx      time.Time     // retransmission, refresh or retry time
	sentAt      time.Time     // when the last Binding Update left
	requested   time.Duration // its Lifetime
	granted     time.Duration // the last accepted Lifetime
	expires     time.Time     // end of the binding
	lastStatus  int           // status of the last BA, -1 before any

	bootAt        time.Time
	bootRetry     time.Duration
	bootstrapping bool
}

// New builds the role around the first SA and bootstrapping data (from
// the Bootstrapper or configuration). Registration starts with
// SetCareOfAddress.
func New(cfg Config, sa *mip6tls.SecurityAssociation, bs *mip6tls.Bootstrap) (*MobileNode, error) {
	if cfg.Now == nil || cfg.Send == nil {
		return nil, wrap(ErrConfig, nil, "Now and Send are required")
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.RebootstrapMargin == 0 {
		cfg.RebootstrapMargin = DefaultRebootstrapMargin
	}
	if cfg.Lifetime < lifetimeUnit || cfg.RebootstrapMargin < 0 {
		return nil, wrap(ErrConfig, nil, "lifetime %v (want >= 4s), re-bootstrap margin %v", cfg.Lifetime, cfg.RebootstrapMargin)
	}
	m := &MobileNode{cfg: cfg, state: StateIdle, lastStatus: -1}
	s, err := m.newSession(sa, bs)
	if err != nil {
		return nil, err
	}
	m.cur = s
	m.scheduleBootstrap(cfg.Now())
	return m, nil
}

// newSession keys the mobile node's Pair and resolves its addresses.
func (m *MobileNode) newSession(sa *mip6tls.SecurityAssociation, bs *mip6tls.Bootstrap) (*session, error) {
	if sa == nil {
		return nil, wrap(ErrSecurityAssociation, nil, "none given")
	}
	defer sa.Zero()
	p, err := mip6sa.NewWithRand(mip6sa.MobileNode, sa, bs, m.cfg.Rand)
	if err != nil {
		return nil, wrap(ErrSecurityAssociation, err, "SPI %d", sa.SPI)
	}
	s := &session{pair: p, home: p.HomeAddress, homeAgent: p.HomeAgent}
	if m.cfg.HomeAddress.IsValid() {
		s.home = m.cfg.HomeAddress
	}
	if !s.homeAgent.Addr().IsValid() {
		s.homeAgent = m.cfg.HomeAgent
	}
	if !s.home.Is6() || s.home.Is4In6() || s.home.IsUnspecified() || s.home.IsMulticast() {
		return nil, wrap(ErrAddress, nil, "home address %v: neither the HAC (mip6-ip6-hoa) nor the configuration gives an IPv6 unicast address", s.home)
	}
	if !s.homeAgent.IsValid() || s.homeAgent.Port() == 0 {
		return nil, wrap(ErrAddress, nil, "home agent %v: neither the HAC (mip6-haa-ip6) nor the configuration gives one", s.homeAgent)
	}
	return s, nil
}

// scheduleBootstrap sets when to ask for the next SA: the margin before
// the current one ends, at most half of what remains (docs/mip6mn.md).
func (m *MobileNode) scheduleBootstrap(now time.Time) {
	until := m.cur.pair.ValidUntil
	margin := min(m.cfg.RebootstrapMargin, until.Sub(now)/2)
	m.bootAt = until.Add(-margin)
	m.bootRetry = 0
}

// SetCareOfAddress registers coa with the home agent at once (RFC 6275
// §11.7.1: a new primary care-of address MUST be registered). The same
// address again changes nothing.
func (m *MobileNode) SetCareOfAddress(coa netip.Addr) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if coa == m.coa && m.state != StateIdle {
		return nil
	}
	if _, _, err := BindingUpdatePayload(0, lifetimeUnit, m.cur.home, coa, m.cur.homeAgent.Addr()); err != nil {
		return err
	}
	m.coa = coa
	return m.register(m.cfg.Now(), false)
}

// register sends a new Binding Update (a new Sequence Number, RFC 6275
// §11.8 "Retransmitted Binding Updates MUST use a Sequence Number value
// greater than that used for the previous transmission") with a fresh
// retransmission timer unless retransmit. Called with mu held.
func (m *MobileNode) register(now time.Time, retransmit bool) error {
	switch {
	case retransmit:
		m.rto = min(2*m.rto, MaxBindackTimeout)
		m.c.buRetransmitted.Add(1)
	case m.state == StateRegistered:
		m.rto = InitialBindackTimeout
	default:
		// RFC 6275 §11.8: no binding at the home agent yet.
		m.rto = InitialBindackTimeoutFirstReg
		m.state = StateRegistering
	}
	m.outstanding = true
	m.nextTx = now.Add(m.rto)
	s := m.cur
	life, err := bindingLifetime(m.cfg.Lifetime, now, s.pair.ValidUntil)
	if err != nil {
		m.c.noSA.Add(1)
		return err
	}
	m.seq++
	nh, payload, err := BindingUpdatePayload(m.seq, life, s.home, m.coa, s.homeAgent.Addr())
	if err != nil {
		return err
	}
	pkt, err := s.pair.Out.Seal(nil, mip6udp.PacketTypeMobilityHeader, nh, payload)
	if err != nil {
		m.c.sendFailed.Add(1)
		return wrap(ErrSecurityAssociation, err, "sealing the binding update")
	}
	m.sentAt, m.requested = now, life
	m.c.buSent.Add(1)
	if err := m.cfg.Send(s.homeAgent, pkt); err != nil {
		m.c.sendFailed.Add(1)
		return wrap(ErrAddress, err, "sending the binding update to %v", s.homeAgent)
	}
	return nil
}

// Tick runs what is due at the clock's now: a Binding Update
// retransmission (doubling to MaxBindackTimeout), a refresh before the
// binding ends, the end of an unrefreshed binding, and the request for a
// new SA before mip6-sa-validity-end, which calls the Bootstrapper (the
// retransmissions wait meanwhile; data and received packets do not). It
// returns the error of the BU it sent or of the bootstrap, if any.
func (m *MobileNode) Tick(ctx context.Context) error {
	now := m.cfg.Now()
	m.mu.Lock()
	var err error
	if m.state == StateRegistered && !now.Before(m.expires) {
		// RFC 6275 §11.7.1: the binding has ended.
		m.state = StateRegistering
	}
	if m.state != StateIdle && !now.Before(m.nextTx) {
		retransmit := m.outstanding && m.state != StateRefused
		err = m.register(now, retransmit)
	}
	boot := m.cfg.Bootstrapper != nil && !m.bootstrapping && !now.Before(m.bootAt)
	m.bootstrapping = m.bootstrapping || boot
	m.mu.Unlock()
	if boot {
		if berr := m.rebootstrap(ctx); berr != nil {
			err = berr
		}
	}
	return err
}

// rebootstrap asks for a new SA and re-registers with it. On failure it
// retries with back-off (1 s doubling to MaxBootstrapRetry).
func (m *MobileNode) rebootstrap(ctx context.Context) error {
	sa, bs, err := m.cfg.Bootstrapper.Bootstrap(ctx)
	var s *session
	if err == nil {
		s, err = m.newSession(sa, bs)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bootstrapping = false
	now := m.cfg.Now()
	if err != nil {
		m.c.bootstrapFailures.Add(1)
		m.bootRetry = min(max(2*m.bootRetry, time.Second), MaxBootstrapRetry)
		m.bootAt = now.Add(m.bootRetry)
		return wrap(ErrSecurityAssociation, err, "re-bootstrap")
	}
	m.c.bootstraps.Add(1)
	m.prev, m.cur = m.cur, s
	m.scheduleBootstrap(now)
	if m.state == StateIdle {
		return nil
	}
	// The home agent learns the new SA from a Binding Update under it.
	return m.register(now, false)
}

// NextDeadline is when Tick has work next: the retransmission, refresh or
// retry time, the end of the binding, the re-bootstrap time.
func (m *MobileNode) NextDeadline() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.bootAt
	if m.state != StateIdle && m.nextTx.Before(d) {
		d = m.nextTx
	}
	if m.state == StateRegistered && m.expires.Before(d) {
		d = m.expires
	}
	return d
}

// Counters returns a snapshot of the counters.
func (m *MobileNode) Counters() Counters { return m.c.snapshot() }
