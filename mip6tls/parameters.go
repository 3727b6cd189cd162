package mip6tls

import (
	"bytes"
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
	// appendValue appends the encoded value to b, or returns an error
	// wrapping ErrValue.
	appendValue(b []byte) ([]byte, error)
}

// MNIdentifier is the Mobile Node Identifier of RFC 6618 §5.5.1, a Network
// Access Identifier (RFC 4282): mn-id = "mn-id" ":" RFC4282-NAI CRLF.
type MNIdentifier string

// Name returns "mn-id".
func (MNIdentifier) Name() string { return "mn-id" }

func (id MNIdentifier) appendValue(b []byte) ([]byte, error) {
	if err := checkNAI(string(id)); err != nil {
		return nil, err
	}
	return append(b, id...), nil
}

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

func (ms AuthMethods) appendValue(b []byte) ([]byte, error) {
	if len(ms) == 0 {
		return nil, wrapCause(ErrValue, "auth-method: empty list (§5.5.2: 'The MN MUST propose at least one')")
	}
	for i, m := range ms {
		if m != AuthMethodPSK && m != AuthMethodEAP {
			return nil, wrapCause(ErrValue, "auth-method: %q is neither psk nor eap", string(m))
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m...)
	}
	return b, nil
}

func parseAuthMethods(v []byte) (Parameter, error) {
	var ms AuthMethods
	for f := range bytes.SplitSeq(stripLWS(v), []byte(",")) {
		// Literal strings of the ABNF are case-insensitive (RFC 2616 §2.1).
		var m AuthMethod
		switch {
		case bytes.EqualFold(f, []byte(AuthMethodPSK)):
			m = AuthMethodPSK
		case bytes.EqualFold(f, []byte(AuthMethodEAP)):
			m = AuthMethodEAP
		default:
			return nil, wrapCause(ErrValue, "a-method %q is neither psk nor eap", f)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// stripLWS removes the white space RFC 2616 §2.1 allows around separators
// (",", "{", "}") of list values; v itself when it has none.
func stripLWS(v []byte) []byte {
	if bytes.IndexAny(v, " \t") < 0 {
		return v
	}
	out := make([]byte, 0, len(v))
	for _, c := range v {
		if c != ' ' && c != '\t' {
			out = append(out, c)
		}
	}
	return out
}

// EAPPayload is one EAP message (RFC 3748) carried hex-encoded, RFC 6618
// §5.5.3: eap-payload = "eap-payload" ":" 1*(HEX HEX) CRLF.
type EAPPayload []byte

// Name returns "eap-payload".
func (EAPPayload) Name() string { return "eap-payload" }

func (p EAPPayload) appendValue(b []byte) ([]byte, error) {
	if len(p) == 0 {
		return nil, wrapCause(ErrValue, "eap-payload: empty (1*(HEX HEX))")
	}
	return appendHex(b, p), nil
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

func (c StatusCode) appendValue(b []byte) ([]byte, error) {
	if _, ok := statusText[c]; !ok {
		return nil, wrapCause(ErrValue, "status-code %d is not a status-value of §5.5.4", uint16(c))
	}
	return strconv.AppendUint(b, uint64(c), 10), nil
}

func parseStatusCode(v []byte) (Parameter, error) {
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

func (a MessageAuthenticator) appendValue(b []byte) ([]byte, error) { return appendHex(b, a[:]), nil }

// Equal reports in constant time whether a and o are equal.
func (a MessageAuthenticator) Equal(o MessageAuthenticator) bool {
	return subtle.ConstantTimeCompare(a[:], o[:]) == 1
}

// RetryAfter is the Retry After parameter of RFC 6618 §5.5.6:
// retry-after = "retry-after" ":" rfc1123-date CRLF.
type RetryAfter struct{ Time time.Time }

// Name returns "retry-after".
func (RetryAfter) Name() string { return "retry-after" }

func (r RetryAfter) appendValue(b []byte) ([]byte, error) { return appendRFC1123(b, r.Time) }

// RandLen is the length of mn-rand and hac-rand (RFC 6618 §5.5.8: "MUST
// be 32 octets (before TV-header encoding)").
const RandLen = 32

// MNRand is the MN's random value of RFC 6618 §5.5.8:
// mn-rand = "mn-rand" ":" 32(HEX HEX) CRLF.
type MNRand [RandLen]byte

// Name returns "mn-rand".
func (MNRand) Name() string { return "mn-rand" }

func (r MNRand) appendValue(b []byte) ([]byte, error) { return appendHex(b, r[:]), nil }

// HACRand is the HAC's random value of RFC 6618 §5.5.8:
// hac-rand = "hac-rand" ":" 32(HEX HEX) CRLF.
type HACRand [RandLen]byte

// Name returns "hac-rand".
func (HACRand) Name() string { return "hac-rand" }

func (r HACRand) appendValue(b []byte) ([]byte, error) { return appendHex(b, r[:]), nil }

// Unknown is a TV-header whose name this package does not know; it is kept
// as received and marshals back unchanged.
type Unknown struct{ Header TVHeader }

// Name returns the header name as received.
func (u Unknown) Name() string { return u.Header.Name }

func (u Unknown) appendValue(b []byte) ([]byte, error) { return append(b, u.Header.Value...), nil }

func formatUint(v uint64) string { return strconv.FormatUint(v, 10) }
