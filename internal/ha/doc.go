// Package ha is the home agent role of RFC 6618 §6 (TLS-based Mobile IPv6
// security): it holds the MN-HA security associations that the Home Agent
// Controller provisions (§4.3, §5.6), keeps a binding cache of home address
// → care-of address and UDP port (RFC 6275 §9.5.1, §10.3.1, §10.3.2), and
// turns received UDP payloads of the Mobile IPv6 service port (§6.1) into
// replies (Binding Acknowledgements, §6.3) and packets for the home link
// (reverse-tunneled user data, §6.4), and home-link packets for a bound home
// address into UDP payloads to its care-of address.
//
// It opens no socket and reads no clock: the node (internal/node, `fhkey
// ha`) gives it packets and the time. State changes go to a Store, so that a
// restart keeps the bindings that are still valid; the inbound Sequence
// Numbers are covered by a persisted lease, so that a restart after a crash
// accepts no packet twice (RFC 4303 §3.4.3; lease.go). Every dropped packet is
// counted by reason (Stats). The rules the RFCs leave open are in
// docs/ha.md.
package ha
