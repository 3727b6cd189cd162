// Package cga implements Cryptographically Generated Addresses (RFC 3972):
// the CGA Parameters data structure (§3) with RFC 4581 extension fields,
// address generation (§4) and verification (§5). It does no I/O and never
// logs.
//
// Generate runs the Hash2 modifier search (§4 steps 2–3) on all cores,
// cancellable through its context and reporting Progress; it handles the
// collision count (§4 step 8) through a caller-supplied duplicate address
// check. Verify follows §5 step by step over the received octets and
// returns the owner's public key; each failed step has its own error, all
// wrapping ErrVerify. SEND caches whole verifications (send.KeyCache).
//
// Public keys are DER SubjectPublicKeyInfo with rsaEncryption (§3; other
// algorithms are rejected with ErrPublicKeyAlgorithm), MinKeyBits to
// MaxKeyBits. Every Sec value 0–7 uses SHA-1 as RFC 3972 specifies; RFC 4982
// hash agility is recognised but no other hash function is implemented (the
// CGA SEC registry assigns only SHA-1 values): see docs/cga.md.
package cga
