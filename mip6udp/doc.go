// Package mip6udp implements the UDP encapsulation between a mobile node
// and its home agent of RFC 6618 §6 (TLS-based Mobile IPv6 security): the
// 8-octet header of §6.1–§6.2 (4-bit Packet Type, 28-bit SPI, 32-bit
// Sequence Number), binding management messages (§6.3, PType 8) and
// reverse-tunneled user data, protected (§6.4, PType 1) or — where the
// SA's scope (mip6-sas, §5.6.4) allows — plaintext (PType 0).
//
// Protected packets follow the Padding, Pad Length, Next Header and ICV
// rules of RFC 4303 §2.4–§2.8 with the ciphersuites of RFC 6618 §5.6.5
// (Suites): HMAC-SHA1-96 (RFC 2404) or AES-XCBC-MAC-96 (RFC 3566,
// implemented here) with NULL (RFC 2410), TripleDES-CBC (RFC 2451) or
// AES-128-CBC (RFC 3602). Receivers check the anti-replay window of
// RFC 4303 §3.4.3 (ReplayWindow, 64 packets) and the ICV, in constant
// time, before they decrypt.
//
// An Outbound seals the packets of one direction of an SA; an Inbound
// opens them; Open dispatches a received datagram to the Inbound its SPI
// names. The package does no I/O and never logs; keys are never printed.
// The choices the RFC leaves open are in docs/mip6udp.md.
package mip6udp
