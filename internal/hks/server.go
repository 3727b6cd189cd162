package hks

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/internal/hks/subscribers"
	"github.com/fhkey/fhkey/mh"
)

// Reasons a request is discarded, each wrapped together with
// aaa.ErrDiscarded by RequestKey.
var (
	// ErrMalformed: the relayed HKReq does not parse, lacks the MN ID
	// (NAI), MN-Nonce or MN-HKS MAC option, carries one twice, or its NAI
	// is not the one the AR relayed; or the AR ID is not a global IPv6
	// address (§6.4 "If the IP address of the AR was not available, the
	// server MUST return an error to the AR").
	ErrMalformed = errors.New("hks: malformed request")
	// ErrAuthentication: the MN-HKS MAC does not verify with the HIK
	// (§6.4 "If it is invalid, the server MUST silently discard the
	// message").
	ErrAuthentication = errors.New("hks: MN-HKS MAC does not verify")
)

// Defaults of Config.
const (
	// DefaultLifetime is the HK lifetime granted when Config.Lifetime is 0.
	DefaultLifetime = time.Hour
	// DefaultTimestampWindow is the draft's "By default, a difference of 7
	// seconds is an acceptable deviation" (§5.2.3).
	DefaultTimestampWindow = 7 * time.Second
	// HKSNonceLen is the length of the HKS-Nonces the server generates.
	HKSNonceLen = 16
)

// Config configures a Server.
type Config struct {
	// Subscribers is the subscriber store (required). The Server does
	// not close it.
	Subscribers subscribers.Store
	// Codepoints are the MH type and option numbers of the HKReq and
	// HKResp (zero: the defaults).
	Codepoints mh.Codepoints
	// PRFs are the accepted PRF field values, preferred first; the first
	// is the one an INVALID_PRF_ALG answer names. Default: HMAC-SHA256,
	// HMAC-SHA1.
	PRFs []hokey.PRF
	// MACs are the accepted MN-HKS MAC Algorithm Types, preferred first;
	// the first is the one an INVALID_MAC_ALG answer uses. Default:
	// HMAC-SHA256, HMAC-SHA1.
	MACs []hokey.MACAlgorithm
	// Lifetime is the HK lifetime granted (0: DefaultLifetime; at most
	// subscribers.MaxLifetime, whole seconds), capped per subscriber by
	// subscribers.Subscriber.MaxLifetime.
	Lifetime time.Duration
	// TimestampWindow is the largest accepted difference between an
	// HKReq's Timestamp and the server's clock, either way (0:
	// DefaultTimestampWindow).
	TimestampWindow time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Rand is the source of HKS-Nonces (nil: crypto/rand).
	Rand io.Reader
	// Logger receives debug lines on refusals and discards, with the NAI
	// and the reason, never key material (nil: no logging).
	Logger *slog.Logger
}

// Server is the Handover Key Server role (draft §6.4). It implements
// aaa.KeyServer and is safe for concurrent use.
type Server struct {
	subs     subscribers.Store
	cp       mh.Codepoints
	prfs     []hokey.PRF
	macs     []hokey.MACAlgorithm
	lifetime time.Duration
	window   time.Duration
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger
	stats    counters
}

var _ aaa.KeyServer = (*Server)(nil)

