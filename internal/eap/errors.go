package eap

import "errors"

// Errors. Every error of the package wraps one of these; parse errors name
// the field at fault (and a truncation also wraps io.ErrUnexpectedEOF).
var (
	// ErrParse: a packet or EAP-TLS message that does not parse.
	ErrParse = errors.New("eap: malformed")
	// ErrTooLong: a TLS message (declared or reassembled) beyond the
	// reassembly limit, or a packet beyond 65535 octets.
	ErrTooLong = errors.New("eap: too long")
	// ErrFragment: a fragment that does not fit the fragments before it
	// (RFC 5216 §3.1: L missing on a first fragment, more octets than the
	// TLS Message Length announced, a final fragment short of it).
	ErrFragment = errors.New("eap: fragment out of sequence")
)
