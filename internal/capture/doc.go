// Package capture writes packet captures in the classic libpcap file format
// (through gopacket's pcapgo) and builds and parses the IPv6 packets they
// carry. Reading captures — pcap and pcapng, any link layer — is
// internal/pcapread's.
//
// Captures use link type LINKTYPE_RAW (101): each record is an IPv6 packet
// starting with its fixed header, the format tcpdump and Wireshark read
// everywhere (https://www.tcpdump.org/linktypes.html). The same link type
// carries IPv4: UDPv4 builds the IPv4/UDP packets of the RADIUS datagrams
// the AAA demo exchanges on loopback (RFC 791, RFC 768).
//
// Packets are built as the IPv6 specification lays them out (RFC 8200 §3,
// §4): the fixed header, extension headers such as the Destination Options
// header carrying the Home Address option of RFC 6275 §6.3, and the
// upper-layer payload. SetChecksum fills the ICMPv6 (RFC 4443 §2.3) and
// Mobility Header (RFC 6275 §6.1.1) checksums with the pseudo-header of
// RFC 8200 §8.1, using the home address of a Home Address option as the
// source as RFC 6275 §6.1.1 and §11.3.1 require.
//
// Parsers return errors wrapping ErrParse (and io.ErrUnexpectedEOF on
// truncation) that name the offset at fault; they never panic.
package capture
