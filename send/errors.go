package send

import "errors"

// Category sentinels. Every error returned by this package wraps exactly one
// of them together with a specific sentinel below (fmt "%w: %w").
var (
	// ErrParse is wrapped by errors for received bytes that are not a
	// well-formed ICMPv6 ND message (truncation also wraps io.ErrUnexpectedEOF).
	ErrParse = errors.New("send: malformed message")
	// ErrVerify is wrapped by every verification failure: the message must
	// be treated as unsecured or silently discarded (RFC 3971 §5.2.2).
	ErrVerify = errors.New("send: verification failed")
	// ErrSign is wrapped by every signing failure.
	ErrSign = errors.New("send: cannot sign")
)

// Specific failures. Each is returned wrapped with a category sentinel.
var (
	// ErrUnsupportedType: the ICMPv6 type is not one SEND protects here
	// (RS, RA, NS, NA, Redirect, CPS, CPA, FMIPv6 type 154).
	ErrUnsupportedType = errors.New("send: unsupported ICMPv6 message type")
	// ErrChecksum: the ICMPv6 checksum on the wire is wrong. It is checked
	// separately because the signed data carries the truncated-message
	// checksum, not the wire field.
	ErrChecksum = errors.New("send: wrong ICMPv6 checksum")
	// ErrDuplicateOption: a CGA, Timestamp or Nonce option occurs twice in
	// the signed part of the message.
	ErrDuplicateOption = errors.New("send: duplicate SEND option")
	// ErrMissingSignature: no RSA Signature option (RFC 3971 §5.2.2: treat as
	// unsecured).
	ErrMissingSignature = errors.New("send: no RSA Signature option")
	// ErrSignatureNotLast: options follow the RSA Signature option and the
	// Verifier was configured to reject them (RFC 3971 §5.2.1 puts it last;
	// §5.2.2 lets receivers ignore what follows, which is the default).
	ErrSignatureNotLast = errors.New("send: RSA Signature option is not the last option")
	// ErrMissingCGA: no CGA option in a message whose authorization method
	// requires CGA verification (RFC 3971 §5.1.2).
	ErrMissingCGA = errors.New("send: no CGA option")
	// ErrCGA: the CGA Parameters do not verify against the claimed address
	// (RFC 3972 §5); the cga package's error is wrapped as well.
	ErrCGA = errors.New("send: CGA verification failed")
	// ErrBadKey: the public key cannot be decoded or is not an RSA key.
	ErrBadKey = errors.New("send: bad public key")
	// ErrKeySize: the RSA modulus is outside [MinBits, MaxBits] (RFC 3971
	// §5.1.3 minbits and the upper limit).
	ErrKeySize = errors.New("send: public key size not acceptable")
	// ErrKeyHashMismatch: the Key Hash does not name the CGA option's key
	// (RFC 3971 §5.1: "Packets received with two different keys MUST be
	// silently discarded").
	ErrKeyHashMismatch = errors.New("send: Key Hash does not match the public key")
	// ErrUnknownKey: no CGA key and no key known by other means matches the
	// Key Hash (RFC 3971 §5.2.2).
	ErrUnknownKey = errors.New("send: Key Hash names no known public key")
	// ErrBadSignature: the Digital Signature does not verify or does not fit
	// the option (RFC 3971 §5.2.2).
	ErrBadSignature = errors.New("send: bad RSA signature")
	// ErrUnauthorized: the authorization callback (trust anchor, RFC 3971 §6)
	// refused the signer; its error is wrapped as well.
	ErrUnauthorized = errors.New("send: signer not authorized")
	// ErrMissingTimestamp: RSA Signature without Timestamp (RFC 3971 §5.3.4:
	// "MUST be silently discarded").
	ErrMissingTimestamp = errors.New("send: no Timestamp option")
	// ErrMissingNonce: a solicitation with RSA Signature but without Nonce
	// (RFC 3971 §5.3.4: "MUST be silently discarded").
	ErrMissingNonce = errors.New("send: solicitation without Nonce option")
	// ErrTimestampWindow: first message from a peer whose timestamp is not
	// within ±Delta of the receive time (RFC 3971 §5.3.4.2).
	ErrTimestampWindow = errors.New("send: timestamp outside the window")
	// ErrTimestampOlder: the timestamp of a known peer fails
	// TSnew + fuzz > TSlast + (RDnew - RDlast) x (1 - drift) - fuzz
	// (RFC 3971 §5.3.4.2).
	ErrTimestampOlder = errors.New("send: timestamp older than the peer's last")
	// ErrUnmatchedNonce: an advertisement's Nonce matches no outstanding
	// solicitation (RFC 3971 §5.3.4.1: "MUST be silently discarded").
	ErrUnmatchedNonce = errors.New("send: nonce matches no outstanding solicitation")
	// ErrReplayedNonce: a solicitation whose (address, Nonce) was already
	// accepted within the replay window.
	ErrReplayedNonce = errors.New("send: replayed nonce")
)
