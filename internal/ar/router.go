package ar

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/send"
)

// AllRoutersMulticast is ff02::2, a valid RtSolPr destination (RFC 5568
// §6.1.1: "The address of the access router or the all routers multicast
// address").
var AllRoutersMulticast = netip.MustParseAddr("ff02::2")

// Neighbor is an access router the Router advertises in Proxy Router
// Advertisements (RFC 5568 §6.1.2): the access point it serves and the
// router's link-layer address, IP address and prefix.
type Neighbor struct {
	AccessPoint []byte
	RouterLLA   []byte
	Address     netip.Addr
	Prefix      netip.Prefix
}

// Config configures a Router. Algorithms, KeyLifetime, ForwardingLifetime,
// Neighbors, Limits and the Verifier's key sizes are the initial Settings:
// Update changes them while the router serves.
type Config struct {
	// Address is the router's CGA on the link: the source of its PrRtAdvs,
	// the destination of FBUs and the AR half of every key record (RFC 5269
	// §3.3 names the key with "the AR's CGA"). Without SEND credentials
	// (AAA only) any global address of the router on the link: the AR ID.
	Address netip.Addr
	// Parameters are the CGA Parameters of Address, sent in the CGA option.
	// With AAA set, Parameters and Signer may both be nil: the router then
	// serves the shared-key mode only (RtSolPrs go to Other).
	Parameters *cga.Parameters
	// Signer is the private key of Parameters' public key, which the
	// router's certificate certifies (RFC 5269 §3.2).
	Signer crypto.Signer
	// Store holds the key records; required.
	Store keystore.Store
	// Bindings receives accepted FBUs; nil means a new BindingTable.
	Bindings Bindings
	// Algorithms are the ATs the router supports; nil means all of
	// hokey.Supported().
	Algorithms []hokey.AlgorithmType
	// KeyLifetime is HK-LIFETIME (RFC 5269 §3.7); zero means
	// keystore.HKLifetime. At most 65535 s, the Key Lifetime field's range.
	KeyLifetime time.Duration
	// ForwardingLifetime is how long forwarding for a previous CoA lasts
	// (the lifetime granted in FBacks); zero means 10 s. RFC 5568 leaves
	// it to the implementation.
	ForwardingLifetime time.Duration
	// Neighbors are advertised in PrRtAdvs.
	Neighbors []Neighbor
	// Limits bound SEND processing; the zero value means DefaultLimits.
	Limits *Limits
	// Verifier validates solicitations; nil means
	// send.NewVerifier(send.AuthorizeCGA) with Now.
	Verifier *send.Verifier
	// Other receives the packets the router does not handle itself (for
	// example a certdisc.Responder's HandlePacket); nil drops them.
	Other func(context.Context, netio.Packet)
	// Trace, when set, is called with the timing of each processing step
	// (the demo prints them; a daemon may log or export them).
	Trace func(Trace)
	// Now is the clock (nil: time.Now); Rand the randomness for keys and
	// encryption (nil: crypto/rand.Reader).
	Now  func() time.Time
	Rand io.Reader
	// AAA, when set, enables the shared-key mode of
	// draft-vidya-mipshop-handover-keys-aaa-04 beside SEND (docs/aaa.md):
	// HKReqs are answered with keys from AAA.KeyServer and FBUs with a BADF
	// SPI other than 0 are verified with the key of that SPI. The node's
	// Mobility Header socket must then pass the HKReq MH type too.
	AAA *AAAConfig
	// MSK, when set, enables the MSK mode of issue 12 beside SEND
	// (docs/msk.md): FBUs with an MN-NAI option and an MN-HA Mobility
	// Message Authentication option with an FHK SPI, instead of a BADF,
	// are verified with the FHK derived from the NAI's MSK. Address must
	// then be a global unicast address (the PAR address of the
	// derivation).
	MSK *MSKConfig
	// Logger receives a record per key created and per binding made or
	// ended (info) and per dropped message (debug); nil discards. A
	// message that fails authentication is logged at debug only; key
	// creation is bounded by Limits.
	Logger *slog.Logger
}

