package netio

import "net/netip"

// FMIPv6ICMPTypes are the ICMPv6 types the FMIPv6 and SEND roles handle:
// Router Solicitation 133, Router Advertisement 134, Neighbor
// Solicitation 135, Neighbor Advertisement 136 (RFC 4861 §4), Certification
// Path Solicitation 148 and Advertisement 149 (RFC 3971 §6.4), and the
// FMIPv6 experimental-mobility type 154 carrying RtSolPr and PrRtAdv
// (RFC 5568 §6.1).
var FMIPv6ICMPTypes = []uint8{133, 134, 135, 136, 148, 149, 154}

// ICMPConfig configures ListenICMP.
type ICMPConfig struct {
	// Interface is the name of the interface the socket is bound to
	// (SO_BINDTODEVICE); required.
	Interface string
	// Types lists the ICMPv6 types the kernel passes to the socket
	// (ICMP6_FILTER, RFC 3542 §3.2); all other types are dropped by the
	// kernel. Empty means FMIPv6ICMPTypes.
	Types []uint8
	// Groups are multicast groups joined on Interface (IPV6_JOIN_GROUP),
	// e.g. ff02::2 on a router, ff02::1 on a host.
	Groups []netip.Addr
	// MulticastLoopback, when true, delivers the node's own multicast
	// sends back to the node's sockets (IPV6_MULTICAST_LOOP). Off by
	// default: a role does not want to read its own advertisements.
	MulticastLoopback bool
	// Queue bounds the number of received packets held before ReadPacket
	// takes them (default 256); beyond it the kernel socket buffer fills
	// and the kernel drops.
	Queue int
}

// MHConfig configures ListenMH.
type MHConfig struct {
	// Interface is the name of the interface the sockets are bound to;
	// empty means every interface of the namespace (link-local
	// destinations then cannot be reached).
	Interface string
	// HopLimit is the hop limit of sent packets whose Packet.HopLimit is
	// 0; 0 means the kernel default (net.ipv6.conf.*.hop_limit, 64).
	HopLimit int
	// Queue is as in ICMPConfig.
	Queue int
	// ReceiveBuffer, when positive, is the kernel receive buffer of the
	// receiving sockets in octets (SO_RCVBUFFORCE, which needs
	// CAP_NET_ADMIN, else SO_RCVBUF capped by net.core.rmem_max). The
	// default (net.core.rmem_default, about 200 KiB) holds about 250
	// small Mobility Header packets; beyond that the kernel drops.
	ReceiveBuffer int
	// Types, when not empty, lists the Mobility Header types (the MH
	// Type field, RFC 6275 §6.1.1) the kernel passes to the Conn: a
	// socket filter (SO_ATTACH_FILTER) on both receiving sockets drops
	// the others before they are queued. Every raw Mobility Header socket
	// of a namespace gets a copy of every Mobility Header packet to a
	// local address, so a router that only handles Fast Binding Updates
	// (type 8) need not be woken for the Fast Binding Acknowledgments it
	// sends to a local peer, nor a local FBU sender for its own FBUs.
	// Messages too short to hold the MH Type are then dropped by the
	// kernel, uncounted by Dropped. Empty means every type.
	Types []uint8
}
