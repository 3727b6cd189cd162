// Package pae is the access router's IEEE 802.1X authenticator (the
// Port Access Entity in the authenticator role, IEEE 802.1X-2010 §8, §12)
// in pass-through mode (RFC 3748 §2.4): it speaks EAP over EAPOL to the
// supplicants on the access link and relays their EAP Responses to a
// RADIUS server (RFC 3579) through a Backend. On an Access-Accept it
// stores the EAP MSK by NAI, with the supplicant's MAC address and the
// Session-Timeout as lifetime, in an MSKStore (keystore.MSKs), where the
// PAR finds it for the FBUs of the MSK mode (issue 12,
// draft-li-mipshop-fbu-sec-00; docs/msk.md, docs/eap.md).
//
// The Authenticator is a role: it takes EAPOL PDUs and returns the PDUs
// to send, with the clock it is given; Serve runs it on a Transport
// (netio.EAPOLConn on Linux). Sessions are bounded in number, rate
// limited per supplicant and for creation, retransmit their last
// EAP-Request to a silent supplicant a bounded number of times and
// expire when abandoned. Authenticated supplicants are re-authenticated
// before their MSK expires (IEEE 802.1X-2004 §8.2.4 reAuthTimer; the
// timers rebuilt from the MSK store after a restart, Restore), and a MAC
// whose authentication was rejected is ignored for a quiet period
// (§8.2.4.1.2 quietWhile), in a bounded table.
package pae
