package ha

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/fhkey/fhkey/internal/mip6sa"
	"github.com/fhkey/fhkey/mip6udp"
)

// build makes rec's association: the Pair, its counters resumed, and the
// next outbound reservation and inbound lease in its record (to be
// written before the association is used).
func (h *HomeAgent) build(rec SARecord) (*association, error) {
	p, err := mip6sa.NewWithRand(mip6sa.HomeAgent, &rec.SA, &rec.Bootstrap, h.cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSA, err)
	}
	p.Out.ResumeAt(rec.OutReserved)
	// Everything up to the stored lease may have been accepted before a
	// crash: the window refuses it (RFC 4303 §3.4.3). The lease starts
	// there: the first packet beyond waits for a new one.
	resume := max(rec.InHighest, rec.InLease)
	p.In.ResumeAt(resume)
	rec.OutReserved = reservation(rec.OutReserved)
	a := &association{pair: p, rec: rec}
	a.setLimit(resume)
	a.rec = a.record()
	return a, nil
}

// place puts a, already in the store, in the table. h.mu is held. It
// returns the SPIs of the SAs it retired (forgotten, their records still
// to be deleted: the caller does it, best effort, see retire).
func (h *HomeAgent) place(a *association) (retired []mip6udp.SPI) {
	spi, hoa := a.pair.SPI, a.rec.Bootstrap.HomeAddress6
	replaced := false
	// The same SPI again: the old one goes at once, and with it the
	// binding of a home address it no longer serves.
	if prev := h.sas[spi]; prev != nil {
		replaced = true
		if prevHoA := prev.rec.Bootstrap.HomeAddress6; prevHoA != hoa && h.bindings[prevHoA] != nil {
			_ = h.store().DeleteBinding(prevHoA) // Restore drops it anyway: its SA is gone
			h.unbind(prevHoA)
		}
		h.forget(spi)
	}
	// A re-bootstrap: the current SA of the home address is kept while the
	// binding uses it; an older kept one, or one no binding uses, goes.
	if old, ok := h.byHoA[hoa]; ok && old != spi {
		replaced = true
		if b := h.bindings[hoa]; b != nil && b.SPI == old {
			if p0, ok := h.previous[hoa]; ok && p0 != old {
				h.forget(p0)
				retired = append(retired, p0)
			}
			h.previous[hoa] = old
		} else {
			h.forget(old)
			retired = append(retired, old)
		}
	}
	if replaced {
		h.stats.SAsReplaced++
	}
	h.sas[spi] = a
	h.byHoA[hoa] = spi
	h.stats.SAsInstalled++
	return retired
}

// registered is called when a BU under SA spi was accepted for hoa: the
// SA a re-bootstrap replaced is no longer needed.
func (h *HomeAgent) registered(hoa netip.Addr, spi mip6udp.SPI) {
	if p0, ok := h.previous[hoa]; ok && p0 != spi {
		h.retire(p0)
	}
}

// retire forgets an SA and deletes it from the store (best effort: a
// record left behind is dropped by the next Restore). h.mu is held.
func (h *HomeAgent) retire(spi mip6udp.SPI) {
	h.forget(spi)
	_ = h.store().DeleteSA(spi)
}

// reservation is the next reservation above seq.
func reservation(seq uint32) uint32 {
	return uint32(min(uint64(seq)+SequenceBlock, math.MaxUint32))
}

// forget removes an SA from the table and wipes its keys. h.mu is held.
func (h *HomeAgent) forget(spi mip6udp.SPI) {
	a := h.sas[spi]
	if a == nil {
		return
	}
	delete(h.sas, spi)
	hoa := a.rec.Bootstrap.HomeAddress6
	if h.byHoA[hoa] == spi {
		delete(h.byHoA, hoa)
	}
	if h.previous[hoa] == spi {
		delete(h.previous, hoa)
	}
	a.rec.SA.Zero()
}

// Restore reloads persisted state at start: SAs past their validity and
// grace and bindings past their lifetime or without a valid SA are dropped
// (and deleted from the store); the others are installed with their
// Sequence Number state resumed. Of several SAs of one home address the
// one valid longest is current; an older one is kept only while the
// binding uses it (a re-bootstrap the MN had not registered yet).
func (h *HomeAgent) Restore(now time.Time, sas []SARecord, bindings []Binding) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	sorted := slices.Clone(sas)
	slices.SortStableFunc(sorted, func(a, b SARecord) int { return a.SA.ValidityEnd.Compare(b.SA.ValidityEnd) })
	for _, rec := range sorted {
		if h.expiredPastGrace(now, rec.SA.ValidityEnd) {
			h.stats.SAsExpired++
			_ = h.store().DeleteSA(mip6udp.SPI(rec.SA.SPI))
			continue
		}
		a, err := h.build(rec)
		if err != nil {
			return err
		}
		// The new reservation must be on disk before any Seal uses it.
		if err := h.store().PutSA(a.rec); err != nil {
			return fmt.Errorf("%w: %w", ErrStore, err)
		}
		h.forget(a.pair.SPI)
		h.sas[a.pair.SPI] = a
		h.byHoA[a.rec.Bootstrap.HomeAddress6] = a.pair.SPI // the longest valid last
		h.stats.SAsInstalled++
	}
	for _, b := range bindings {
		a := h.sas[b.SPI]
		if !now.Before(b.Expires) || a == nil || !a.pair.Valid(now) || a.rec.Bootstrap.HomeAddress6 != b.HomeAddress {
			h.stats.BindingsExpired++
			_ = h.store().DeleteBinding(b.HomeAddress)
			continue
		}
		h.bind(b)
	}
	spis := make([]mip6udp.SPI, 0, len(h.sas))
	for spi := range h.sas {
		spis = append(spis, spi)
	}
	slices.SortFunc(spis, cmp.Compare)
	for _, spi := range spis {
		hoa := h.sas[spi].rec.Bootstrap.HomeAddress6
		switch b := h.bindings[hoa]; {
		case h.byHoA[hoa] == spi:
		case b != nil && b.SPI == spi:
			h.previous[hoa] = spi
		default:
			h.retire(spi)
		}
	}
	return nil
}
