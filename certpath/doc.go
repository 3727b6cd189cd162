// Package certpath implements SEND router authorization (RFC 3971 §6 as
// updated by RFC 6494): the RFC 3779 IP Address Delegation extension
// (id-pe-ipAddrBlocks, RFC 3779 §2), trust anchors and their identification
// in the Trust Anchor option (RFC 3971 §6.4.3, RFC 6495 §3), validation of a
// certification path up to a Router Authorization Certificate (RFC 3971
// §6.3.1, RFC 6494 §§4, 7, 9, RFC 3779 §2.3), a bounded cache of verified
// paths (RFC 3971 §6.4.6), and the creation of a small lab PKI with the
// RFC 6494 profile.
//
// Go's crypto/x509 does not know the RFC 3779 extension and refuses a
// certificate in which it is critical. This package parses and enforces it
// itself, then removes its OID from UnhandledCriticalExtensions before it
// calls (*x509.Certificate).Verify, the documented way to handle a critical
// extension outside crypto/x509.
//
// The package does no I/O and never logs.
package certpath
