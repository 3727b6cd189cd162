package netio

import "net"

// EtherTypeEAPOL is the EtherType of EAPOL frames (IEEE 802.1X-2010
// §11.1.4, "PAE EtherType" 88-8E).
const EtherTypeEAPOL = 0x888E

// PAEGroupAddress is the Port Access Entity group address 01-80-C2-00-00-03
// (IEEE 802.1X-2010 §11.1.1, Table 11-1): the destination of EAPOL frames
// on a LAN where the peer's individual address is not yet known. Bridges
// do not forward it (a Linux bridge only with group_fwd_mask bit 3).
var PAEGroupAddress = net.HardwareAddr{0x01, 0x80, 0xc2, 0x00, 0x00, 0x03}

// MaxEAPOLFrame is the largest EAPOL PDU ReadFrom is sized for: the
// Ethernet MTU (1500 octets; frames are never larger on the access link).
const MaxEAPOLFrame = 1500