// Trace reports one processing step of the router.
type Trace struct {
	// Step is one of "send-verify", "key-created", "key-reused",
	// "key-encrypt", "prrtadv-sign", "fbu-verify".
	Step string
	// Peer is the solicitation's source or the FBU's previous CoA.
	Peer netip.Addr
	// Took is the wall time of the step (zero when not timed).
	Took time.Duration
	// Err is the step's failure, if any.
	Err error
	// AT is the algorithm type of the key involved.
	AT hokey.AlgorithmType
}

func (r *Router) trace(step string, peer netip.Addr, start time.Time, err error, at hokey.AlgorithmType) {
	if r.cfg.Trace != nil {
		var took time.Duration
		if !start.IsZero() {
			took = time.Since(start)
		}
		r.cfg.Trace(Trace{Step: step, Peer: peer, Took: took, Err: err, AT: at})
	}
}

// Router is the access router role. It is safe for concurrent use.
type Router struct {
	cfg      Config
	addr     netip.Addr
	params   []byte
	bindings Bindings
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger

	// set holds the settings Update may change; baseVerifier is the
	// Verifier they derive theirs from. updateMu serializes Updates only:
	// packets read set with one atomic load.
	set          atomic.Pointer[settings]
	baseVerifier *send.Verifier
	updateMu     sync.Mutex

	perSource *bucketTable[netip.Addr]
	perKey    *bucketTable[[16]byte]
	total     single
	unsecured single

	keyLocks [64]sync.Mutex
	stats    counters
	aaa      *aaaState // nil: shared-key mode off
	msk      *mskState // nil: MSK mode off
	hkreq    uint8     // its HKReq MH Type
}

