package supplicant

import (
	"bytes"
	"errors"
	"fmt"
	"net"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
)

// outcome is where a session stands after a frame.
type outcome int

const (
	pending   outcome = iota // the exchange goes on
	succeeded                // EAP-Success after the method: keys
	failed                   // EAP-Failure or the method failed
)

// session is the frame handling of one authentication: EAPOL PDUs in,
// EAP Responses out, no I/O and no clock, so that it is fuzzed alone.
type session struct {
	peer    *tlspeer.Peer
	version eap.EAPOLVersion
	// auth is the authenticator's MAC address, learned from its first
	// EAP Request (nil before).
	auth net.HardwareAddr
}

// action is what one received frame asks of the supplicant.
type action struct {
	// reply is the EAPOL PDU to send to the authenticator (nil: none).
	reply []byte
	// taken: the frame came from the authenticator and was processed, so
	// authWhile restarts (802.1X-2004 §8.2.11: every eapolEap).
	taken   bool
	outcome outcome
	// err is why the session failed, with outcome failed.
	err error
}

// handle takes the EAPOL PDU pdu received from src. A frame that does
// not parse, is not an EAP-Packet, carries an EAP Response (another
// supplicant's), comes from another address than the learned
// authenticator, or is a Success or Failure before one was learned, is
// ignored: the zero action, and nothing changes. RFC 3748 §4: malformed
// packets are silently discarded.
func (s *session) handle(pdu []byte, src net.HardwareAddr) action {
	if len(src) != 6 || src[0]&1 != 0 {
		return action{} // not an individual MAC address
	}
	e, err := eap.ParseEAPOL(pdu)
	if err != nil || e.Type != eap.EAPOLEAPPacket {
		return action{}
	}
	p, err := eap.Parse(e.Body)
	if err != nil || p.Code == eap.CodeResponse {
		return action{}
	}
	if s.auth == nil {
		if p.Code != eap.CodeRequest {
			return action{} // Success/Failure from no known authenticator
		}
	} else if !bytes.Equal(src, s.auth) {
		return action{}
	}
	resp, err := s.peer.Handle(e.Body[:p.Len()])
	switch {
	case errors.Is(err, eap.ErrParse), errors.Is(err, tlspeer.ErrProtocol):
		// A malformed EAP-TLS header, or a packet the peer cannot take
		// where it stands (a Success before the method completed, ...):
		// discarded, the peer unchanged; authWhile still runs.
		return action{}
	case err != nil:
		// EAP-Failure, a failed handshake without an alert to send, a
		// reassembly error, no keys.
		s.learn(src)
		return action{taken: true, outcome: failed, err: err}
	}
	s.learn(src)
	if resp == nil {
		// EAP-Success after the method: tlspeer has the keys.
		return action{taken: true, outcome: succeeded}
	}
	out, err := eap.EAPOL{Version: s.version, Type: eap.EAPOLEAPPacket, Body: resp}.Marshal()
	if err != nil {
		return action{taken: true, outcome: failed, err: fmt.Errorf("supplicant: %w", err)}
	}
	return action{reply: out, taken: true}
}

func (s *session) learn(src net.HardwareAddr) {
	if s.auth == nil {
		s.auth = bytes.Clone(src)
	}
}
