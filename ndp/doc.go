// Package ndp encodes and decodes the ICMPv6 messages and Neighbor Discovery
// options that secure Mobile IPv6 fast handovers rely on. It is wire format
// only: it does no I/O and never logs.
//
// Messages (parsed from the ICMPv6 Type octet on):
//   - Router Solicitation (133), Router Advertisement (134), Neighbor
//     Solicitation (135) and Neighbor Advertisement (136): RFC 4861 §4.1-§4.4.
//   - Certification Path Solicitation (148) and Advertisement (149):
//     RFC 3971 §6.4.1, §6.4.2.
//   - FMIPv6 messages (154): Router Solicitation for Proxy Advertisement
//     (RtSolPr, Subtype 2) and Proxy Router Advertisement (PrRtAdv,
//     Subtype 3): RFC 5568 §6.1.1, §6.1.2.
//
// Any other type or subtype parses to RawMessage, which re-marshals byte for
// byte.
//
// Options (RFC 4861 §4.6 TLV, Length in units of 8 octets): Source and Target
// Link-layer Address (1, 2) and Prefix Information (3) and MTU (5) of RFC
// 4861 §4.6; CGA (11), RSA Signature (12), Timestamp (13), Nonce (14), Trust
// Anchor (15, with the RFC 6495 name types) and Certificate (16) of RFC 3971
// §5 and §6.4; IP Address/Prefix (17), Link-layer Address (19) and NAACK (20)
// of RFC 5568 §6.4; Handover Key Request (27) and Reply (28) of RFC 5269 §4;
// Handover Assist Information (29) and Mobile Node Identifier (30) of RFC 5271
// §6. Every typed option is decoded from one raw TLV, so the length checks
// live in one place; any other option type parses to RawOption.
//
// # Round trips
//
// Everything the parser accepts re-marshals to the same octets: reserved
// fields, padding octets and the ICMPv6 Checksum are kept as received in
// exported fields. A value built from scratch leaves them zero (or nil), and
// Marshal then writes zeros and the minimal padding, as the senders' rules
// require. Marshal checks what the parser checks (lengths, pad lengths, value
// ranges); it does not check rules about what a sender chooses to send (for
// example that Reserved fields are zero, or that the RSA Signature option
// comes last), because it must also re-emit received messages unchanged.
//
// # Received bytes
//
// SEND (RFC 3971 §5.2) signs the octets of the message up to, but not
// including, the first RSA Signature option. Signers and verifiers must work
// on the octets that were sent or received, never on a re-marshalled
// message: OptionsOffset, OptionSpans and RSASignatureOffset locate option
// boundaries in a raw message for that purpose.
//
// # Errors
//
// Every parse error wraps ErrParse and names the message, option, field and
// offset at fault; truncation also wraps io.ErrUnexpectedEOF. Marshal errors
// wrap ErrInvalid. Nothing panics on any input.
package ndp
