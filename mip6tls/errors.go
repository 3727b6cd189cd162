package mip6tls

import (
	"errors"

	"github.com/fhkey/fhkey/internal/wireerr"
)

// Category errors. Every error returned by this package wraps exactly one of
// them together with its cause.
var (
	// ErrParse is wrapped by every error returned while decoding.
	ErrParse = errors.New("mip6tls: malformed message")
	// ErrMarshal is wrapped by every error returned while encoding.
	ErrMarshal = errors.New("mip6tls: cannot marshal")
	// ErrExchange is wrapped by the errors of Lockstep (RFC 6618 §5.3).
	ErrExchange = errors.New("mip6tls: request-response exchange violated")
	// ErrAuth is wrapped when a message authenticator is missing or wrong,
	// or cannot be computed (RFC 6618 §5.8, §5.9).
	ErrAuth = errors.New("mip6tls: authentication failed")
)

// Cause errors of the container and the TV-headers (RFC 6618 §5.1, §5.2).
var (
	// ErrVersion: the Ver field is not 0 (§5.1: "The current version is 0").
	ErrVersion = errors.New("mip6tls: unsupported container version")
	// ErrReserved: the Rsrvd field is not 0 (§5.1: "MUST be set to a value
	// of 0").
	ErrReserved = errors.New("mip6tls: reserved bits set")
	// ErrIdentifier: the Identifier is 0 (§5.1: "The value 0 MUST NOT be
	// used").
	ErrIdentifier = errors.New("mip6tls: Identifier 0")
	// ErrLength: the Length field is 0, or does not match the input, or a
	// content portion exceeds 65535 octets (§5.1).
	ErrLength = errors.New("mip6tls: bad Length")
	// ErrHeaderSyntax: a TV-header is not name ":" value CRLF (§5.2), or the
	// content does not end with end-of-message (§5.5.7).
	ErrHeaderSyntax = errors.New("mip6tls: bad TV-header")
	// ErrDuplicate: a parameter of this package appears twice.
	ErrDuplicate = errors.New("mip6tls: parameter repeated")
	// ErrAuthNotLast: the "auth" TV-header is followed by another one
	// (§5.5.5: "It MUST be the last TV-header in the message").
	ErrAuthNotLast = errors.New("mip6tls: auth is not the last TV-header")
	// ErrValue: a parameter's value does not follow its grammar or is out
	// of range (§5.5-§5.7).
	ErrValue = errors.New("mip6tls: bad parameter value")
	// ErrMissing: a message lacks a parameter its position requires
	// (§5.3, §5.8).
	ErrMissing = errors.New("mip6tls: required parameter missing")
)

// Cause errors of the lockstep exchange (RFC 6618 §5.3), wrapped with
// ErrExchange.
var (
	// ErrIdentifierReused: a request repeats an Identifier already used
	// ("Each request MUST have a different Identifier value").
	ErrIdentifierReused = errors.New("mip6tls: request Identifier reused")
	// ErrIdentifierSkipped: a request's Identifier is not the previous one
	// plus 1 (the first is 1, "monotonically increasing").
	ErrIdentifierSkipped = errors.New("mip6tls: request Identifier skipped")
	// ErrTooManyExchanges: a 256th request ("The number of request-response
	// message exchanges MUST NOT exceed 255").
	ErrTooManyExchanges = errors.New("mip6tls: more than 255 exchanges")
	// ErrOutOfStep: a request while a response is awaited, a response with
	// no request outstanding, or a response whose Identifier is not the
	// request's ("copied to the corresponding response message").
	ErrOutOfStep = errors.New("mip6tls: message out of lockstep")
	// ErrExchangeDone: a message after the response that ended the
	// exchange (§5.3: "the HAC and the MN MUST close the transport
	// connection").
	ErrExchangeDone = errors.New("mip6tls: exchange already ended")
	// ErrStatusInRequest: a request carries status-code (§5.5.4: "MUST only
	// be present in the response message that ends the request-response
	// message exchange").
	ErrStatusInRequest = errors.New("mip6tls: status-code in a request")
)

// Cause errors of the authenticators (RFC 6618 §5.8, RFC 5929 §4), wrapped
// with ErrAuth.
var (
	// ErrChannelBinding: the certificate's signature algorithm uses no hash
	// or several (RFC 5929 §4.1: "undefined at this time"), or is unknown.
	ErrChannelBinding = errors.New("mip6tls: tls-server-endpoint channel binding undefined for this certificate")
	// ErrNoAuthenticator: the message carries no "auth" TV-header.
	ErrNoAuthenticator = errors.New("mip6tls: no auth TV-header")
	// ErrBadAuthenticator: the "auth" value is not the one computed.
	ErrBadAuthenticator = errors.New("mip6tls: wrong auth value")
	// ErrMismatch: an echoed nonce or the selected ciphersuite is not the
	// one sent or offered (§5.8: "the consistency of the identities,
	// nonces, and ciphersuite parameters").
	ErrMismatch = errors.New("mip6tls: nonce or ciphersuite inconsistent")
	// ErrKey: the PSK or shared key is empty.
	ErrKey = errors.New("mip6tls: empty key")
)

func parseErr(cause error, format string, args ...any) error {
	return wireerr.WrapIn(ErrParse, cause, format, args...)
}

func marshalErr(cause error, format string, args ...any) error {
	return wireerr.WrapIn(ErrMarshal, cause, format, args...)
}

func wrapAuth(cause error, format string, args ...any) error {
	return wireerr.WrapIn(ErrAuth, cause, format, args...)
}

func exchangeErr(cause error, format string, args ...any) error {
	return wireerr.WrapIn(ErrExchange, cause, format, args...)
}

// wrapCause prefixes cause to a detail message; the caller adds the
// category (parseErr, marshalErr).
func wrapCause(cause error, format string, args ...any) error {
	return wireerr.Wrap(cause, format, args...)
}

// ErrRefused is wrapped by StatusError.
var ErrRefused = errors.New("mip6tls: HAC ended the exchange")

// StatusError is an authenticated response that ends the exchange early
// with a status-code (RFC 6618 §5.3: "In the case of an HAC-side error,
// the HAC MUST send a response back to an MN with an appropriate status
// code and then close the transport connection").
type StatusError struct{ Code StatusCode }

func (e *StatusError) Error() string { return "mip6tls: HAC ended the exchange: " + e.Code.String() }

// Unwrap returns ErrRefused.
func (e *StatusError) Unwrap() error { return ErrRefused }

// StatusFor returns the status-code the HAC sends when handling a request
// failed with err (RFC 6618 §5.3: "the HAC MUST send a response back to an
// MN with an appropriate status code"; the meanings are RFC 2616 §10's):
// 401 Unauthorized for a wrong or missing auth value or an inconsistent
// nonce, 400 Bad Request for a malformed request, a missing parameter or
// a lockstep violation, 500 Internal Server Error otherwise. nil is 200.
func StatusFor(err error) StatusCode {
	switch {
	case err == nil:
		return StatusOK
	case errors.Is(err, ErrBadAuthenticator), errors.Is(err, ErrNoAuthenticator), errors.Is(err, ErrMismatch):
		return StatusUnauthorized
	case errors.Is(err, ErrParse), errors.Is(err, ErrExchange):
		return StatusBadRequest
	}
	return StatusInternalServerError
}
