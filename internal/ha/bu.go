package ha

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/mip6udp"
)

// Binding Acknowledgement status codes (RFC 6275 §6.1.8, RFC 6618 §8.2).
const (
	StatusAccepted                     uint8 = 0
	StatusHomeRegistrationNotSupported uint8 = 131
	StatusNotHomeSubnet                uint8 = 132
	StatusNotHomeAgentForThisMobile    uint8 = 133
	StatusSequenceOutOfWindow          uint8 = 135
	// StatusReinitSAWithHAC is REINIT_SA_WITH_HAC (RFC 6618 §8.2): "the HA
	// wants to indicate to the MN that it needs to re-establish the SA
	// information with the HAC".
	StatusReinitSAWithHAC uint8 = 176
)

// lifetimeUnit is the BU/BA Lifetime unit (RFC 6275 §6.1.7: "one time unit
// is 4 seconds").
const lifetimeUnit = 4 * time.Second

// Next Header values in front of the Mobility Header of a PType 8 packet
// (RFC 6618 §6.3: "The Next Header field MUST be set to value of the first
// encapsulated header").
const (
	nextHeaderDestinationOptions = 60
	nextHeaderMobility           = 135
	optionPad1                   = 0
	optionHomeAddress            = 201 // RFC 6275 §6.3
)

// bindingUpdate processes an opened PType 8 payload (RFC 6275 §9.5.1,
// §10.3.1, §10.3.2) and returns the sealed Binding Acknowledgement.
// The home address is the SA's (RFC 6275 §10.3.1: "the home address
// unequivocally identifying the security association"); a Home Address
// option, if present, must name it.
func (h *HomeAgent) bindingUpdate(dst []byte, now time.Time, from netip.AddrPort, a *association, m mip6udp.Message) (Result, error) {
	hao, mhb, err := splitMobilityHeader(m.NextHeader, m.Payload)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrDropped, err)
	}
	msg, err := mh.ParseMessage(mhb)
	if err != nil {
		return Result{}, drop(ErrNotBindingUpdate, "%v", err)
	}
	bu, ok := msg.(mh.BindingUpdate)
	if !ok {
		return Result{}, drop(ErrNotBindingUpdate, "MH message %T on SPI %d", msg, a.pair.SPI)
	}
	hoa := a.rec.Bootstrap.HomeAddress6
	ba := mh.BindingAcknowledgement{Sequence: bu.Sequence}
	cur := h.bindings[hoa]
	switch {
	case !a.pair.Valid(now):
		ba.Status = StatusReinitSAWithHAC
	case hao.IsValid() && hao != hoa:
		// RFC 6275 §10.3.1: only the right node controls a home address.
		ba.Status = StatusNotHomeAgentForThisMobile
	case !bu.HomeRegistration:
		// The HA does not act as a correspondent node (§10.3.1: 131).
		ba.Status = StatusHomeRegistrationNotSupported
	case h.cfg.HomePrefix.IsValid() && !h.cfg.HomePrefix.Contains(hoa):
		ba.Status = StatusNotHomeSubnet
	case cur != nil && !sequenceGreater(bu.Sequence, cur.Sequence):
		// RFC 6275 §9.5.1: status 135 "and the last accepted sequence
		// number in the Sequence Number field".
		ba.Status, ba.Sequence = StatusSequenceOutOfWindow, cur.Sequence
	}
	if ba.Status == StatusAccepted {
		if ba.Lifetime, err = h.register(now, from, a, hoa, bu); err != nil {
			return Result{}, fmt.Errorf("%w: %w", ErrDropped, err)
		}
		if ba.Lifetime == 0 && bu.Lifetime != 0 {
			ba.Status = StatusReinitSAWithHAC // the SA ends within one lifetime unit
		}
	}
	return h.acknowledge(dst, a, ba)
}

// register applies an accepted BU: lifetime 0 removes the binding (RFC 6275
// §10.3.2), any other creates or updates it (§10.3.1) with the lifetime
// capped by the BU, MaxLifetime and the SA's validity, in whole 4-second
// units. It returns the granted lifetime.
func (h *HomeAgent) register(now time.Time, from netip.AddrPort, a *association, hoa netip.Addr, bu mh.BindingUpdate) (time.Duration, error) {
	if bu.Lifetime == 0 {
		if h.bindings[hoa] != nil {
			if err := h.store().DeleteBinding(hoa); err != nil {
				return 0, fmt.Errorf("%w: %w", ErrStore, err)
			}
			h.unbind(hoa)
		}
		h.registered(hoa, a.pair.SPI)
		return 0, nil
	}
	lt := min(bu.Lifetime, h.cfg.MaxLifetime, a.pair.ValidUntil.Sub(now)).Truncate(lifetimeUnit)
	if lt <= 0 {
		return 0, nil
	}
	b := Binding{HomeAddress: hoa, CareOf: from, SPI: a.pair.SPI, Sequence: bu.Sequence, Expires: now.Add(lt)}
	if err := h.store().PutBinding(b); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrStore, err)
	}
	h.bind(b)
	h.registered(hoa, a.pair.SPI)
	return lt, nil
}

