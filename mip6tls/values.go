package mip6tls

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Value grammars shared by the parameters (RFC 6618 §5.5-§5.7). Each
// parser returns an error wrapping ErrValue; the caller names the header.

// parseHex decodes 1*(HEX HEX) (HEX is either case, RFC 2616 §2.2).
func parseHex(s string) ([]byte, error) {
	if len(s) == 0 || len(s)%2 != 0 {
		return nil, wrapCause(ErrValue, "%d hex digits, need a positive even number", len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, wrapCause(ErrValue, "not hex: %v", err)
	}
	return b, nil
}

// upperHex are the digits formatHex writes.
const upperHex = "0123456789ABCDEF"

// formatHex writes octets as upper-case hex, the case of the RFC's own
// examples (§5.6.5: "3B", "2F"), in one allocation.
func formatHex(b []byte) string {
	var sb strings.Builder
	sb.Grow(2 * len(b))
	for _, c := range b {
		sb.WriteByte(upperHex[c>>4])
		sb.WriteByte(upperHex[c&0x0f])
	}
	return sb.String()
}

// appendHex appends octets as formatHex writes them.
func appendHex(b, octets []byte) []byte {
	for _, c := range octets {
		b = append(b, upperHex[c>>4], upperHex[c&0x0f])
	}
	return b
}

// parseFixedHex decodes exactly len(dst) octets of hex into dst, without
// an intermediate buffer (key material is decoded straight into the
// caller's array).
func parseFixedHex(dst []byte, s string) error {
	if len(s) == 0 || len(s)%2 != 0 {
		return wrapCause(ErrValue, "%d hex digits, need a positive even number", len(s))
	}
	if len(s)/2 != len(dst) {
		return wrapCause(ErrValue, "%d octets, need %d", len(s)/2, len(dst))
	}
	for i := range dst {
		hi, okHi := fromHexChar(s[2*i])
		lo, okLo := fromHexChar(s[2*i+1])
		if !okHi || !okLo {
			return wrapCause(ErrValue, "not hex: invalid digit at %d", 2*i)
		}
		dst[i] = hi<<4 | lo
	}
	return nil
}

// fromHexChar decodes one HEX digit of either case (RFC 2616 §2.2).
func fromHexChar(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseDecimal decodes 1*maxDigits DIGIT into a value in [lo, hi].
func parseDecimal(s string, maxDigits int, lo, hi uint64) (uint64, error) {
	if len(s) == 0 || len(s) > maxDigits {
		return 0, wrapCause(ErrValue, "%q: need 1 to %d digits", s, maxDigits)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, wrapCause(ErrValue, "%q: not a decimal number", s)
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, wrapCause(ErrValue, "%q: out of range %d..%d", s, lo, hi)
	}
	return v, nil
}

// parseIP6Addr decodes §5.7's ip6-addr = 7( word ":" ) word, word = 1*4HEX:
// eight groups, no "::" compression, no embedded IPv4, no zone.
func parseIP6Addr(s string) (netip.Addr, error) {
	words := strings.Split(s, ":")
	if len(words) != 8 {
		return netip.Addr{}, wrapCause(ErrValue, "%q: ip6-addr needs 8 words separated by ':' (no '::')", s)
	}
	var a [16]byte
	for i, w := range words {
		if len(w) == 0 || len(w) > 4 {
			return netip.Addr{}, wrapCause(ErrValue, "%q: word %d has %d hex digits (1*4HEX)", s, i+1, len(w))
		}
		v, err := strconv.ParseUint(w, 16, 16)
		if err != nil {
			return netip.Addr{}, wrapCause(ErrValue, "%q: word %d is not hex", s, i+1)
		}
		a[2*i], a[2*i+1] = byte(v>>8), byte(v)
	}
	return netip.AddrFrom16(a), nil
}

// formatIP6Addr writes the eight words in lower-case hex without leading
// zeros and without "::" (the grammar has no compressed form).
func formatIP6Addr(a netip.Addr) string {
	var buf [39]byte
	return string(appendIP6Addr(buf[:0], a))
}

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
func parseIP4Addr(s string) (netip.Addr, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return netip.Addr{}, wrapCause(ErrValue, "%q: ip4-addr needs 4 decimal parts", s)
	}
	var a [4]byte
	for i, p := range parts {
		v, err := parseDecimal(p, 3, 0, 255)
		if err != nil {
			return netip.Addr{}, wrapCause(ErrValue, "%q: part %d: 0..255 in 1*3DIGIT", s, i+1)
		}
		a[i] = byte(v)
	}
	return netip.AddrFrom4(a), nil
}

// parseAddr decodes ip6-addr (ip6 true) or ip4-addr.
func parseAddr(s string, ip6 bool) (netip.Addr, error) {
	if ip6 {
		return parseIP6Addr(s)
	}
	return parseIP4Addr(s)
}

// formatAddr writes a in the grammar of its family.
func formatAddr(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	return formatIP6Addr(a)
}

// checkAddr refuses what formatAddr cannot write back as the same value.
func checkAddr(a netip.Addr) error {
	if !a.IsValid() || a.Is4In6() || a.Zone() != "" {
		return wrapCause(ErrValue, "%v: need an IPv4 or IPv6 address without zone", a)
	}
	return nil
}

// parsePrefix decodes ip6-prefix = ip6-addr "/" 1*2DIGIT or ip4-subnet =
// ip4-addr "/" 1*2DIGIT. Bits after the prefix length are kept as sent.
func parsePrefix(s string, ip6 bool) (netip.Prefix, error) {
	addr, bits, ok := strings.Cut(s, "/")
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

func formatPrefix(p netip.Prefix) string {
	var buf [48]byte
	b := buf[:0]
	if a := p.Addr(); a.Is4() {
		b = a.AppendTo(b)
	} else {
		b = appendIP6Addr(b, a)
	}
	b = append(b, '/')
	return string(strconv.AppendInt(b, int64(p.Bits()), 10))
}

// rfc1123Layout is RFC 2616 §3.3.1's rfc1123-date, "Sun, 06 Nov 1994
// 08:49:37 GMT", which §5.5.6 and §5.6.3 use.
const rfc1123Layout = "Mon, 02 Jan 2006 15:04:05 GMT"

// parseRFC1123 decodes an rfc1123-date: exactly the fixed-width form, in
// GMT (RFC 2616 §3.3.1: "MUST be represented in Greenwich Mean Time").
func parseRFC1123(s string) (time.Time, error) {
	t, err := time.Parse(rfc1123Layout, s)
	if err != nil || t.Format(rfc1123Layout) != s {
		return time.Time{}, wrapCause(ErrValue, "%q is not an rfc1123-date (%s)", s, rfc1123Layout)
	}
	return t, nil
}

// formatRFC1123 writes t in GMT, truncated to the second.
func formatRFC1123(t time.Time) string { return t.UTC().Format(rfc1123Layout) }

// checkRFC1123 refuses times that an rfc1123-date cannot carry (4-digit
// years only) or that would not read back equal (sub-second parts).
func checkRFC1123(t time.Time) error {
	if y := t.UTC().Year(); y < 0 || y > 9999 || t.Nanosecond() != 0 {
		return wrapCause(ErrValue, "%v: rfc1123-date needs whole seconds in years 0000..9999", t)
	}
	return nil
}
