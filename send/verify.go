package send

import (
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"fmt"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/internal/inet"
)

// AuthorizationMethod is the per-message-type setting of RFC 3971 §5.2.3
// that says how the sender's authority is established. Callers that need
// different methods for different message types use one Verifier per method;
// Verifiers may share their caches.
type AuthorizationMethod uint8

const (
	// AuthorizeCGA requires the CGA option and verifies the CGA property of
	// the claimed address (RFC 3972 §5). Authorize is not consulted.
	AuthorizeCGA AuthorizationMethod = iota
	// AuthorizeTrustAnchor requires Authorize to accept the signer (a
	// certification path to a trust anchor, §6.3). A CGA option, if present,
	// supplies the key; its CGA property is reported but not required.
	AuthorizeTrustAnchor
	// AuthorizeTrustAnchorAndCGA requires both.
	AuthorizeTrustAnchorAndCGA
	// AuthorizeTrustAnchorOrCGA requires either: a verified CGA, or else
	// acceptance by Authorize.
	AuthorizeTrustAnchorOrCGA
)

// Default key size limits. RFC 3971 §5.1.3: minbits "The default SHOULD be
// 1024 bits"; the upper limit "SHOULD be at least 2048 bits".
const (
	DefaultMinBits = 1024
	DefaultMaxBits = 4096
)

// Verifier checks SEND-protected messages over the exact received bytes
// (RFC 3971 §5.1.2, §5.2.2, §5.3.4). The zero value verifies CGA and
// signature with the default key sizes and checks the Timestamp against the
// ±TIMESTAMP_DELTA window statelessly; NewVerifier adds the caches. A
// Verifier is safe for concurrent use once configured; its fields must not
// change while it is in use.
type Verifier struct {
	// Method is the authorization method (RFC 3971 §5.2.3).
	Method AuthorizationMethod
	// KnownKey returns the public key "known by other means" (RFC 3971
	// §5.2.2; a router's certified key) whose Key Hash is keyHash. It is
	// consulted only for messages without a CGA option, under the trust
	// anchor methods. The key returned must be the one the caller indexed
	// under that Key Hash (see KeyHash).
	KnownKey func(keyHash [16]byte) (*rsa.PublicKey, bool)
	// Authorize decides, after the signature has verified, whether the
	// signer is authorized (RFC 3971 §6: certification path, prefix
	// authorization). Required by the trust anchor methods. r is complete
	// except that its freshness state has not been committed yet.
	Authorize func(r *Result) error
	// MinBits and MaxBits bound the RSA modulus (0: DefaultMinBits,
	// DefaultMaxBits).
	MinBits, MaxBits int
	// RejectOptionsAfterSignature makes options after the RSA Signature
	// option an error (ErrSignatureNotLast) instead of ignoring them as
	// RFC 3971 §5.2.2 prescribes.
	RejectOptionsAfterSignature bool
	// SkipFreshness disables the Timestamp window, timestamp cache, Nonce
	// matching and replay checks (the options must still be present). For
	// answering a Neighbor Solicitation whose timestamp is out of the window
	// without creating a Neighbor Cache entry (RFC 3971 §5.3.4.2).
	SkipFreshness bool
	// Keys caches verified CGA Parameters and parsed keys (nil: none).
	Keys *KeyCache
	// Timestamps holds RDlast/TSlast per peer. Nil: only the stateless
	// new-peer window with DefaultTimestampDelta is applied.
	Timestamps *TimestampCache
	// Nonces matches advertisements to our solicitations (RFC 3971
	// §5.3.4.1). Nil: advertisements are treated as unsolicited
	// (timestamp-checked) whether or not they carry a Nonce.
	Nonces *NonceMatcher
	// Replay rejects replayed solicitations (nil: no replay check).
	Replay *ReplayCache
	// Now returns the receive time RDnew (nil: time.Now).
	Now func() time.Time
}

