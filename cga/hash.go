package cga

import (
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/netip"
	"sync"
)

// MaxSec is the largest security parameter: Sec is a three-bit unsigned
// integer (RFC 3972 §2).
const MaxSec = 7

// ErrSec reports a security parameter outside 0–MaxSec (RFC 3972 §2).
var ErrSec = errors.New("cga: Sec must be 0 to 7")

// Mask1 masks the interface identifier bits that Hash1 determines: bits 0–2
// (Sec) and 6–7 (the "u" and "g" bits) are ignored (RFC 3972 §2, §5 step 4).
const Mask1 uint64 = 0x1cffffffffffffff

// mask1First is Mask1 restricted to the first octet of the interface
// identifier; the other seven octets are compared whole.
const mask1First = 0x1c

// hash2Offset is where the public key starts in the Hash2 input: the
// modifier followed by nine zero octets standing for the subnet prefix and
// the collision count (RFC 3972 §3, §4 step 2).
const hash2Offset = fixedLen

// SecOf returns the security parameter encoded in the three leftmost bits of
// the interface identifier of addr (RFC 3972 §2: Sec = (interface identifier
// & 0xe000000000000000) >> 61).
func SecOf(addr netip.Addr) uint8 {
	a := addr.As16()
	return a[8] >> 5
}

// ExpectedAttempts returns the expected number of Hash2 computations the
// modifier search needs for sec: 2^(16·Sec) (RFC 3972 §4: "The brute-force
// search in steps 2 - 3 takes O(2^(16*Sec)) iterations"). It is 0 for Sec=0,
// where steps 2–3 are skipped.
func ExpectedAttempts(sec uint8) float64 {
	if sec == 0 {
		return 0
	}
	return math.Ldexp(1, 16*int(sec))
}

// hash2Zero reports whether the 16·sec leftmost bits of the SHA-1 value h
// are zero (RFC 3972 §4 step 3, §5 step 7). 2·sec is at most 14 < 20.
func hash2Zero(h *[sha1.Size]byte, sec uint8) bool {
	for _, c := range h[:2*int(sec)] {
		if c != 0 {
			return false
		}
	}
	return true
}

// hash2 computes the SHA-1 value of the Hash2 input formed from the CGA
// Parameters in b: the subnet prefix and collision count are hashed as nine
// zero octets (RFC 3972 §3, §5 step 6). Only the 112 leftmost bits are
// Hash2; the caller looks at no more than 14 octets.
func hash2(b []byte) [sha1.Size]byte {
	s := sha1Pool.Get().(*sha1State)
	s.d.Reset()
	s.d.Write(b[:16])
	s.d.Write(nineZeros[:])
	s.d.Write(b[fixedLen:])
	h := [sha1.Size]byte(s.d.Sum(s.out[:0]))
	sha1Pool.Put(s)
	return h
}

// nineZeros stand for the subnet prefix and collision count in Hash2.
var nineZeros [9]byte

// sha1State is a reusable SHA-1 state and output buffer for hash2, which
// hashes its input in three pieces without copying it.
type sha1State struct {
	d   hash.Hash
	out [sha1.Size]byte
}

var sha1Pool = sync.Pool{New: func() any { return &sha1State{d: sha1.New()} }}

// interfaceIdentifier forms the interface identifier from the SHA-1 value of
// the CGA Parameters (Hash1 is its 64 leftmost bits): Sec is written into the
// three leftmost bits and the "u" and "g" bits are set to zero (RFC 3972 §4
// step 6).
func interfaceIdentifier(h *[sha1.Size]byte, sec uint8) [8]byte {
	var iid [8]byte
	copy(iid[:], h[:8])
	iid[0] = sec<<5 | iid[0]&mask1First
	return iid
}

// hash1Matches reports whether Hash1, the 64 leftmost bits of h, equals the
// interface identifier iid under Mask1 (RFC 3972 §5 step 4).
func hash1Matches(h *[sha1.Size]byte, iid []byte) bool {
	hv := binary.BigEndian.Uint64(h[:8])
	iv := binary.BigEndian.Uint64(iid)
	return (hv^iv)&Mask1 == 0
}

// Address returns the CGA formed from p for the security parameter sec
// (RFC 3972 §4 steps 5–7): Hash1 over the encoded parameters, Sec in bits
// 0–2, "u" and "g" bits zero, subnet prefix to the left. It does not check
// Hash2: use it to re-form the address after a collision-count change or
// for a new subnet prefix with a reused modifier (RFC 3972 §4).
func (p *Parameters) Address(sec uint8) (netip.Addr, error) {
	if sec > MaxSec {
		return netip.Addr{}, fmt.Errorf("%w: %d", ErrSec, sec)
	}
	b, err := p.Marshal()
	if err != nil {
		return netip.Addr{}, err
	}
	h := sha1.Sum(b)
	return formAddress(p.SubnetPrefix, interfaceIdentifier(&h, sec)), nil
}

// formAddress concatenates the subnet prefix and the interface identifier
// (RFC 3972 §4 step 7).
func formAddress(prefix, iid [8]byte) netip.Addr {
	var a [16]byte
	copy(a[:8], prefix[:])
	copy(a[8:], iid[:])
	return netip.AddrFrom16(a)
}

// incrementModifier adds one to the 128-bit big-endian modifier in m, in
// place, wrapping modulo 2^128 (RFC 3972 §4 step 3: "increment the modifier
// by one").
func incrementModifier(m *[16]byte) {
	for i := 15; i >= 0; i-- {
		m[i]++
		if m[i] != 0 {
			return
		}
	}
}

// addModifier returns m + n modulo 2^128.
func addModifier(m [16]byte, n uint64) [16]byte {
	hi := binary.BigEndian.Uint64(m[:8])
	lo := binary.BigEndian.Uint64(m[8:])
	lo2 := lo + n
	if lo2 < lo {
		hi++
	}
	var r [16]byte
	binary.BigEndian.PutUint64(r[:8], hi)
	binary.BigEndian.PutUint64(r[8:], lo2)
	return r
}
