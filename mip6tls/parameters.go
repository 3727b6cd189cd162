package mip6tls

import (
	"crypto/subtle"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Parameter is one typed TV-header of RFC 6618 §5.5-§5.7. ParseMessage
// returns the types of this package, and Unknown for a name it does not
// know.
type Parameter interface {
	// Name returns the TV-header name, in lower case as the RFC spells it.
	Name() string
	// value returns the encoded value, or an error wrapping ErrValue.
	value() (string, error)
}

// MNIdentifier is the Mobile Node Identifier of RFC 6618 §5.5.1, a Network
// Access Identifier (RFC 4282): mn-id = "mn-id" ":" RFC4282-NAI CRLF.
type MNIdentifier string

// Name returns "mn-id".
func (MNIdentifier) Name() string { return "mn-id" }

func (id MNIdentifier) value() (string, error) { return string(id), checkNAI(string(id)) }

// checkNAI applies the parts of RFC 4282 §2.1 that matter on this wire: a
// non-empty UTF-8 string without white space or control characters, whose
// realm (after the last '@'), if any, is not empty.
func checkNAI(s string) error {
	if s == "" || !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return wrapCause(ErrValue, "mn-id %q: need a non-empty UTF-8 NAI without white space (RFC 4282)", s)
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 && i == len(s)-1 {
		return wrapCause(ErrValue, "mn-id %q: empty realm after '@'", s)
	}
	return nil
}

// AuthMethod is one a-method of RFC 6618 §5.5.2.
type AuthMethod string

// The authentication methods of RFC 6618 §5.5.2.
const (
	AuthMethodPSK AuthMethod = "psk" // PSK-based authentication, §5.8
	AuthMethodEAP AuthMethod = "eap" // EAP-based authentication, §5.9
)

// AuthMethods is the Authentication Method parameter of RFC 6618 §5.5.2:
// auth-method = "auth-method" ":" a-method *("," a-method) CRLF. The MN
// proposes one or more; the HAC returns exactly one.
type AuthMethods []AuthMethod

// Name returns "auth-method".
func (AuthMethods) Name() string { return "auth-method" }

func (ms AuthMethods) value() (string, error) {
	if len(ms) == 0 {
		return "", wrapCause(ErrValue, "auth-method: empty list (§5.5.2: 'The MN MUST propose at least one')")
	}
	s := make([]string, len(ms))
	for i, m := range ms {
		if m != AuthMethodPSK && m != AuthMethodEAP {
			return "", wrapCause(ErrValue, "auth-method: %q is neither psk nor eap", string(m))
		}
		s[i] = string(m)
	}
	return strings.Join(s, ","), nil
}

func parseAuthMethods(v string) (Parameter, error) {
	var ms AuthMethods
	for _, f := range strings.Split(stripLWS(v), ",") {
		// Literal strings of the ABNF are case-insensitive (RFC 2616 §2.1).
		m := AuthMethod(strings.ToLower(f))
		if m != AuthMethodPSK && m != AuthMethodEAP {
			return nil, wrapCause(ErrValue, "a-method %q is neither psk nor eap", f)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// stripLWS removes the white space RFC 2616 §2.1 allows around separators
// (",", "{", "}") of list values.
func stripLWS(v string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, v)
}

// EAPPayload is one EAP message (RFC 3748) carried hex-encoded, RFC 6618
// §5.5.3: eap-payload = "eap-payload" ":" 1*(HEX HEX) CRLF.
type EAPPayload []byte

// Name returns "eap-payload".
func (EAPPayload) Name() string { return "eap-payload" }

func (p EAPPayload) value() (string, error) {
	if len(p) == 0 {
		return "", wrapCause(ErrValue, "eap-payload: empty (1*(HEX HEX))")
	}
	return formatHex(p), nil
}

// StatusCode is the Status Code parameter of RFC 6618 §5.5.4, present only
// in the response that ends the exchange.
type StatusCode uint16

// The status-value alternatives of RFC 6618 §5.5.4 (meanings from RFC 2616
// §10). No other value parses.
const (
	StatusContinue            StatusCode = 100
	StatusOK                  StatusCode = 200
	StatusBadRequest          StatusCode = 400
	StatusUnauthorized        StatusCode = 401
	StatusInternalServerError StatusCode = 500
	StatusNotImplemented      StatusCode = 501
	StatusServiceUnavailable  StatusCode = 503
	StatusGatewayTimeout      StatusCode = 504
)

var statusText = map[StatusCode]string{
	StatusContinue:            "Continue",
	StatusOK:                  "OK",
	StatusBadRequest:          "Bad Request",
	StatusUnauthorized:        "Unauthorized",
	StatusInternalServerError: "Internal Server Error",
	StatusNotImplemented:      "Not Implemented",
	StatusServiceUnavailable:  "Service Unavailable",
	StatusGatewayTimeout:      "Gateway Time-out",
}

// Name returns "status-code".
func (StatusCode) Name() string { return "status-code" }

// String returns the number and the RFC's reason phrase, "200 OK".
func (c StatusCode) String() string {
	if t, ok := statusText[c]; ok {
		return formatUint(uint64(c)) + " " + t
	}
	return formatUint(uint64(c)) + " (not defined by RFC 6618 §5.5.4)"
}

func (c StatusCode) value() (string, error) {
	if _, ok := statusText[c]; !ok {
		return "", wrapCause(ErrValue, "status-code %d is not a status-value of §5.5.4", uint16(c))
	}
	return formatUint(uint64(c)), nil
}

func parseStatusCode(v string) (Parameter, error) {
	n, err := parseDecimal(v, 3, 100, 599)
	if err != nil || len(v) != 3 {
		return nil, wrapCause(ErrValue, "status-value %q: three digits", v)
	}
	c := StatusCode(n)
	if _, ok := statusText[c]; !ok {
		return nil, wrapCause(ErrValue, "status-value %q is not one of §5.5.4", v)
	}
	return c, nil
}

// AuthenticatorLen is the length of an "auth" value: HMAC-SHA256 in both
// methods (RFC 6618 §5.8, §5.9).
const AuthenticatorLen = 32

// MessageAuthenticator is the "auth" TV-header of RFC 6618 §5.5.5:
// msg-auth = "auth" ":" 1*(HEX HEX) CRLF; it is the last TV-header.
type MessageAuthenticator [AuthenticatorLen]byte

// Name returns "auth".
func (MessageAuthenticator) Name() string { return "auth" }

func (a MessageAuthenticator) value() (string, error) { return formatHex(a[:]), nil }

// Equal reports in constant time whether a and o are equal.
func (a MessageAuthenticator) Equal(o MessageAuthenticator) bool {
	return subtle.ConstantTimeCompare(a[:], o[:]) == 1
}

// RetryAfter is the Retry After parameter of RFC 6618 §5.5.6:
// retry-after = "retry-after" ":" rfc1123-date CRLF.
type RetryAfter struct{ Time time.Time }

// Name returns "retry-after".
func (RetryAfter) Name() string { return "retry-after" }

func (r RetryAfter) value() (string, error) {
	return formatRFC1123(r.Time), checkRFC1123(r.Time)
}

// RandLen is the length of mn-rand and hac-rand (RFC 6618 §5.5.8: "MUST
// be 32 octets (before TV-header encoding)").
const RandLen = 32

// MNRand is the MN's random value of RFC 6618 §5.5.8:
// mn-rand = "mn-rand" ":" 32(HEX HEX) CRLF.
type MNRand [RandLen]byte

// Name returns "mn-rand".
func (MNRand) Name() string { return "mn-rand" }

func (r MNRand) value() (string, error) { return formatHex(r[:]), nil }

// HACRand is the HAC's random value of RFC 6618 §5.5.8:
// hac-rand = "hac-rand" ":" 32(HEX HEX) CRLF.
type HACRand [RandLen]byte

// Name returns "hac-rand".
func (HACRand) Name() string { return "hac-rand" }

func (r HACRand) value() (string, error) { return formatHex(r[:]), nil }

// Unknown is a TV-header whose name this package does not know; it is kept
// as received and marshals back unchanged.
type Unknown struct{ Header TVHeader }

// Name returns the header name as received.
func (u Unknown) Name() string { return u.Header.Name }

func (u Unknown) value() (string, error) { return u.Header.Value, nil }

func formatUint(v uint64) string { return strconv.FormatUint(v, 10) }
