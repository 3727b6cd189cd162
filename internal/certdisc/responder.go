package certdisc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/ndp"
)

// maxConfiguredRate bounds ResponderConfig.MaxCPARate.
const maxConfiguredRate = 1 << 16

// Path is one certification path a router can advertise.
type Path struct {
	// Certificates are DER certificates in CPA order (RFC 3971 §6.4.2):
	// the certificate issued by the trust anchor first, the router's own
	// last. A trust anchor certificate at the head is dropped: "The trust
	// anchor certificate SHOULD NOT be sent."
	Certificates [][]byte
	// Anchors are the trust anchors the path may chain to; the one it does
	// chain to is what Trust Anchor options are matched against.
	Anchors []*certpath.TrustAnchor
}

// ResponderConfig configures a Responder.
type ResponderConfig struct {
	// Paths are the router's certification paths, tried in order against
	// each Trust Anchor option of a solicitation (RFC 3971 §6.4.5).
	Paths []Path
	// Source is the link-local address advertisements are sent from
	// (RFC 3971 §6.4.2). Zero: a link-local address of the Conn.
	Source netip.Addr
	// MaxCPARate is the most advertisements sent in any RateInterval;
	// zero means MAX_CPA_RATE (10, RFC 3971 §10.1), at most 65536. It is
	// raised to the longest path's length, or that path could never be
	// sent.
	MaxCPARate int
	// RateInterval is the window of MaxCPARate; zero means one second.
	RateInterval time.Duration
	// Now returns the current time (tests); nil means time.Now.
	Now func() time.Time
	// Logger, when set, receives debug records of dropped solicitations.
	Logger *slog.Logger
}

// ResponderStats are the counters of a Responder.
type ResponderStats struct {
	Solicitations        uint64 // valid solicitations answered or coalesced
	Advertisements       uint64 // CPA messages written
	NoPath               uint64 // solicitations no path matched (answered without certificates)
	Coalesced            uint64 // answers deferred into a coalesced All-Nodes advertisement
	DroppedHopLimit      uint64 // hop limit not 255
	DroppedMalformed     uint64 // bad checksum, parse error, zero Identifier, multicast source
	DroppedNoTrustAnchor uint64 // no Trust Anchor option, or the first not a DER Name
	DroppedComponent     uint64 // Component beyond the matched path
	SendErrors           uint64 // WritePacket failures
}

type responderCounters struct {
	solicitations, advertisements, noPath, coalesced         atomic.Uint64
	hopLimit, malformed, noTrustAnchor, component, sendError atomic.Uint64
}

// routerPath is a Path verified at construction.
type routerPath struct {
	certs [][]byte
	auth  *certpath.Authorization
}

// deferredKey identifies a coalesced All-Nodes answer: a path (-1 for the
// answer without certificates) and a requested Component.
type deferredKey struct {
	path      int
	component uint16
}

type deferred struct {
	key     deferredKey
	anchors []*ndp.TrustAnchor // Trust Anchor options to include
}

// Responder answers Certification Path Solicitations (RFC 3971 §6.4.5).
// It is safe for concurrent use.
type Responder struct {
	conn   netio.Conn
	src    netip.Addr
	paths  []routerPath
	now    func() time.Time
	logger *slog.Logger
	wake   chan struct{}
	stats  responderCounters

	mu      sync.Mutex
	limiter *windowLimiter
	queue   []deferred // coalesced All-Nodes answers, oldest first
}

