// Package radius carries the AR–HKS exchange of
// draft-vidya-mipshop-handover-keys-aaa-04 (package aaa) over RADIUS
// (RFC 2865), as fhkey's vendor-specific attributes (docs/aaa.md, "RADIUS
// between the AR and the HKS"; examples/dictionary.fhkey). It is transport
// only: the HKS logic is in internal/hks, the AR's in internal/ar.
//
//   - Client (the AR side) implements aaa.KeyServer: one Access-Request per
//     KeyRequest, routed by the NAI's realm to a list of home servers,
//     retransmitted with the same Identifier and Request Authenticator
//     (RFC 5080 §2.2.1), failing over to the next server; a bounded number
//     of pending requests, Identifiers allocated per server socket.
//   - Server (the HKS side) turns authenticated Access-Requests from known
//     NASes into aaa.KeyRequests for an aaa.KeyServer and answers with
//     Access-Accept or Access-Reject; duplicates are answered from a cache
//     (RFC 5080 §2.2.2).
//   - EncryptKey/DecryptKey: the salt encryption of RFC 2548 §2.4.2
//     (MS-MPPE-Send-Key) applied to the Handover Key.
//
// Message-Authenticator (RFC 2869 §5.14, RFC 3579 §3.2) is sent first in
// every packet and required in every packet received; it and the Response
// Authenticator (RFC 2865 §3) are verified over the received bytes in
// constant time (the Blast-RADIUS lesson, draft-ietf-radext-deprecating-radius).
//
// layeh.com/radius supplies the packet model (codes, attribute lists, the
// RFC attribute numbers) and the FreeRADIUS dictionary parser the tests use;
// it neither generates nor checks Message-Authenticator and compares
// authenticators with bytes.Equal, and its client and server neither
// allocate Identifiers per socket nor answer duplicates from a cache, so the
// authenticators and both ends' socket loops are this package's own.
package radius
