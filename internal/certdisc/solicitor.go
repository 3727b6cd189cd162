package certdisc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/ndp"
)

// ErrBusy is returned by FetchPath when MaxExchanges retrievals are already
// running: RFC 3971 §9.3 asks hosts to limit "the amount of resources
// devoted to the certification paths and their verification", and the
// routers a host is asked about may be chosen by an attacker.
var ErrBusy = errors.New("certdisc: too many certification path retrievals in progress")

const (
	// maxComponents bounds All Components: a path longer than
	// certpath.MaxPathLength (plus an anchor certificate a router may send
	// although it "SHOULD NOT") is never verified, so it is not stored.
	maxComponents = certpath.MaxPathLength + 1
	// maxSources bounds the routers whose answers one exchange assembles
	// (a solicitation to All-Routers may be answered by several).
	maxSources = 4
	// maxRouters bounds the router address → key hash memory used to find
	// a cached path by address.
	maxRouters = 256
)

// SolicitorConfig configures a Solicitor.
type SolicitorConfig struct {
	// Anchors are the host's trust anchors (RFC 3971 §6.5). Each
	// solicitation carries one Trust Anchor option per anchor, DER Encoded
	// X.501 Name first (§6.4.1). Required.
	Anchors []*certpath.TrustAnchor
	// Cache receives verified paths and answers repeated requests; nil
	// means a private cache of 64 entries.
	Cache *certpath.Cache
	// Source is the address solicitations are sent from (RFC 3971 §6.4.1:
	// link-local, or unspecified when the interface has none). Zero: a
	// link-local address of the Conn, else the unspecified address.
	Source netip.Addr
	// Retry, RetryFragments and RetryMax are CPS_RETRY,
	// CPS_RETRY_FRAGMENTS and CPS_RETRY_MAX (§10.1); zero means the RFC
	// value. Tests shorten them.
	Retry, RetryFragments, RetryMax time.Duration
	// MaxExchanges bounds concurrent retrievals; zero means 8.
	MaxExchanges int
	// Now returns the current time for certificate validity (tests); nil
	// means time.Now. Timers always run on the real clock.
	Now func() time.Time
	// Logger, when set, receives debug records of dropped advertisements.
	Logger *slog.Logger
}

// SolicitorStats are the counters of a Solicitor.
type SolicitorStats struct {
	Exchanges           uint64 // retrievals started
	CacheHits           uint64 // requests answered from the cache
	Solicitations       uint64 // CPS messages written, retransmissions included
	Retransmissions     uint64 // CPS messages written after the first of an exchange
	Components          uint64 // CPA components accepted into an assembly
	NoPath              uint64 // advertisements without certificates
	PathsVerified       uint64 // assembled paths that verified
	PathsRejected       uint64 // assembled paths that failed verification
	Timeouts            uint64 // retrievals abandoned at CPS_RETRY_MAX
	DroppedHopLimit     uint64 // hop limit not 255
	DroppedMalformed    uint64 // bad checksum, parse error, Component ≥ All Components
	DroppedUnmatched    uint64 // no outstanding solicitation with that Identifier
	DroppedDuplicate    uint64 // component already held
	DroppedInconsistent uint64 // contradicting component, path too long, too many routers
}

type solicitorCounters struct {
	exchanges, cacheHits, solicitations, retransmissions, components atomic.Uint64
	noPath, verified, rejected, timeouts                             atomic.Uint64
	hopLimit, malformed, unmatched, duplicate, inconsistent          atomic.Uint64
}

// Solicitor retrieves router certification paths with Certification Path
// Solicitations (RFC 3971 §6.4.6). Received packets reach it through Run
// (when it owns the Conn's reads) or HandlePacket (when a role
// dispatches). It is safe for concurrent use.
type Solicitor struct {
	conn    netio.Conn
	cfg     SolicitorConfig
	cache   *certpath.Cache
	src     netip.Addr
	options []ndp.Option // the Trust Anchor options of every CPS
	stats   solicitorCounters

	mu       sync.Mutex
	byID     map[uint16]*exchange
	byRouter map[netip.Addr]*exchange
	routers  map[netip.Addr]certpath.KeyHash
}

// exchange is one retrieval, shared by every concurrent request for the
// same router address.
type exchange struct {
	id      uint16
	router  netip.Addr // destination of the solicitations
	cancel  context.CancelFunc
	done    chan struct{}
	auth    *certpath.Authorization // set before done is closed
	err     error
	waiters int // guarded by Solicitor.mu

	candidates chan candidate // completed assemblies for the exchange goroutine
	sources    map[netip.Addr]*assembly
}

