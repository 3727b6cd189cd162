package mip6tls

import (
	"bytes"
	"net/netip"
	"strconv"
	"time"
)

// Value grammars shared by the parameters (RFC 6618 §5.5-§5.7). Each
// parser reads the received octets in place (they may hold key material
// that the caller wipes: nothing here copies them into a string) and
// returns an error wrapping ErrValue; the caller names the header. Each
// formatter appends to the message being built.

// parseHex decodes 1*(HEX HEX) (HEX is either case, RFC 2616 §2.2) into a
// new slice.
func parseHex(s []byte) ([]byte, error) {
	if len(s) == 0 || len(s)%2 != 0 {
		return nil, wrapCause(ErrValue, "%d hex digits, need a positive even number", len(s))
	}
	b := make([]byte, len(s)/2)
	if err := parseFixedHex(b, s); err != nil {
		return nil, err
	}
	return b, nil
}

// upperHex are the digits appendHex writes.
const upperHex = "0123456789ABCDEF"

// appendHex appends octets as upper-case hex, the case of the RFC's own
// examples (§5.6.5: "3B", "2F").
func appendHex(b, octets []byte) []byte {
	for _, c := range octets {
		b = append(b, upperHex[c>>4], upperHex[c&0x0f])
	}
	return b
}

// parseFixedHex decodes exactly len(dst) octets of hex into dst, without
// an intermediate buffer (key material is decoded straight into the
// caller's array).
func parseFixedHex(dst, s []byte) error {
	if len(s) == 0 || len(s)%2 != 0 {
		return wrapCause(ErrValue, "%d hex digits, need a positive even number", len(s))
	}
	if len(s)/2 != len(dst) {
		return wrapCause(ErrValue, "%d octets, need %d", len(s)/2, len(dst))
	}
	for i := range dst {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		if hi|lo == notHex {
			return wrapCause(ErrValue, "not hex: invalid digit at %d", 2*i)
		}
		dst[i] = hi<<4 | lo
	}
	return nil
}

// notHex marks a non-digit in hexValue; ORed with a digit (0..15) it stays
// notHex, so that one test covers both digits of an octet.
const notHex = 0xff

// hexValue maps a HEX digit of either case (RFC 2616 §2.2) to its value,
// anything else to notHex.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = notHex
	}
	for i, c := range []byte(upperHex) {
		t[c] = byte(i)
	}
	for i, c := range []byte("abcdef") {
		t[c] = byte(10 + i)
	}
	return t
}()

// parseDecimal decodes 1*maxDigits DIGIT (maxDigits at most 19) into a
// value in [lo, hi].
func parseDecimal(s []byte, maxDigits int, lo, hi uint64) (uint64, error) {
	if len(s) == 0 || len(s) > maxDigits {
		return 0, wrapCause(ErrValue, "%q: need 1 to %d digits", s, maxDigits)
	}
	var v uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, wrapCause(ErrValue, "%q: not a decimal number", s)
		}
		v = v*10 + uint64(c-'0')
	}
	if v < lo || v > hi {
		return 0, wrapCause(ErrValue, "%q: out of range %d..%d", s, lo, hi)
	}
	return v, nil
}

// parseIP6Addr decodes §5.7's ip6-addr = 7( word ":" ) word, word = 1*4HEX:
// eight groups, no "::" compression, no embedded IPv4, no zone.
func parseIP6Addr(s []byte) (netip.Addr, error) {
	if bytes.Count(s, []byte(":")) != 7 {
		return netip.Addr{}, wrapCause(ErrValue, "%q: ip6-addr needs 8 words separated by ':' (no '::')", s)
	}
	var a [16]byte
	rest := s
	for i := range 8 {
		w, tail, _ := bytes.Cut(rest, []byte(":"))
		rest = tail
		if len(w) == 0 || len(w) > 4 {
			return netip.Addr{}, wrapCause(ErrValue, "%q: word %d has %d hex digits (1*4HEX)", s, i+1, len(w))
		}
		var v uint16
		for _, c := range w {
			d := hexValue[c]
			if d == notHex {
				return netip.Addr{}, wrapCause(ErrValue, "%q: word %d is not hex", s, i+1)
			}
			v = v<<4 | uint16(d)
		}
		a[2*i], a[2*i+1] = byte(v>>8), byte(v)
	}
	return netip.AddrFrom16(a), nil
}

// appendIP6Addr writes the eight words in lower-case hex without leading
// zeros and without "::" (the grammar has no compressed form).
func appendIP6Addr(b []byte, a netip.Addr) []byte {
	o := a.As16()
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			b = append(b, ':')
		}
		b = strconv.AppendUint(b, uint64(o[i])<<8|uint64(o[i+1]), 16)
	}
	return b
}

