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
// Namespaces are named Prefix+node ("fhk-mn", "fhk-par", ...); every link
// lives inside them, so deleting the namespaces removes everything and
// nothing outside is touched. Up removes a stale testbed of the same
// prefix first; Down is idempotent. Everything is done with iproute2's ip
// (errors carry its stderr, as *CommandError) and, for code that must run
// inside a namespace, with Do (setns on a locked OS thread).
package testbed