// New returns a Router for cfg.
func New(cfg Config) (*Router, error) {
	// Without SEND credentials the router serves the shared-key mode
	// only (docs/aaa.md): no RtSolPr/PrRtAdv provisioning.
	sendless := cfg.Parameters == nil && cfg.Signer == nil && (cfg.AAA != nil || cfg.MSK != nil)
	if !cfg.Address.Is6() || cfg.Store == nil || (!sendless && (cfg.Parameters == nil || cfg.Signer == nil)) {
		return nil, errors.New("ar: Config needs Address, Parameters, Signer and Store (Parameters and Signer may be left out with AAA or MSK)")
	}
	var params []byte
	if !sendless {
		var err error
		if params, err = cfg.Parameters.Marshal(); err != nil {
			return nil, fmt.Errorf("ar: CGA Parameters: %w", err)
		}
		if _, err := cga.Verify(cfg.Address, params); err != nil {
			return nil, fmt.Errorf("ar: Address is not a CGA of Parameters: %w", err)
		}
	}
	r := &Router{cfg: cfg, addr: cfg.Address.WithZone(""), params: params, baseVerifier: cfg.Verifier,
		bindings: cfg.Bindings, now: cfg.Now, rand: cfg.Rand, log: cfg.Logger}
	if r.now == nil {
		r.now = time.Now
	}
	if r.rand == nil {
		r.rand = rand.Reader
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.baseVerifier == nil {
		r.baseVerifier = send.NewVerifier(send.AuthorizeCGA)
		r.baseVerifier.Now = r.now
	}
	// The settings Update can change are validated by the same function.
	s, err := newSettings(Settings{Algorithms: cfg.Algorithms, KeyLifetime: cfg.KeyLifetime, ForwardingLifetime: cfg.ForwardingLifetime,
		Neighbors: cfg.Neighbors, Limits: cfg.Limits, MinKeyBits: r.baseVerifier.MinBits, MaxKeyBits: r.baseVerifier.MaxBits}, r.baseVerifier)
	if err != nil {
		return nil, err
	}
	if r.bindings == nil {
		r.bindings = NewBindingTable(r.now)
	}
	r.perSource = newBucketTable[netip.Addr](s.limits.PerSource, s.limits.MaxTracked)
	r.perKey = newBucketTable[[16]byte](s.limits.PerKey, s.limits.MaxTracked)
	r.total.rate, r.unsecured.rate = s.limits.Total, s.limits.UnsecuredReplies
	r.set.Store(s)
	if cfg.MSK != nil {
		if r.msk, err = newMSKState(cfg.MSK, r.addr); err != nil {
			return nil, err
		}
	}
	if cfg.AAA != nil {
		if r.aaa, err = newAAAState(cfg.AAA, r.addr, cfg.Store); err != nil {
			return nil, err
		}
		r.hkreq = cfg.AAA.Codepoints.HandoverKeyRequest
		if r.hkreq == 0 {
			r.hkreq = mh.DefaultHandoverKeyRequestType
		}
	}
	return r, nil
}

// Address returns the router's address.
func (r *Router) Address() netip.Addr { return r.addr }

// HandlePacket processes one received packet and returns the packets to send
// in answer (none for most failures). It never blocks on the network: an
// HKReq relayed to the Handover Key Server is answered later through
// Answers; ctx bounds that work too.
func (r *Router) HandlePacket(ctx context.Context, p netio.Packet) []netio.Packet {
	switch {
	case r.aaa != nil && p.NextHeader == inet.ProtocolMobility && len(p.Payload) >= 3 && p.Payload[2] == r.hkreq:
		return r.handleKeyRequest(ctx, p)
	case r.cfg.Signer != nil && p.NextHeader == inet.ProtocolICMPv6 && len(p.Payload) >= 5 && p.Payload[0] == 154 && p.Payload[4] == 2:
		return r.handleSolicitation(ctx, p)
	case p.NextHeader == inet.ProtocolMobility && len(p.Payload) >= 3 && p.Payload[2] == 8:
		return r.handleFastBindingUpdate(p)
	}
	if r.cfg.Other != nil {
		r.cfg.Other(ctx, p)
	}
	return nil
}

// Serve reads packets from conn and answers them on workers goroutines (0:
// GOMAXPROCS) until ctx ends, then returns ctx.Err(). Expired key records are
// removed every second. A read error other than the end of ctx stops Serve.
// When conn is a netio.BatchConn each worker reads the packets already
// received together and sends their answers together (recvmmsg and
// sendmmsg on Linux); the answers are the same.
func (r *Router) Serve(ctx context.Context, conn netio.Conn, workers int) error {
	return r.serve(ctx, conn, workers, true)
}

// ServeNoAnswers is Serve for a second Conn of the router that carries no
// Mobility Headers (the ICMPv6 socket beside the Mobility Header one): the
// asynchronous answers (Answers) are left to the Serve of the other Conn.
func (r *Router) ServeNoAnswers(ctx context.Context, conn netio.Conn, workers int) error {
	return r.serve(ctx, conn, workers, false)
}

func (r *Router) serve(ctx context.Context, conn netio.Conn, workers int, answers bool) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, workers+1)
	bc, batch := conn.(netio.BatchConn)
	for range workers {
		go func() {
			if batch {
				errc <- r.serveBatch(ctx, bc)
				return
			}
			for {
				p, err := conn.ReadPacket(ctx)
				if err != nil {
					errc <- err
					return
				}
				for _, out := range r.HandlePacket(ctx, p) {
					if err := conn.WritePacket(ctx, out); err != nil {
						r.log.Debug("ar: write", "dst", out.Dst, "err", err)
					}
				}
			}
		}()
	}
	if r.aaa != nil && answers {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case out := <-r.aaa.outbox:
					if err := conn.WritePacket(ctx, out); err != nil {
						r.log.Debug("ar: write", "dst", out.Dst, "err", err)
					}
				}
			}
		}()
		defer r.aaa.wg.Wait() // the KeyServer calls end with ctx
	}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			case <-t.C:
				if _, err := r.ExpireKeys(); err != nil {
					r.log.Debug("ar: expire", "err", err)
				}
			}
		}
	}()
	err := <-errc
	cancel()
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ctx.Err()
	}
	return err
}

