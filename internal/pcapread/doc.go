// Package pcapread reads packet captures (classic pcap and pcapng, through
// gopacket's pcapgo, no cgo) and takes each frame down to its IPv6 packet.
//
// Link types (https://www.tcpdump.org/linktypes.html): Ethernet (1) with any
// number of IEEE 802.1Q / 802.1ad (QinQ) tags, Linux cooked capture SLL (113)
// and SLL2 (276), raw IP (101, and 12 and 14, the DLT_RAW values some
// writers store), IPv6 (229), BSD loopback NULL (0) and LOOP (108).
//
// The IPv6 packet is parsed with package capture (RFC 8200 §3, §4: the
// Hop-by-Hop, Routing and Destination Options headers, the latter with the
// Home Address option of RFC 6275 §6.3); a Fragment header (RFC 8200 §4.5)
// is reported as such and its payload left alone. Link-layer padding after
// the IPv6 payload (short Ethernet frames) is dropped.
//
// A pcapng file is checked block by block before pcapgo sees it (block and
// captured lengths bounded and consistent), so a malformed file is an error
// wrapping ErrFormat rather than a huge allocation. Frame errors wrap
// ErrLink, or ErrNotIPv6 / ErrLinkType for frames that are well formed but
// carry something else; IPv6 errors wrap capture.ErrParse. Errors name the
// offset at fault and the package never panics on input.
package pcapread
