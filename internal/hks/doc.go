// Package hks is the Handover Key Server role of
// draft-vidya-mipshop-handover-keys-aaa-04 (§6.4, keys of §6.1): Server
// implements aaa.KeyServer, so the access router calls it in process or
// through RADIUS (internal/radius). For each relayed Handover Key Request
// it finds the subscriber by NAI in a subscribers.Store, verifies the
// MN-HKS MAC with the Handover Integrity Key over the received bytes,
// checks the PRF and MAC algorithms, the Timestamp (±7 s, replay), the
// subscriber's authorization for the AR, and answers with a fresh
// HKS-Nonce and the Handover Key, or with a whole error HKResp
// authenticated with the HIK (docs/aaa.md, "The Handover Key Server").
//
// The subscriber stores (memory, bbolt, PostgreSQL) are package
// internal/hks/subscribers; the role does no I/O of its own, opens no
// sockets and logs nothing secret.
package hks