// NewResponder returns a Responder for conn. Each path must verify as a
// router path (certpath.VerifyRouter) at the current time, and each
// certificate must fit in a Certificate option.
func NewResponder(conn netio.Conn, cfg ResponderConfig) (*Responder, error) {
	if len(cfg.Paths) == 0 {
		return nil, errors.New("certdisc: responder: no certification path configured")
	}
	r := &Responder{
		conn:   conn,
		src:    pickSource(cfg.Source, conn),
		now:    cfg.Now,
		logger: cfg.Logger,
		wake:   make(chan struct{}, 1),
	}
	if r.now == nil {
		r.now = time.Now
	}
	rate, longest := cfg.MaxCPARate, 0
	if rate <= 0 {
		rate = MaxCPARate
	}
	if rate > maxConfiguredRate {
		// The limiter keeps one time per allowed advertisement.
		return nil, fmt.Errorf("certdisc: responder: MaxCPARate %d above %d", rate, maxConfiguredRate)
	}
	for i, p := range cfg.Paths {
		certs := p.Certificates
		if len(certs) > 0 {
			for _, ta := range p.Anchors {
				if ta != nil && bytes.Equal(certs[0], ta.Certificate.Raw) {
					certs = certs[1:]
					break
				}
			}
		}
		a, err := certpath.VerifyRouter(certs, p.Anchors, nil, r.now())
		if err != nil {
			return nil, fmt.Errorf("certdisc: responder: path %d: %w", i, err)
		}
		certs = cloneAll(certs)
		for j, c := range certs {
			m := &ndp.CertificationPathAdvertisement{Identifier: 1, AllComponents: 1, Options: []ndp.Option{&ndp.Certificate{CertType: ndp.CertTypeX509v3, Certificate: c}}}
			if _, err := ndp.MarshalMessage(m); err != nil {
				return nil, fmt.Errorf("certdisc: responder: path %d: certificate %d: %w", i, j, err)
			}
		}
		longest = max(longest, len(certs))
		r.paths = append(r.paths, routerPath{certs: certs, auth: a})
	}
	interval := cfg.RateInterval
	if interval <= 0 {
		interval = time.Second
	}
	r.limiter = newWindowLimiter(max(rate, longest), interval)
	return r, nil
}

func cloneAll(in [][]byte) [][]byte {
	out := make([][]byte, len(in))
	for i, b := range in {
		out[i] = bytes.Clone(b)
	}
	return out
}

// Stats returns a snapshot of the counters.
func (r *Responder) Stats() ResponderStats {
	c := &r.stats
	return ResponderStats{
		Solicitations: c.solicitations.Load(), Advertisements: c.advertisements.Load(),
		NoPath: c.noPath.Load(), Coalesced: c.coalesced.Load(),
		DroppedHopLimit: c.hopLimit.Load(), DroppedMalformed: c.malformed.Load(),
		DroppedNoTrustAnchor: c.noTrustAnchor.Load(), DroppedComponent: c.component.Load(),
		SendErrors: c.sendError.Load(),
	}
}

// Run reads packets from the Conn and answers solicitations until ctx ends
// (it then returns nil) or reading fails. Packets other than CPS are
// ignored; use Serve when another role owns the Conn's reads.
func (r *Responder) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan netio.Packet, 16)
	errc := make(chan error, 1)
	go func() {
		defer close(in)
		for {
			p, err := r.conn.ReadPacket(ctx)
			if err != nil {
				errc <- err
				return
			}
			select {
			case in <- p:
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			}
		}
	}()
	err := r.Serve(ctx, in)
	if err == nil {
		err = <-errc
	}
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("certdisc: responder: %w", err)
}

// Serve answers the solicitations among the packets received from in and
// sends the coalesced All-Nodes advertisements as the rate limit allows,
// until ctx ends (it returns ctx.Err()) or in is closed (it returns nil).
// With a nil in it only sends the coalesced advertisements: run it so
// beside a role that hands the packets to HandlePacket, or the answers to
// the unspecified address and those over MAX_CPA_RATE are never sent
// (RFC 3971 §6.4.5).
func (r *Responder) Serve(ctx context.Context, in <-chan netio.Packet) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p, ok := <-in:
			if !ok {
				return nil
			}
			if err := r.HandlePacket(ctx, p); err != nil && r.logger != nil && !errors.Is(err, ErrNotCertificationPath) {
				r.logger.Debug("certification path solicitation", "src", p.Src, "err", err)
			}
		case <-r.wake:
		case <-timer.C:
		}
		next := r.flush(ctx)
		timer.Reset(max(next, time.Millisecond))
	}
}