// serveBatch is one Serve worker on a BatchConn; it returns the read error.
func (r *Router) serveBatch(ctx context.Context, conn netio.BatchConn) error {
	in := make([]netio.Packet, netio.MaxBatch)
	var answers []netio.Packet
	for {
		n, err := conn.ReadBatch(ctx, in)
		if err != nil {
			return err
		}
		answers = answers[:0]
		for i := range in[:n] {
			answers = append(answers, r.HandlePacket(ctx, in[i])...)
			in[i] = netio.Packet{} // the payload is not kept
		}
		for out := answers; len(out) > 0; {
			k, err := conn.WriteBatch(ctx, out)
			if err == nil || k >= len(out) {
				break
			}
			r.log.Debug("ar: write", "dst", out[k].Dst, "err", err)
			if ctx.Err() != nil {
				break
			}
			out = out[k+1:] // skip the packet that failed
		}
		clear(answers) // the answers are not kept either
	}
}

// ExpireKeys removes the key records whose HK-LIFETIME has run out (RFC 5269
// §3.6: "The PAR MUST discard the key ... when HK-LIFETIME expires") and the
// bindings that have timed out.
func (r *Router) ExpireKeys() (int, error) {
	n, err := r.cfg.Store.Expire(r.now())
	r.stats.keysExpired.Add(uint64(n))
	if r.aaa != nil {
		r.aaa.expireSPIs(r.now())
	}
	if r.msk != nil {
		r.msk.expire(r.now())
	}
	if bt, ok := r.bindings.(*BindingTable); ok {
		bt.Expire()
	}
	return n, err
}

// ForwardingTimedOut discards the key of previousCoA because FMIPv6
// forwarding for it has timed out (RFC 5269 §3.6: "The PAR MUST discard the
// key after FMIPv6 forwarding for the previous Care-of Address times out").
// The forwarding code calls it; it reports whether a key was discarded.
//
// In the shared-key mode the HK stays under the MN ID but is no longer
// tied to previousCoA (draft-vidya-mipshop-handover-keys-aaa-04 §6.3: "the
// AR MUST disassociate the key and the corresponding CoA"): an indirect
// request (§6.5) then has no CoA to bind a new key to, and does not bring
// back a key for the address the router gave up.
func (r *Router) ForwardingTimedOut(previousCoA netip.Addr) bool {
	if r.aaa != nil {
		r.aaa.untie(previousCoA.WithZone(""))
	}
	if err := r.cfg.Store.Delete(r.addr, previousCoA.WithZone("")); err != nil {
		return false
	}
	r.stats.keysDiscarded.Add(1)
	return true
}