// assembly collects the components one router sent (§6.4.2).
type assembly struct {
	all       uint16
	comps     [][][]byte // by Component; nil = not yet received
	have      int
	certs     int
	first     time.Time
	submitted bool
}

type candidate struct {
	src    netip.Addr
	path   [][]byte // CPA order
	noPath bool
}

// NewSolicitor returns a Solicitor sending on conn.
func NewSolicitor(conn netio.Conn, cfg SolicitorConfig) (*Solicitor, error) {
	if len(cfg.Anchors) == 0 {
		return nil, errors.New("certdisc: solicitor: no trust anchor configured")
	}
	s := &Solicitor{
		conn:     conn,
		cfg:      cfg,
		cache:    cfg.Cache,
		src:      pickSource(cfg.Source, conn),
		byID:     make(map[uint16]*exchange),
		byRouter: make(map[netip.Addr]*exchange),
		routers:  make(map[netip.Addr]certpath.KeyHash),
	}
	if s.cache == nil {
		s.cache = certpath.NewCache(64)
	}
	if s.cfg.Retry <= 0 {
		s.cfg.Retry = CPSRetry
	}
	if s.cfg.RetryFragments <= 0 {
		s.cfg.RetryFragments = CPSRetryFragments
	}
	if s.cfg.RetryMax <= 0 {
		s.cfg.RetryMax = CPSRetryMax
	}
	if s.cfg.MaxExchanges <= 0 {
		s.cfg.MaxExchanges = 8
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	// §6.4.1: "The first (or only) Trust Anchor option MUST contain a DER
	// Encoded X.501 Name": every anchor is named by its Subject.
	seen := make(map[string]bool)
	for i, ta := range cfg.Anchors {
		if ta == nil {
			return nil, fmt.Errorf("certdisc: solicitor: trust anchor %d is nil", i)
		}
		name, _ := ta.Name(certpath.NameTypeDERName)
		if seen[string(name)] {
			continue
		}
		seen[string(name)] = true
		o := &ndp.TrustAnchor{NameType: ndp.NameType(certpath.NameTypeDERName), TrustAnchorName: name}
		if _, err := ndp.MarshalOptions([]ndp.Option{o}); err != nil {
			return nil, fmt.Errorf("certdisc: solicitor: trust anchor %d: %w", i, err)
		}
		s.options = append(s.options, o)
	}
	return s, nil
}

// Stats returns a snapshot of the counters.
func (s *Solicitor) Stats() SolicitorStats {
	c := &s.stats
	return SolicitorStats{
		Exchanges: c.exchanges.Load(), CacheHits: c.cacheHits.Load(),
		Solicitations: c.solicitations.Load(), Retransmissions: c.retransmissions.Load(),
		Components: c.components.Load(), NoPath: c.noPath.Load(),
		PathsVerified: c.verified.Load(), PathsRejected: c.rejected.Load(), Timeouts: c.timeouts.Load(),
		DroppedHopLimit: c.hopLimit.Load(), DroppedMalformed: c.malformed.Load(),
		DroppedUnmatched: c.unmatched.Load(), DroppedDuplicate: c.duplicate.Load(),
		DroppedInconsistent: c.inconsistent.Load(),
	}
}

// FetchPath returns the verified authorization of the router at router,
// from the cache when a path fetched from that address is still valid,
// otherwise by a CPS/CPA exchange (RFC 3971 §6.4.6). An invalid router
// address solicits All-Routers ("if it has not selected a default router
// yet"). The router must be authorized for every prefix in prefixes
// (certpath.ErrPrefixNotAuthorized otherwise). Errors: ErrTimeout,
// ErrNoPath, ErrBusy, the certpath validation errors of the received path,
// or ctx's error.
func (s *Solicitor) FetchPath(ctx context.Context, router netip.Addr, prefixes []netip.Prefix) (*certpath.Authorization, error) {
	return s.fetch(ctx, router, nil, prefixes)
}

// FetchKey is FetchPath for a router whose signed message carried the Key
// Hash k (RFC 3971 §5.2): a cached path for k is used without an exchange,
// and a fetched path must certify that key (ErrKeyMismatch otherwise),
// as RFC 5269 §3.3 requires of a PrRtAdv.
func (s *Solicitor) FetchKey(ctx context.Context, router netip.Addr, k certpath.KeyHash, prefixes []netip.Prefix) (*certpath.Authorization, error) {
	return s.fetch(ctx, router, &k, prefixes)
}

func (s *Solicitor) fetch(ctx context.Context, router netip.Addr, key *certpath.KeyHash, prefixes []netip.Prefix) (*certpath.Authorization, error) {
	if !router.IsValid() {
		router = AllRouters
	}
	if a := s.cached(router, key); a != nil {
		s.stats.cacheHits.Add(1)
		return check(a, key, prefixes)
	}
	s.mu.Lock()
	ex := s.byRouter[router]
	if ex == nil {
		if len(s.byID) >= s.cfg.MaxExchanges {
			s.mu.Unlock()
			return nil, ErrBusy
		}
		ex = s.startLocked(ctx, router)
	}
	ex.waiters++
	s.mu.Unlock()

	select {
	case <-ex.done:
	case <-ctx.Done():
		s.mu.Lock()
		if ex.waiters--; ex.waiters == 0 {
			// The last interested caller left: stop the exchange, and let
			// a later request start afresh rather than join it.
			ex.cancel()
			if s.byRouter[router] == ex {
				delete(s.byRouter, router)
			}
		}
		s.mu.Unlock()
		return nil, ctx.Err()
	}
	if ex.err != nil {
		return nil, ex.err
	}
	return check(ex.auth, key, prefixes)
}

// cached returns the unexpired cached authorization for key, or for the
// last path fetched from router when key is nil.
func (s *Solicitor) cached(router netip.Addr, key *certpath.KeyHash) *certpath.Authorization {
	var k certpath.KeyHash
	if key != nil {
		k = *key
	} else {
		s.mu.Lock()
		kh, ok := s.routers[router]
		s.mu.Unlock()
		if !ok {
			return nil
		}
		k = kh
	}
	a, _ := s.cache.Get(k, s.cfg.Now())
	return a
}

// check applies a request's own conditions to a verified authorization.
func check(a *certpath.Authorization, key *certpath.KeyHash, prefixes []netip.Prefix) (*certpath.Authorization, error) {
	if key != nil && a.KeyHash != *key {
		return nil, fmt.Errorf("%w: path certifies key hash %x, want %x", ErrKeyMismatch, a.KeyHash[:], key[:])
	}
	for _, p := range prefixes {
		if !a.Authorizes(p) {
			return nil, fmt.Errorf("%w: %v (router %q)", certpath.ErrPrefixNotAuthorized, p, a.Certificate.Subject)
		}
	}
	return a, nil
}

// startLocked creates an exchange for router and starts its goroutine.
func (s *Solicitor) startLocked(ctx context.Context, router netip.Addr) *exchange {
	ectx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ex := &exchange{
		id:         s.newIdentifierLocked(),
		router:     router,
		cancel:     cancel,
		done:       make(chan struct{}),
		candidates: make(chan candidate, 2*maxSources),
		sources:    make(map[netip.Addr]*assembly),
	}
	s.byID[ex.id] = ex
	s.byRouter[router] = ex
	s.stats.exchanges.Add(1)
	go s.run(ectx, ex)
	return ex
}

// newIdentifierLocked returns a random Identifier, neither zero ("MUST
// NOT be zero", §6.4.1) nor in use by another exchange.
func (s *Solicitor) newIdentifierLocked() uint16 {
	var b [2]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic("certdisc: crypto/rand: " + err.Error()) // crypto/rand does not fail (Go ≥ 1.24)
		}
		id := binary.BigEndian.Uint16(b[:])
		if id != 0 && s.byID[id] == nil {
			return id
		}
	}
}

