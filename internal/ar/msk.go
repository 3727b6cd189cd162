package ar

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/mh"
)

// DefaultMSKCacheSize bounds the FHKs the router keeps derived (MSKConfig).
const DefaultMSKCacheSize = 4096

// MSK is an EAP Master Session Key (hokey.MSK): the first 64 octets of
// the EAP method's key material (issue 12, docs/msk.md).
type MSK = hokey.MSK

// MSKSource gives the PAR the MSK it shares with a mobile node after the
// node's access authentication, by the node's NAI. The 802.1X
// authenticator (EAP over EAPOL, RADIUS to the AAA server) fills it;
// MemoryMSKs is the in-memory version. It must be safe for concurrent use.
type MSKSource interface {
	// LookupMSK returns the MSK of nai (the octets of an MN-NAI option,
	// RFC 4283 §3.1), the time it stops being usable and whether one is
	// known. nai aliases the received packet: it must not be kept. It
	// is called for every FBU of the MSK mode, so it should not
	// allocate (a map indexed by string(nai) does not).
	LookupMSK(nai []byte) (msk MSK, expires time.Time, ok bool)
}

// SupplicantAddrs is implemented by an MSKSource that records, with each
// MSK, the MAC address of the supplicant that authenticated as the NAI on
// the access link (the 802.1X authenticator does: keystore.MSKs,
// MemoryMSKs.SetSupplicant). The router calls it instead of LookupMSK,
// once per FBU: it must be safe for concurrent use and should not
// allocate.
type SupplicantAddrs interface {
	// LookupSupplicantMSK is LookupMSK with the MAC address recorded
	// with the MSK.
	LookupSupplicantMSK(nai []byte) (msk MSK, expires time.Time, mac [6]byte, ok bool)
}

// NeighborTable gives the link-layer address of an address on the
// router's access link: the node reads the kernel's neighbor table
// (netio.NeighborTable), tests use StaticNeighbors. It must be safe for
// concurrent use.
type NeighborTable interface {
	LinkAddr(addr netip.Addr) (mac [6]byte, ok bool)
}

// StaticNeighbors is a fixed NeighborTable (tests, the demo).
type StaticNeighbors map[netip.Addr][6]byte

// LinkAddr implements NeighborTable.
func (n StaticNeighbors) LinkAddr(addr netip.Addr) ([6]byte, bool) {
	mac, ok := n[addr]
	return mac, ok
}

// MSKConfig enables the MSK mode of issue 12 (draft-li-mipshop-fbu-sec-00,
// docs/msk.md) beside SEND and AAA: an FBU carrying an MN-NAI option and
// an MN-HA Mobility Message Authentication option (RFC 4285 §5.1) with an
// FHK SPI, instead of a BADF, is verified with the FHK derived from the
// MSK of the NAI, and answered with an FBack carrying the same options.
type MSKConfig struct {
	// Source gives the MSK of an NAI; required.
	Source MSKSource
	// Algorithms are the ATs the router accepts (the SPI names the AT);
	// nil means hokey.HMACSHA256Trunc128 only (docs/msk.md, Bidding
	// down).
	Algorithms []hokey.AlgorithmType
	// CacheSize bounds the derived FHKs kept per (NAI, AT); 0 means
	// DefaultMSKCacheSize.
	CacheSize int
	// Neighbors gives the MAC address of the PCoA on the access link;
	// required, with a Source that implements SupplicantAddrs: an FBU
	// is accepted only if the PCoA's neighbor entry has the MAC address
	// of the supplicant that authenticated as the NAI (docs/msk.md, The
	// PCoA belongs to the NAI).
	Neighbors NeighborTable
}

// mskState is the router's MSK mode: the configuration and the FHK cache.
type mskState struct {
	src       SupplicantAddrs
	neighbors NeighborTable
	allowed   [atValues]bool
	par       netip.Addr
	size      int

	mu sync.RWMutex
	// fhks are the derived FHKs per AT, by NAI: an entry holds while
	// the source returns the same MSK with the same expiry.
	fhks [atValues]map[string]*fhkEntry
	n    int
}

type fhkEntry struct {
	msk     MSK
	expires time.Time
	key     hokey.Key
}