// Stats is a snapshot of the router's counters.
type Stats struct {
	// Solicitations
	RtSolPrReceived     uint64 // RtSolPr packets handled
	RtSolPrMalformed    uint64 // unparseable, wrong hop limit or destination
	RtSolPrCGAFailed    uint64 // CGA option missing or not matching the source (no RSA spent)
	RtSolPrSENDFailed   uint64 // failed SEND verification (signature, timestamp, nonce replay, ...)
	RateLimitedSource   uint64 // dropped by the per-source bucket
	RateLimitedKey      uint64 // dropped by the per-key bucket
	RateLimitedTotal    uint64 // dropped by the total bucket
	UnsecuredSuppressed uint64 // failed solicitations left unanswered (UnsecuredReplies exhausted)
	BadKeyRequest       uint64 // valid SEND, unusable Handover Key Request (key size, AT)
	KeysCreated         uint64 // fresh handover keys
	KeysReused          uint64 // existing key returned (RFC 5269 §3.2)
	PrRtAdvSent         uint64 // PrRtAdvs sent, with or without a key
	PrRtAdvWithoutKey   uint64 // PrRtAdvs sent without a Handover Key Reply
	KeysExpired         uint64 // records removed at HK-LIFETIME
	KeysDiscarded       uint64 // records removed by ForwardingTimedOut
	// Fast Binding Updates
	FBUReceived      uint64
	FBUAccepted      uint64
	FBUMalformed     uint64 // checksum, parse, BADF missing or not last, bad addresses
	FBUUnknownKey    uint64 // no key for the previous CoA
	FBUExpiredKey    uint64 // key past HK-LIFETIME
	FBUBadAuth       uint64 // wrong SPI, length or MAC
	FBUStale         uint64 // authenticated, Sequence Number not newer than the binding's (replay)
	FBUBindingFailed uint64 // authenticated but the binding was refused
	FBackSent        uint64
	// Fast Binding Updates of the MSK mode (docs/msk.md), also counted above
	FBUAcceptedMSK   uint64 // accepted with an FHK
	FBUMSKUnknownNAI uint64 // no usable MSK for the MN-NAI: not answered
	FBUMSKBadAuth    uint64 // not an allowed FHK SPI, or the MAC does not verify
	FBUMSKNotOwner   uint64 // authenticated, but the PCoA's neighbor entry is not the NAI's MAC: FBack 129
	InternalErrors   uint64 // store, RNG or signing failures
	// Handover Key Requests (shared-key mode, docs/aaa.md)
	HKReqReceived      uint64
	HKReqMalformed     uint64 // checksum, parse, addresses
	HKReqNoMNID        uint64 // no MN ID (NAI) option: discarded (§6.3)
	HKReqNoMAC         uint64 // MN-HKS MAC or MN-Nonce missing (V clear), MN-AR MAC missing (V set)
	HKReqDuplicate     uint64 // same (MN ID, Message ID) while the HKS has not answered: discarded
	HKReqReplayed      uint64 // Timestamp not newer than the MN ID's live key's: discarded
	HKReqPendingFull   uint64 // MaxPending requests already wait for the HKS: discarded
	HKReqCoAFailed     uint64 // CoA check failed (CoA_AUTH_FAILED)
	HKReqBadMAC        uint64 // V set, MN-AR MAC does not verify: discarded
	HKReqVerifyNoKey   uint64 // V set, no key, no MN-HKS MAC (HK_VERIFY_FAILED)
	HKReqVerifyRelayed uint64 // V set, no key, relayed to the HKS as if V were clear
	HKSNoAnswer        uint64 // aaa.ErrNoAnswer: state dropped, no reply
	HKSDiscarded       uint64 // aaa.ErrDiscarded: state dropped, no reply
	HKSRefused         uint64 // error status from the HKS, relayed
	HKSErrors          uint64 // other KeyServer errors or unusable answers
	HKRespSent         uint64 // success HKResps with a new key
	HKRespVerified     uint64 // V-flag HKResps (existing key)
	HKRespStatus       uint64 // error HKResps sent (relayed or the router's)
	HKRespResent       uint64 // buffered answers resent to a retransmitted HKReq
	HKRespRateLimited  uint64 // retransmissions beyond RETRANS_RATE: not answered
	AAAKeysStored      uint64 // handover keys stored from the HKS
	AnswersDropped     uint64 // asynchronous answers dropped: Answers not read
}

