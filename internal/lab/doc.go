// Package lab provides the credentials of the fhkey demonstration network:
// a SEND trust anchor, Router Authorization Certificates for the previous and
// the new access router (RFC 3971 §6, RFC 6494, with the RFC 3779 prefixes of
// their links), and RSA keys and CGAs (RFC 3972) for the mobile node and both
// routers.
//
// Load generates them on first use and caches them in a directory (by default
// os.UserCacheDir()/fhkey/demo, created with mode 0700; private keys 0600), so
// later runs skip the RSA key generation and the CGA search. A cache that does
// not verify, or whose certificates expire within a day, is regenerated.
//
// The credentials are for a lab: the keys sit unencrypted in the cache
// directory. Never use them on a real network.
package lab
