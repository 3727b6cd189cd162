package mn

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/ndp"
	"github.com/fhkey/fhkey/send"
)

// Protocol constants of RFC 5269 §3.7 and RFC 5568 §6.1.1.
const (
	HKEPKLifetime  = 12 * time.Hour // HKEPK-LIFETIME
	HKEPKHandovers = 10             // HKEPK-HANDOVERS
	RtSolPrRetries = 3              // RTSOLPR_RETRIES
	// RtSolPrTimeout is the first retransmission timeout when the RTT is
	// not known ("100 milliseconds if RTT is not known").
	RtSolPrTimeout = 100 * time.Millisecond
)

// Errors of the mobile node. Drop reasons wrap ErrDropped.
var (
	ErrDropped   = errors.New("mn: message dropped")
	ErrNoKey     = errors.New("mn: no handover key for the router")
	ErrNoAnswer  = errors.New("mn: no answer from the router")
	ErrWeakerAT  = errors.New("mn: algorithm type weaker than the first request")
	errNotForMe  = fmt.Errorf("%w: not a PrRtAdv or FBack", ErrDropped)
	errNoPending = fmt.Errorf("%w: nonce matches no outstanding solicitation", ErrDropped)
	errNoSEND    = errors.New("mn: SEND not configured (Config.Key, Config.Authorizer)")
)

// CareOf is a care-of CGA with its CGA Parameters.
type CareOf struct {
	Address    netip.Addr
	Parameters *cga.Parameters
}

// Config configures a MobileNode.
type Config struct {
	// Key is the CGA private key (RSA).
	Key *rsa.PrivateKey
	// Authorizer checks PrRtAdv signers; required.
	Authorizer RouterAuthorizer
	// Store keeps the handover keys; nil means a keystore.Memory.
	Store keystore.Store
	// PreferredAT is the AT requested first (RFC 5269 §3.1).
	PreferredAT hokey.AlgorithmType
	// Supported are the ATs the node accepts in replies (nil: all).
	Supported []hokey.AlgorithmType
	// HKEPKLifetime and HKEPKHandovers default to the §3.7 values.
	HKEPKLifetime  time.Duration
	HKEPKHandovers int
	// RefreshBefore: keys expiring within it are due for a new request
	// (§3.3); zero means 10 minutes.
	RefreshBefore time.Duration
	// Verifier validates PrRtAdvs; nil means
	// send.NewVerifier(send.AuthorizeTrustAnchor) with Now. Its Authorize
	// hook is set per message from Authorizer.
	Verifier *send.Verifier
	// Other receives the packets the node does not handle (for example a
	// certdisc.Solicitor's HandlePacket) in RequestKey and FastHandover.
	Other func(netio.Packet)
	// Trace, when set, receives the wall time of each processing step:
	// "rtsolpr-sign", "prrtadv-verify", "key-decrypt", "fbu-build",
	// "fback-verify".
	Trace func(step string, took time.Duration, err error)
	Now   func() time.Time
	Rand  io.Reader
	// Logger receives debug records; nil discards.
	Logger *slog.Logger
	// AAA, when set, enables the shared-key mode
	// (draft-vidya-mipshop-handover-keys-aaa-04, docs/aaa.md):
	// RequestHandoverKey and the HKResps of HandlePacket. Key and
	// Authorizer are then optional (without them the SEND methods fail).
	AAA *AAAConfig
	// MSK, when set, enables the MSK mode of issue 12 (docs/msk.md):
	// FBUs and FBacks are authenticated with the FHK derived from the
	// MSK shared with the PAR. Key and Authorizer are then optional.
	MSK *MSKConfig
}

// encryptionKey is a handover key encryption key pair (RFC 5269 §3.1).
type encryptionKey struct {
	priv      *rsa.PrivateKey
	der       []byte
	created   time.Time
	handovers int
}

// pending is an outstanding solicitation, found by its nonce.
type pending struct {
	router  netip.Addr
	careOf  netip.Addr
	at      hokey.AlgorithmType
	ek      *encryptionKey
	expires time.Time
}