// NewVerifier returns a Verifier for method with a KeyCache, a
// TimestampCache (RFC 3971 §10.2 defaults), a NonceMatcher and a
// ReplayCache of the default sizes.
func NewVerifier(method AuthorizationMethod) *Verifier {
	ts, _ := NewTimestampCache(DefaultTimestampParams, DefaultTimestampCacheSize)
	return &Verifier{
		Method:     method,
		Keys:       NewKeyCache(DefaultKeyCacheSize),
		Timestamps: ts,
		Nonces:     NewNonceMatcher(DefaultNonceMatcherSize),
		Replay:     NewReplayCache(DefaultReplayCacheSize, DefaultTimestampDelta+DefaultTimestampFuzz),
	}
}

// Result describes a verified message. Slices alias the verified message;
// Parameters and PublicKey may be shared with the KeyCache and must not be
// modified.
type Result struct {
	Type, Code          uint8
	Source, Destination netip.Addr
	// Address is the address the signer is authenticated for: the source
	// address, or the Target Address of a Neighbor Solicitation for
	// Duplicate Address Detection (RFC 3971 §5.1.1). It is the peer of the
	// timestamp cache.
	Address netip.Addr
	// CGAVerified reports that Address verified as a CGA of Parameters.
	CGAVerified bool
	// Parameters is the CGA option's CGA Parameters, nil without one.
	Parameters *cga.Parameters
	PublicKey  *rsa.PublicKey
	KeyHash    [16]byte
	Timestamp  Timestamp
	// Nonce is the Nonce option's value, nil without one.
	Nonce []byte
	// Solicited reports an advertisement whose Nonce matched one of our
	// solicitations (RFC 3971 §5.3.4.1).
	Solicited bool
	// Received is RDnew.
	Received time.Time
	// SignedLength is the length of the signed message including the RSA
	// Signature option. Options after it "are ignored for both signature
	// verification and NDP processing purposes" (RFC 3971 §5.2.2): process
	// msg[:SignedLength] only.
	SignedLength int
}

