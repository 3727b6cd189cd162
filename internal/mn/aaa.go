package mn

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// Constants of the shared-key mode (draft-vidya-mipshop-handover-keys-
// aaa-04 §6.2; docs/aaa.md, The mobile node). The draft gives
// N_HO_KEYTRIES a value and HKEY_REQ_TOUT none.
const (
	// HKeyReqTimeout is HKEY_REQ_TOUT: how long the MN waits for the
	// HKResp before it retransmits the HKReq.
	HKeyReqTimeout = 3 * time.Second
	// HOKeyTries is N_HO_KEYTRIES (§6.2.1: "The default value of
	// N_HO_KEYTRIES is 3"): transmissions of one HKReq, the first included.
	HOKeyTries = 3
	// HKStatusVerifyFailed is HK_VERIFY_FAILED, which the draft leaves
	// without a number (docs/codepoints.md): 139, as internal/ar answers.
	HKStatusVerifyFailed uint16 = 139
	// maxCorrections bounds the new HKReqs one RequestHandoverKey sends
	// after error answers (a new timestamp, PRF or MAC algorithm, a new
	// key after a failed verification).
	maxCorrections = 4
)

// Errors of the shared-key mode.
var (
	// ErrKeyRefused is wrapped by *KeyRefusedError.
	ErrKeyRefused = errors.New("mn: handover key refused")
	// ErrProhibited: an authenticated ADMINISTRATIVELY_PROHIBITED came
	// from the router, so no more HKReqs go through it (§6.2.2.1).
	ErrProhibited = errors.New("mn: handover keys administratively prohibited via this router")
)

// KeyRefusedError is the outcome of an HKReq answered with an error status
// the node could not correct (§6.2.2.1).
type KeyRefusedError struct {
	Router netip.Addr
	Status uint16
	// Authenticated: the status came with an MN-HKS MAC (or MN-AR MAC)
	// that verified. Unauthenticated ones are only reported when no
	// answer came at all.
	Authenticated bool
}

func (e *KeyRefusedError) Error() string {
	auth := "unauthenticated"
	if e.Authenticated {
		auth = "authenticated"
	}
	return fmt.Sprintf("%v: router %v answered status %d (%s)", ErrKeyRefused, e.Router, e.Status, auth)
}

// Is makes errors.Is(err, ErrKeyRefused) true, and ErrProhibited for
// ADMINISTRATIVELY_PROHIBITED.
func (e *KeyRefusedError) Is(target error) bool {
	return target == ErrKeyRefused || (target == ErrProhibited && e.Status == mh.HandoverKeyStatusAdministrativelyProhibited && e.Authenticated)
}

// AAAConfig enables the shared-key mode: the node shares a Handover Master
// Key with a Handover Key Server and asks access routers for handover keys
// with HKReqs (docs/aaa.md).
type AAAConfig struct {
	// NAI is the MN ID (RFC 4282; 1 to 254 octets).
	NAI string
	// HMK is the Handover Master Key, at least 64 octets (§6.1).
	HMK []byte
	// PRF and MAC are the algorithms requested first (0: HMAC-SHA1, the
	// draft's).
	PRF hokey.PRF
	MAC hokey.MACAlgorithm
	// PRFs and MACs are the algorithms the node switches to when the HKS
	// answers INVALID_PRF_ALG or INVALID_MAC_ALG (§6.2.2.1); nil means
	// only PRF, only MAC: the node then gives up.
	PRFs []hokey.PRF
	MACs []hokey.MACAlgorithm
	// Codepoints of the draft's MH types and options (zero: defaults).
	Codepoints mh.Codepoints
	// Timeout is HKEY_REQ_TOUT (0: HKeyReqTimeout); Tries is
	// N_HO_KEYTRIES (0: HOKeyTries).
	Timeout time.Duration
	Tries   int
}