// run drives one exchange: it solicits, retransmits with doubling waits
// (§6.4.6: "The wait interval for each subsequent retransmission MUST
// exponentially increase, doubling each time"), verifies completed paths
// and finishes at the first verified path, at CPS_RETRY_MAX, or, after a
// negative answer (no certificates, or a path that fails verification),
// one CPS_RETRY later unless a valid path arrives meanwhile: a forged
// negative answer cannot cut short an exchange the real router answers.
func (s *Solicitor) run(ctx context.Context, ex *exchange) {
	start := time.Now()
	deadline := start.Add(s.cfg.RetryMax)
	interval := s.cfg.Retry
	next := start.Add(interval)
	var lastErr error
	var finishAt time.Time
	s.solicit(ctx, ex, ex.router, AllComponents, false)

	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			s.finish(ex, nil, ctx.Err())
			return
		case c := <-ex.candidates:
			if c.noPath {
				s.stats.noPath.Add(1)
				lastErr = fmt.Errorf("%w: answer from %v", ErrNoPath, c.src)
			} else {
				now := s.cfg.Now()
				a, err := certpath.VerifyRouter(c.path, s.cfg.Anchors, nil, now)
				if err == nil {
					s.stats.verified.Add(1)
					s.cache.Add(a, now)
					s.remember(ex.router, a.KeyHash)
					s.finish(ex, a, nil)
					return
				}
				s.stats.rejected.Add(1)
				lastErr = fmt.Errorf("certdisc: path from %v: %w", c.src, err)
			}
			if finishAt.IsZero() {
				finishAt = time.Now().Add(s.cfg.Retry)
			}
		case <-timer.C:
			now := time.Now()
			switch {
			case !finishAt.IsZero() && !now.Before(finishAt):
				s.finish(ex, nil, lastErr)
				return
			case !now.Before(deadline):
				s.stats.timeouts.Add(1)
				err := fmt.Errorf("%w from %v within %v", ErrTimeout, ex.router, s.cfg.RetryMax)
				if lastErr != nil {
					err = lastErr
				}
				s.finish(ex, nil, err)
				return
			case finishAt.IsZero() && !now.Before(next):
				next = s.retransmit(ctx, ex, now, interval)
				interval *= 2
			}
		}
		wake := next
		if !finishAt.IsZero() {
			wake = finishAt
		}
		if deadline.Before(wake) {
			wake = deadline
		}
		timer.Reset(max(time.Until(wake), 0))
	}
}