// Verify checks msg, the ICMPv6 message exactly as received from src to dst,
// and returns what it established. Any error means the message is not
// secured: it wraps ErrParse or ErrVerify and a specific error. Whether
// unsecured messages are dropped or processed as from a non-SEND node is
// the caller's policy (RFC 3971 §5.2.2, §8).
//
// The steps, cheapest first, none writing state before the signature has
// verified: the wire checksum; the options up to the first RSA Signature;
// presence of Timestamp (and Nonce in solicitations, §5.3.4); freshness
// (Nonce match, or the timestamp checks of §5.3.4.2; replay); the CGA
// (RFC 3972 §5) or known key; the Key Hash; the key size; the signature;
// authorization; then the caches are updated.
func (v *Verifier) Verify(msg []byte, src, dst netip.Addr) (Result, error) {
	if !src.Is6() || src.Is4In6() || !dst.Is6() || dst.Is4In6() {
		return Result{}, fmt.Errorf("%w: source %v and destination %v must be IPv6 addresses", ErrParse, src, dst)
	}
	l, err := scan(msg)
	if err != nil {
		return Result{}, err
	}
	if inet.Checksum(src, dst, inet.ProtocolICMPv6, msg) != 0 {
		return Result{}, fmt.Errorf("%w: %w: checksum field %#04x", ErrVerify, ErrChecksum, uint16(msg[2])<<8|uint16(msg[3]))
	}
	if l.signature < 0 {
		return Result{}, fmt.Errorf("%w: %w", ErrVerify, ErrMissingSignature)
	}
	end := l.signature + l.sigLen
	if v.RejectOptionsAfterSignature && end < len(msg) {
		return Result{}, fmt.Errorf("%w: %w: %d octets of options follow it at offset %d", ErrVerify, ErrSignatureNotLast, len(msg)-end, end)
	}
	r := Result{
		Type: msg[0], Code: msg[1],
		Source: src, Destination: dst, Address: src,
		SignedLength: end,
	}
	if msg[0] == typeNeighborSolicitation && src.IsUnspecified() {
		// §5.1.1: for Duplicate Address Detection the CGA is the Target.
		r.Address = netip.AddrFrom16([16]byte(msg[8:24]))
	}
	class := classify(msg)
	if l.timestamp < 0 {
		// §5.3.4: "Messages received with the RSA Signature option but
		// without the Timestamp option MUST be silently discarded."
		return Result{}, fmt.Errorf("%w: %w", ErrVerify, ErrMissingTimestamp)
	}
	r.Timestamp = l.timestampValue(msg)
	if l.nonce >= 0 {
		r.Nonce = l.nonceValue(msg)
	} else if class == classSolicitation {
		// §5.3.4: "Solicitation messages received with the RSA Signature
		// option but without the Nonce option MUST be silently discarded."
		return Result{}, fmt.Errorf("%w: %w", ErrVerify, ErrMissingNonce)
	}
	if v.Now != nil {
		r.Received = v.Now()
	} else {
		r.Received = time.Now()
	}

	// Freshness, checked before the expensive steps but committed after.
	var replay [32]byte
	if !v.SkipFreshness {
		r.Solicited = class == classAdvertisement && r.Nonce != nil && v.Nonces != nil
		if err := v.checkFresh(&r, false); err != nil {
			return Result{}, err
		}
		if class == classSolicitation && v.Replay != nil {
			replay = replayKey(r.Address, r.Nonce)
			if v.Replay.seen(replay, r.Received, false) {
				return Result{}, fmt.Errorf("%w: %w: from %v", ErrVerify, ErrReplayedNonce, r.Address)
			}
		}
	}

	// The key: from the CGA option, or known by other means.
	sigOpt := msg[l.signature:end]
	var ent *keyEntry
	fresh := false
	if l.cga >= 0 {
		raw := l.cgaParameters(msg)
		if ent = v.Keys.get(raw, r.Address); ent == nil {
			if ent, err = v.loadCGA(raw, r.Address); err != nil {
				return Result{}, err
			}
			fresh = true
		}
		r.CGAVerified = ent.addr.IsValid()
		r.Parameters, r.PublicKey, r.KeyHash = ent.params, ent.pub, ent.hash
		// §5.1: "Packets received with two different keys MUST be
		// silently discarded."
		if subtle.ConstantTimeCompare(r.KeyHash[:], sigOpt[4:20]) != 1 {
			return Result{}, fmt.Errorf("%w: %w: option has %x, CGA key hashes to %x", ErrVerify, ErrKeyHashMismatch, sigOpt[4:20], r.KeyHash)
		}
	} else {
		if v.Method == AuthorizeCGA || v.Method == AuthorizeTrustAnchorAndCGA {
			return Result{}, fmt.Errorf("%w: %w", ErrVerify, ErrMissingCGA)
		}
		r.KeyHash = [16]byte(sigOpt[4:20])
		var ok bool
		if v.KnownKey != nil {
			r.PublicKey, ok = v.KnownKey(r.KeyHash)
		}
		if !ok || r.PublicKey == nil {
			return Result{}, fmt.Errorf("%w: %w: %x", ErrVerify, ErrUnknownKey, r.KeyHash)
		}
	}
	minBits, maxBits := v.MinBits, v.MaxBits
	if minBits == 0 {
		minBits = DefaultMinBits
	}
	if maxBits == 0 {
		maxBits = DefaultMaxBits
	}
	if n := r.PublicKey.N.BitLen(); n < minBits || n > maxBits {
		return Result{}, fmt.Errorf("%w: %w: %d bits, allowed %d-%d", ErrVerify, ErrKeySize, n, minBits, maxBits)
	}

	// §5.2.2: "The Digital Signature field MUST have correct encoding and
	// MUST not exceed the length of the RSA Signature option minus the
	// Padding." Its length is that of the modulus.
	k := r.PublicKey.Size()
	if rsaSignatureFixedLen+k > len(sigOpt) {
		return Result{}, fmt.Errorf("%w: %w: %d-octet signature does not fit the %d-octet option at offset %d", ErrVerify, ErrBadSignature, k, len(sigOpt), l.signature)
	}
	digest := signedDigest(src, dst, msg, l.signature)
	if err := rsa.VerifyPKCS1v15(r.PublicKey, crypto.SHA1, digest[:], sigOpt[rsaSignatureFixedLen:rsaSignatureFixedLen+k]); err != nil {
		return Result{}, fmt.Errorf("%w: %w: %w", ErrVerify, ErrBadSignature, err)
	}

	if err := v.authorize(&r); err != nil {
		return Result{}, err
	}

	// Authenticated: now state may change.
	if fresh && r.CGAVerified {
		v.Keys.put(l.cgaParameters(msg), ent)
	}
	if !v.SkipFreshness {
		if err := v.checkFresh(&r, true); err != nil {
			return Result{}, err
		}
		if class == classSolicitation && v.Replay != nil && v.Replay.seen(replay, r.Received, true) {
			return Result{}, fmt.Errorf("%w: %w: from %v", ErrVerify, ErrReplayedNonce, r.Address)
		}
	}
	return r, nil
}

