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
	a6, err := parseIP6Addr([]byte(s))
	r6, ok := referenceIP6Addr(s)
	if ok != (err == nil) || (ok && a6 != r6) || (err != nil && !errors.Is(err, ErrValue)) {
		t.Errorf("parseIP6Addr(%q) = %v, %v; reference %v, %v", s, a6, err, r6, ok)
	}
	a4, err := parseIP4Addr([]byte(s))
	r4, ok := referenceIP4Addr(s)
	if ok != (err == nil) || (ok && a4 != r4) || (err != nil && !errors.Is(err, ErrValue)) {
		t.Errorf("parseIP4Addr(%q) = %v, %v; reference %v, %v", s, a4, err, r4, ok)
	}
}

var valueGrammarCases = []string{
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

// FuzzValueGrammars: the in-place parsers of ip6-addr and ip4-addr
// accept exactly what the reference definitions accept, with the same
// value.
func FuzzValueGrammars(f *testing.F) {
	for _, s := range valueGrammarCases {
		f.Add(s)
	}
	f.Fuzz(checkValueGrammars)
}

// TestParseRFC1123: exactly the fixed-width GMT form, its weekday the
// date's, every field in range.
func TestParseRFC1123(t *testing.T) {
	for _, c := range []struct {
		s    string
		want time.Time // zero: refused
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)},  // RFC 2616 §3.3.1
		{"Thu, 29 Feb 2024 23:59:59 GMT", time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)}, // leap day
		{"Sat, 01 Jan 0000 00:00:00 GMT", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Fri, 31 Dec 9999 23:59:59 GMT", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"Mon, 06 Nov 1994 08:49:37 GMT", time.Time{}}, // not the date's weekday
		{"sun, 06 Nov 1994 08:49:37 GMT", time.Time{}},
		{"Sun, 06 nov 1994 08:49:37 GMT", time.Time{}},
		{"Sun, 6 Nov 1994 08:49:37 GMT", time.Time{}},
		{"Sun,  06 Nov 1994 08:49:37 GMT", time.Time{}},
		{"Sun, 06 Nov 1994 08:49:37 UTC", time.Time{}},
		{"Sun, 06 Nov 1994 08:49:37 gmt", time.Time{}},
		{"Sun, 06 Nov 1994 08:49:37.5 GMT", time.Time{}},
		{"Wed, 01 Mar 2023 23:59:59 GMT", time.Date(2023, 3, 1, 23, 59, 59, 0, time.UTC)},
		{"Wed, 29 Feb 2023 23:59:59 GMT", time.Time{}}, // no such day
		{"Fri, 31 Apr 2026 00:00:00 GMT", time.Time{}},
		{"Sat, 05 Dec 2026 24:00:00 GMT", time.Time{}},
		{"Sat, 05 Dec 2026 23:60:00 GMT", time.Time{}},
		{"Sat, 05 Dec 2026 23:59:60 GMT", time.Time{}},
		{"Sat, 00 Dec 2026 23:59:59 GMT", time.Time{}},
		{"Sat, 05 Dec 2026 2:59:59 GMT ", time.Time{}},
		{"Sat, 05 Dec +026 23:59:59 GMT", time.Time{}},
		{"", time.Time{}},
	} {
		got, err := parseRFC1123([]byte(c.s))
		switch {
		case c.want.IsZero() && !errors.Is(err, ErrValue):
			t.Errorf("%q: %v, %v; want ErrValue", c.s, got, err)
		case !c.want.IsZero() && (err != nil || !got.Equal(c.want) || got.Location() != time.UTC):
			t.Errorf("%q: %v, %v; want %v", c.s, got, err, c.want)
		}
	}
}
