// Package mn implements the mobile node role of SEND-based handover key
// provisioning (RFC 5269 §3.1, §3.3, §3.4) and of the authenticated fast
// binding update (RFC 5568 §6.2.2, §6.2.3, §6.4.5).
//
// A MobileNode keeps a handover key encryption key pair with the algorithm and
// size of its CGA key, replaced after HKEPK-LIFETIME or HKEPK-HANDOVERS (§3.1,
// §3.7); sends SEND-signed Router Solicitations for Proxy Advertisement with a
// Handover Key Request option from its care-of CGA; accepts only Proxy Router
// Advertisements signed with a router's certified key (RouterAuthorizer),
// picks the key pair by the echoed nonce, decrypts the handover key in
// constant time and stores it by (access router address, care-of CGA). After
// a move it builds the Fast Binding Update to the previous access router with
// the BADF option and verifies the Fast Binding Acknowledgment.
//
// The core (Solicit, HandlePacket, FastBindingUpdate) does no I/O; RequestKey
// and FastHandover drive it over a netio.Conn with the retransmissions of RFC
// 5568 §6.1.1 and §6.2.2.
//
// With Config.AAA the node also implements the mobile node of
// draft-vidya-mipshop-handover-keys-aaa-04 §6.2 and §6.5: HandoverKeyRequest
// builds HKReqs, HandlePacket checks HKResps, RequestHandoverKey drives the
// exchange (retransmissions, error statuses, the V flag),
// RequestNewHandoverKey refreshes a held key (no V flag; from another link:
// the indirect exchange of §6.5), and FBUs carry the key's SPI. docs/aaa.md
// records its decisions.
package mn