// retransmit sends the next solicitation of ex and returns when the one
// after it is due. With a partial path whose first part arrived at least
// CPS_RETRY_FRAGMENTS ago it asks that router for the first missing
// component (§6.4.6: "it MAY in addition transmit a Certification Path
// Solicitation message with the Component field set to a value not equal
// to 65,535"); within CPS_RETRY_FRAGMENTS of the first part it waits.
func (s *Solicitor) retransmit(ctx context.Context, ex *exchange, now time.Time, interval time.Duration) time.Time {
	s.mu.Lock()
	var best *assembly
	var bestSrc netip.Addr
	for src, a := range ex.sources {
		if !a.submitted && a.have > 0 && (best == nil || a.have > best.have) {
			best, bestSrc = a, src
		}
	}
	var missing uint16
	var wait time.Time
	if best != nil {
		if due := best.first.Add(s.cfg.RetryFragments); now.Before(due) {
			wait = due
		}
		for c := int(best.all) - 1; c >= 0; c-- {
			if best.comps[c] == nil {
				missing = uint16(c)
				break
			}
		}
	}
	s.mu.Unlock()
	switch {
	case best != nil && !wait.IsZero():
		return wait
	case best != nil:
		s.solicit(ctx, ex, bestSrc, missing, true)
	default:
		s.solicit(ctx, ex, ex.router, AllComponents, true)
	}
	return now.Add(2 * interval)
}

// solicit sends one CPS of ex to dst asking for component.
func (s *Solicitor) solicit(ctx context.Context, ex *exchange, dst netip.Addr, component uint16, again bool) {
	m := &ndp.CertificationPathSolicitation{Identifier: ex.id, Component: component, Options: s.options}
	if err := send(ctx, s.conn, m, s.src, dst); err != nil {
		if s.cfg.Logger != nil {
			s.cfg.Logger.Debug("certification path solicitation", "dst", dst, "err", err)
		}
		return
	}
	s.stats.solicitations.Add(1)
	if again {
		s.stats.retransmissions.Add(1)
	}
}

// finish records the outcome of ex and releases its waiters.
func (s *Solicitor) finish(ex *exchange, a *certpath.Authorization, err error) {
	s.mu.Lock()
	if s.byID[ex.id] == ex {
		delete(s.byID, ex.id)
	}
	if s.byRouter[ex.router] == ex {
		delete(s.byRouter, ex.router)
	}
	ex.sources = nil
	s.mu.Unlock()
	ex.auth, ex.err = a, err
	ex.cancel()
	close(ex.done)
}

// remember maps router to the key hash of its verified path.
func (s *Solicitor) remember(router netip.Addr, k certpath.KeyHash) {
	if router.IsMulticast() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.routers[router]; !ok && len(s.routers) >= maxRouters {
		for r := range s.routers { // evict an arbitrary entry
			delete(s.routers, r)
			break
		}
	}
	s.routers[router] = k
}

// Run reads packets from the Conn and hands them to HandlePacket until ctx
// ends (it returns nil) or reading fails.
func (s *Solicitor) Run(ctx context.Context) error {
	for {
		p, err := s.conn.ReadPacket(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("certdisc: solicitor: %w", err)
		}
		if err := s.HandlePacket(p); err != nil && s.cfg.Logger != nil && !errors.Is(err, ErrNotCertificationPath) {
			s.cfg.Logger.Debug("certification path advertisement", "src", p.Src, "err", err)
		}
	}
}

