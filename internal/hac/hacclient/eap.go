package hacclient

import (
	"fmt"

	"github.com/fhkey/fhkey/internal/eap/tlspeer"
	"github.com/fhkey/fhkey/mip6tls"
)

// eap runs the §5.9 exchange after Response/MHAuth-Init (w2): each EAP
// Request from the HAC goes to the EAP-TLS peer, and its Response back in
// Request/MHAuth-Mid (key "1"), until the peer's method has completed:
// that last Response goes in Request/MHAuth-Done with the SA proposals,
// keyed with the MSK, and Response/MHAuth-Done carries EAP-Success and the
// SA (docs/tls.md, "The HAC").
func (x *exchanger) eap(cfg *Config, w2, cb []byte) (*Result, error) {
	pc := *cfg.EAP
	if pc.Identity == "" {
		pc.Identity = string(cfg.Identity)
	}
	peer, err := tlspeer.New(pc)
	if err != nil {
		return nil, err
	}
	defer peer.Close()
	_, req, err := mip6tls.CheckEAPMessage(w2, mip6tls.SenderHAC, nil, cb)
	if err != nil {
		return nil, err
	}
	for {
		resp, err := peer.Handle(req)
		if err != nil {
			return nil, fmt.Errorf("hacclient: EAP-TLS: %w", err)
		}
		if resp == nil {
			return nil, fmt.Errorf("hacclient: EAP ended in a Response/MHAuth-Mid")
		}
		if msk, ok := peer.MethodDone(); ok {
			return x.eapDone(cfg, peer, resp, msk[:], cb)
		}
		w, err := mip6tls.EAPMidRequest(x.next(), resp, cb)
		if err != nil {
			return nil, err
		}
		wr, m, final, err := x.exchange(w)
		if err != nil {
			return nil, err
		}
		if final {
			return nil, refusal(wr, m, cb, mip6tls.EAPSharedKey(nil))
		}
		if _, req, err = mip6tls.CheckEAPMessage(wr, mip6tls.SenderHAC, nil, cb); err != nil {
			return nil, err
		}
	}
}

// eapDone sends Request/MHAuth-Done and reads the SA, after the peer took
// the EAP-Success it carries.
func (x *exchanger) eapDone(cfg *Config, peer *tlspeer.Peer, resp, msk, cb []byte) (*Result, error) {
	w, err := mip6tls.EAPDoneRequest(x.next(), cfg.Scope, cfg.CipherSuites, resp, msk, cb)
	if err != nil {
		return nil, err
	}
	wr, m, final, err := x.exchange(w)
	if err != nil {
		return nil, err
	}
	if !final {
		return nil, fmt.Errorf("%w: %w: no status-code after MHAuth-Done", mip6tls.ErrExchange, mip6tls.ErrMissing)
	}
	vm, payload, err := mip6tls.CheckEAPMessage(wr, mip6tls.SenderHAC, msk, cb)
	if err != nil {
		return nil, refusal(wr, m, cb, msk, mip6tls.EAPSharedKey(nil))
	}
	r, err := mip6tls.ReadDoneResponse(vm, cfg.CipherSuites)
	if err == nil && r.Status == mip6tls.StatusOK {
		// The HAC's EAP-Success completes the peer (RFC 3748 §4.2).
		if _, perr := peer.Handle(payload); perr != nil {
			r.SA.Zero()
			return nil, fmt.Errorf("hacclient: EAP-TLS: %w", perr)
		}
	}
	return done(mip6tls.AuthMethodEAP, r, err)
}
