// Package supplicant is the supplicant PAE of an IEEE 802.1X port as the
// fhkey mobile node needs it: EAP-TLS (internal/eap/tlspeer) over EAPOL
// (IEEE 802.1X-2010 §11.3), until EAP-Success gives the MSK that the MSK
// mode of issue 12 derives its FBU keys from (docs/msk.md).
//
// It follows the supplicant PAE state machine of IEEE 802.1X-2004 §8.2.11
// (carried into 802.1X-2010 §8 and §12 through the EAP peer of RFC 4137):
//
//   - CONNECTING: EAPOL-Start to the PAE group address 01-80-C2-00-00-03
//     (802.1X-2010 §11.1.1), again every StartPeriod (the startWhen
//     timer) until a Request arrives, at most MaxStart times; then
//     ErrNoAuthenticator.
//   - AUTHENTICATING: the authenticator's MAC address is learned from the
//     first EAP Request; frames from other addresses are ignored from then
//     on. Identity Requests get Config.Peer.Identity, EAP-TLS runs in
//     tlspeer, any other method gets a Legacy Nak offering EAP-TLS (RFC
//     3748 §5.3.1). Each Request restarts authWhile (AuthPeriod); when it
//     runs out the supplicant goes back to CONNECTING (another Start if
//     MaxStart allows, otherwise ErrTimeout).
//   - AUTHENTICATED: EAP-Success after the method completed; the MSK and
//     the time are in the Result.
//   - HELD: EAP-Failure or a failed TLS handshake: ErrFailure, no MSK, and
//     the next Authenticate waits HeldPeriod (heldWhile) first.
//   - LOGOFF: Logoff sends EAPOL-Logoff (the node's close).
//
// No socket and no clock of its own: it runs over a Link (a
// netio.EAPOLConn on a daemon, an in-memory pipe in the tests) and the
// deadlines it sets on it. Malformed frames, frames of other types and
// frames from other addresses change nothing.
package supplicant