type counters struct {
	rtsolpr, malformed, cgaFailed, sendFailed, rlSource, rlKey, rlTotal, unsecured, badReq,
	created, reused, prrtadv, prrtadvNoKey, keysExpired, keysDiscarded,
	fbu, fbuOK, fbuMalformed, fbuUnknown, fbuExpired, fbuAuth, fbuStale, fbuBind, fback, internal,
	fbuMSKOK, fbuMSKUnknownNAI, fbuMSKBadAuth, fbuMSKNotOwner,
	hkreq, hkreqMalformed, hkreqNoMNID, hkreqNoMAC, hkreqDuplicate, hkreqReplayed, hkreqPendingFull, hkreqCoAFailed, hkreqBadMAC,
	hkreqVerifyNoKey, hkreqVerifyRelayed, hksNoAnswer, hksDiscarded, hksRefused, hksErrors,
	hkrespSent, hkrespVerified, hkrespStatus, hkrespResent, hkrespRateLimited, aaaKeys, answersDropped atomic.Uint64
}

// Stats returns a snapshot of the counters (for /metrics).
func (r *Router) Stats() Stats {
	c := &r.stats
	return Stats{
		RtSolPrReceived: c.rtsolpr.Load(), RtSolPrMalformed: c.malformed.Load(), RtSolPrCGAFailed: c.cgaFailed.Load(),
		RtSolPrSENDFailed: c.sendFailed.Load(), RateLimitedSource: c.rlSource.Load(), RateLimitedKey: c.rlKey.Load(),
		RateLimitedTotal: c.rlTotal.Load(), UnsecuredSuppressed: c.unsecured.Load(), BadKeyRequest: c.badReq.Load(),
		KeysCreated: c.created.Load(), KeysReused: c.reused.Load(), PrRtAdvSent: c.prrtadv.Load(),
		PrRtAdvWithoutKey: c.prrtadvNoKey.Load(), KeysExpired: c.keysExpired.Load(), KeysDiscarded: c.keysDiscarded.Load(),
		FBUReceived: c.fbu.Load(), FBUAccepted: c.fbuOK.Load(), FBUMalformed: c.fbuMalformed.Load(),
		FBUUnknownKey: c.fbuUnknown.Load(), FBUExpiredKey: c.fbuExpired.Load(), FBUBadAuth: c.fbuAuth.Load(), FBUStale: c.fbuStale.Load(),
		FBUBindingFailed: c.fbuBind.Load(), FBackSent: c.fback.Load(), InternalErrors: c.internal.Load(),
		FBUAcceptedMSK: c.fbuMSKOK.Load(), FBUMSKUnknownNAI: c.fbuMSKUnknownNAI.Load(), FBUMSKBadAuth: c.fbuMSKBadAuth.Load(),
		FBUMSKNotOwner: c.fbuMSKNotOwner.Load(),
		HKReqReceived:  c.hkreq.Load(), HKReqMalformed: c.hkreqMalformed.Load(), HKReqNoMNID: c.hkreqNoMNID.Load(),
		HKReqNoMAC: c.hkreqNoMAC.Load(), HKReqDuplicate: c.hkreqDuplicate.Load(), HKReqReplayed: c.hkreqReplayed.Load(), HKReqPendingFull: c.hkreqPendingFull.Load(),
		HKReqCoAFailed: c.hkreqCoAFailed.Load(), HKReqBadMAC: c.hkreqBadMAC.Load(), HKReqVerifyNoKey: c.hkreqVerifyNoKey.Load(),
		HKReqVerifyRelayed: c.hkreqVerifyRelayed.Load(), HKSNoAnswer: c.hksNoAnswer.Load(), HKSDiscarded: c.hksDiscarded.Load(),
		HKSRefused: c.hksRefused.Load(), HKSErrors: c.hksErrors.Load(), HKRespSent: c.hkrespSent.Load(),
		HKRespVerified: c.hkrespVerified.Load(), HKRespStatus: c.hkrespStatus.Load(), HKRespResent: c.hkrespResent.Load(),
		HKRespRateLimited: c.hkrespRateLimited.Load(), AAAKeysStored: c.aaaKeys.Load(), AnswersDropped: c.answersDropped.Load(),
	}
}
