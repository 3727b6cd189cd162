package mip6tls

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The value parsers read octets in place (values.go); these are the
// straightforward definitions they must agree with, on every input.

// referenceRFC1123 is the grammar as time.Parse reads it, kept only if
// time.Format writes the same string back.
func referenceRFC1123(s string) (time.Time, bool) {
	t, err := time.Parse(rfc1123Layout, s)
	return t, err == nil && t.Format(rfc1123Layout) == s
}

// referenceIP6Addr is ip6-addr read with strings.Split and strconv.
func referenceIP6Addr(s string) (netip.Addr, bool) {
	words := strings.Split(s, ":")
	if len(words) != 8 {
		return netip.Addr{}, false
	}
	var a [16]byte
	for i, w := range words {
		v, err := strconv.ParseUint(w, 16, 16)
		if len(w) == 0 || len(w) > 4 || err != nil {
			return netip.Addr{}, false
		}
		a[2*i], a[2*i+1] = byte(v>>8), byte(v)
	}
	return netip.AddrFrom16(a), true
}

// referenceIP4Addr is ip4-addr read with strings.Split and strconv.
func referenceIP4Addr(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	var a [4]byte
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 8)
		if len(p) == 0 || len(p) > 3 || err != nil || strings.ContainsAny(p, "+-_") {
			return netip.Addr{}, false
		}
		a[i] = byte(v)
	}
	return netip.AddrFrom4(a), true
}

func checkValueGrammars(t *testing.T, s string) {
	t.Helper()
	got, err := parseRFC1123([]byte(s))
	want, ok := referenceRFC1123(s)
	if ok != (err == nil) || (ok && (!got.Equal(want) || got.Location() != time.UTC)) {
		t.Errorf("parseRFC1123(%q) = %v, %v; time.Parse and Format: %v, %v", s, got, err, want, ok)
	}
	if err != nil && !errors.Is(err, ErrValue) {
		t.Errorf("parseRFC1123(%q): %v does not wrap ErrValue", s, err)
	}
	a6, err := parseIP6Addr([]byte(s))
	r6, ok := referenceIP6Addr(s)
	if ok != (err == nil) || (ok && a6 != r6) {
		t.Errorf("parseIP6Addr(%q) = %v, %v; reference %v, %v", s, a6, err, r6, ok)
	}
	a4, err := parseIP4Addr([]byte(s))
	r4, ok := referenceIP4Addr(s)
	if ok != (err == nil) || (ok && a4 != r4) {
		t.Errorf("parseIP4Addr(%q) = %v, %v; reference %v, %v", s, a4, err, r4, ok)
	}
}

var valueGrammarCases = []string{
	"Sun, 06 Nov 1994 08:49:37 GMT", // RFC 2616 §3.3.1's example
	"Mon, 06 Nov 1994 08:49:37 GMT", // another weekday
	"sun, 06 Nov 1994 08:49:37 GMT", // case of the weekday
	"Sun, 06 nov 1994 08:49:37 GMT",
	"Sun, 6 Nov 1994 08:49:37 GMT",
	"Sun,  06 Nov 1994 08:49:37 GMT",
	"Sun, 06 Nov 1994 08:49:37 UTC",
	"Sun, 06 Nov 1994 08:49:37 gmt",
	"Sun, 06 Nov 1994 08:49:37.5 GMT",
	"Thu, 29 Feb 2024 23:59:59 GMT", // leap day
	"Thu, 29 Feb 2023 23:59:59 GMT", // no such day
	"Sat, 01 Jan 0000 00:00:00 GMT", // the first year of the grammar
	"Fri, 31 Dec 9999 23:59:59 GMT", // the last
	"Wed, 31 Apr 2026 00:00:00 GMT",
	"Sat, 05 Dec 2026 24:00:00 GMT",
	"Sat, 05 Dec 2026 23:60:00 GMT",
	"Sat, 05 Dec 2026 23:59:60 GMT",
	"Sat, 00 Dec 2026 23:59:59 GMT",
	"Sat, 05 Dec 2026 2:59:59 GMT ",
	"Sat, 05 Dec +026 23:59:59 GMT",
	"2001:db8:0:0:0:0:0:1",
	"2001:DB8:0:0:0:0:0:0001",
	"2001:db8::1",
	"2001:db8:0:0:0:0:0:1:2",
	"2001:db8:0:0:0:0:0:12345",
	"2001:db8:0:0:0:0:0:+1",
	"2001:db8:0:0:0:0:0:",
	"198.51.100.7",
	"198.51.100.256",
	"198.051.100.7",
	"198.51.100.0007",
	"198.51.100.+7",
	"198.51.100",
	"198.51..7",
	"",
}

func TestValueGrammarsAgreeWithReference(t *testing.T) {
	for _, s := range valueGrammarCases {
		checkValueGrammars(t, s)
	}
}

// FuzzValueGrammars: the in-place parsers of rfc1123-date, ip6-addr and
// ip4-addr accept exactly what the reference definitions accept, with the
// same value.
func FuzzValueGrammars(f *testing.F) {
	for _, s := range valueGrammarCases {
		f.Add(s)
	}
	f.Fuzz(checkValueGrammars)
}
