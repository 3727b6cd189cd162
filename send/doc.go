// Package send implements the message protection of SEcure Neighbor
// Discovery (RFC 3971): signing an ICMPv6 ND (or FMIPv6, RFC 5568/5269)
// message with the RSA Signature option (§5.2, §5.2.1) and verifying the
// exact received bytes (§5.1.2, §5.2.2) against the CGA option (RFC 3972 §5)
// or a key known by other means, plus the freshness rules of §5.3: the
// Timestamp window and per-peer RDlast/TSlast cache (§5.3.4.2), the
// solicitation/advertisement Nonce matcher (§5.3.4.1) and a replay cache.
//
// The ICMPv6 checksum inside the signed data follows the convention that
// the deployed implementations interoperate on (DoCoMo sendd proto.c,
// NDprotector): it is the checksum of the message truncated just before the
// RSA Signature option, with the pseudo-header payload length reduced to
// match. The packet on the wire carries the ordinary checksum over all of
// it. See docs/send.md for a worked vector.
//
// The package does no I/O and never logs. All caches are bounded and safe
// for concurrent use; none of them is written before a message has been
// authenticated.
package send