func newMSKState(cfg *MSKConfig, par netip.Addr) (*mskState, error) {
	if cfg.Source == nil {
		return nil, errors.New("ar: MSKConfig needs a Source")
	}
	if err := hokey.CheckPARAddress(par); err != nil {
		return nil, fmt.Errorf("ar: MSK mode: %w", err)
	}
	owners, ok := cfg.Source.(SupplicantAddrs)
	if !ok || cfg.Neighbors == nil {
		return nil, errors.New("ar: MSKConfig needs Neighbors and a Source that records supplicant MAC addresses (SupplicantAddrs)")
	}
	s := &mskState{src: owners, neighbors: cfg.Neighbors, par: par, size: cfg.CacheSize}
	if s.size == 0 {
		s.size = DefaultMSKCacheSize
	}
	if s.size < 0 {
		return nil, errors.New("ar: MSKConfig: negative CacheSize")
	}
	ats := cfg.Algorithms
	if ats == nil {
		ats = []hokey.AlgorithmType{hokey.HMACSHA256Trunc128}
	}
	for _, at := range ats {
		if !at.Valid() {
			return nil, fmt.Errorf("ar: MSKConfig: %w: AT %d", hokey.ErrAlgorithm, at)
		}
		s.allowed[at] = true
	}
	for i := range s.fhks {
		s.fhks[i] = make(map[string]*fhkEntry)
	}
	return s, nil
}

// fhk returns the FHK of (nai, at) for this PAR (docs/msk.md), derived
// once per MSK: a cache hit costs the source lookup, a constant-time MSK
// compare and a key copy, and allocates nothing. ok is false when the
// source knows no usable MSK for nai.
func (s *mskState) fhk(nai []byte, at hokey.AlgorithmType, now time.Time) (key hokey.Key, mac [6]byte, ok bool, err error) {
	msk, expires, mac, found := s.src.LookupSupplicantMSK(nai)
	defer msk.Zero()
	if !found || !expires.After(now) {
		return key, mac, false, nil
	}
	key, ok, err = s.fhkOf(&msk, expires, nai, at)
	return key, mac, ok, err
}

// fhkOf is fhk once the MSK is known.
func (s *mskState) fhkOf(msk *MSK, expires time.Time, nai []byte, at hokey.AlgorithmType) (key hokey.Key, ok bool, err error) {
	s.mu.RLock()
	if e := s.fhks[at][string(nai)]; e != nil && e.msk.Equal(msk) && e.expires.Equal(expires) {
		key = e.key
		s.mu.RUnlock()
		return key, true, nil
	}
	s.mu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.fhks[at]
	if e := m[string(nai)]; e != nil {
		if e.msk.Equal(msk) && e.expires.Equal(expires) { // filled meanwhile
			return e.key, true, nil
		}
		s.dropLocked(at, string(nai), e) // the MSK changed (new EAP run)
	}
	key, err = deriveFHK(*msk, nai, s.par, at)
	if err != nil {
		return key, false, err
	}
	if s.n >= s.size {
		s.evictLocked()
	}
	if s.size > 0 {
		m[string(nai)] = &fhkEntry{msk: *msk, expires: expires, key: key}
		s.n++
	}
	return key, true, nil
}

// deriveFHK is hokey.DeriveFHK on a copy of msk, so that only a cache
// miss moves an MSK to the heap (prf+ keeps its key in an HMAC).
func deriveFHK(msk MSK, nai []byte, par netip.Addr, at hokey.AlgorithmType) (hokey.Key, error) {
	defer msk.Zero()
	return hokey.DeriveFHK(msk[:], string(nai), par, at)
}

func (s *mskState) dropLocked(at hokey.AlgorithmType, nai string, e *fhkEntry) {
	e.msk.Zero()
	e.key.Zero()
	delete(s.fhks[at], nai)
	s.n--
}

// evictLocked removes one entry, expired ones first seen: the cache is a
// bound, not a policy (a miss costs one derivation).
func (s *mskState) evictLocked() {
	for at, m := range s.fhks {
		for nai, e := range m {
			s.dropLocked(hokey.AlgorithmType(at), nai, e)
			return
		}
	}
}

