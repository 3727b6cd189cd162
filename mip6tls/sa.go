package mip6tls

import (
	"strconv"
	"time"
)

// SPI is the Security Parameter Index of RFC 6618 §5.6.1, 28 bits:
// mip6-spi = "mip6-spi" ":" 1*DIGIT CRLF.
type SPI uint32

// MaxSPI is the largest SPI (§5.6.1: "values ranging from 1 to 268435455
// are valid").
const MaxSPI SPI = 1<<28 - 1

// Name returns "mip6-spi".
func (SPI) Name() string { return "mip6-spi" }

func (s SPI) appendValue(b []byte) ([]byte, error) {
	// §5.6.1: "The value 0 (zero) is reserved and MUST NOT be used."
	if s == 0 || s > MaxSPI {
		return nil, wrapCause(ErrValue, "mip6-spi %d: 1..%d", uint32(s), uint32(MaxSPI))
	}
	return strconv.AppendUint(b, uint64(s), 10), nil
}

func parseSPI(v []byte) (Parameter, error) {
	// 1*DIGIT: leading zeros are allowed, so up to 10 digits are read.
	n, err := parseDecimal(v, 10, 1, uint64(MaxSPI))
	return SPI(n), err
}

// SAValidityEnd is the end of the SA validity time, RFC 6618 §5.6.3:
// mip6-sa-validity-end = "mip6-sa-validity-end" ":" rfc1123-date CRLF.
type SAValidityEnd struct{ Time time.Time }

// Name returns "mip6-sa-validity-end".
func (SAValidityEnd) Name() string { return "mip6-sa-validity-end" }

func (e SAValidityEnd) appendValue(b []byte) ([]byte, error) { return appendRFC1123(b, e.Time) }

// SAScope is the Security Association Scope of RFC 6618 §5.6.4:
// mip6-sas = "mip6-sas" ":" 1DIGIT CRLF.
type SAScope uint8

// The two scopes of §5.6.4 (the RFC's "O" is read as the digit 0, since the
// grammar is 1DIGIT).
const (
	// SAScopeSignaling: "the SA does not protect data traffic".
	SAScopeSignaling SAScope = 0
	// SAScopeAll: "all data traffic MUST be protected by the SA".
	SAScopeAll SAScope = 1
)

// Name returns "mip6-sas".
func (SAScope) Name() string { return "mip6-sas" }

func (s SAScope) appendValue(b []byte) ([]byte, error) {
	if s > SAScopeAll {
		return nil, wrapCause(ErrValue, "mip6-sas %d: 0 or 1", uint8(s))
	}
	return strconv.AppendUint(b, uint64(s), 10), nil
}

func parseSAScope(v []byte) (Parameter, error) {
	n, err := parseDecimal(v, 1, 0, 1)
	return SAScope(n), err
}

// CipherSuite is a TLS 1.2 CipherSuite value (RFC 5246 Appendix A.5) as
// RFC 6618 §5.6.5 uses it.
type CipherSuite uint16

// The ciphersuites of RFC 6618 §5.6.5 ("All other Ciphersuite values are
// reserved").
const (
	CipherSuiteNullSHA         CipherSuite = 0x0002
	CipherSuiteNullSHA256      CipherSuite = 0x003B
	CipherSuite3DESEDECBCSHA   CipherSuite = 0x000A
	CipherSuiteAES128CBCSHA    CipherSuite = 0x002F
	CipherSuiteAES128CBCSHA256 CipherSuite = 0x003C
)

var cipherSuiteNames = map[CipherSuite]string{
	CipherSuiteNullSHA:         "NULL_SHA",
	CipherSuiteNullSHA256:      "NULL_SHA256",
	CipherSuite3DESEDECBCSHA:   "3DES_EDE_CBC_SHA",
	CipherSuiteAES128CBCSHA:    "AES_128_CBC_SHA",
	CipherSuiteAES128CBCSHA256: "AES_128_CBC_SHA256",
}

// Defined reports whether c is one of the five suites of §5.6.5.
func (c CipherSuite) Defined() bool { _, ok := cipherSuiteNames[c]; return ok }

