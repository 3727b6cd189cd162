// Package samples builds the fhkey sample captures: pcap files in which
// every ICMPv6 message and Neighbor Discovery option of package ndp, and
// every Mobility Header message and mobility option of package mh, appears
// at least once inside a message it belongs to (issue 2, item 5):
//
//   - send-fmipv6-nd.pcap: RS, RA, NS, NA (RFC 4861 §4), CPS and CPA
//     (RFC 3971 §6.4), RtSolPr and PrRtAdv (RFC 5568 §6.1) signed with SEND
//     (RFC 3971 §5) and carrying the handover key options of RFC 5269 §4 and
//     the RFC 5271 §6 options;
//   - mipv6-fmipv6-mh.pcap: BRR, BU, BA (RFC 6275 §6.1), FBU, FBack, HI and
//     HAck (RFC 5568 §6.2) with the mobility options of RFC 6275 §6.2,
//     RFC 4283, RFC 4285 and RFC 5568 §6.4;
//   - handover-keys-aaa-draft.pcap: HKReq and HKResp of
//     draft-vidya-mipshop-handover-keys-aaa-04 §5, at the default codepoints
//     of package mh (Wireshark has no dissector for them).
//
// Content is deterministic: fixed example keys (keys/), addresses from
// 2001:db8::/32 (RFC 3849), a fixed clock. The SEND options are genuine:
// the source addresses are CGAs with Sec 0 (RFC 3972 §4) and the RSA
// Signature option holds an RSASSA-PKCS1-v1_5 SHA-1 signature (RFC 3971
// §5.2). Each packet also lists the field values a dissector should show,
// the input of the tshark interop test.
package samples
