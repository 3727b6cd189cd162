package ar

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/hokey"
)

// MSKGenerations is implemented by an MSKSource that counts its changes:
// the generation advances whenever an MSK is put, replaced, deleted or
// expired (keystore.MSKs, MemoryMSKs). The router's FHK cache then trusts
// an entry it validated at the current generation without asking the
// source again, so that a cache hit costs one atomic load instead of a
// lookup and a constant-time MSK compare (docs/msk.md, Caching rule). A
// source without it is asked on every FBU. The generation must advance
// while the change is made under the lock LookupSupplicantMSK reads
// under (or before the change is visible), never after.
type MSKGenerations interface {
	MSKGeneration() uint64
}

// NeighborGenerations is implemented by a NeighborTable that counts the
// changes of its link-layer addresses (netio.NeighborTable while it
// follows the kernel's notifications). ok is false when the table cannot
// tell (it reads the kernel at each lookup): the router then looks the
// PCoA up for every FBU. As for MSKGenerations, the generation advances
// with the change, never after it is visible.
type NeighborGenerations interface {
	NeighborGeneration() (gen uint64, ok bool)
}

// mskState is the router's MSK mode: the configuration and the FHK cache.
type mskState struct {
	src       SupplicantAddrs
	gens      MSKGenerations // nil: the source is asked for every FBU
	neighbors NeighborTable
	nbGens    NeighborGenerations // nil: the neighbor table is asked for every FBU
	allowed   [atValues]bool
	par       netip.Addr
	size      int

	mu sync.RWMutex
	// fhks are the derived FHKs per AT, by NAI: an entry holds while
	// the source returns the same MSK with the same expiry and MAC.
	fhks [atValues]map[string]*fhkEntry
	n    int
}

// fhkEntry is one cached FHK with what it was derived from and when that
// was last seen current. Its fields change under mskState.mu.
type fhkEntry struct {
	msk     MSK
	expires time.Time
	mac     [6]byte // the supplicant's, recorded with the MSK
	key     hokey.Key
	// gen is the source's generation at which msk, expires and mac were
	// last read from the source (with gens only).
	gen uint64
	// pcoa is the last PCoA whose neighbor entry had mac, at the
	// neighbor table's generation nbGen (pcoa invalid: none).
	pcoa  netip.Addr
	nbGen uint64
}

// fhkResult is the cache's answer for one FBU.
type fhkResult struct {
	key hokey.Key
	mac [6]byte // the supplicant MAC recorded with the MSK
	ok  bool    // a usable MSK is known
	// owned: the PCoA asked about was found to be mac's at the neighbor
	// table's current generation; otherwise nbGen (if nbOK) is the
	// generation to record a new finding at.
	owned bool
	nbGen uint64
	nbOK  bool
}

// ownedIn reports whether e records pcoa as its supplicant's at the
// neighbor table generation res was made at.
func (res *fhkResult) ownedIn(e *fhkEntry, pcoa netip.Addr) bool {
	return res.nbOK && e.nbGen == res.nbGen && e.pcoa == pcoa && e.pcoa.IsValid()
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
	s.gens, _ = cfg.Source.(MSKGenerations)
	s.nbGens, _ = cfg.Neighbors.(NeighborGenerations)
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
// once per MSK, and whether pcoa was found to be the supplicant's at the
// neighbor table's current generation. With a source that counts its
// changes (MSKGenerations), a hit on an entry validated at the current
// generation and not expired costs two atomic loads, a map lookup under a
// read lock and a key copy; otherwise the source is asked and its MSK
// compared in constant time with the entry's. It allocates nothing on a
// hit. ok is false when the source knows no usable MSK for nai.
func (s *mskState) fhk(nai []byte, at hokey.AlgorithmType, pcoa netip.Addr, now time.Time) (res fhkResult, err error) {
	if s.nbGens != nil {
		res.nbGen, res.nbOK = s.nbGens.NeighborGeneration()
	}
	var gen uint64
	if s.gens != nil {
		// Loaded before the entry or the source is read: a change made
		// meanwhile leaves the entry stamped with an older generation.
		gen = s.gens.MSKGeneration()
		s.mu.RLock()
		if e := s.fhks[at][string(nai)]; e != nil && e.gen == gen && e.expires.After(now) {
			res.key, res.mac, res.ok = e.key, e.mac, true
			res.owned = res.ownedIn(e, pcoa)
			s.mu.RUnlock()
			return res, nil
		}
		s.mu.RUnlock()
	}
	msk, expires, mac, found := s.src.LookupSupplicantMSK(nai)
	defer msk.Zero()
	if !found || !expires.After(now) {
		return res, nil
	}
	res.mac = mac
	res.key, res.owned, err = s.fhkOf(&msk, expires, mac, gen, nai, at, pcoa, &res)
	res.ok = err == nil
	return res, err
}

// fhkOf is fhk once the MSK is known (read from the source at generation
// gen): the entry is used if it holds the same MSK with the same expiry,
// and stamped with gen; otherwise the FHK is derived and replaces it.
func (s *mskState) fhkOf(msk *MSK, expires time.Time, mac [6]byte, gen uint64, nai []byte, at hokey.AlgorithmType, pcoa netip.Addr, res *fhkResult) (key hokey.Key, owned bool, err error) {
	same := func(e *fhkEntry) bool { return e.msk.Equal(msk) && e.expires.Equal(expires) && e.mac == mac }
	if s.gens == nil { // nothing to stamp: a read lock suffices
		s.mu.RLock()
		if e := s.fhks[at][string(nai)]; e != nil && same(e) {
			key, owned = e.key, res.ownedIn(e, pcoa)
			s.mu.RUnlock()
			return key, owned, nil
		}
		s.mu.RUnlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.fhks[at]
	if e := m[string(nai)]; e != nil {
		if same(e) { // still current: restamp
			e.gen = gen
			return e.key, res.ownedIn(e, pcoa), nil
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
		m[string(nai)] = &fhkEntry{msk: *msk, expires: expires, mac: mac, key: key, gen: gen}
		s.n++
	}
	return key, false, nil
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

// ownsPCoA reports whether the PCoA belongs to the NAI: its neighbor
// entry on the access link has the MAC address res.mac of the supplicant
// that authenticated as the NAI (docs/msk.md); an NAI recorded without
// one (all zero) owns nothing. A finding made at the neighbor table's
// current generation (res.owned) is reused; a new positive one is
// recorded in the NAI's entry for the next FBU. A MAC address is no
// secret: plain compares.
func (s *mskState) ownsPCoA(nai []byte, at hokey.AlgorithmType, res *fhkResult, pcoa netip.Addr) bool {
	if res.mac == [6]byte{} {
		return false
	}
	if res.owned {
		return true
	}
	mac, ok := s.neighbors.LinkAddr(pcoa)
	if !ok || mac != res.mac {
		return false
	}
	if res.nbOK {
		s.mu.Lock()
		if e := s.fhks[at][string(nai)]; e != nil && e.mac == res.mac {
			e.pcoa, e.nbGen = pcoa, res.nbGen
		}
		s.mu.Unlock()
	}
	return true
}
