package hac

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/fhkey/fhkey/mip6tls"
)

// psk runs the rest of the §5.8 PSK exchange after Request/MHAuth-Init
// (Identifier id): Response/MHAuth-Init with the HAC's nonce, then
// Request/MHAuth-Done checked, the SA created and provisioned, and
// Response/MHAuth-Done.
func (s *session) psk(sub *Subscriber, id uint8, mnRand mip6tls.MNRand) error {
	var hacRand mip6tls.HACRand
	if _, err := io.ReadFull(s.h.cfg.Rand, hacRand[:]); err != nil {
		return s.fail(id, err)
	}
	// From here a refusal is signed with the PSK and echoes both nonces,
	// as message 2 and 4 do ("[mn-rand, hac-rand, auth-method=psk,
	// [status],] auth").
	s.key, s.echo = sub.PSK, []mip6tls.Parameter{mnRand, hacRand}
	w2, err := mip6tls.PSKInitResponse(id, mnRand, hacRand, sub.PSK, s.cb)
	if err != nil {
		return s.fail(id, err)
	}
	if err := s.respond(id, w2, false); err != nil {
		return err
	}
	w3, m3, err := s.receive()
	if err != nil {
		return s.fail(m3.Identifier, err)
	}
	scope, suites, err := mip6tls.CheckPSKDoneRequest(w3, mnRand, hacRand, sub.PSK, s.cb)
	if err != nil {
		return s.fail(m3.Identifier, err)
	}
	sa, bs, err := s.provision(sub, scope, suites)
	if err != nil {
		return s.fail(m3.Identifier, err)
	}
	defer sa.Zero()
	w4, err := mip6tls.PSKDoneResponse(m3.Identifier, mnRand, hacRand, mip6tls.StatusOK, &sa, &bs, sub.PSK, s.cb)
	if err != nil {
		return s.fail(m3.Identifier, err)
	}
	return s.succeed(m3.Identifier, w4, sa.SPI)
}

// succeed writes the final 200 response.
func (s *session) succeed(id uint8, wire []byte, spi mip6tls.SPI) error {
	if err := s.respond(id, wire, true); err != nil {
		return err
	}
	s.res.Status, s.res.SPI = mip6tls.StatusOK, spi
	return nil
}

// provision selects the ciphersuite (the HAC's preference among the MN's
// list, §5.8 "MUST be one of the MN-supported ciphersuites"), creates the
// SA with the scope the MN asked for, and hands it to the HA before the
// MN is told; an HA that was not told releases the SPI and fails the
// session. The caller zeroes the SA.
func (s *session) provision(sub *Subscriber, scope mip6tls.SAScope, suites mip6tls.CipherSuiteList) (mip6tls.SecurityAssociation, mip6tls.Bootstrap, error) {
	suite, ok := suites.Select(s.h.cfg.CipherSuites)
	if !ok {
		return mip6tls.SecurityAssociation{}, mip6tls.Bootstrap{}, fmt.Errorf("%w: MN offers %v", ErrNoCipherSuite, suites)
	}
	sa, err := s.h.newSA(suite, scope)
	if err != nil {
		return mip6tls.SecurityAssociation{}, mip6tls.Bootstrap{}, err
	}
	bs := s.h.bootstrap(sub)
	p := &Provisioned{Identity: sub.Identity, SA: sa, Bootstrap: bs}
	err = s.h.cfg.Provisioner.Provision(s.ctx, p)
	p.SA.Zero()
	if err != nil {
		s.h.spis.release(sa.SPI)
		sa.Zero()
		return mip6tls.SecurityAssociation{}, mip6tls.Bootstrap{}, fmt.Errorf("%w: %w", ErrHomeAgent, err)
	}
	return sa, bs, nil
}

// bootstrap returns the §5.7 data of a subscriber: the HA's address and
// port, the subscriber's home address and prefix, its DNS server or the
// HAC's.
func (h *HAC) bootstrap(sub *Subscriber) mip6tls.Bootstrap {
	var b mip6tls.Bootstrap
	set := func(a netip.Addr, v4, v6 *netip.Addr) {
		switch {
		case !a.IsValid():
		case a.Is4():
			*v4 = a
		default:
			*v6 = a
		}
	}
	set(h.cfg.HomeAgent, &b.HomeAgent4, &b.HomeAgent6)
	b.Port = h.cfg.Port
	set(sub.HomeAddress, &b.HomeAddress4, &b.HomeAddress6)
	if p := sub.HomePrefix; p.IsValid() {
		if p.Addr().Is4() {
			b.HomePrefix4 = p
		} else {
			b.HomePrefix6 = p
		}
	}
	dns := sub.DNS
	if !dns.IsValid() {
		dns = h.cfg.DNS
	}
	set(dns, &b.DNS4, &b.DNS6)
	return b
}