// String returns the RFC's name, "AES_128_CBC_SHA", or the value in braces.
func (c CipherSuite) String() string {
	if n, ok := cipherSuiteNames[c]; ok {
		return n
	}
	return "reserved " + string(c.appendCSuite(nil))
}

// appendCSuite writes "{" suite "}", the suite as two upper-case hex
// octets.
func (c CipherSuite) appendCSuite(b []byte) []byte {
	o := [2]byte{byte(c >> 8), byte(c)}
	b = appendHex(append(b, '{'), o[:1])
	b = appendHex(append(b, ','), o[1:])
	return append(b, '}')
}

// Name returns "mip6-ciphersuite": a CipherSuite is the HAC's selection,
// mip6-ciphersuite = "mip6-ciphersuite" ":" csuite CRLF.
func (CipherSuite) Name() string { return "mip6-ciphersuite" }

func (c CipherSuite) appendValue(b []byte) ([]byte, error) {
	if !c.Defined() {
		return nil, wrapCause(ErrValue, "mip6-ciphersuite %s: not a suite of §5.6.5", c.appendCSuite(nil))
	}
	return c.appendCSuite(b), nil
}

func parseCipherSuite(v []byte) (Parameter, error) {
	c, err := parseCSuite(stripLWS(v))
	if err != nil {
		return nil, err
	}
	if !c.Defined() {
		return nil, wrapCause(ErrValue, "%q: reserved ciphersuite (§5.6.5)", v)
	}
	return c, nil
}

// parseCSuite decodes csuite = "{" suite "}" with suite two hex octets
// separated by ",", e.g. "{00,2F}".
func parseCSuite(s []byte) (CipherSuite, error) {
	if len(s) != 7 || s[0] != '{' || s[3] != ',' || s[6] != '}' {
		return 0, wrapCause(ErrValue, "csuite %q: need {XX,XX}", s)
	}
	var b [2]byte
	if err := parseFixedHex(b[:1], s[1:3]); err != nil {
		return 0, wrapCause(ErrValue, "csuite %q: first octet", s)
	}
	if err := parseFixedHex(b[1:], s[4:6]); err != nil {
		return 0, wrapCause(ErrValue, "csuite %q: second octet", s)
	}
	return CipherSuite(b[0])<<8 | CipherSuite(b[1]), nil
}

// CipherSuiteList is the MN's proposal, RFC 6618 §5.6.5:
// mip6-suitelist = "mip6-suitelist" ":" csuite *("," csuite) CRLF.
// Reserved values parse and are kept (a HAC skips them when it selects), so
// that a list from a later revision is not refused whole.
type CipherSuiteList []CipherSuite

// Name returns "mip6-suitelist".
func (CipherSuiteList) Name() string { return "mip6-suitelist" }

func (l CipherSuiteList) appendValue(b []byte) ([]byte, error) {
	if len(l) == 0 {
		return nil, wrapCause(ErrValue, "mip6-suitelist: empty")
	}
	for i, c := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = c.appendCSuite(b)
	}
	return b, nil
}

func parseCipherSuiteList(v []byte) (Parameter, error) {
	s := stripLWS(v)
	// Each csuite is 7 characters, separated by ",": 8n-1 in all.
	if len(s)%8 != 7 {
		return nil, wrapCause(ErrValue, "mip6-suitelist %q: need {XX,XX} *(\",\" {XX,XX})", v)
	}
	var l CipherSuiteList
	for i := 0; i < len(s); i += 8 {
		if i > 0 && s[i-1] != ',' {
			return nil, wrapCause(ErrValue, "mip6-suitelist %q: no ',' before csuite %d", v, len(l)+1)
		}
		c, err := parseCSuite(s[i : i+7])
		if err != nil {
			return nil, err
		}
		l = append(l, c)
	}
	return l, nil
}

// Select returns the first suite of offered that is also in l and defined
// by §5.6.5, in the order of offered (the HAC's preference): §5.8 "The
// selection MUST be one of the MN-supported ciphersuites as received in
// 'ciphersuite-list'".
func (l CipherSuiteList) Select(offered []CipherSuite) (CipherSuite, bool) {
	for _, c := range offered {
		if !c.Defined() {
			continue
		}
		for _, m := range l {
			if m == c {
				return c, true
			}
		}
	}
	return 0, false
}
