package ha

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/mip6udp"
)

// Result is what a received UDP payload turns into. Both slices alias the
// dst given to HandleUDP; either or both may be nil (a dropped packet
// gives neither).
type Result struct {
	// Reply is a UDP payload for the sender's address and port: a sealed
	// Binding Acknowledgement.
	Reply []byte
	// HomeLink is a reverse-tunneled IP packet for the home link
	// (RFC 6618 §6.4).
	HomeLink []byte
}

// HandleUDP handles the UDP payload of a datagram that arrived on the
// Mobile IPv6 service port (RFC 6618 §6.1) from `from`: a Binding Update
// (PType 8, §6.3) is answered with a Binding Acknowledgement; user data
// (PType 1 or, where the SA's scope allows, 0, §6.4) from a bound home
// address is returned for the home link. The result appends to dst. Every
// refusal wraps ErrDropped and is counted in Stats; it changes no state.
//
// A verified packet whose Sequence Number is beyond the SA's persisted
// inbound lease waits: the lease is written at once (WriteLeases) and the
// packet handled again; if the write fails it is dropped (ErrLease, the
// store-first rule of docs/ha.md). With Config.HoldBeyondLease the packet
// is returned to the caller instead (ErrLeaseWait), to be given to
// HandleHeld after WriteLeases.
func (h *HomeAgent) HandleUDP(dst []byte, now time.Time, from netip.AddrPort, payload []byte) (Result, error) {
	mode := leaseWrite
	if h.cfg.HoldBeyondLease {
		mode = leaseHold
	}
	return h.handle(dst, now, from, payload, mode)
}

// HandleHeld handles a packet HandleUDP returned with ErrLeaseWait, once
// the caller called WriteLeases: if it is still beyond its SA's lease (the
// write failed) it is dropped, ErrLease.
func (h *HomeAgent) HandleHeld(dst []byte, now time.Time, from netip.AddrPort, payload []byte) (Result, error) {
	return h.handle(dst, now, from, payload, leaseDrop)
}

// What HandleUDP does with a verified packet beyond its SA's lease.
const (
	leaseWrite = iota // write the lease and handle it again
	leaseHold         // return ErrLeaseWait
	leaseDrop         // drop it, ErrLease
)

func (h *HomeAgent) handle(dst []byte, now time.Time, from netip.AddrPort, payload []byte, mode int) (Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, err := h.handleUDP(dst, now, from.Addr().Unmap(), from.Port(), payload)
	if err != nil && errors.Is(err, mip6udp.ErrBeyondLimit) {
		switch mode {
		case leaseHold:
			h.stats.Leases.Waits++
			return Result{}, fmt.Errorf("%w (%v)", ErrLeaseWait, err) // not a drop: no ErrDropped
		case leaseWrite:
			h.stats.Leases.Waits++
			h.mu.Unlock()
			werr := h.WriteLeases()
			h.mu.Lock()
			if r, err = h.handleUDP(dst, now, from.Addr().Unmap(), from.Port(), payload); errors.Is(err, mip6udp.ErrBeyondLimit) {
				err = fmt.Errorf("%w: %w: %w", ErrDropped, ErrLease, errors.Join(err, werr))
			}
		default:
			err = fmt.Errorf("%w: %w: %w", ErrDropped, ErrLease, err)
		}
	}
	if err != nil {
		h.stats.Drops.count(err)
	}
	return r, err
}

func (h *HomeAgent) handleUDP(dst []byte, now time.Time, fromAddr netip.Addr, fromPort uint16, payload []byte) (Result, error) {
	from := netip.AddrPortFrom(fromAddr, fromPort)
	if len(payload) >= mip6udp.HeaderLen {
		t := mip6udp.PacketType(payload[0] >> 4)
		spi := mip6udp.SPI(binary.BigEndian.Uint32(payload)) & mip6udp.MaxSPI
		if (t == mip6udp.PacketTypeMobilityHeader || t == mip6udp.PacketTypeData) && spi == 0 {
			// RFC 6618 §6.1: "mobility management messages MUST NOT be
			// sent with an SPI value of 0 (zero)"; §6.2.
			return Result{}, drop(ErrSPIZero, "PType %d from %v", t, from)
		}
	}
	// The scope of a protected packet is its SA's; a plaintext packet
	// names no SA, so its scope is that of the binding of the address and
	// port it came from (docs/mip6udp.md, "SA scope").
	var a *association
	scope := mip6udp.ScopeAll
	if len(payload) > 0 && payload[0]>>4 == 0 {
		hoa, ok := h.byCoA[from]
		if !ok {
			return Result{}, drop(ErrNoBinding, "plaintext data from %v", from)
		}
		a = h.sas[h.bindings[hoa].SPI]
		if a == nil {
			return Result{}, drop(ErrNoBinding, "plaintext data from %v: binding has no SA", from)
		}
		scope = a.pair.Scope
	}
	lookup := func(spi mip6udp.SPI) (*mip6udp.Inbound, bool) {
		a = h.sas[spi]
		if a == nil {
			return nil, false
		}
		return a.pair.In, true
	}
	if len(payload) > 0 && payload[0]>>4 != 0 && len(payload) >= mip6udp.HeaderLen {
		if sa := h.sas[mip6udp.SPI(binary.BigEndian.Uint32(payload))&mip6udp.MaxSPI]; sa != nil {
			scope = sa.pair.Scope
		}
	}
	m, opened, err := mip6udp.Open(dst, payload, scope, lookup)
	if err != nil {
		if a != nil && errors.Is(err, mip6udp.ErrBeyondLimit) {
			// Authentic, beyond the lease: ask for one that covers it.
			h.wantLease(a, ahead(binary.BigEndian.Uint32(payload[4:]), a.in.size(now)))
		}
		return Result{}, fmt.Errorf("%w: %w", ErrDropped, err)
	}
	if m.Type != mip6udp.PacketTypePlaintext {
		h.accepted(now, a, m.SequenceNumber)
	}
	if m.NextHeader == 59 {
		return Result{}, drop(errDummy, "SPI %d Sequence Number %d", m.SPI, m.SequenceNumber)
	}
	if m.Type == mip6udp.PacketTypeMobilityHeader {
		return h.bindingUpdate(opened, now, from, a, m)
	}
	return h.dataFromMobile(now, a, m)
}

