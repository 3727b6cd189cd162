// Package decode decodes captured packets down to their ICMPv6 ND, SEND and
// FMIPv6 messages (package ndp) and Mobility Header messages (package mh),
// and verifies what can be verified offline (fhkey decode --verify):
//
//   - the CGA of every message with a CGA option (RFC 3972 §5, package cga);
//   - the RSA Signature option over the received bytes with the key of the
//     packet's own CGA option (RFC 3971 §5.2.2, package send), without the
//     timestamp and nonce freshness checks of §5.3.4, which need the
//     receiver's clock and state;
//   - the Mobility Header checksum, with the Home Address option's address
//     as the pseudo-header source (RFC 6275 §6.1.1, §6.3);
//   - the BADF authenticator of FBU and FBack (RFC 5568 §6.4.5, package
//     hokey, the same functions the access router uses) with the handover
//     keys of a keys file (see KeyEntry and docs/decode.md);
//   - the MN-HA Mobility Message Authentication option of the MSK mode's
//     FBU and FBack (RFC 4285 §5.1, docs/msk.md, hokey.VerifyFHK) with the
//     FHK derived from an MSK of the keys file (see MSKKeyEntry).
//
// Packets that are not ND/SEND/FMIPv6 ICMPv6 or Mobility Header are
// counted as skipped; a malformed packet is reported with its error and
// decoding goes on. Rendering as text or JSON lines is in render.go. The
// package does no I/O of its own beyond the writers it is given.
package decode
