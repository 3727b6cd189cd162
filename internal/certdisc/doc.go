// Package certdisc implements SEND Authorization Delegation Discovery over
// the network: the Certification Path Solicitation (CPS) and Certification
// Path Advertisement (CPA) exchange of RFC 3971 §6.4, by which a host
// fetches the certification path from one of its trust anchors to a
// router's certificate (RFC 3971 §6.4.1, §6.4.2, §6.4.5, §6.4.6, §10.1).
// RFC 5269 §3.3 requires it of a mobile node that receives a PrRtAdv from a
// router whose path it has not cached.
//
// A Responder is the router side: it answers valid solicitations with one
// CPA per certificate, numbered with All Components and a Component field
// counting down to zero (§6.4.2), to the Solicited-Node multicast address
// of the solicitor or to All-Nodes when the solicitation came from the
// unspecified address, and never sends more than MAX_CPA_RATE
// advertisements a second: the surplus is coalesced into All-Nodes
// advertisements (§6.4.5), so a flood of solicitations costs the router a
// bounded effort.
//
// A Solicitor is the host side: FetchPath sends a CPS with a fresh
// Identifier and the host's Trust Anchor options, collects the matching
// components in any order, retransmits with exponential back-off within
// CPS_RETRY_MAX (§6.4.6), verifies the assembled path with
// certpath.VerifyRouter and keeps the result in a certpath.Cache.
// Concurrent requests for the same router share one exchange.
//
// Neither side opens sockets: both talk through internal/netio, so the
// exchange runs over the in-memory network in tests and over raw sockets on
// Linux. The package logs only through an optional *slog.Logger.
package certdisc
