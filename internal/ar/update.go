package ar

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/send"
)

// ErrInvalidSetting is wrapped by the errors of New and Update for a router
// setting out of range; the message names the field.
var ErrInvalidSetting = errors.New("ar: invalid setting")

// Settings are the router settings that can change while it serves
// (Update). Each zero value means what it means in Config.
type Settings struct {
	// Algorithms are the ATs the router supports, for keys created after
	// the change (RFC 5269 §3.2); nil means all of hokey.Supported().
	// Keys already issued keep their AT.
	Algorithms []hokey.AlgorithmType
	// KeyLifetime is HK-LIFETIME (RFC 5269 §3.7) of the keys created after
	// the change; zero means keystore.HKLifetime. Keys already issued keep
	// their expiry.
	KeyLifetime time.Duration
	// ForwardingLifetime is the forwarding lifetime granted to the FBUs
	// accepted after the change; zero means 10 s. Existing bindings keep
	// theirs.
	ForwardingLifetime time.Duration
	// Neighbors are advertised in the PrRtAdvs sent after the change (RFC
	// 5568 §6.1.2).
	Neighbors []Neighbor
	// Limits bound SEND processing; nil means DefaultLimits. Changing them
	// keeps the token buckets' state (see Update).
	Limits *Limits
	// MinKeyBits and MaxKeyBits bound the RSA modulus of solicitation
	// signers (RFC 3971 §5.1.3, send.Verifier MinBits and MaxBits); zero
	// means send.DefaultMinBits and send.DefaultMaxBits.
	MinKeyBits, MaxKeyBits int
}

// settings is the immutable snapshot of Settings the router reads on every
// packet through one atomic load (the FBU path takes no lock for it).
type settings struct {
	algs      []hokey.AlgorithmType
	lifetime  time.Duration
	fwd       time.Duration
	neighbors []Neighbor
	limits    Limits
	// verifier is the Config's Verifier, or a shallow copy of it with other
	// key sizes: the copies share its caches (timestamps, nonces, replay,
	// keys), so a change of key sizes forgets no SEND state.
	verifier *send.Verifier
}

// newSettings validates u and returns its snapshot, resolving defaults.
// base is the verifier the snapshot derives from; it is not modified.
func newSettings(u Settings, base *send.Verifier) (*settings, error) {
	s := &settings{lifetime: u.KeyLifetime, fwd: u.ForwardingLifetime, limits: DefaultLimits}
	if s.lifetime == 0 {
		s.lifetime = keystore.HKLifetime
	}
	if s.lifetime < time.Second || s.lifetime > 0xffff*time.Second {
		return nil, fmt.Errorf("%w: KeyLifetime %v outside 1 s to 65535 s (RFC 5269 §4.2 Key Lifetime)", ErrInvalidSetting, s.lifetime)
	}
	if s.fwd == 0 {
		s.fwd = 10 * time.Second
	}
	if s.fwd < time.Second || s.fwd > 0xffff*time.Second {
		return nil, fmt.Errorf("%w: ForwardingLifetime %v outside 1 s to 65535 s (the FBack Lifetime field)", ErrInvalidSetting, s.fwd)
	}
	switch {
	case u.Algorithms == nil:
		s.algs = hokey.Supported()
	case len(u.Algorithms) == 0:
		return nil, fmt.Errorf("%w: Algorithms is empty (nil means all supported)", ErrInvalidSetting)
	default:
		s.algs = slices.Clone(u.Algorithms)
	}
	for i, at := range s.algs {
		if !at.Valid() {
			return nil, fmt.Errorf("%w: Algorithms[%d]: unsupported algorithm type %v", ErrInvalidSetting, i, at)
		}
	}
	for i, n := range u.Neighbors {
		// RFC 5568 §6.1.2: with Code 0 the New Router's Link-Layer
		// Address and IP Address "MUST be included".
		if len(n.AccessPoint) == 0 || len(n.RouterLLA) == 0 || !n.Address.Is6() {
			return nil, fmt.Errorf("%w: Neighbors[%d] needs AccessPoint, RouterLLA and an IPv6 Address", ErrInvalidSetting, i)
		}
		// Copied: the caller may reuse its slices.
		s.neighbors = append(s.neighbors, Neighbor{AccessPoint: bytes.Clone(n.AccessPoint), RouterLLA: bytes.Clone(n.RouterLLA),
			Address: n.Address, Prefix: n.Prefix})
	}
	if u.Limits != nil {
		s.limits = *u.Limits
	}
	if err := s.limits.validate(); err != nil {
		return nil, err
	}
	s.limits.MaxTracked = orDefault(s.limits.MaxTracked, DefaultLimits.MaxTracked)
	minBits, maxBits := orDefault(u.MinKeyBits, send.DefaultMinBits), orDefault(u.MaxKeyBits, send.DefaultMaxBits)
	if u.MinKeyBits < 0 || u.MaxKeyBits < 0 || minBits > maxBits {
		return nil, fmt.Errorf("%w: MinKeyBits %d, MaxKeyBits %d: want 0 (default) or positive, min at most max (defaults %d, %d)",
			ErrInvalidSetting, u.MinKeyBits, u.MaxKeyBits, send.DefaultMinBits, send.DefaultMaxBits)
	}
	s.verifier = base
	if base.MinBits != u.MinKeyBits || base.MaxBits != u.MaxKeyBits {
		v := *base
		v.MinBits, v.MaxBits = u.MinKeyBits, u.MaxKeyBits
		s.verifier = &v
	}
	return s, nil
}