// HandlePacket processes one received packet. A valid Certification Path
// Advertisement (RFC 3971 §6.4.6) whose Identifier matches an outstanding
// solicitation is stored as a component of the sender's path; an
// Identifier of zero (an All-Nodes advertisement, §6.4.2) matches the
// exchange with the sender's address, else one soliciting All-Routers.
// Anything else is dropped, counted, and the error wraps the reason.
// It never blocks on verification, which the exchange's goroutine does.
func (s *Solicitor) HandlePacket(p netio.Packet) error {
	m, err := s.parse(p)
	if err != nil {
		return err
	}
	var certs [][]byte
	for _, o := range m.Options {
		// "The contents of any defined options not specified to be used
		// with Certification Path Advertisement messages MUST be ignored"
		// (§6.4.6); another Cert Type is not a certificate we can use.
		if c, ok := o.(*ndp.Certificate); ok && c.CertType == ndp.CertTypeX509v3 {
			certs = append(certs, c.Certificate)
		}
	}
	if len(certs) > 0 && m.Component >= m.AllComponents {
		s.stats.malformed.Add(1)
		return fmt.Errorf("%w: Certification Path Advertisement: Component %d at offset 8 not below All Components %d", ErrParse, m.Component, m.AllComponents)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	ex := s.matchLocked(m.Identifier, p.Src)
	if ex == nil {
		s.stats.unmatched.Add(1)
		return fmt.Errorf("%w: Identifier %d from %v", ErrUnmatched, m.Identifier, p.Src)
	}
	a := ex.sources[p.Src]
	if a == nil {
		if len(ex.sources) >= maxSources {
			s.stats.inconsistent.Add(1)
			return fmt.Errorf("%w: answers from more than %d routers", ErrInconsistent, maxSources)
		}
		a = &assembly{}
		ex.sources[p.Src] = a
	}
	if a.submitted {
		s.stats.duplicate.Add(1)
		return fmt.Errorf("%w: path from %v already complete", ErrDuplicate, p.Src)
	}
	if len(certs) == 0 {
		// "If the router is unable to find a path to the requested anchor,
		// it SHOULD send an advertisement without any certificates."
		a.submitted = true
		ex.candidates <- candidate{src: p.Src, noPath: true}
		return nil
	}
	switch {
	case m.AllComponents > maxComponents:
		s.stats.inconsistent.Add(1)
		return fmt.Errorf("%w: All Components %d exceeds %d", ErrInconsistent, m.AllComponents, maxComponents)
	case a.comps == nil:
		a.all, a.comps, a.first = m.AllComponents, make([][][]byte, m.AllComponents), time.Now()
	case a.all != m.AllComponents:
		s.stats.inconsistent.Add(1)
		return fmt.Errorf("%w: All Components %d, earlier %d", ErrInconsistent, m.AllComponents, a.all)
	}
	if have := a.comps[m.Component]; have != nil {
		if equalCerts(have, certs) {
			s.stats.duplicate.Add(1)
			return fmt.Errorf("%w: Component %d from %v", ErrDuplicate, m.Component, p.Src)
		}
		s.stats.inconsistent.Add(1)
		return fmt.Errorf("%w: Component %d from %v differs from the one received", ErrInconsistent, m.Component, p.Src)
	}
	if a.certs+len(certs) > maxComponents {
		s.stats.inconsistent.Add(1)
		return fmt.Errorf("%w: more than %d certificates from %v", ErrInconsistent, maxComponents, p.Src)
	}
	a.comps[m.Component] = certs
	a.have++
	a.certs += len(certs)
	s.stats.components.Add(1)
	if a.have == len(a.comps) {
		// Components are sent from N-1 down to 0, the certificate after
		// the anchor first (§6.4.2): that is the path's order.
		path := make([][]byte, 0, a.certs)
		for c := len(a.comps) - 1; c >= 0; c-- {
			path = append(path, a.comps[c]...)
		}
		a.submitted = true
		ex.candidates <- candidate{src: p.Src, path: path}
	}
	return nil
}

// parse applies the validity checks of §6.4.6 and §6.4.2.
func (s *Solicitor) parse(p netio.Packet) (*ndp.CertificationPathAdvertisement, error) {
	return receive[*ndp.CertificationPathAdvertisement](p, ndp.TypeCertificationPathAdvertisement, &s.stats.hopLimit, &s.stats.malformed)
}

// matchLocked finds the exchange a CPA answers.
func (s *Solicitor) matchLocked(id uint16, src netip.Addr) *exchange {
	if id != 0 {
		return s.byID[id]
	}
	if ex := s.byRouter[src]; ex != nil {
		return ex
	}
	return s.byRouter[AllRouters]
}

func equalCerts(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
