// Package testbed builds the network-namespace testbed on which the
// fhkey roles run over real raw sockets: a mobile node (MN), its previous
// and new access routers (PAR, NAR, RFC 5568 §2), a correspondent node
// (CN) and, optionally, an attacker (ATK) on the NAR's link.
//
//	                 2001:db8:c::/64
//	CN par0 ::2 ─────────────────── cn0 ::1
//	                                PAR
//	2001:db8:1::/64   acc0 (bridge) ::1 ── port mn0
//	     MN par0 ::2 ───────────────────────┘
//	                                PAR nar0 2001:db8:12::1
//	                                     │   2001:db8:12::/64
//	                                NAR par0 2001:db8:12::2
//	2001:db8:2::/64   acc0 (bridge) ::1 ── ports mn0, atk0
//	     MN nar0 ::2 ───────────────────────┘        │
//	    ATK nar0 ::66 ───────────────────────────────┘
//
// The MN starts attached to the PAR's link (its nar0 is down); Move brings
// par0 down and nar0 up and points the MN's default route at the NAR, so
// its previous care-of address 2001:db8:1::2 becomes unreachable and the
// new one, 2001:db8:2::2, reachable. Routers forward; duplicate address
// detection is off (accept_dad=0, nodad) so nothing waits, and addresses
// survive a link going down (keep_addr_on_down=1).
//
// With Config.Home the RFC 6618 home network is added (home.go): the
// home agent (HA), its controller (HAC) and the AAA server (AAA), each in
// its own namespace on a link of its own to the PAR (core0 ↔ PAR's ha0,
// hac0, aaa0 on 2001:db8:a::/64, 2001:db8:b::/64, 2001:db8:d::/64, the
// PAR ::1, the node ::2). The home prefix 2001:db8:8::/64 is routed by the
// PAR to the HA, which holds 2001:db8:8::1 on its lo and routes each
// bound home address into its TUN.
//
// Namespaces are named Prefix+node ("fhk-mn", "fhk-par", ...); every link
// lives inside them, so deleting the namespaces removes everything and
// nothing outside is touched. Up removes a stale testbed of the same
// prefix first; Down is idempotent. Everything is done with iproute2's ip
// (errors carry its stderr, as *CommandError) and, for code that must run
// inside a namespace, with Do (setns on a locked OS thread).
package testbed
