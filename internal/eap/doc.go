// Package eap is the wire format of EAP (RFC 3748 §4, §5) and of the
// EAP-TLS framing (RFC 5216 §3.1, with the TLS 1.3 rules of RFC 9190 §2.1):
// packets with Code, Identifier, Length and, for Requests and Responses,
// Type; the EAP-TLS flags L, M and S, the TLS Message Length, splitting a
// TLS message into fragments and reassembling the fragments received, up
// to MaxTLSMessage octets (or a smaller limit); and the EAPOL PDU that
// carries EAP on a LAN (IEEE 802.1X-2010 §11.3: Protocol Version, Packet
// Type, Packet Body Length, body). It does no I/O and never
// logs. The EAP-TLS peer is in internal/eap/tlspeer, the RADIUS relay of
// the authenticator (RFC 3579) in internal/radius (docs/eap.md).
package eap