// aaaState is the node's shared-key state; MobileNode.mu guards it.
type aaaState struct {
	cfg      AAAConfig
	respType uint8
	prf      hokey.PRF
	mac      hokey.MACAlgorithm
	msgID    uint8
	// lastTS is the last Timestamp sent; okTS the last one of a
	// successful HKReq ("MUST be greater than that used in any previous
	// successful HKReq", §5.2.3); offset corrects the clock after
	// INVALID_TIMESTAMP.
	lastTS, okTS mh.NTPTimestamp
	offset       time.Duration
	// out is the outstanding HKReq per router; prohibited the routers
	// that answered ADMINISTRATIVELY_PROHIBITED.
	out        map[netip.Addr]*keyExchange
	prohibited map[netip.Addr]bool
}

// keyExchange is an outstanding HKReq.
type keyExchange struct {
	router netip.Addr
	// careOf is the CoA the key is for (the record's MN); the Key Care of
	// Address field holds it, or :: for an indirect request (§6.5).
	careOf  netip.Addr
	msgID   uint8
	mnNonce []byte
	ts      mh.NTPTimestamp
	prf     hokey.PRF
	mac     hokey.MACAlgorithm
	// verify: V set, with the key of (router, verifyCoA), SPI verifySPI.
	verify    bool
	verifyCoA netip.Addr
	verifySPI uint32
	packet    []byte
	src       netip.Addr
}

func newAAAState(cfg *AAAConfig, rnd uint8) (*aaaState, error) {
	a := &aaaState{cfg: *cfg, msgID: rnd, out: make(map[netip.Addr]*keyExchange), prohibited: make(map[netip.Addr]bool)}
	c := &a.cfg
	c.HMK = slices.Clone(cfg.HMK)
	if c.PRF == 0 {
		c.PRF = hokey.PRFHMACSHA1
	}
	if c.MAC == 0 {
		c.MAC = hokey.MACHMACSHA1
	}
	if !slices.Contains(c.PRFs, c.PRF) {
		c.PRFs = append(slices.Clone(c.PRFs), c.PRF)
	}
	if !slices.Contains(c.MACs, c.MAC) {
		c.MACs = append(slices.Clone(c.MACs), c.MAC)
	}
	if c.Timeout == 0 {
		c.Timeout = HKeyReqTimeout
	}
	if c.Tries == 0 {
		c.Tries = HOKeyTries
	}
	if len(c.NAI) == 0 || len(c.NAI) > hokey.MaxNAILen || c.Timeout < 0 || c.Tries < 0 {
		return nil, fmt.Errorf("mn: AAAConfig: NAI of %d octets (1 to %d), Timeout %v, Tries %d", len(c.NAI), hokey.MaxNAILen, c.Timeout, c.Tries)
	}
	for _, p := range c.PRFs {
		for _, m := range c.MACs {
			// Checks the HMK's length and every algorithm.
			if _, err := hokey.DeriveHIK(p, c.HMK, 0, m); err != nil {
				return nil, fmt.Errorf("mn: AAAConfig: %w", err)
			}
		}
	}
	if err := c.Codepoints.Validate(); err != nil {
		return nil, fmt.Errorf("mn: AAAConfig: %w", err)
	}
	a.prf, a.mac = c.PRF, c.MAC
	a.respType = c.Codepoints.HandoverKeyResponse
	if a.respType == 0 {
		a.respType = mh.DefaultHandoverKeyResponseType
	}
	return a, nil
}

// aaaKey returns the node's unexpired handover key from router's Handover
// Key Server (SPI at least hokey.FirstAAASPI), key octets included: the
// caller zeroes it.
func (m *MobileNode) aaaKey(router netip.Addr) (keystore.Record, bool) {
	var rec keystore.Record
	found := false
	_ = m.store.Range(func(r *keystore.Record) bool {
		if r.AR == router && r.SPI >= hokey.FirstAAASPI {
			rec, found = *r, true
			return false
		}
		return true
	})
	return rec, found
}

// dropOtherKeys removes router's shared-mode keys other than the one of
// careOf (§6.2.1: "Once a MN obtains a new key, it MUST discard the old
// key").
func (m *MobileNode) dropOtherKeys(router, careOf netip.Addr) {
	var old []netip.Addr
	_ = m.store.Range(func(r *keystore.Record) bool {
		if r.AR == router && r.SPI >= hokey.FirstAAASPI && r.MN != careOf {
			old = append(old, r.MN)
		}
		return true
	})
	for _, a := range old {
		_ = m.store.Delete(router, a)
	}
}
