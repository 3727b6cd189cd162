// Package demo is the walk-through `fhkey demo` runs, printed step by step
// with the timing of each cryptographic operation:
//
//   - Run: the RFC 5269 handover-key exchange (RtSolPr/PrRtAdv over SEND,
//     CPS/CPA), the FBU with its BADF (RFC 5568 §6.2.3, RFC 5269 §3.4), the
//     PAR's forwarding, a forged FBU rejected — a mobile node, two access
//     routers and an attacker in this process, on the in-memory network of
//     internal/netio, every packet written to a pcap file;
//   - RunNetns: the same on the testbed (internal/testbed) over raw sockets,
//     with the `fhkey ar` and `fhkey mn` daemons as processes (or the nodes
//     in process), a correspondent node's stream redirected by the FBU and a
//     forged FBU from an attacker namespace;
//   - RunAAA (fhkey demo --mode aaa): the shared-key mode of
//     draft-vidya-mipshop-handover-keys-aaa-04 (docs/aaa.md, The demo): the
//     HKReq, its relay in a RADIUS Access-Request to a Handover Key Server
//     (internal/hks behind internal/radius on a loopback UDP socket), the
//     Access-Accept with the salt-encrypted HK, the HKResp, the FBU with the
//     key's SPI, a forged FBU and a forged HKReq rejected; the RADIUS
//     datagrams go into the pcap file as IPv4/UDP packets.
//
// The command (internal/cli) parses the flags, opens the files and prints
// the summary.
package demo
