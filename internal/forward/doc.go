// Package forward implements the data plane of an FMIPv6 previous access
// router: after an authenticated Fast Binding Update the PAR tunnels the
// packets addressed to the mobile node's previous care-of address (PCoA) to
// its new care-of address (NCoA) until the forwarding lifetime expires
// (RFC 5568 §3.2, §4, §5.6, §6.2.2), and the receiving end decapsulates them.
//
// The tunnel is generic IPv6-in-IPv6 (RFC 2473 §3): an outer IPv6 header
// with Next Header 41 in front of the unchanged original packet. The outer
// source is the PAR's global address on the interface the MN was attached
// to (RFC 5568 §4, "For data forwarding, the PAR tunnels packets using its
// global IP address valid on the interface to which the MN was attached").
//
// The package has three layers:
//
//   - wire: [Header], [ParseHeader], [Encapsulate], [Decapsulate] — no I/O;
//   - the [Forwarder] interface used by the access-router role, with the
//     binding table, lifetimes, counters and the OnExpire hook through
//     which the AR discards the handover key when forwarding times out
//     (RFC 5269 §3.6); [Memory] implements it for tests;
//   - Linux user-space tunnelling ([OpenTUN], [OpenDecapsulator]): a TUN
//     device with a host route per PCoA on the PAR and raw IPv6 sockets,
//     for kernels without ip6_tunnel. Other platforms get [ErrUnsupported].
//
// docs/forwarding.md describes the design decisions and what was measured.
package forward
