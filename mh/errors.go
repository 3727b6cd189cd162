package mh

import (
	"errors"
	"fmt"

	"github.com/fhkey/fhkey/internal/wireerr"
)

// Category errors. Every error returned by this package wraps exactly one of
// ErrParse (malformed input), ErrMarshal (a value that cannot be encoded)
// or ErrAuthenticator (a received-bytes helper could not locate what an
// authenticator covers), together with the cause.
var (
	// ErrParse is wrapped by every error returned while decoding.
	ErrParse = errors.New("mh: malformed Mobility Header")
	// ErrMarshal is wrapped by every error returned while encoding.
	ErrMarshal = errors.New("mh: cannot marshal")
	// ErrAuthenticator is wrapped by the errors of the received-bytes
	// helpers (BADFData and friends).
	ErrAuthenticator = errors.New("mh: cannot locate authenticated data")
)

// Cause errors, wrapped together with a category error.
var (
	// ErrPayloadProto: the Payload Proto field is not IPPROTO_NONE (59);
	// RFC 6275 §9.2 says the node MUST discard the message.
	ErrPayloadProto = errors.New("mh: Payload Proto is not 59 (IPPROTO_NONE)")
	// ErrHeaderLen: the Header Len field is shorter than the fixed part of
	// the message type (RFC 6275 §9.2), or does not match the length of
	// the input.
	ErrHeaderLen = errors.New("mh: bad Header Len")
	// ErrOptionLength: an option's Option Length is not valid for its type.
	ErrOptionLength = errors.New("mh: bad Option Length")
	// ErrAlignment: a known option is not on its xn+y boundary.
	ErrAlignment = errors.New("mh: option violates its alignment requirement")
	// ErrNotLast: an authenticator option is followed by other options.
	ErrNotLast = errors.New("mh: authenticator option is not the last option")
	// ErrBADFNotLast: a Binding Authorization Data (RFC 6275 §6.2) or BADF
	// option (RFC 5568 §6.4.5) is not the last mobility option. It wraps
	// ErrNotLast.
	ErrBADFNotLast = fmt.Errorf("%w: Binding Authorization Data (BADF) MUST be the last mobility option", ErrNotLast)
	// ErrNoOption: the message carries no option of the requested kind.
	ErrNoOption = errors.New("mh: option not present")
	// ErrChecksum: VerifyChecksum found a wrong checksum.
	ErrChecksum = errors.New("mh: bad checksum")
	// ErrCodepoints: a Codepoints value collides with an assigned number
	// or with itself.
	ErrCodepoints = errors.New("mh: invalid codepoints")
	// ErrValue: a field value cannot be represented on the wire.
	ErrValue = errors.New("mh: value out of range")
)

func parseErr(format string, args ...any) error {
	return wireerr.Wrap(ErrParse, format, args...)
}

func marshalErr(format string, args ...any) error {
	return wireerr.Wrap(ErrMarshal, format, args...)
}
