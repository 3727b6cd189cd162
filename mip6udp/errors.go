package mip6udp

import "errors"

// Category errors. Every error returned by this package wraps one of them
// together with its cause.
var (
	// ErrParse is wrapped by every error about a malformed packet.
	ErrParse = errors.New("mip6udp: malformed packet")
	// ErrMarshal is wrapped by every error about a value that cannot be
	// encoded or sealed.
	ErrMarshal = errors.New("mip6udp: cannot marshal")
	// ErrAuth is wrapped by every error of a packet that fails the
	// security association's checks (SPI, ICV, replay, scope).
	ErrAuth = errors.New("mip6udp: packet rejected")
	// ErrConfig is wrapped by every error about a security association's
	// parameters (suite, keys, SPI).
	ErrConfig = errors.New("mip6udp: bad security association")
)

// Cause errors, wrapped together with a category error.
var (
	// ErrPacketType: the PType is not one of the §8.1 registry (0, 1, 8),
	// or not one the operation accepts.
	ErrPacketType = errors.New("mip6udp: bad Packet Type")
	// ErrSPI: an SPI of 0 on a protected packet (PType 1 or 8, §6.1, §6.3),
	// a non-zero SPI on a plaintext packet (PType 0, §6.4), or an SPI
	// wider than 28 bits (§5.6.1).
	ErrSPI = errors.New("mip6udp: bad SPI")
	// ErrSequenceNumber: a non-zero Sequence Number on a plaintext packet
	// (§6.4).
	ErrSequenceNumber = errors.New("mip6udp: bad Sequence Number")
	// ErrCiphertextLength: the protected part is shorter than IV, trailer
	// and ICV, or not a multiple of the cipher's block size (RFC 4303 §2.4).
	ErrCiphertextLength = errors.New("mip6udp: bad ciphertext length")
	// ErrPadding: the Pad Length exceeds the plaintext, or a Padding octet
	// is not the RFC 4303 §2.4 default (1, 2, 3, ...).
	ErrPadding = errors.New("mip6udp: bad Padding or Pad Length")
	// ErrUnknownSPI: no inbound security association has the packet's SPI.
	ErrUnknownSPI = errors.New("mip6udp: unknown SPI")
	// ErrICV: the Integrity Check Value does not verify.
	ErrICV = errors.New("mip6udp: Integrity Check Value mismatch")
	// ErrReplayed: the Sequence Number was already received within the
	// window (RFC 4303 §3.4.3).
	ErrReplayed = errors.New("mip6udp: replayed Sequence Number")
	// ErrTooOld: the Sequence Number is left of the window, or 0
	// (RFC 4303 §3.4.3).
	ErrTooOld = errors.New("mip6udp: Sequence Number left of the replay window")
	// ErrBeyondLimit: the packet verified, but its Sequence Number is
	// beyond the limit the receiver set (Inbound.SetLimit): a home agent
	// accepts only numbers it has persisted a bound for (docs/ha.md,
	// "Sequence Numbers across a restart"). The window is unchanged.
	ErrBeyondLimit = errors.New("mip6udp: Sequence Number beyond the receiver's persisted limit")
	// ErrScope: the packet's PType contradicts the SA scope (mip6-sas,
	// RFC 6618 §5.6.4, §6.4): plaintext data when the SA protects all
	// data, or protected data when it protects signaling only.
	ErrScope = errors.New("mip6udp: Packet Type not allowed by the SA scope")
	// ErrSequenceNumberExhausted: the outbound Sequence Number would cycle
	// past 2^32-1; the SA must be re-established (docs/mip6udp.md).
	ErrSequenceNumberExhausted = errors.New("mip6udp: Sequence Number exhausted, re-establish the SA")
	// ErrCipherSuite: the ciphersuite is not one of RFC 6618 §5.6.5.
	ErrCipherSuite = errors.New("mip6udp: ciphersuite not allowed by RFC 6618 §5.6.5")
	// ErrKeyLength: a key does not have the length its algorithm requires.
	ErrKeyLength = errors.New("mip6udp: bad key length")
)