// HandlePacket processes one received packet: a valid Certification Path
// Solicitation (RFC 3971 §6.4.5) is answered at once, or, when MAX_CPA_RATE
// is reached, coalesced into an All-Nodes advertisement that Serve sends
// later (the error then wraps ErrRateLimited), as is the answer to a
// solicitation from the unspecified address. Any other packet is
// dropped and the error says why.
func (r *Responder) HandlePacket(ctx context.Context, p netio.Packet) error {
	sol, err := r.parse(p)
	if err != nil {
		return err
	}

	// "The anchor is identified by the Trust Anchor option" (§6.4.5);
	// options are tried in order, each against every path.
	key, anchors := deferredKey{path: -1, component: sol.Component}, []*ndp.TrustAnchor(nil)
	var solicited []*ndp.TrustAnchor
	for _, o := range sol.Options {
		ta, ok := o.(*ndp.TrustAnchor)
		if !ok {
			continue
		}
		solicited = append(solicited, ta)
		if key.path >= 0 {
			continue
		}
		for i := range r.paths {
			if r.paths[i].auth.Anchor.Matches(certpath.NameType(ta.NameType), ta.TrustAnchorName) {
				key.path, anchors = i, []*ndp.TrustAnchor{ta}
				break
			}
		}
	}
	if key.path < 0 {
		// "If the router is unable to find a path to the requested anchor,
		// it SHOULD send an advertisement without any certificates. In this
		// case, the router SHOULD include the Trust Anchor options that
		// were solicited."
		r.stats.noPath.Add(1)
		key.component, anchors = 0, solicited
	} else if n := len(r.paths[key.path].certs); sol.Component != AllComponents && int(sol.Component) >= n {
		r.stats.component.Add(1)
		return fmt.Errorf("%w: Component %d of a %d-certificate path", ErrInconsistent, sol.Component, n)
	}
	r.stats.solicitations.Add(1)

	// "If the source address in the solicitation was the unspecified
	// address, the router MUST send the response to the link-scoped
	// All-Nodes multicast address. If the source address was a unicast
	// address, the router MUST send the response to the Solicited-Node
	// multicast address corresponding to the source address, except when
	// under load" (§6.4.5). The Identifier "MUST be zero for
	// advertisements sent to the All-Nodes multicast address".
	if p.Src.IsUnspecified() {
		return r.enqueue(deferred{key: key, anchors: anchors})
	}
	now := r.now()
	r.mu.Lock()
	ok := r.limiter.allow(r.count(key), now)
	r.mu.Unlock()
	if !ok {
		// "When there are more solicitations, the router SHOULD send the
		// response to the All-Nodes multicast address regardless of the
		// source address that appeared in the solicitation."
		r.stats.coalesced.Add(1)
		if err := r.enqueue(deferred{key: key, anchors: anchors}); err != nil {
			return err
		}
		return fmt.Errorf("%w: answer to %v coalesced into an All-Nodes advertisement", ErrRateLimited, p.Src)
	}
	return r.write(ctx, r.advertisements(key, anchors, sol.Identifier), SolicitedNodeMulticast(p.Src))
}

// count returns the number of advertisements answering key.
func (r *Responder) count(key deferredKey) int {
	if key.path < 0 || key.component != AllComponents {
		return 1
	}
	return len(r.paths[key.path].certs)
}

