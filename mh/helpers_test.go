package mh

import (
	"bytes"
	"net/netip"
	"time"
)

// cat joins wire fields; tables list one field per argument.
func cat(fields ...[]byte) []byte { return bytes.Join(fields, nil) }

// b is a shorthand for a field of literal octets.
func b(v ...byte) []byte { return v }

// u16 and u32 are big-endian fields.
func u16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }
func u32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// a16 is an IPv6 address field.
func a16(s string) []byte { x := netip.MustParseAddr(s).As16(); return x[:] }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// zeros is n zero octets.
func zeros(n int) []byte { return make([]byte, n) }

// seq is n octets 1, 2, ..., n.
func seq(n int) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = byte(i + 1)
	}
	return s
}

var (
	mnCoA   = addr("2001:db8:1::100")
	newCoA  = addr("2001:db8:2::100")
	parAddr = addr("2001:db8:1::1")
	narAddr = addr("2001:db8:2::1")
	mnMAC   = []byte{0x02, 0x00, 0x5e, 0x00, 0x53, 0x01}
	auth96  = seq(12)
	ntpTS   = NTPTimestamp(0xe93dfba5_80000000)
	hour    = time.Hour
)

func u64(v uint64) []byte { return append(u32(uint32(v>>32)), u32(uint32(v))...) }
