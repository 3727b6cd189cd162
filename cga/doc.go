// Package cga implements Cryptographically Generated Addresses (RFC 3972):
// the CGA Parameters data structure (§3) with RFC 4581 extension fields,
// address generation (§4) and verification (§5). It does no I/O and never
// logs.
package cga