// New returns a Server for cfg; the error wraps subscribers.ErrInvalid and names the
// field.
func New(cfg Config) (*Server, error) {
	s := &Server{subs: cfg.Subscribers, cp: cfg.Codepoints, prfs: slices.Clone(cfg.PRFs), macs: slices.Clone(cfg.MACs),
		lifetime: cfg.Lifetime, window: cfg.TimestampWindow, now: cfg.Now, rand: cfg.Rand, log: cfg.Logger}
	if s.subs == nil {
		return nil, fmt.Errorf("%w: config: Subscribers is nil", subscribers.ErrInvalid)
	}
	if err := s.cp.Validate(); err != nil {
		return nil, fmt.Errorf("%w: config: Codepoints: %w", subscribers.ErrInvalid, err)
	}
	if len(s.prfs) == 0 {
		s.prfs = []hokey.PRF{hokey.PRFHMACSHA256, hokey.PRFHMACSHA1}
	}
	for i, p := range s.prfs {
		if !p.Valid() || slices.Index(s.prfs, p) != i {
			return nil, fmt.Errorf("%w: config: PRFs[%d] %v unsupported or listed twice", subscribers.ErrInvalid, i, p)
		}
	}
	if len(s.macs) == 0 {
		s.macs = []hokey.MACAlgorithm{hokey.MACHMACSHA256, hokey.MACHMACSHA1}
	}
	for i, m := range s.macs {
		if !m.Valid() || slices.Index(s.macs, m) != i {
			return nil, fmt.Errorf("%w: config: MACs[%d] %v unsupported or listed twice", subscribers.ErrInvalid, i, m)
		}
	}
	if s.lifetime == 0 {
		s.lifetime = DefaultLifetime
	}
	if s.lifetime < time.Second || s.lifetime > subscribers.MaxLifetime || s.lifetime%time.Second != 0 {
		return nil, fmt.Errorf("%w: config: Lifetime %v (whole seconds, 1 s to %v)", subscribers.ErrInvalid, s.lifetime, subscribers.MaxLifetime)
	}
	if s.window == 0 {
		s.window = DefaultTimestampWindow
	}
	if s.window < 0 || s.window > time.Hour {
		return nil, fmt.Errorf("%w: config: TimestampWindow %v (0 to 1 h)", subscribers.ErrInvalid, s.window)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// parsedRequest is what RequestKey takes from a parsed HKReq.
type parsedRequest struct {
	messageID uint8
	prf       uint8 // the PRF field as received
	mac       uint8 // the MN-HKS MAC option's Algorithm Type as received
	mnNonce   []byte
	ts        mh.NTPTimestamp
	hasTS     bool
}

// parse checks req and the HKReq it relays, without keys.
func (s *Server) parse(req aaa.KeyRequest) (parsedRequest, error) {
	var r parsedRequest
	if err := hokey.CheckARID(req.AR); err != nil {
		return r, fmt.Errorf("%w: AR ID: %w", ErrMalformed, err)
	}
	// The view aliases req.HKReq and boxes no option (docs/aaa.md,
	// bench hks); nothing of it outlives the call.
	hk, err := s.cp.ParseHandoverKeyRequest(req.HKReq)
	if err != nil {
		return r, fmt.Errorf("%w: HKReq: %w", ErrMalformed, err)
	}
	r.messageID, r.prf = hk.MessageID, hk.PRF
	r.mnNonce, r.mac = hk.MNNonce, hk.MNHKSMACAlgorithmType
	r.ts, r.hasTS = hk.Timestamp, hk.TimestampOptions > 0
	switch {
	case hk.NAIOptions > 1:
		return r, fmt.Errorf("%w: HKReq: two MN ID (NAI) options", ErrMalformed)
	case hk.MNNonceOptions > 1:
		return r, fmt.Errorf("%w: HKReq: two MN-Nonce options", ErrMalformed)
	case hk.TimestampOptions > 1:
		return r, fmt.Errorf("%w: HKReq: two Timestamp options", ErrMalformed)
	case hk.NAIOptions == 0:
		return r, fmt.Errorf("%w: HKReq: no MN ID (NAI) option", ErrMalformed)
	case string(hk.NAI) != req.NAI:
		return r, fmt.Errorf("%w: HKReq: MN ID %q is not the NAI %q the AR relayed", ErrMalformed, hk.NAI, req.NAI)
	case hk.MNNonceOptions == 0:
		return r, fmt.Errorf("%w: HKReq: no MN-Nonce option", ErrMalformed)
	case hk.MNHKSMACOptions == 0:
		// §6.4: "If it is absent, the server MUST silently discard the message."
		return r, fmt.Errorf("%w: HKReq: no MN-HKS MAC option", ErrMalformed)
	}
	// The MN-HKS MAC must be placed where it covers every other option
	// (docs/aaa.md); VerifyMAC checks it again over the same bytes.
	var data [mh.MaxMobilityDataLen]byte
	if _, err := s.cp.AppendCoveredByMAC(data[:0], req.HKReq, mh.MACSubtypeMNHKS); err != nil {
		return r, fmt.Errorf("%w: HKReq: MN-HKS MAC option: %w", ErrMalformed, err)
	}
	return r, nil
}

// RequestKey implements aaa.KeyServer (draft §6.4). Its outcomes:
//
//   - success: Status 0, a fresh HKS-Nonce, the HK for (MN-Nonce,
//     HKS-Nonce, NAI, req.AR) of the request's PRF and MN-HKS MAC
//     algorithm, and the lifetime;
//   - a refusal: the Status and the whole error HKResp, checksum zero
//     (INVALID_PRF_ALG, INVALID_MAC_ALG, TIMESTAMP_REQD,
//     INVALID_TIMESTAMP, ADMINISTRATIVELY_PROHIBITED; docs/aaa.md);
//   - a discard: an error wrapping aaa.ErrDiscarded and ErrMalformed,
//     subscribers.ErrUnknownSubscriber or ErrAuthentication; nothing is stored;
//   - a store failure: an error wrapping subscribers.ErrStore.
func (s *Server) RequestKey(ctx context.Context, req aaa.KeyRequest) (aaa.KeyResponse, error) {
	s.stats.requests.Add(1)
	r, err := s.parse(req)
	if err != nil {
		s.stats.malformed.Add(1)
		return s.discard(req.NAI, err)
	}
	sub, err := s.subscriber(ctx, req.NAI)
	switch {
	case errors.Is(err, subscribers.ErrUnknownSubscriber):
		s.stats.unknownSubscriber.Add(1)
		return s.discard(req.NAI, err)
	case err != nil:
		s.stats.storeErrors.Add(1)
		return aaa.KeyResponse{}, fmt.Errorf("%w: %s: %w", subscribers.ErrStore, req.NAI, err)
	}
	defer s.release(sub)
	e := errorAnswer{s: s, hmk: sub.HMK, nai: req.NAI, messageID: r.messageID, ts: r.ts, hasTS: r.hasTS}

	// PRF. The HIK cannot be derived with a PRF the server does not use,
	// so the request is answered unauthenticated (docs/aaa.md); nothing is
	// created. "set the PRF field in the HKResp to indicate the algorithm
	// that must be used" (§6.4).
	prf := hokey.PRF(r.prf)
	if !slices.Contains(s.prfs, prf) {
		s.stats.invalidPRF.Add(1)
		e.prf, e.mac = s.prfs[0], s.preferredMAC(r.mac)
		return e.answer(mh.HandoverKeyStatusInvalidPRFAlgorithm, fmt.Sprintf("PRF %d not accepted", r.prf))
	}
	e.prf = prf
	// MAC algorithm the server cannot compute: answered unauthenticated
	// likewise, with its preferred algorithm ("an MN-HKS MAC option with
	// the algorithm set to the desired value", §6.4).
	mac := hokey.MACAlgorithm(r.mac)
	if !mac.Valid() {
		s.stats.invalidMAC.Add(1)
		e.mac = s.macs[0]
		return e.answer(mh.HandoverKeyStatusInvalidMACAlgorithm, fmt.Sprintf("MAC Algorithm Type %d unknown", r.mac))
	}

	// §6.4: derive the HIK, verify the MN-HKS MAC over the received bytes.
	hik, err := hokey.DeriveHIK(prf, sub.HMK, r.messageID, mac)
	if err != nil {
		s.stats.storeErrors.Add(1)
		return aaa.KeyResponse{}, fmt.Errorf("%w: %s: %w", subscribers.ErrCorrupt, req.NAI, err)
	}
	err = hokey.VerifyMAC(s.cp, req.HKReq, &hik)
	hik.Zero()
	if err != nil {
		s.stats.badMAC.Add(1)
		return s.discard(req.NAI, fmt.Errorf("%w: %w", ErrAuthentication, err))
	}

	// The request is authentic from here on.
	if !slices.Contains(s.macs, mac) {
		s.stats.invalidMAC.Add(1)
		e.mac = s.macs[0]
		return e.answer(mh.HandoverKeyStatusInvalidMACAlgorithm, fmt.Sprintf("MAC %v not accepted", mac))
	}
	e.mac = mac
	if !r.hasTS {
		s.stats.timestampRequired.Add(1)
		return e.answer(mh.HandoverKeyStatusTimestampRequired, "no Timestamp option")
	}
	now := s.now()
	if d := r.ts.Time().Sub(now); d > s.window || d < -s.window {
		s.stats.invalidTimestamp.Add(1)
		e.ts = ownTimestamp(now, r.ts)
		return e.answer(mh.HandoverKeyStatusInvalidTimestamp, fmt.Sprintf("Timestamp off by %v", d))
	}
	if !sub.Authorized(req.AR) {
		s.stats.prohibited.Add(1)
		return e.answer(mh.HandoverKeyStatusAdministrativelyProhibited, "not authorized at this AR")
	}
	// Replay: the commit point. Only a request that gets its HK advances
	// the subscriber's last accepted Timestamp.
	fresh, err := s.subs.AdvanceTimestamp(ctx, req.NAI, r.ts)
	switch {
	case errors.Is(err, subscribers.ErrUnknownSubscriber): // removed meanwhile
		s.stats.unknownSubscriber.Add(1)
		return s.discard(req.NAI, err)
	case err != nil:
		s.stats.storeErrors.Add(1)
		return aaa.KeyResponse{}, fmt.Errorf("%w: %s: %w", subscribers.ErrStore, req.NAI, err)
	case !fresh:
		s.stats.invalidTimestamp.Add(1)
		s.stats.replayed.Add(1)
		e.ts = ownTimestamp(now, r.ts)
		return e.answer(mh.HandoverKeyStatusInvalidTimestamp, "Timestamp not later than the last accepted one (replay)")
	}

	nonce := make([]byte, HKSNonceLen)
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return aaa.KeyResponse{}, fmt.Errorf("hks: HKS-Nonce: %w", err)
	}
	hk, err := hokey.DeriveHK(prf, sub.HMK, r.mnNonce, nonce, req.NAI, req.AR, mac)
	if err != nil {
		return aaa.KeyResponse{}, fmt.Errorf("hks: %s: HK: %w", req.NAI, err)
	}
	lifetime := s.lifetime
	if sub.MaxLifetime > 0 && sub.MaxLifetime < lifetime {
		lifetime = sub.MaxLifetime
	}
	s.stats.accepted.Add(1)
	return aaa.KeyResponse{Status: mh.HandoverKeyStatusSuccess, HK: hk, HKSNonce: nonce, Lifetime: lifetime}, nil
}

// loaded is the pool of Subscribers that Loader stores copy into: a
// subscriber's HMK lives in a pooled array during one request and is
// wiped before the array goes back (release), never retained.
var loaded = sync.Pool{New: func() any { return &subscribers.Subscriber{HMK: make([]byte, 0, subscribers.MaxHMKLen)} }}

// subscriber returns the subscriber named nai, with a copy of its HMK
// the caller hands to release.
func (s *Server) subscriber(ctx context.Context, nai string) (*subscribers.Subscriber, error) {
	if l, ok := s.subs.(subscribers.Loader); ok {
		sub := loaded.Get().(*subscribers.Subscriber)
		if err := l.Load(ctx, nai, sub); err != nil {
			s.release(sub)
			return nil, err
		}
		return sub, nil
	}
	sub, err := s.subs.Get(ctx, nai)
	if err != nil {
		return nil, err
	}
	return &sub, nil
}

// release wipes sub's HMK and, if it came from the pool, returns it.
func (s *Server) release(sub *subscribers.Subscriber) {
	sub.Zero()
	if _, ok := s.subs.(subscribers.Loader); ok && cap(sub.HMK) == subscribers.MaxHMKLen {
		clear(sub.HMK[:cap(sub.HMK)])
		sub.HMK, sub.ARPrefixes = sub.HMK[:0], sub.ARPrefixes[:0]
		loaded.Put(sub)
	}
}

// preferredMAC is the request's MAC algorithm if the server accepts it,
// else the server's preferred one.
func (s *Server) preferredMAC(at uint8) hokey.MACAlgorithm {
	if m := hokey.MACAlgorithm(at); slices.Contains(s.macs, m) {
		return m
	}
	return s.macs[0]
}

func (s *Server) discard(nai string, err error) (aaa.KeyResponse, error) {
	s.log.Debug("HKReq discarded", "nai", nai, "reason", err)
	return aaa.KeyResponse{}, fmt.Errorf("%w: %w", aaa.ErrDiscarded, err)
}

// ownTimestamp is the Timestamp of an INVALID_TIMESTAMP answer (§5.2.3):
// "the server copies only the low-order 32 bits into the HKResp, and
// supplies the high-order 32 bits from its own time of day".
func ownTimestamp(now time.Time, received mh.NTPTimestamp) mh.NTPTimestamp {
	return mh.NTPTimestamp(uint64(mh.NTPTime(now).Seconds())<<32 | uint64(received.Fraction()))
}

// errorAnswer builds the whole error HKResp of a refusal (docs/aaa.md,
// "HKS errors"): the HKReq's Message ID, V 0, the PRF field prf, the
// Status, Lifetime 0, SPI 0, the Timestamp option if ts is set, then the
// MN-HKS MAC of algorithm mac computed with the HIK derived from the HMK
// with prf, the Message ID and mac. The checksum is left zero: the AR
// computes it for the addresses it sends the HKResp between.
type errorAnswer struct {
	s         *Server
	hmk       []byte
	nai       string
	messageID uint8
	prf       hokey.PRF
	mac       hokey.MACAlgorithm
	ts        mh.NTPTimestamp
	hasTS     bool
}

func (e *errorAnswer) answer(status uint16, why string) (aaa.KeyResponse, error) {
	e.s.log.Debug("HKReq refused", "nai", e.nai, "status", status, "reason", why)
	hik, err := hokey.DeriveHIK(e.prf, e.hmk, e.messageID, e.mac)
	if err != nil {
		return aaa.KeyResponse{}, fmt.Errorf("%w: %s: %w", subscribers.ErrCorrupt, e.nai, err)
	}
	defer hik.Zero()
	m := mh.HandoverKeyResponse{MessageID: e.messageID, PRF: uint8(e.prf), Status: status}
	if e.hasTS {
		m.Options = []mh.Option{mh.Timestamp{Value: e.ts}}
	}
	unspec := netip.IPv6Unspecified()
	b, err := hokey.SignMACs(e.s.cp, m, unspec, unspec, &hik)
	if err != nil {
		return aaa.KeyResponse{}, fmt.Errorf("hks: building the error HKResp: %w", err)
	}
	b[4], b[5] = 0, 0 // Checksum: the AR's
	return aaa.KeyResponse{Status: status, HKResp: b}, nil
}
