package mip6mn

import (
	"errors"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/mip6udp"
)

// ipv6HeaderLen is the fixed IPv6 header (RFC 8200 §3).
const ipv6HeaderLen = 40

// HandlePacket processes one UDP payload received from from. A Binding
// Acknowledgement or Binding Refresh Request (PType 8) updates the
// binding and returns nil; user data (PType 1, or PType 0 when allowed)
// returns the inner IPv6 packet, addressed to the home address, for the
// host. Anything else is dropped with an error that says why, and counted
// (Counters.Drops); a dropped packet changes no state.
func (m *MobileNode) HandlePacket(from netip.AddrPort, packet []byte) ([]byte, error) {
	m.mu.Lock()
	cur, prev := m.cur, m.prev
	m.mu.Unlock()
	if from.Addr().Unmap() != cur.homeAgent.Addr().Unmap() || from.Port() != cur.homeAgent.Port() {
		m.c.source.Add(1)
		return nil, wrap(ErrAddress, nil, "packet from %v, the home agent is %v", from, cur.homeAgent)
	}
	lookup := func(spi mip6udp.SPI) (*mip6udp.Inbound, bool) {
		switch {
		case spi == cur.pair.SPI:
			return cur.pair.In, true
		case prev != nil && spi == prev.pair.SPI:
			return prev.pair.In, true
		}
		return nil, false
	}
	msg, _, err := mip6udp.Open(nil, packet, cur.pair.Scope, lookup)
	if err != nil {
		return nil, m.dropOpen(err)
	}
	if msg.Type == mip6udp.PacketTypeMobilityHeader {
		return nil, m.handleMobility(msg, cur)
	}
	return m.receiveData(msg, cur)
}

// dropOpen counts a packet mip6udp refused.
func (m *MobileNode) dropOpen(err error) error {
	switch {
	case errors.Is(err, mip6udp.ErrReplayed), errors.Is(err, mip6udp.ErrTooOld):
		m.c.replayed.Add(1)
	case errors.Is(err, mip6udp.ErrScope):
		m.c.scope.Add(1)
	case errors.Is(err, mip6udp.ErrAuth):
		m.c.auth.Add(1)
	default:
		m.c.malformed.Add(1)
		return wrap(ErrParse, err, "opening")
	}
	return wrap(ErrAuth, err, "opening")
}

// handleMobility processes an authentic PType 8 payload (RFC 6618 §6.3).
func (m *MobileNode) handleMobility(msg mip6udp.Message, s *session) error {
	hm, err := ParseHomeAgentMessage(msg.NextHeader, msg.Payload, s.home, s.homeAgent.Addr())
	if err != nil {
		if errors.Is(err, ErrAddress) {
			m.c.notForHome.Add(1)
		} else {
			m.c.malformed.Add(1)
		}
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Now()
	switch v := hm.(type) {
	case mh.BindingAcknowledgement:
		return m.bindingAcknowledgement(now, v, msg.SPI)
	case mh.BindingRefreshRequest:
		// RFC 6275 §11.7.4: the mobile node SHOULD respond with a Binding
		// Update (sent now, unless one is already in flight).
		m.c.brr.Add(1)
		if m.state == StateIdle || m.outstanding {
			return nil
		}
		return m.register(now, false)
	}
	m.c.unexpected.Add(1)
	return wrap(ErrUnexpected, nil, "%s from the home agent", describe(hm))
}

// bindingAcknowledgement applies RFC 6275 §11.7.3 to an authentic BA.
// Called with mu held.
func (m *MobileNode) bindingAcknowledgement(now time.Time, ba mh.BindingAcknowledgement, spi mip6udp.SPI) error {
	if !m.outstanding {
		m.c.unexpected.Add(1)
		return wrap(ErrUnexpected, nil, "binding acknowledgement %d with no binding update in flight", ba.Sequence)
	}
	if ba.Status == StatusSequenceOutOfWindow {
		// RFC 6275 §11.7.1: "The mobile node MUST store this information
		// and use the next Sequence Number value for the next Binding
		// Update it sends." It comes under the SA, so it is the HA's.
		m.lastStatus = int(ba.Status)
		m.c.baRefused.Add(1)
		m.seq = ba.Sequence
		return m.register(now, false)
	}
	if ba.Sequence != m.seq || spi != m.cur.pair.SPI {
		// §11.7.3: a BA matches the BU whose Sequence Number it carries;
		// one under the previous SA answers a BU sent before it.
		m.c.unexpected.Add(1)
		return wrap(ErrUnexpected, nil, "binding acknowledgement %d (SPI %d), waiting for %d (SPI %d)", ba.Sequence, spi, m.seq, m.cur.pair.SPI)
	}
	m.outstanding = false
	m.lastStatus = int(ba.Status)
	if ba.Status >= mh.StatusReasonUnspecified || ba.Lifetime == 0 {
		// Refused (status >= 128), or "accepted" with no lifetime, which
		// leaves no binding. Retry at the slowest rate.
		m.c.baRefused.Add(1)
		m.state = StateRefused
		m.nextTx = now.Add(MaxBindackTimeout)
		return nil
	}
	m.c.baAccepted.Add(1)
	m.prev = nil // the home agent uses the current SA
	m.state = StateRegistered
	// §11.7.3: the granted lifetime counts from when the BU was sent; it
	// is never longer than what was requested.
	m.granted = min(ba.Lifetime, m.requested)
	m.expires = m.sentAt.Add(m.granted)
	refresh := m.granted * 3 / 4
	for _, o := range ba.Options {
		// RFC 6275 §6.2.4: the Binding Refresh Advice gives the interval
		// after which the home agent wants a new Binding Update.
		if bra, ok := o.(mh.BindingRefreshAdvice); ok && bra.RefreshInterval > 0 && bra.RefreshInterval < refresh {
			refresh = bra.RefreshInterval
		}
	}
	m.nextTx = m.sentAt.Add(refresh)
	return nil
}
