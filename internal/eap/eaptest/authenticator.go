package eaptest

import (
	"context"
	"net"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/radius"
)

// RelayAuthenticator is the authenticator end of the in-memory LAN: it
// answers EAPOL-Start with an EAP-Request/Identity and relays every EAP
// Response to FreeRADIUS through radius.EAPRelay (RFC 3579), until the
// Access-Accept or Access-Reject, whose result (with the MSK) it
// returns. It ends with ctx.
func RelayAuthenticator(ctx context.Context, l *MemoryLink, relay *radius.EAPRelay) (radius.EAPResult, error) {
	stop := context.AfterFunc(ctx, func() { _ = l.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var s *radius.EAPSession
	buf := make([]byte, 1500)
	for {
		n, src, err := l.ReadFrom(buf)
		if err != nil {
			return radius.EAPResult{}, err
		}
		e, err := eap.ParseEAPOL(buf[:n])
		if err != nil {
			return radius.EAPResult{}, err
		}
		var out []byte
		switch e.Type {
		case eap.EAPOLStart:
			// RFC 3748 §5.1: the authenticator starts with an Identity Request.
			out, _ = eap.Packet{Code: eap.CodeRequest, Identifier: 1, Type: eap.TypeIdentity}.Marshal()
		case eap.EAPOLEAPPacket:
			p, err := e.EAP()
			if err != nil {
				return radius.EAPResult{}, err
			}
			if s == nil {
				s = relay.NewSession(string(p.Data))
			}
			res, err := s.Send(ctx, e.Body)
			if err != nil {
				return res, err
			}
			if err := writeEAP(l, res.EAP, src); err != nil || res.Outcome != radius.EAPContinue {
				return res, err
			}
			continue
		default:
			continue
		}
		if err := writeEAP(l, out, src); err != nil {
			return radius.EAPResult{}, err
		}
	}
}

func writeEAP(l *MemoryLink, pkt []byte, dst net.HardwareAddr) error {
	pdu, err := eap.EAPOL{Version: eap.EAPOLVersion2010, Type: eap.EAPOLEAPPacket, Body: pkt}.Marshal()
	if err != nil {
		return err
	}
	return l.WriteTo(pdu, dst)
}