// outstandingFBU is an FBU waiting for its FBack.
type outstandingFBU struct {
	pcoa, ncoa netip.Addr
	seq        uint16
	msk        bool // MSK mode: the FBack carries the MN-HA option
}

// MobileNode is the mobile node role. It is safe for concurrent use.
type MobileNode struct {
	cfg      Config
	store    keystore.Store
	verifier *send.Verifier
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger

	mu       sync.Mutex
	ek       *encryptionKey
	firstAT  *hokey.AlgorithmType
	prefAT   hokey.AlgorithmType
	pending  map[string]*pending
	fbus     map[netip.Addr]outstandingFBU // by PAR
	sequence uint16
	aaa      *aaaState // nil: shared-key mode off
}

// New returns a MobileNode for cfg.
func New(cfg Config) (*MobileNode, error) {
	if (cfg.Key == nil || cfg.Authorizer == nil) && cfg.AAA == nil && cfg.MSK == nil {
		return nil, errors.New("mn: Config needs Key and Authorizer, AAA or MSK")
	}
	if cfg.MSK != nil {
		if err := checkMSKConfig(cfg.MSK); err != nil {
			return nil, err
		}
	}
	if !cfg.PreferredAT.Valid() {
		return nil, fmt.Errorf("mn: unsupported preferred AT %v", cfg.PreferredAT)
	}
	m := &MobileNode{cfg: cfg, store: cfg.Store, verifier: cfg.Verifier, now: cfg.Now, rand: cfg.Rand, log: cfg.Logger,
		prefAT: cfg.PreferredAT, pending: make(map[string]*pending), fbus: make(map[netip.Addr]outstandingFBU)}
	if m.now == nil {
		m.now = time.Now
	}
	if m.rand == nil {
		m.rand = rand.Reader
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.store == nil {
		m.store = keystore.NewMemory(keystore.WithClock(m.now))
	}
	if m.verifier == nil {
		m.verifier = send.NewVerifier(send.AuthorizeTrustAnchor)
		m.verifier.Now = m.now
	}
	if m.cfg.HKEPKLifetime == 0 {
		m.cfg.HKEPKLifetime = HKEPKLifetime
	}
	if m.cfg.HKEPKHandovers == 0 {
		m.cfg.HKEPKHandovers = HKEPKHandovers
	}
	if m.cfg.RefreshBefore == 0 {
		m.cfg.RefreshBefore = 10 * time.Minute
	}
	if m.cfg.Supported == nil {
		m.cfg.Supported = hokey.Supported()
	}
	var b [2]byte
	if _, err := io.ReadFull(m.rand, b[:]); err != nil {
		return nil, err
	}
	m.sequence = binary.BigEndian.Uint16(b[:])
	if cfg.AAA != nil {
		if _, err := io.ReadFull(m.rand, b[:]); err != nil {
			return nil, err
		}
		var err error
		// "The Message ID may be random or it may be a sequence number"
		// (§6.2.1): a sequence from a random start.
		if m.aaa, err = newAAAState(cfg.AAA, b[0]); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Store returns the node's handover key store.
func (m *MobileNode) Store() keystore.Store { return m.store }

// SetPreferredAT changes the AT of later requests. RFC 5269 §3.3: "to prevent
// bidding down attacks from compromised routers, the MN SHOULD NOT request an
// algorithm that is weaker than its original request": a weaker one is
// refused with ErrWeakerAT.
func (m *MobileNode) SetPreferredAT(at hokey.AlgorithmType) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !at.Valid() || (m.firstAT != nil && !at.AtLeastAsStrong(*m.firstAT)) {
		return fmt.Errorf("%w: %v", ErrWeakerAT, at)
	}
	m.prefAT = at
	return nil
}

// RotateEncryptionKey generates a new handover key encryption key pair now,
// "using exactly the same public key algorithm with exactly the same
// parameters (key size, etc.) as for SEND" (RFC 5269 §3.1). Solicit calls it
// when the current pair is older than HKEPK-LIFETIME or has served
// HKEPK-HANDOVERS handovers; outstanding solicitations keep their pair.
func (m *MobileNode) RotateEncryptionKey() error {
	if m.cfg.Key == nil {
		return errNoSEND
	}
	ek, err := m.newEncryptionKey()
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.ek = ek
	m.mu.Unlock()
	return nil
}

func (m *MobileNode) newEncryptionKey() (*encryptionKey, error) {
	priv, err := rsa.GenerateKey(m.rand, m.cfg.Key.N.BitLen())
	if err != nil {
		return nil, fmt.Errorf("mn: generating the handover key encryption key: %w", err)
	}
	if priv.E != m.cfg.Key.E {
		return nil, fmt.Errorf("mn: CGA key exponent %d cannot be matched", m.cfg.Key.E)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	return &encryptionKey{priv: priv, der: der, created: m.now()}, nil
}

// currentEncryptionKey returns the key pair to use, rotating it when due
// (§3.1: "SHOULD be discarded after either a duration of HKEPK-LIFETIME or
// HKEPK-HANDOVERS number of handovers, whichever occurs first").
func (m *MobileNode) currentEncryptionKey() (*encryptionKey, error) {
	m.mu.Lock()
	ek := m.ek
	m.mu.Unlock()
	if ek != nil && m.now().Sub(ek.created) < m.cfg.HKEPKLifetime && ek.handovers < m.cfg.HKEPKHandovers {
		return ek, nil
	}
	if err := m.RotateEncryptionKey(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ek, nil
}

// Solicit builds a SEND-signed RtSolPr from careOf to router (its address
// or AllRoutersMulticast) with a Handover Key Request option (RFC 5269 §3.1)
// and New Access Point LLA options for accessPoints (a wildcard when none),
// and records its nonce. Each call makes a new message with a fresh nonce and
// timestamp: retransmissions must not be replays (RFC 3971 §5.3.4).
func (m *MobileNode) Solicit(router netip.Addr, careOf CareOf, accessPoints ...[]byte) (netio.Packet, error) {
	ek, err := m.currentEncryptionKey()
	if err != nil {
		return netio.Packet{}, err
	}
	m.mu.Lock()
	at := m.prefAT
	if m.firstAT == nil {
		m.firstAT = &at
	} else if !at.AtLeastAsStrong(*m.firstAT) {
		at = *m.firstAT
	}
	m.mu.Unlock()
	var rnd [16]byte
	if _, err := io.ReadFull(m.rand, rnd[:]); err != nil {
		return netio.Packet{}, err
	}
	nonce := rnd[:14] // a 16-octet Nonce option (RFC 3971 §5.3.2: at least 6)
	var opts []ndp.Option
	if len(accessPoints) == 0 {
		opts = append(opts, &ndp.LinkLayerAddress{OptionCode: ndp.LLAWildcard})
	}
	for _, ap := range accessPoints {
		opts = append(opts, &ndp.LinkLayerAddress{OptionCode: ndp.LLANewAccessPoint, LinkLayerAddress: ap})
	}
	opts = append(opts,
		&ndp.CGA{Parameters: *careOf.Parameters},
		ndp.NewTimestamp(m.now()),
		&ndp.Nonce{Nonce: nonce},
		&ndp.HandoverKeyRequest{AT: uint8(at), HandoverKeyEncryptionPublicKey: ek.der},
	)
	sol := &ndp.RouterSolicitationForProxyAdvertisement{Identifier: binary.BigEndian.Uint16(rnd[14:]), Options: opts}
	start := time.Now()
	b, err := ndp.MarshalMessage(sol)
	if err == nil {
		b, err = send.Sign(b, careOf.Address, router, m.cfg.Key)
	}
	m.trace("rtsolpr-sign", start, err)
	if err != nil {
		return netio.Packet{}, fmt.Errorf("mn: building RtSolPr: %w", err)
	}
	expires := m.now().Add(10 * time.Second)
	answers := 1
	if router.IsMulticast() {
		answers = 8 // RFC 5269 §3.3: several routers may answer
	}
	if m.verifier.Nonces != nil {
		if err := m.verifier.Nonces.Expect(nonce, expires, answers); err != nil {
			return netio.Packet{}, err
		}
	}
	m.mu.Lock()
	now := m.now()
	for k, p := range m.pending {
		if now.After(p.expires) {
			delete(m.pending, k)
		}
	}
	m.pending[string(nonce)] = &pending{router: router, careOf: careOf.Address.WithZone(""), at: at, ek: ek, expires: expires}
	m.mu.Unlock()
	return netio.Packet{Src: careOf.Address, Dst: router, HopLimit: 255, NextHeader: inet.ProtocolICMPv6, Payload: b}, nil
}

// EventKind says what a handled packet did.
type EventKind int

const (
	// KeyProvisioned: a PrRtAdv delivered a handover key (Record).
	KeyProvisioned EventKind = iota + 1
	// AdvertisementWithoutKey: a valid PrRtAdv answered a solicitation
	// without a Handover Key Reply (the router refused provisioning).
	AdvertisementWithoutKey
	// FastBindingAcknowledged: an authenticated FBack arrived (Status).
	FastBindingAcknowledged
	// HandoverKeyEstablished: an HKResp delivered a new key from the
	// Handover Key Server (Record, with its SPI).
	HandoverKeyEstablished
	// HandoverKeyVerified: an HKResp with V set confirmed the key the node
	// holds (Record, bound to the request's CoA).
	HandoverKeyVerified
	// HandoverKeyStatus: an HKResp with an error status (KeyResponse).
	HandoverKeyStatus
)

// Event is the outcome of HandlePacket.
type Event struct {
	Kind   EventKind
	Router netip.Addr
	// Record is the stored key (KeyProvisioned); its key octets are zeroed.
	Record keystore.Record
	// Advertisement is the verified PrRtAdv.
	Advertisement *ndp.ProxyRouterAdvertisement
	// Status, Sequence and Lifetime are the FBack's.
	Status   uint8
	Sequence uint16
	Lifetime time.Duration
	// KeyResponse is the error HKResp (HandoverKeyStatus).
	KeyResponse *KeyResponse
}

// HandlePacket processes a received packet: a PrRtAdv (RFC 5269 §3.3) or an
// FBack (RFC 5568 §6.2.3). Any error means the packet was dropped and
// changed nothing; drop reasons wrap ErrDropped.
func (m *MobileNode) HandlePacket(ctx context.Context, p netio.Packet) (Event, error) {
	switch {
	case p.NextHeader == inet.ProtocolICMPv6 && len(p.Payload) >= 5 && p.Payload[0] == 154 && p.Payload[4] == 3:
		return m.handleAdvertisement(ctx, p)
	case p.NextHeader == inet.ProtocolMobility && len(p.Payload) >= 3 && p.Payload[2] == 9:
		return m.handleFastBindingAck(p)
	case m.aaa != nil && p.NextHeader == inet.ProtocolMobility && len(p.Payload) >= 3 && p.Payload[2] == m.aaa.respType:
		return m.handleKeyResponse(p)
	}
	return Event{}, errNotForMe
}

func (m *MobileNode) handleAdvertisement(ctx context.Context, p netio.Packet) (Event, error) {
	if m.cfg.Authorizer == nil {
		return Event{}, errNotForMe
	}
	if p.HopLimit != 255 {
		return Event{}, fmt.Errorf("%w: PrRtAdv hop limit %d", ErrDropped, p.HopLimit)
	}
	v := *m.verifier
	v.Authorize = func(r *send.Result) error { return m.cfg.Authorizer.Authorize(ctx, r.Source, r.KeyHash) }
	// RFC 5269 §3.3: "the MN MUST first validate the PrRtAdvs as described
	// in RFC 3971 ... If a certified key from the router was not used to
	// sign the message, the message MUST be dropped."
	start := time.Now()
	res, err := v.Verify(p.Payload, p.Src, p.Dst)
	m.trace("prrtadv-verify", start, err)
	if err != nil {
		return Event{}, fmt.Errorf("%w: PrRtAdv: %w", ErrDropped, err)
	}
	msg, err := ndp.ParseMessage(p.Payload[:res.SignedLength])
	if err != nil {
		return Event{}, fmt.Errorf("%w: PrRtAdv: %w", ErrDropped, err)
	}
	adv, ok := msg.(*ndp.ProxyRouterAdvertisement)
	if !ok {
		return Event{}, errNotForMe
	}
	// "The MN finds the right public key to use by matching the SEND nonce
	// from the RtSolPr. If no such match occurs, the MN MUST drop the
	// PrRtAdv."
	m.mu.Lock()
	pd := m.pending[string(res.Nonce)]
	m.mu.Unlock()
	if res.Nonce == nil || pd == nil || m.now().After(pd.expires) {
		return Event{}, errNoPending
	}
	router := res.Source.WithZone("")
	var hkr *ndp.HandoverKeyReply
	for _, o := range adv.Options {
		if h, ok := o.(*ndp.HandoverKeyReply); ok {
			hkr = h
			break
		}
	}
	if hkr == nil {
		return Event{Kind: AdvertisementWithoutKey, Router: router, Advertisement: adv}, nil
	}
	at := hokey.AlgorithmType(hkr.AT)
	supported := false
	for _, s := range m.cfg.Supported {
		supported = supported || s == at
	}
	// §3.2: the AR selects the requested AT or one "of equivalent strength
	// or stronger"; anything else is a bidding-down attempt.
	if !supported || !at.AtLeastAsStrong(pd.at) {
		return Event{}, fmt.Errorf("%w: Handover Key Reply AT %v (requested %v)", ErrDropped, at, pd.at)
	}
	if hkr.KeyLifetime < time.Second {
		return Event{}, fmt.Errorf("%w: Handover Key Reply with zero Key Lifetime", ErrDropped)
	}
	// RSAES-PKCS1-v1_5 session-key decryption in constant time: a
	// malformed ciphertext yields a random key of the AT's length rather
	// than a distinguishable error (RFC 3447 §7.2.2 note, Bleichenbacher).
	material := make([]byte, at.KeyLen())
	defer clear(material)
	if _, err := io.ReadFull(m.rand, material); err != nil {
		return Event{}, err
	}
	start = time.Now()
	err = rsa.DecryptPKCS1v15SessionKey(nil, pd.ek.priv, hkr.EncryptedHandoverKey, material)
	m.trace("key-decrypt", start, err)
	if err != nil {
		return Event{}, fmt.Errorf("%w: Encrypted Handover Key: %w", ErrDropped, err)
	}
	now := m.now()
	// "The MN MUST index the handover keys with the AR's IPv6 address ...
	// and the MN's CGA to which the handover key applies."
	rec := keystore.Record{AR: router, MN: pd.careOf, AT: uint8(at), SPI: 0, Created: now, Expires: now.Add(hkr.KeyLifetime)}
	if err := rec.SetKey(material); err != nil {
		return Event{}, err
	}
	err = m.store.Put(&rec)
	rec.Zero()
	if err != nil {
		return Event{}, fmt.Errorf("mn: storing the handover key: %w", err)
	}
	return Event{Kind: KeyProvisioned, Router: router, Record: rec, Advertisement: adv}, nil
}

func (m *MobileNode) trace(step string, start time.Time, err error) {
	if m.cfg.Trace != nil {
		m.cfg.Trace(step, time.Since(start), err)
	}
}

// RefreshDue returns the stored keys that expire within RefreshBefore:
// "Prior to HK-LIFETIME expiring, the MN MUST request a new key from the AR
// if FMIPv6 service is still required from the router" (§3.3). Key octets
// are zeroed in the result.
func (m *MobileNode) RefreshDue() []keystore.Record {
	limit := m.now().Add(m.cfg.RefreshBefore)
	var due []keystore.Record
	_ = m.store.Range(func(r *keystore.Record) bool {
		if !r.Expires.After(limit) {
			c := *r
			c.Zero()
			due = append(due, c)
		}
		return true
	})
	return due
}