// parse applies the validity checks of §6.4.5 and §6.4.1.
func (r *Responder) parse(p netio.Packet) (*ndp.CertificationPathSolicitation, error) {
	sol, err := receive[*ndp.CertificationPathSolicitation](p, ndp.TypeCertificationPathSolicitation, &r.stats.hopLimit, &r.stats.malformed)
	if err != nil {
		return nil, err
	}
	if sol.Identifier == 0 {
		// §6.4.1: "The Identifier field MUST NOT be zero".
		r.stats.malformed.Add(1)
		return nil, fmt.Errorf("%w: Certification Path Solicitation: Identifier at offset 4 is zero", ErrParse)
	}
	for _, o := range sol.Options {
		if ta, ok := o.(*ndp.TrustAnchor); ok {
			if ta.NameType != ndp.NameType(certpath.NameTypeDERName) {
				// §6.4.1: "The first (or only) Trust Anchor option MUST
				// contain a DER Encoded X.501 Name".
				r.stats.noTrustAnchor.Add(1)
				return nil, fmt.Errorf("%w: first Trust Anchor option has Name Type %d", ErrNoTrustAnchor, ta.NameType)
			}
			return sol, nil
		}
	}
	r.stats.noTrustAnchor.Add(1)
	return nil, ErrNoTrustAnchor
}

// advertisements builds the CPAs answering key: one certificate per
// message, the first with Component N-1 and the last with 0 (§6.4.2), the
// Trust Anchor options in the first component only ("If present, these
// options MUST appear in the first component of a multi-component
// advertisement").
func (r *Responder) advertisements(key deferredKey, anchors []*ndp.TrustAnchor, id uint16) []*ndp.CertificationPathAdvertisement {
	taOpts := make([]ndp.Option, 0, len(anchors)+1)
	for _, ta := range anchors {
		// Echo Name Type and Name; padding is ours, zero (§6.4.3).
		taOpts = append(taOpts, &ndp.TrustAnchor{NameType: ta.NameType, TrustAnchorName: ta.TrustAnchorName})
	}
	if key.path < 0 {
		return []*ndp.CertificationPathAdvertisement{{Identifier: id, Options: taOpts}}
	}
	certs := r.paths[key.path].certs
	n := len(certs)
	var out []*ndp.CertificationPathAdvertisement
	for i, c := range certs {
		comp := uint16(n - 1 - i)
		if key.component != AllComponents && key.component != comp {
			continue
		}
		opts := []ndp.Option{&ndp.Certificate{CertType: ndp.CertTypeX509v3, Certificate: c}}
		if i == 0 {
			opts = append(slices.Clip(taOpts), opts...)
		}
		out = append(out, &ndp.CertificationPathAdvertisement{Identifier: id, AllComponents: uint16(n), Component: comp, Options: opts})
	}
	return out
}

// enqueue adds a coalesced All-Nodes answer unless an equal one is
// pending; the queue holds at most one entry per path and Component, so
// a flood cannot grow it.
func (r *Responder) enqueue(d deferred) error {
	r.mu.Lock()
	dup := slices.ContainsFunc(r.queue, func(q deferred) bool { return q.key == d.key })
	if !dup {
		r.queue = append(r.queue, d)
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return nil
}

// flush sends the queued All-Nodes answers the rate limit allows and
// returns how long to wait before the next one may go.
func (r *Responder) flush(ctx context.Context) time.Duration {
	for {
		now := r.now()
		r.mu.Lock()
		if len(r.queue) == 0 {
			r.mu.Unlock()
			return time.Hour
		}
		d := r.queue[0]
		if k := r.count(d.key); !r.limiter.allow(k, now) {
			wait := r.limiter.readyAt(k, now).Sub(now)
			r.mu.Unlock()
			return wait
		}
		r.queue = r.queue[1:]
		r.mu.Unlock()
		_ = r.write(ctx, r.advertisements(d.key, d.anchors, 0), AllNodes)
	}
}

func (r *Responder) write(ctx context.Context, msgs []*ndp.CertificationPathAdvertisement, dst netip.Addr) error {
	for _, m := range msgs {
		if err := send(ctx, r.conn, m, r.src, dst); err != nil {
			r.stats.sendError.Add(1)
			return err
		}
		r.stats.advertisements.Add(1)
	}
	return nil
}