// acknowledge seals ba with the SA the BU came on (RFC 6618 §6.3) and
// counts it.
func (h *HomeAgent) acknowledge(dst []byte, a *association, ba mh.BindingAcknowledgement) (Result, error) {
	wire, err := mh.MarshalMessage(ba)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrDropped, err)
	}
	// The Mobility Header checksum is over the pseudo-header the BA would
	// have without the UDP encapsulation (RFC 6275 §6.1.1): from the home
	// agent's address to the home address (docs/ha.md).
	if src := h.address(a); src.IsValid() {
		if err := mh.SetChecksum(wire, src, a.rec.Bootstrap.HomeAddress6); err != nil {
			return Result{}, fmt.Errorf("%w: %w", ErrDropped, err)
		}
	}
	start := len(dst)
	out, err := h.seal(dst, a, mip6udp.PacketTypeMobilityHeader, nextHeaderMobility, wire)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrDropped, err)
	}
	out = out[start:]
	r := &h.stats.BindingUpdatesRejected
	switch ba.Status {
	case StatusAccepted:
		h.stats.BindingUpdatesAccepted++
	case StatusHomeRegistrationNotSupported:
		r.HomeRegistrationNotSupported++
	case StatusNotHomeSubnet:
		r.NotHomeSubnet++
	case StatusNotHomeAgentForThisMobile:
		r.NotHomeAgentForThisMobile++
	case StatusSequenceOutOfWindow:
		r.SequenceOutOfWindow++
	case StatusReinitSAWithHAC:
		r.ReinitSAWithHAC++
	}
	return Result{Reply: out}, nil
}

// sequenceGreater reports whether seq is greater than last modulo 2^16
// (RFC 6275 §9.5.1: a number is "less than or equal to the last received
// number if its value lies in the range of the last received number and
// the preceding 32768 values, inclusive").
func sequenceGreater(seq, last uint16) bool {
	d := seq - last
	return d != 0 && d < 1<<15
}

// splitMobilityHeader returns the Home Address option's address, if a
// Destination Options header carries one, and the Mobility Header behind
// it.
func splitMobilityHeader(nh uint8, p []byte) (netip.Addr, []byte, error) {
	switch nh {
	case nextHeaderMobility:
		return netip.Addr{}, p, nil
	case nextHeaderDestinationOptions:
	default:
		return netip.Addr{}, nil, fmt.Errorf("%w: Next Header %d, want 135 or 60", ErrNotBindingUpdate, nh)
	}
	if len(p) < 2 {
		return netip.Addr{}, nil, fmt.Errorf("%w: Destination Options header: %d octets", ErrInnerPacket, len(p))
	}
	n := (int(p[1]) + 1) * 8 // RFC 8200 §4.6: Hdr Ext Len in 8-octet units, not counting the first 8
	if len(p) < n {
		return netip.Addr{}, nil, fmt.Errorf("%w: Destination Options header: Hdr Ext Len %d, %d octets", ErrInnerPacket, p[1], len(p))
	}
	if p[0] != nextHeaderMobility {
		return netip.Addr{}, nil, fmt.Errorf("%w: Destination Options header: Next Header %d, want 135", ErrNotBindingUpdate, p[0])
	}
	var hao netip.Addr
	for opts := p[2:n]; len(opts) > 0; {
		if opts[0] == optionPad1 {
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || len(opts) < 2+int(opts[1]) {
			return netip.Addr{}, nil, fmt.Errorf("%w: Destination Options header: option %d truncated", ErrInnerPacket, opts[0])
		}
		if opts[0] == optionHomeAddress {
			if opts[1] != 16 || hao.IsValid() {
				return netip.Addr{}, nil, fmt.Errorf("%w: Home Address option: length %d or repeated", ErrInnerPacket, opts[1])
			}
			hao = netip.AddrFrom16([16]byte(opts[2:18]))
		}
		opts = opts[2+int(opts[1]):]
	}
	return hao, p[n:], nil
}

// address is the home agent address of a's pseudo-header: the SA's
// mip6-haa-ip6, else Config.Address.
func (h *HomeAgent) address(a *association) netip.Addr {
	if a.rec.Bootstrap.HomeAgent6.IsValid() {
		return a.rec.Bootstrap.HomeAgent6
	}
	return h.cfg.Address
}
