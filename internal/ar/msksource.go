package ar

import (
	"sync"
	"time"
)

// MemoryMSKs is an in-memory MSKSource: the MSK of each NAI with its
// expiry, as an 802.1X authenticator records them after each EAP
// success (the RADIUS Session-Timeout, RFC 2865 §5.27, bounds the
// expiry). It is safe for concurrent use.
type MemoryMSKs struct {
	mu  sync.RWMutex
	now func() time.Time
	m   map[string]mskRecord
}

type mskRecord struct {
	msk     MSK
	mac     [6]byte
	expires time.Time
}

// NewMemoryMSKs returns an empty source judging expiry by now (nil:
// time.Now).
func NewMemoryMSKs(now func() time.Time) *MemoryMSKs {
	if now == nil {
		now = time.Now
	}
	return &MemoryMSKs{now: now, m: make(map[string]mskRecord)}
}

// Set records msk for nai until expires, replacing (and wiping) the
// previous one: the router's FHK cache sees the change at the next FBU.
// The supplicant's MAC address is recorded as zero (SetSupplicant).
func (s *MemoryMSKs) Set(nai string, msk MSK, expires time.Time) {
	s.SetSupplicant(nai, msk, [6]byte{}, expires)
}

// SetSupplicant is Set with the MAC address of the supplicant that
// authenticated as nai (SupplicantAddrs).
func (s *MemoryMSKs) SetSupplicant(nai string, msk MSK, mac [6]byte, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[nai]; ok {
		old.msk.Zero()
	}
	s.m[nai] = mskRecord{msk: msk, mac: mac, expires: expires}
}

// LookupSupplicantMSK implements SupplicantAddrs: LookupMSK with the MAC
// address recorded with nai's MSK. It does not allocate.
func (s *MemoryMSKs) LookupSupplicantMSK(nai []byte) (MSK, time.Time, [6]byte, bool) {
	s.mu.RLock()
	rec, ok := s.m[string(nai)]
	s.mu.RUnlock()
	if !ok || !rec.expires.After(s.now()) {
		return MSK{}, time.Time{}, [6]byte{}, false
	}
	return rec.msk, rec.expires, rec.mac, true
}

// Delete forgets the MSK of nai (the MN logged off, EAPOL-Logoff).
func (s *MemoryMSKs) Delete(nai string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[nai]; ok {
		old.msk.Zero()
		delete(s.m, nai)
	}
}

// LookupMSK implements MSKSource; an expired MSK is not returned. It does
// not allocate.
func (s *MemoryMSKs) LookupMSK(nai []byte) (MSK, time.Time, bool) {
	msk, expires, _, ok := s.LookupSupplicantMSK(nai)
	return msk, expires, ok
}

// Expire removes the expired MSKs and returns how many.
func (s *MemoryMSKs) Expire() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, n := s.now(), 0
	for nai, rec := range s.m {
		if !rec.expires.After(now) {
			rec.msk.Zero()
			delete(s.m, nai)
			n++
		}
	}
	return n
}

// Len returns the number of MSKs held, expired ones included.
func (s *MemoryMSKs) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}