// checkFresh applies RFC 3971 §5.3.4.1 to solicited advertisements and
// §5.3.4.2 to every other message; commit consumes the Nonce or updates
// RDlast/TSlast.
func (v *Verifier) checkFresh(r *Result, commit bool) error {
	if r.Solicited {
		// §5.3.4.1: "If the message contains a Nonce option but the Nonce
		// value is not recognized, the message MUST be silently discarded."
		if !v.Nonces.match(r.Nonce, r.Received, commit) {
			return fmt.Errorf("%w: %w", ErrVerify, ErrUnmatchedNonce)
		}
		if commit && v.Timestamps != nil {
			v.Timestamps.record(r.Address, r.Timestamp, r.Received)
		}
		return nil
	}
	if v.Timestamps == nil {
		return checkWindow(r.Timestamp, r.Received, DefaultTimestampDelta)
	}
	return v.Timestamps.Check(r.Address, r.Timestamp, r.Received, commit)
}

// loadCGA verifies the CGA Parameters raw for addr and decodes them. Under
// the trust anchor methods a CGA failure is not fatal: the key is still
// taken from the option (RFC 3971 §5.2.2 "a preceding CGA option") and the
// returned entry has an invalid addr.
func (v *Verifier) loadCGA(raw []byte, addr netip.Addr) (*keyEntry, error) {
	pk, cgaErr := cga.Verify(addr, raw)
	p, err := cga.ParseParameters(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: CGA option: %w", ErrParse, err)
	}
	e := &keyEntry{addr: addr, params: p, hash: KeyHash(p.PublicKey)}
	if cgaErr != nil {
		if v.Method == AuthorizeCGA || v.Method == AuthorizeTrustAnchorAndCGA {
			return nil, fmt.Errorf("%w: %w: address %v: %w", ErrVerify, ErrCGA, addr, cgaErr)
		}
		e.addr = netip.Addr{}
		if pk, err = cga.ParsePublicKey(p.PublicKey); err != nil {
			return nil, fmt.Errorf("%w: %w: %w", ErrVerify, ErrBadKey, err)
		}
	}
	pub, ok := pk.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: %w: key is %T", ErrVerify, ErrBadKey, pk)
	}
	e.pub = pub
	return e, nil
}

// authorize applies the authorization method once the signature is valid.
func (v *Verifier) authorize(r *Result) error {
	switch v.Method {
	case AuthorizeCGA:
		return nil
	case AuthorizeTrustAnchorOrCGA:
		if r.CGAVerified {
			return nil
		}
	}
	if v.Authorize == nil {
		return fmt.Errorf("%w: %w: no Authorize function for a trust anchor method", ErrVerify, ErrUnauthorized)
	}
	if err := v.Authorize(r); err != nil {
		return fmt.Errorf("%w: %w: %w", ErrVerify, ErrUnauthorized, err)
	}
	return nil
}
