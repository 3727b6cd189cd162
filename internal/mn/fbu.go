package mn

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// FBULifetime is the binding lifetime requested in FBUs.
const FBULifetime = 10 * time.Second

// FastBindingUpdate builds the FBU for a handover from pcoa (the care-of CGA
// on the previous access router's link, which names the key) to ncoa (RFC
// 5269 §3.4, RFC 5568 §6.2.2):
//
//   - from the new link (fromPreviousLink false): source ncoa, Home Address
//     option pcoa;
//   - from the previous link: source pcoa, Alternate Care-of Address ncoa,
//     no Home Address option;
//
// with A and H set and the BADF option last, SPI 0 (SEND) or the key's
// SPI (shared-key mode), its Authenticator
// computed with the key stored for (par, pcoa) over ncoa | par | MH Data.
// It counts as one handover of the handover key encryption key (§3.1).
func (m *MobileNode) FastBindingUpdate(par, pcoa, ncoa netip.Addr, fromPreviousLink bool) (netio.Packet, error) {
	return m.fastBindingUpdate(par, pcoa, ncoa, fromPreviousLink, true, FBULifetime)
}

// EndForwardingUpdate builds the FBU of a node back on the previous access
// router's link (RFC 5568 §5.6: "An MN returning to the PAR ... MUST send a
// Fast Binding Update with the Home Address equal to the MN's PCoA and a
// lifetime of zero to the PAR"): source pcoa, Alternate Care-of Address
// ncoa (the binding's new CoA), Lifetime 0, authenticated as
// FastBindingUpdate with the key of (par, pcoa), which the PAR keeps while
// it forwards (RFC 5269 §3.6). It does not count as a handover.
func (m *MobileNode) EndForwardingUpdate(par, pcoa, ncoa netip.Addr) (netio.Packet, error) {
	return m.fastBindingUpdate(par, pcoa, ncoa, true, false, 0)
}

func (m *MobileNode) fastBindingUpdate(par, pcoa, ncoa netip.Addr, fromPreviousLink, newHandover bool, lifetime time.Duration) (netio.Packet, error) {
	par, pcoa, ncoa = par.WithZone(""), pcoa.WithZone(""), ncoa.WithZone("")
	if m.cfg.MSK != nil {
		return m.mskFastBindingUpdate(par, pcoa, ncoa, fromPreviousLink, lifetime)
	}
	rec, err := m.store.Get(par, pcoa)
	if err != nil {
		return netio.Packet{}, fmt.Errorf("%w: %s for %s: %w", ErrNoKey, par, pcoa, err)
	}
	key, err := hokey.NewKey(hokey.AlgorithmType(rec.AT), rec.KeyBytes())
	spi := rec.SPI
	rec.Zero()
	if err != nil {
		return netio.Packet{}, err
	}
	defer key.Zero()
	m.mu.Lock()
	m.sequence++
	seq := m.sequence
	m.fbus[par] = outstandingFBU{pcoa: pcoa, ncoa: ncoa, seq: seq}
	if m.ek != nil && newHandover {
		m.ek.handovers++
	}
	m.mu.Unlock()
	var opts []mh.Option
	p := netio.Packet{Dst: par, HopLimit: 64, NextHeader: inet.ProtocolMobility}
	if fromPreviousLink {
		p.Src = pcoa
		opts = append(opts, mh.AlternateCareOfAddress{Address: ncoa})
	} else {
		p.Src, p.HomeAddress = ncoa, pcoa
	}
	// The SPI of the key: 0 for SEND (RFC 5568 §6.4.5), the HKResp's for
	// a key from the Handover Key Server (docs/aaa.md).
	opts = append(opts, mh.BindingAuthorizationDataForFMIPv6{SPI: spi, Authenticator: make([]byte, key.Algorithm().AuthenticatorLen())})
	fbu := mh.FastBindingUpdate{Sequence: seq, Acknowledge: true, HomeRegistration: true, Lifetime: lifetime, Options: opts}
	// The checksum pseudo-header uses the home address when there is a
	// Home Address option (RFC 6275 §6.1.1); pcoa either way.
	start := time.Now()
	p.Payload, err = hokey.SignBADF(fbu, &key, ncoa, par, pcoa, par)
	m.trace("fbu-build", start, err)
	if err != nil {
		return netio.Packet{}, fmt.Errorf("mn: building FBU: %w", err)
	}
	return p, nil
}

// handleFastBindingAck verifies an FBack from a PAR the node sent an FBU to
// (RFC 5568 §6.2.3: it "MUST contain the Binding Authorization Data for
// FMIP (BADF) option"), with the key of the FBU, care-of address NCoA.
func (m *MobileNode) handleFastBindingAck(p netio.Packet) (Event, error) {
	par := p.Src.WithZone("")
	m.mu.Lock()
	out, ok := m.fbus[par]
	m.mu.Unlock()
	if !ok {
		return Event{}, fmt.Errorf("%w: FBack from %s, to which no FBU is outstanding", ErrDropped, par)
	}
	if err := mh.VerifyChecksum(p.Payload, par, p.Dst); err != nil {
		return Event{}, fmt.Errorf("%w: FBack: %w", ErrDropped, err)
	}
	msg, err := mh.ParseMessage(p.Payload)
	if err != nil {
		return Event{}, fmt.Errorf("%w: FBack: %w", ErrDropped, err)
	}
	ack, ok := msg.(mh.FastBindingAcknowledgment)
	if !ok || ack.Sequence != out.seq {
		return Event{}, fmt.Errorf("%w: FBack does not match the outstanding FBU", ErrDropped)
	}
	if out.msk {
		if err := m.verifyFHKAck(p, par, out); err != nil {
			return Event{}, err
		}
		return m.acknowledged(par, out, ack), nil
	}
	cov, err := mh.CoveredByBADF(p.Payload, out.ncoa, par)
	if err != nil {
		return Event{}, fmt.Errorf("%w: FBack: %w", ErrDropped, err)
	}
	rec, err := m.store.Get(par, out.pcoa)
	if err != nil {
		return Event{}, fmt.Errorf("%w: FBack: %w", ErrNoKey, err)
	}
	key, err := hokey.NewKey(hokey.AlgorithmType(rec.AT), rec.KeyBytes())
	spi := rec.SPI
	rec.Zero()
	if err != nil {
		return Event{}, err
	}
	defer key.Zero()
	start := time.Now()
	ok = cov.SPI == spi && key.VerifyAuthenticator(out.ncoa, par, cov.Data[32:], cov.Authenticator) == nil
	m.trace("fback-verify", start, nil)
	if !ok {
		return Event{}, fmt.Errorf("%w: FBack authenticator does not verify", ErrDropped)
	}
	return m.acknowledged(par, out, ack), nil
}

