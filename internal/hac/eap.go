package hac

import (
	"fmt"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/mip6tls"
)

// eap runs the rest of the §5.9 EAP exchange after Request/MHAuth-Init
// (Identifier id). The HAC is an EAP pass-through authenticator (RFC 3748
// §3.4): it sends EAP-Request/Identity in Response/MHAuth-Init and relays
// each EAP Response the MN sends to the AAA server, answering with the
// server's next Request (Response/MHAuth-Mid). The MN sends
// Request/MHAuth-Done with the Response that completes its method, keyed
// with the MSK: the HAC relays it first, and checks auth with the MSK of
// the Access-Accept (docs/tls.md, "The HAC").
func (s *session) eap(sub *Subscriber, id uint8) error {
	relay := s.h.cfg.EAP(string(sub.Identity))
	var eapID [1]byte
	if _, err := s.h.cfg.Rand.Read(eapID[:]); err != nil {
		return s.fail(id, err)
	}
	identity, err := eap.Packet{Code: eap.CodeRequest, Identifier: eapID[0], Type: eap.TypeIdentity}.Marshal()
	if err != nil {
		return s.fail(id, err)
	}
	// A refusal carries EAP-Failure (RFC 3748 §4.2) and is keyed with "1"
	// until the MSK is known.
	failure, _ := eap.Packet{Code: eap.CodeFailure, Identifier: eapID[0]}.Marshal()
	s.echo = []mip6tls.Parameter{mip6tls.EAPPayload(failure)}
	w2, err := mip6tls.EAPInitResponse(id, identity, s.cb)
	if err != nil {
		return s.fail(id, err)
	}
	if err := s.respond(id, w2, false); err != nil {
		return err
	}
	for {
		w, m, err := s.receive()
		if err != nil {
			return s.fail(m.Identifier, err)
		}
		done := mip6tls.IsDoneRequest(m)
		payload, ok := mip6tls.Find[mip6tls.EAPPayload](m)
		if !done {
			// MHAuth-Mid is keyed with "1": verified before relaying.
			if _, payload, err = mip6tls.CheckEAPMessage(w, mip6tls.SenderMN, nil, s.cb); err != nil {
				return s.fail(m.Identifier, err)
			}
		} else if !ok {
			return s.fail(m.Identifier, fmt.Errorf("%w: %w: MHAuth-Done request without eap-payload", mip6tls.ErrExchange, mip6tls.ErrMissing))
		}
		r, err := relay.Send(s.ctx, payload)
		if err != nil {
			return s.fail(m.Identifier, fmt.Errorf("%w: %w", ErrAAA, err))
		}
		switch {
		case r.Outcome == radius.EAPReject:
			s.echo = []mip6tls.Parameter{mip6tls.EAPPayload(r.EAP)}
			return s.fail(m.Identifier, ErrEAPRejected)
		case r.Outcome == radius.EAPContinue && !done:
			wm, err := mip6tls.EAPMidResponse(m.Identifier, r.EAP, s.cb)
			if err != nil {
				return s.fail(m.Identifier, err)
			}
			if err := s.respond(m.Identifier, wm, false); err != nil {
				return err
			}
			continue
		case r.Outcome == radius.EAPAccept && done:
			return s.eapDone(sub, w, r)
		}
		return s.fail(m.Identifier, fmt.Errorf("%w: MHAuth-Done %v, AAA outcome %d", ErrEAPProtocol, done, r.Outcome))
	}
}

// eapDone checks Request/MHAuth-Done with the MSK of the Access-Accept
// ("1" if it carried none), provisions the SA and answers with EAP-Success.
func (s *session) eapDone(sub *Subscriber, w []byte, r radius.EAPResult) error {
	var msk []byte
	if r.HaveMSK {
		msk = r.MSK[:]
		defer r.MSK.Wipe()
	}
	s.key = msk
	m, _, err := mip6tls.CheckEAPMessage(w, mip6tls.SenderMN, msk, s.cb)
	if err != nil {
		return s.fail(w[1], err)
	}
	scope, _ := mip6tls.Find[mip6tls.SAScope](m)
	suites, _ := mip6tls.Find[mip6tls.CipherSuiteList](m)
	sa, bs, err := s.provision(sub, scope, suites)
	if err != nil {
		return s.fail(m.Identifier, err)
	}
	defer sa.Zero()
	wd, err := mip6tls.EAPDoneResponse(m.Identifier, mip6tls.StatusOK, &sa, &bs, r.EAP, msk, s.cb)
	if err != nil {
		return s.fail(m.Identifier, err)
	}
	return s.succeed(m.Identifier, wd, sa.SPI)
}
