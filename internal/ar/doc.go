// Package ar implements the access router role of SEND-based handover key
// provisioning (RFC 5269) and of the fast binding update authenticated with it
// (RFC 5568 §6.2.2, §6.2.3, §6.4.5).
//
// A Router answers Router Solicitations for Proxy Advertisement carrying a
// Handover Key Request option (RFC 5269 §3.2): it validates them with SEND
// (RFC 3971) before any state is created, returns the existing handover key of
// a known care-of CGA or generates a fresh one (§3.6), encrypts it with
// RSAES-PKCS1-v1_5 to the mobile node's handover key encryption public key,
// and unicasts a signed Proxy Router Advertisement with the Handover Key Reply
// option back to the CGA. As the previous access router it verifies Fast
// Binding Updates with the key named by the previous care-of CGA (RFC 5269
// §3.5), records the binding of the previous to the new care-of address, and
// answers with a Fast Binding Acknowledgment authenticated with the same key.
//
// The router has no socket code: HandlePacket is the whole protocol core,
// driven directly by tests, and Serve runs it over any netio.Conn. SEND
// processing sits behind per-source, per-key and total token buckets so that
// a flood of solicitations cannot starve legitimate mobile nodes (RFC 5269
// §5, RFC 3971 §11.2). Update changes the rate limits, algorithms, key and
// forwarding lifetimes, neighbors and accepted key sizes of a serving router
// (a daemon's reload) without a lock on the packet path.
// docs/handover-keys.md records the decisions where the RFCs are silent.
//
// With Config.AAA the router also implements the access router of
// draft-vidya-mipshop-handover-keys-aaa-04 §6.3, §6.3.1 and §6.5: it answers
// Handover Key Requests with handover keys obtained from a Handover Key
// Server (aaa.KeyServer) asynchronously (Answers), and verifies FBUs whose
// BADF names such a key's SPI. docs/aaa.md records its decisions.
package ar