// dataFromMobile checks reverse-tunneled data: the SA is valid, the
// inner source is its home address (RFC 6618 §6.4: "The ... inner IP
// header uses the home address of the MN"), and that address is bound.
func (h *HomeAgent) dataFromMobile(now time.Time, a *association, m mip6udp.Message) (Result, error) {
	if !a.pair.Valid(now) {
		return Result{}, drop(ErrExpiredSA, "data on SPI %d", a.pair.SPI)
	}
	src, _, err := ipAddresses(m.Payload)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrDropped, err)
	}
	hoa := a.rec.Bootstrap.HomeAddress6
	if src.Is4() {
		hoa = a.rec.Bootstrap.HomeAddress4
	}
	if src != hoa {
		return Result{}, drop(ErrInnerSource, "inner source %v on SPI %d, home address %v", src, a.pair.SPI, hoa)
	}
	if h.bindings[a.rec.Bootstrap.HomeAddress6] == nil {
		return Result{}, drop(ErrNoBinding, "data from %v before a binding", src)
	}
	h.stats.DataFromMobile++
	return Result{HomeLink: m.Payload}, nil
}

// FromHomeLink takes an IP packet from the home link addressed to a bound
// home address and returns the UDP payload for the binding's care-of
// address and port: protected (PType 1) under an SA of scope 1, plaintext
// (PType 0) under scope 0 (RFC 6618 §6.4: "The MN or the HA decides
// ... based on the mip6-sas value in the SA"). The payload appends to dst.
func (h *HomeAgent) FromHomeLink(dst []byte, now time.Time, packet []byte) (netip.AddrPort, []byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	to, out, err := h.fromHomeLink(dst, now, packet)
	if err != nil {
		h.stats.Drops.count(err)
		return netip.AddrPort{}, dst, err
	}
	h.stats.DataToMobile++
	return to, out, nil
}

func (h *HomeAgent) fromHomeLink(dst []byte, now time.Time, packet []byte) (netip.AddrPort, []byte, error) {
	_, target, err := ipAddresses(packet)
	if err != nil {
		return netip.AddrPort{}, dst, fmt.Errorf("%w: %w", ErrDropped, err)
	}
	b := h.bindings[target]
	if b == nil {
		return netip.AddrPort{}, dst, drop(ErrNoBinding, "packet for %v", target)
	}
	a := h.sas[b.SPI]
	if a == nil || !a.pair.Valid(now) {
		return netip.AddrPort{}, dst, drop(ErrExpiredSA, "packet for %v on SPI %d", target, b.SPI)
	}
	var out []byte
	if a.pair.Scope == mip6udp.ScopeSignaling {
		out, err = mip6udp.AppendPlaintext(dst, a.pair.Scope, packet)
	} else {
		nh := uint8(41) // IPv6, RFC 6618 §6.4 ("e.g., 41 for IPv6")
		if packet[0]>>4 == 4 {
			nh = 4
		}
		out, err = h.seal(dst, a, mip6udp.PacketTypeData, nh, packet)
	}
	if err != nil {
		return netip.AddrPort{}, dst, fmt.Errorf("%w: %w", ErrDropped, err)
	}
	return b.CareOf, out, nil
}

// seal seals with a's outbound direction, first moving the persisted
// Sequence Number reservation forward when the next number would pass it.
func (h *HomeAgent) seal(dst []byte, a *association, t mip6udp.PacketType, nh uint8, payload []byte) ([]byte, error) {
	if a.pair.Out.Sequence() >= a.rec.OutReserved {
		rec := a.record()
		rec.OutReserved = reservation(rec.OutReserved)
		if err := h.store().PutSA(rec); err != nil {
			return dst, fmt.Errorf("%w: %w", ErrStore, err)
		}
		a.rec = rec
	}
	return a.pair.Out.Seal(dst, t, nh, payload)
}

// ipAddresses returns the source and destination of an IPv6 or IPv4
// packet.
func ipAddresses(p []byte) (src, dst netip.Addr, err error) {
	switch {
	case len(p) >= 40 && p[0]>>4 == 6:
		return netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40])), nil
	case len(p) >= 20 && p[0]>>4 == 4:
		return netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20])), nil
	}
	return netip.Addr{}, netip.Addr{}, fmt.Errorf("%w: inner packet of %d octets is neither IPv6 nor IPv4", ErrInnerPacket, len(p))
}
