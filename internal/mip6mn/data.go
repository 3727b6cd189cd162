package mip6mn

import (
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/mip6udp"
)

// nextHeaderNone marks a dummy packet (RFC 4303 §2.6).
const nextHeaderNone = inet.ProtocolNone

// SendData tunnels one IPv6 packet from the home address to the home
// agent (RFC 6618 §6.4): PType 1, sealed, Next Header 41, when the SA
// covers data (mip6-sas 1); PType 0 when it does not and the Config allows
// plaintext data. The packet's source must be the home address and a
// binding must be in place.
func (m *MobileNode) SendData(ipPacket []byte) error {
	m.mu.Lock()
	s, state := m.cur, m.state
	m.mu.Unlock()
	if len(ipPacket) < ipv6HeaderLen || ipPacket[0]>>4 != 6 {
		m.c.notFromHome.Add(1)
		return wrap(ErrParse, nil, "user data: %d octets, not an IPv6 packet", len(ipPacket))
	}
	if src := netip.AddrFrom16([16]byte(ipPacket[8:24])); src != s.home {
		m.c.notFromHome.Add(1)
		return wrap(ErrAddress, nil, "user data from %v, the home address is %v", src, s.home)
	}
	if state != StateRegistered {
		m.c.notRegistered.Add(1)
		return wrap(ErrNotRegistered, nil, "state %s", state)
	}
	if !s.pair.Valid(m.cfg.Now()) {
		m.c.noSA.Add(1)
		return wrap(ErrSecurityAssociation, nil, "SPI %d ended at %s", s.pair.SPI, s.pair.ValidUntil.UTC().Format(time.RFC3339))
	}
	var pkt []byte
	var err error
	switch {
	case s.pair.Scope == mip6udp.ScopeAll:
		pkt, err = s.pair.Out.Seal(nil, mip6udp.PacketTypeData, inet.ProtocolIPv6, ipPacket)
	case m.cfg.AllowPlaintextData:
		pkt, err = mip6udp.AppendPlaintext(nil, s.pair.Scope, ipPacket)
	default:
		m.c.plaintextRefused.Add(1)
		return wrap(ErrScope, nil, "mip6-sas 0 and plaintext data not allowed")
	}
	if err != nil {
		m.c.sendFailed.Add(1)
		return wrap(ErrSecurityAssociation, err, "user data")
	}
	if err := m.cfg.Send(s.homeAgent, pkt); err != nil {
		m.c.sendFailed.Add(1)
		return wrap(ErrAddress, err, "user data to %v", s.homeAgent)
	}
	m.c.dataSent.Add(1)
	return nil
}

// receiveData checks an opened data packet (PType 0 or 1) and returns
// its inner IPv6 packet.
func (m *MobileNode) receiveData(msg mip6udp.Message, s *session) ([]byte, error) {
	if msg.Type == mip6udp.PacketTypePlaintext && !m.cfg.AllowPlaintextData {
		m.c.plaintextRefused.Add(1)
		return nil, wrap(ErrScope, nil, "plaintext user data not allowed")
	}
	if msg.Type == mip6udp.PacketTypeData && msg.NextHeader == nextHeaderNone {
		m.c.dummy.Add(1)
		return nil, wrap(ErrUnexpected, nil, "dummy packet (Next Header 59)")
	}
	p := msg.Payload
	if (msg.Type == mip6udp.PacketTypeData && msg.NextHeader != inet.ProtocolIPv6) || len(p) < ipv6HeaderLen || p[0]>>4 != 6 {
		m.c.malformed.Add(1)
		return nil, wrap(ErrParse, nil, "user data: next header %d, %d octets: not an IPv6 packet", msg.NextHeader, len(p))
	}
	if dst := netip.AddrFrom16([16]byte(p[24:40])); dst != s.home {
		m.c.notForHome.Add(1)
		return nil, wrap(ErrAddress, nil, "user data to %v, the home address is %v", dst, s.home)
	}
	m.c.dataReceived.Add(1)
	return p, nil
}
