// Package mh implements the wire formats of the IPv6 Mobility Header (next
// header 135) used by fhkey: the framing and checksum of RFC 6275 §6.1.1,
// the messages Binding Refresh Request (§6.1.2), Binding Update (§6.1.7) and
// Binding Acknowledgement (§6.1.8), the FMIPv6 messages Fast Binding Update,
// Fast Binding Acknowledgment, Handover Initiate and Handover Acknowledge
// (RFC 5568 §6.2), and the Handover Key Request and Handover Key Response of
// draft-vidya-mipshop-handover-keys-aaa-04 §5.1.
//
// Mobility options (RFC 6275 §6.2) are typed values built on one TLV codec:
// Pad1, PadN, Binding Refresh Advice, Alternate Care-of Address, Nonce
// Indices, Binding Authorization Data (RFC 6275 §6.2.2-§6.2.7), the
// Mobility Header Link-Layer Address and IPv6 Address/Prefix options and
// BADF (RFC 5568 §6.4.2, §6.4.4, §6.4.5), the Mobile Node Identifier option
// (RFC 4283 §3), the Mobility Message Authentication and Replay Protection
// options (RFC 4285 §5, §6) and the draft's Handover Nonce, MAC and
// Timestamp options (§5.2). Unknown messages and options are kept raw.
//
// # Padding and alignment
//
// When a message is marshalled, padding is inserted in front of every
// option that does not meet its alignment requirement (xn+y, relative to the
// start of the Mobility Header, RFC 6275 §6.2.1), and Pad1/PadN are
// appended so that the Mobility Header is a multiple of 8 octets. Callers
// that build messages list only real options. Parsing keeps Pad1 and PadN
// in the option list, and rejects a known option that violates its
// alignment, so a parsed option list is already aligned and re-marshals to
// the same octets (reserved fields and PadN contents, which receivers MUST
// ignore, are written as zero).
//
// # Unassigned codepoints
//
// IANA never assigned the draft's MH types and option types. They are
// configurable through Codepoints; the zero value and the package-level
// functions use the documented defaults (see docs/codepoints.md).
//
// # Authenticating received bytes
//
// CoveredByBADF, CoveredByBindingAuthorizationData,
// CoveredByMobilityMessageAuthentication and CoveredByMAC walk a received
// Mobility Header and return the exact octet string an authenticator covers
// (RFC 5568 §6.4.5 with RFC 6275 §6.2.7, RFC 4285 §5, draft §6.2.1), built
// from the received bytes, never from a re-marshal, together with the
// received authenticator and a constant-time Equal. A sender marshals the
// message with a placeholder authenticator of the final length, computes
// the MAC over Covered.Data, writes it with WriteAuthenticator and then
// sets the checksum with SetChecksum.
//
// The package does no I/O and never logs.
package mh