// expire drops the entries whose MSK has expired.
func (s *mskState) expire(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for at, m := range s.fhks {
		for nai, e := range m {
			if !e.expires.After(now) {
				s.dropLocked(hokey.AlgorithmType(at), nai, e)
			}
		}
	}
}

// checkMSKFastBindingUpdate authenticates an FBU of the MSK mode (no
// BADF): MN-NAI option, MN-HA option last with an FHK SPI of an allowed
// AT, MSK of the NAI, FHK (cached), VerifyFHK over the received bytes
// with care-of = NCoA and home = PCoA, then the Sequence Number as in the
// SEND mode. It does not allocate on a cache hit (TestFBUVerifyMSKAllocs).
func (r *Router) checkMSKFastBindingUpdate(payload []byte, fbu mh.FastBindingUpdateView, pcoa, ncoa netip.Addr) (v fbuVerdict, key hokey.Key, spi uint32) {
	nai, err := mh.MobileNodeNAI(payload)
	if err != nil {
		return fbuMalformed, key, spi
	}
	var data [mh.MaxMobilityDataLen]byte
	cov, err := mh.AppendCoveredByMobilityMessageAuthentication(data[:0], payload, mh.AuthenticationSubtypeMNHA, ncoa, pcoa)
	if err != nil {
		return fbuMalformed, key, spi
	}
	// An SPI that is not an FHK SPI, or names an AT the router does not
	// allow, is a failed authentication without a key: no answer.
	spi = cov.SPI
	at, err := hokey.FHKAlgorithm(spi)
	if err != nil || !r.msk.allowed[at] {
		return fbuMSKBadSPI, key, spi
	}
	key, owner, ok, err := r.msk.fhk(nai, at, r.now())
	switch {
	case err != nil: // an NAI the derivation refuses
		return fbuMalformed, key, spi
	case !ok:
		return fbuUnknownNAI, key, spi
	}
	// hokey.VerifyFHK's checks on the octets located once: the option
	// last (only padding after it), the MN-NAI option before it (found
	// above), the SPI of the key's AT (the key is the SPI's), then the
	// constant-time compare of First(L, HMAC_H(FHK, NCoA | PCoA | MH
	// Data)) over the received bytes (RFC 4285 §5.1).
	if mh.CheckOnlyPadding(payload, cov.Offset+len(cov.Authenticator)) != nil {
		return fbuMalformed, key, spi
	}
	if key.VerifyAuthenticator(ncoa, pcoa, cov.Data[32:], cov.Authenticator) != nil {
		return fbuBadAuth, key, spi
	}
	if !r.msk.ownsPCoA(owner, pcoa) {
		return fbuMSKNotOwner, key, spi
	}
	if b, ok := r.bindings.Lookup(pcoa); ok && int16(fbu.Sequence-b.Sequence) <= 0 {
		return fbuStale, key, spi
	}
	return fbuAccepted, key, spi
}

// ownsPCoA reports whether the PCoA belongs to the NAI: its neighbor
// entry on the access link has the MAC address owner of the supplicant
// that authenticated as the NAI (docs/msk.md); an NAI recorded without
// one (all zero) owns nothing. A MAC address is no secret: a plain
// compare.
func (s *mskState) ownsPCoA(owner [6]byte, pcoa netip.Addr) bool {
	mac, ok := s.neighbors.LinkAddr(pcoa)
	return ok && mac == owner && owner != [6]byte{}
}

// fastBindingAckFHK builds the FBack of the MSK mode: the MN-NAI option of
// the FBU, then the MN-HA option with the FBU's SPI, signed with the FHK
// over care-of = NCoA, home = PCoA (docs/msk.md, Placement and the FBack).
func (r *Router) fastBindingAckFHK(ack mh.FastBindingAcknowledgment, nai []byte, key *hokey.Key, ncoa, pcoa, dst netip.Addr) ([]byte, error) {
	opt, err := hokey.FHKAuthenticationOption(key.Algorithm())
	if err != nil {
		return nil, err
	}
	ack.Options = []mh.Option{mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: nai}, opt}
	return hokey.AppendSignedFHK(nil, ack, key, ncoa, pcoa, r.addr, dst)
}