// parseIP4Addr decodes §5.7's ip4-addr = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT
// "." 1*3DIGIT, each 0..255 (decimal, so "010" is 10).
func parseIP4Addr(s []byte) (netip.Addr, error) {
	if bytes.Count(s, []byte(".")) != 3 {
		return netip.Addr{}, wrapCause(ErrValue, "%q: ip4-addr needs 4 decimal parts", s)
	}
	var a [4]byte
	rest := s
	for i := range 4 {
		p, tail, _ := bytes.Cut(rest, []byte("."))
		rest = tail
		v, err := parseDecimal(p, 3, 0, 255)
		if err != nil {
			return netip.Addr{}, wrapCause(ErrValue, "%q: part %d: 0..255 in 1*3DIGIT", s, i+1)
		}
		a[i] = byte(v)
	}
	return netip.AddrFrom4(a), nil
}

// parseAddr decodes ip6-addr (ip6 true) or ip4-addr.
func parseAddr(s []byte, ip6 bool) (netip.Addr, error) {
	if ip6 {
		return parseIP6Addr(s)
	}
	return parseIP4Addr(s)
}

// appendAddr writes a in the grammar of its family, after checkAddr.
func appendAddr(b []byte, a netip.Addr) ([]byte, error) {
	if err := checkAddr(a); err != nil {
		return nil, err
	}
	if a.Is4() {
		return a.AppendTo(b), nil
	}
	return appendIP6Addr(b, a), nil
}

// checkAddr refuses what appendAddr cannot write back as the same value.
func checkAddr(a netip.Addr) error {
	if !a.IsValid() || a.Is4In6() || a.Zone() != "" {
		return wrapCause(ErrValue, "%v: need an IPv4 or IPv6 address without zone", a)
	}
	return nil
}

// parsePrefix decodes ip6-prefix = ip6-addr "/" 1*2DIGIT or ip4-subnet =
// ip4-addr "/" 1*2DIGIT. Bits after the prefix length are kept as sent.
func parsePrefix(s []byte, ip6 bool) (netip.Prefix, error) {
	addr, bits, ok := bytes.Cut(s, []byte("/"))
	if !ok {
		return netip.Prefix{}, wrapCause(ErrValue, "%q: no '/' before the prefix length", s)
	}
	a, err := parseAddr(addr, ip6)
	if err != nil {
		return netip.Prefix{}, err
	}
	n, err := parseDecimal(bits, 2, 0, uint64(a.BitLen()))
	if err != nil {
		return netip.Prefix{}, wrapCause(ErrValue, "%q: prefix length 0..%d in 1*2DIGIT", s, a.BitLen())
	}
	return netip.PrefixFrom(a, int(n)), nil
}

func appendPrefix(b []byte, p netip.Prefix) ([]byte, error) {
	if !p.IsValid() {
		return nil, wrapCause(ErrValue, "home network prefix %v", p)
	}
	b, err := appendAddr(b, p.Addr())
	if err != nil {
		return nil, err
	}
	b = append(b, '/')
	return strconv.AppendInt(b, int64(p.Bits()), 10), nil
}

// rfc1123Layout is RFC 2616 §3.3.1's rfc1123-date, "Sun, 06 Nov 1994
// 08:49:37 GMT", which §5.5.6 and §5.6.3 use.
const rfc1123Layout = "Mon, 02 Jan 2006 15:04:05 GMT"

// parseRFC1123 decodes an rfc1123-date: exactly the fixed-width form, in
// GMT (RFC 2616 §3.3.1: "MUST be represented in Greenwich Mean Time"):
// what time.Format writes back identically, so a weekday that is not the
// date's, a 30 February or a second 60 are refused. A date holds no
// secret: it is read from a string copy.
func parseRFC1123(s []byte) (time.Time, error) {
	t, err := time.Parse(rfc1123Layout, string(s))
	if err != nil || t.Format(rfc1123Layout) != string(s) {
		return time.Time{}, wrapCause(ErrValue, "%q is not an rfc1123-date (%s)", s, rfc1123Layout)
	}
	return t, nil
}

// appendRFC1123 writes t in GMT after checkRFC1123.
func appendRFC1123(b []byte, t time.Time) ([]byte, error) {
	if err := checkRFC1123(t); err != nil {
		return nil, err
	}
	return t.UTC().AppendFormat(b, rfc1123Layout), nil
}

// checkRFC1123 refuses times that an rfc1123-date cannot carry (4-digit
// years only) or that would not read back equal (sub-second parts).
func checkRFC1123(t time.Time) error {
	if y := t.UTC().Year(); y < 0 || y > 9999 || t.Nanosecond() != 0 {
		return wrapCause(ErrValue, "%v: rfc1123-date needs whole seconds in years 0000..9999", t)
	}
	return nil
}