// acknowledged ends the outstanding FBU out to par, which ack answered.
func (m *MobileNode) acknowledged(par netip.Addr, out outstandingFBU, ack mh.FastBindingAcknowledgment) Event {
	m.mu.Lock()
	if cur, ok := m.fbus[par]; ok && cur.seq == out.seq {
		delete(m.fbus, par)
	}
	m.mu.Unlock()
	return Event{Kind: FastBindingAcknowledged, Router: par, Status: ack.Status, Sequence: ack.Sequence, Lifetime: ack.Lifetime}
}

// exchange writes first(), then reads conn until want accepts an event,
// calling first again with a doubled timeout up to retries times (RFC 5568
// §6.1.1 exponential back-off). Packets the node does not handle go to
// Config.Other. It must be the only reader of conn meanwhile.
func (m *MobileNode) exchange(ctx context.Context, conn netio.Conn, retries int, first func() (netio.Packet, error), want func(Event) bool) (Event, error) {
	timeout := RtSolPrTimeout
	var lastErr error
	for attempt := 0; attempt <= retries; attempt++ {
		p, err := first()
		if err != nil {
			return Event{}, err
		}
		if err := conn.WritePacket(ctx, p); err != nil {
			return Event{}, err
		}
		actx, cancel := context.WithTimeout(ctx, timeout)
		for {
			in, err := conn.ReadPacket(actx)
			if err != nil {
				break
			}
			ev, err := m.HandlePacket(ctx, in) // a late answer is still processed in full
			if errors.Is(err, errNotForMe) && m.cfg.Other != nil {
				m.cfg.Other(in)
				continue
			}
			if err != nil {
				lastErr = err
				m.log.Debug("mn: dropped", "src", in.Src, "err", err)
				continue
			}
			if want(ev) {
				cancel()
				return ev, nil
			}
		}
		cancel()
		if ctx.Err() != nil {
			return Event{}, ctx.Err()
		}
		timeout *= 2
	}
	if lastErr != nil {
		return Event{}, fmt.Errorf("%w (last drop: %w)", ErrNoAnswer, lastErr)
	}
	return Event{}, ErrNoAnswer
}

// RequestKey solicits a handover key from router for careOf over conn and
// waits for it, retransmitting (each time a fresh signed RtSolPr) up to
// RTSOLPR_RETRIES times. It returns the stored record, key octets zeroed.
func (m *MobileNode) RequestKey(ctx context.Context, conn netio.Conn, router netip.Addr, careOf CareOf, accessPoints ...[]byte) (Event, error) {
	return m.exchange(ctx, conn, RtSolPrRetries,
		func() (netio.Packet, error) { return m.Solicit(router, careOf, accessPoints...) },
		func(ev Event) bool { return ev.Kind == KeyProvisioned || ev.Kind == AdvertisementWithoutKey })
}

// FastHandover sends the FBU of FastBindingUpdate and waits for the
// authenticated FBack (FBU_RETRIES retransmissions, each a new FBU with the
// next Sequence Number; together they count as one handover).
func (m *MobileNode) FastHandover(ctx context.Context, conn netio.Conn, par, pcoa, ncoa netip.Addr, fromPreviousLink bool) (Event, error) {
	first := true
	return m.exchange(ctx, conn, 3,
		func() (netio.Packet, error) {
			p, err := m.fastBindingUpdate(par, pcoa, ncoa, fromPreviousLink, first, FBULifetime)
			first = false
			return p, err
		},
		func(ev Event) bool { return ev.Kind == FastBindingAcknowledged && ev.Router == par.WithZone("") })
}

// EndForwarding sends the FBU of EndForwardingUpdate from the previous
// access router's link and waits for its authenticated FBack (Lifetime 0),
// with the retransmissions of FastHandover.
func (m *MobileNode) EndForwarding(ctx context.Context, conn netio.Conn, par, pcoa, ncoa netip.Addr) (Event, error) {
	return m.exchange(ctx, conn, 3,
		func() (netio.Packet, error) { return m.EndForwardingUpdate(par, pcoa, ncoa) },
		func(ev Event) bool { return ev.Kind == FastBindingAcknowledged && ev.Router == par.WithZone("") })
}

// Keys returns the stored handover key records, key octets zeroed.
func (m *MobileNode) Keys() []keystore.Record {
	var out []keystore.Record
	_ = m.store.Range(func(r *keystore.Record) bool {
		c := *r
		c.Zero()
		out = append(out, c)
		return true
	})
	return out
}
