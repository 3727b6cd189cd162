package ndp

import "errors"

var (
	// ErrParse is wrapped by every error returned while decoding a message
	// or option. Truncated input also wraps io.ErrUnexpectedEOF.
	ErrParse = errors.New("ndp: malformed message")

	// ErrInvalid is wrapped by every error returned while encoding a value
	// that cannot be put on the wire as it stands.
	ErrInvalid = errors.New("ndp: invalid value")

	// ErrChecksum is returned by VerifyChecksum when the ICMPv6 checksum of
	// a received message is wrong.
	ErrChecksum = errors.New("ndp: bad ICMPv6 checksum")

	// ErrUnknownMessage is wrapped when a raw message's ICMPv6 Type (or, for
	// type 154, Subtype) is not one whose layout this package knows, so its
	// options cannot be located.
	ErrUnknownMessage = errors.New("ndp: unknown message type")

	// ErrNoRSASignature is returned by RSASignatureOffset when a message
	// carries no RSA Signature option (RFC 3971 §5.2).
	ErrNoRSASignature = errors.New("ndp: no RSA Signature option")
)