// orDefault is v, or def when v is zero.
func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// validate checks the limits: rates neither negative nor NaN nor infinite, a
// limited rate with a burst of at least one (Burst 0 would refuse every
// solicitation), MaxTracked not negative (0: the default).
func (l *Limits) validate() error {
	for _, r := range []struct {
		name string
		rate Rate
	}{{"PerSource", l.PerSource}, {"PerKey", l.PerKey}, {"Total", l.Total}, {"UnsecuredReplies", l.UnsecuredReplies}} {
		if p := r.rate.PerSecond; p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
			return fmt.Errorf("%w: Limits.%s.PerSecond %v: want 0 or a finite positive rate", ErrInvalidSetting, r.name, p)
		}
		if b := r.rate.Burst; b < 0 || (b == 0 && !r.rate.unlimited()) {
			return fmt.Errorf("%w: Limits.%s.Burst %d: want at least 1 (or a zero Rate: unlimited)", ErrInvalidSetting, r.name, b)
		}
	}
	if l.MaxTracked < 0 {
		return fmt.Errorf("%w: Limits.MaxTracked %d: want 0 (default) or positive", ErrInvalidSetting, l.MaxTracked)
	}
	return nil
}

// Update changes the settings of a running router, validated as New
// validates them: on error nothing changes. The change is atomic for each
// packet (a packet is handled entirely with the old or entirely with the new
// settings, except the rate limits, which apply from the next bucket taken)
// and loses no packet, key or binding.
//
// Keys created before keep their AT and expiry, bindings their lifetime.
// The token buckets are kept rather than reset, so that a reload hands no
// attacker a fresh burst: each bucket is capped at its new Burst when next
// used and refills at its new rate, the time since its last use counted at
// the new rate; a smaller MaxTracked evicts buckets at once (the refilled
// ones first). Key size changes take effect in a copy of the Verifier
// that shares its timestamp, nonce and replay caches.
func (r *Router) Update(u Settings) error {
	r.updateMu.Lock()
	defer r.updateMu.Unlock()
	s, err := newSettings(u, r.baseVerifier)
	if err != nil {
		return err
	}
	r.applyLimits(s.limits)
	r.set.Store(s)
	return nil
}

// applyLimits sets the token buckets to lim.
func (r *Router) applyLimits(lim Limits) {
	now := r.now()
	r.perSource.set(lim.PerSource, lim.MaxTracked, now)
	r.perKey.set(lim.PerKey, lim.MaxTracked, now)
	r.total.set(lim.Total)
	r.unsecured.set(lim.UnsecuredReplies)
}

// Settings returns the settings in force, the defaults of Algorithms, the
// lifetimes, Limits and MaxTracked resolved (zero key sizes stay zero: the
// send defaults).
func (r *Router) Settings() Settings {
	s := r.set.Load()
	lim := s.limits
	out := Settings{Algorithms: slices.Clone(s.algs), KeyLifetime: s.lifetime, ForwardingLifetime: s.fwd, Limits: &lim,
		MinKeyBits: s.verifier.MinBits, MaxKeyBits: s.verifier.MaxBits}
	for _, n := range s.neighbors {
		out.Neighbors = append(out.Neighbors, Neighbor{AccessPoint: bytes.Clone(n.AccessPoint), RouterLLA: bytes.Clone(n.RouterLLA),
			Address: n.Address, Prefix: n.Prefix})
	}
	return out
}
