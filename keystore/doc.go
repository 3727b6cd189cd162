// Package keystore stores the shared handover keys of RFC 5269 (SEND
// handover key provisioning for FMIPv6) on the access router and on the
// mobile node.
//
// RFC 5269 §3.5 has the previous access router find the handover key "using
// the MN's care-of CGA in the Home Address Option as the index"; the mobile
// node keeps keys from several routers. Both index a Record by the pair
// (access router address, mobile node care-of CGA) and keep its algorithm
// type (AT, §4.2), the Security Parameter Index that goes into the RFC 5568
// §6.4.5 BADF option (0 for SEND-based keys) and its lifetime. §3.6: "The PAR
// MUST discard the key after FMIPv6 forwarding for the previous Care-of
// Address times out or when HK-LIFETIME expires"; §3.7 sets HK-LIFETIME to 12
// hours by default ([HKLifetime]).
//
// Two implementations of [Store] exist:
//
//   - [Memory]: sharded maps over a compact slab, a min-heap per shard keyed by
//     expiry so [Store.Expire] touches only expired records (under 256 octets
//     of heap per key at one million keys).
//   - [Bolt]: a bbolt (go.etcd.io/bbolt) file, so an access router restart
//     loses no key. Records are kept in a small versioned binary format
//     ([Record.MarshalBinary], documented in docs/keystore.md) and an
//     expiry-ordered index bucket makes expiry a cursor walk over the expired
//     prefix only.
//
// An expired record is never returned: [Store.Get] reports it as
// [ErrExpired] (which also matches [ErrNotFound]) and [Store.Range] skips it.
// A record expires at the instant Expires: it is valid while now is before
// Expires.
//
// Keys are secrets. Record and Key redact key octets from every fmt verb,
// from String, GoString and from log/slog; Key.Equal and Record.KeyEqual
// compare in constant time. Stores wipe key octets they own on delete,
// replace, expiry and Close; the limits of that (copies handed to callers,
// Go heap copies, bbolt pages on disk) are documented in docs/keystore.md.
//
// The package does no network I/O and never logs.
package keystore
