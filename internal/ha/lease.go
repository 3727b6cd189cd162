package ha

import (
	"fmt"
	"math"
	"time"

	"github.com/fhkey/fhkey/mip6udp"
)

// Bounds of the inbound lease (docs/ha.md, "Sequence Numbers across a
// restart").
const (
	// MinLease is the smallest lease size R, whatever the SA's rate: a
	// slow SA's lease runs ahead of its packets too, so that its renewals
	// are background writes and none of its packets waits for an fsync
	// except the first after an install, a restart or a trim. A crash
	// costs an SA that was active in the 2 s before it at most R ≥
	// MinLease legitimate packets.
	MinLease = 16
	// MaxLease is the largest lease size R, and so the most legitimate
	// packets a restart after a crash can refuse on one SA.
	MaxLease = 1 << 16
)

// Lease is an SA's inbound lease as the Store keeps it: every inbound
// Sequence Number the home agent accepted on the SA is ≤ Lease.
type Lease struct {
	SPI   mip6udp.SPI
	Lease uint32
}

// inboundLease is the inbound lease state of an association. The window
// (RFC 4303 §3.4.3) accepts Sequence Numbers up to limit, a value already
// in the store; a larger lease is written before limit moves to it, a
// smaller one (a trim, Checkpoint) after.
type inboundLease struct {
	limit   uint32 // persisted: Inbound.SetLimit
	want    uint32 // a lease to write (0: none)
	writing uint32 // the lease of the write in flight (0: none)
	// The packets accepted in the current second (from winStart) and
	// the one before: the rate the lease size follows.
	winStart  time.Time
	cur, prev uint32
}

// roll moves the rate window to now.
func (l *inboundLease) roll(now time.Time) {
	switch d := now.Sub(l.winStart); {
	case d < 0 || d >= 2*time.Second:
		l.winStart, l.cur, l.prev = now, 0, 0
	case d >= time.Second:
		l.winStart, l.cur, l.prev = l.winStart.Add(time.Second), 0, l.cur
	}
}

// recent is the number of packets accepted in the last second: a sliding
// estimate from the two one-second counts; 0 at the latest 2 s after the
// SA's last packet.
func (l *inboundLease) recent(now time.Time) float64 {
	l.roll(now)
	frac := float64(now.Sub(l.winStart)) / float64(time.Second)
	return float64(l.cur) + float64(l.prev)*(1-frac)
}

// size is R: half the packets accepted in the last second, at least
// MinLease and at most MaxLease. At a steady rate r ≥ 2·MinLease a lease
// renewed when the highest number comes within R/2 of it is renewed every
// r/4 packets, about 4 times a second; a slower SA's every MinLease/2
// packets, each a background write.
func (l *inboundLease) size(now time.Time) uint32 {
	return uint32(min(max(l.recent(now)/2, MinLease), MaxLease))
}

// ahead is seq + n without wrapping past the 32-bit Sequence Number.
func ahead(seq, n uint32) uint32 { return uint32(min(uint64(seq)+uint64(n), math.MaxUint32)) }

// record is a's record with the Sequence Number state as it must be
// stored now: the lease is the largest one accepted or being written, so
// that a write of the record never takes the stored lease below what the
// window may accept.
func (a *association) record() SARecord {
	r := a.rec
	r.InHighest = a.pair.In.Highest()
	r.InLease = max(a.in.limit, a.in.writing, a.in.want)
	return r
}

// setLimit makes the window accept up to limit.
func (a *association) setLimit(limit uint32) {
	a.in.limit = limit
	a.pair.In.SetLimit(limit)
}

// accepted counts a packet a's window accepted with seq, and asks for a
// new lease when seq came within R/2 of the current one. h.mu is held.
func (h *HomeAgent) accepted(now time.Time, a *association, seq uint32) {
	l := &a.in
	r := l.size(now)
	l.cur++
	if top, v := max(l.limit, l.writing, l.want), ahead(seq, r); v > top && uint64(seq)+uint64(r/2) >= uint64(top) {
		h.wantLease(a, v)
	}
}

// wantLease asks for lease v on a (the largest asked for wins). h.mu is
// held.
func (h *HomeAgent) wantLease(a *association, v uint32) {
	if v > a.in.want && v > a.in.writing {
		a.in.want = v
		select {
		case h.leaseDue <- struct{}{}:
		default:
		}
	}
}

// LeaseDue receives when an SA wants a new lease written: the node then
// calls WriteLeases (asynchronously, off the packet path).
func (h *HomeAgent) LeaseDue() <-chan struct{} { return h.leaseDue }

// WriteLeases writes every lease wanted, for all SAs in one Store call
// (one transaction: thousands of SAs do not mean thousands of writes), and
// then lets the windows accept up to them. Only one write runs at a time;
// a call waits for the one in flight. On failure the windows keep their
// old leases (the store-first rule) and the next packet near the lease
// asks again.
func (h *HomeAgent) WriteLeases() error {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	var batch []Lease
	var as []*association
	for spi, a := range h.sas {
		l := &a.in
		if l.want == 0 {
			continue
		}
		if l.want < l.limit { // a trim: narrower before it is written
			l.want = max(l.want, a.pair.In.Highest())
			a.setLimit(l.want)
		}
		l.writing, l.want = l.want, 0
		batch = append(batch, Lease{SPI: spi, Lease: l.writing})
		as = append(as, a)
	}
	h.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := h.store().PutLeases(batch)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Leases.Writes++
	for _, a := range as {
		if err == nil {
			a.rec.InLease = a.in.writing
			if a.in.writing > a.in.limit {
				a.setLimit(a.in.writing)
			}
		}
		a.in.writing = 0
	}
	if err != nil {
		h.stats.Leases.WriteFailures++
		return fmt.Errorf("%w: leases of %d SAs: %w", ErrStore, len(batch), err)
	}
	return nil
}

// TrimLeases narrows the lease of every SA whose rate fell: a lease more
// than 2R ahead of the highest received number is brought to highest + R
// (written by the next WriteLeases); an idle SA's (no packet counted in
// the last second, so idle for at most 2 s) to the highest number itself,
// so that a crash costs it nothing. The node calls it every second.
func (h *HomeAgent) TrimLeases(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.sas {
		l := &a.in
		r := l.size(now)
		if l.recent(now) == 0 {
			r = 0
		}
		hi := a.pair.In.Highest()
		if l.want == 0 && l.writing == 0 && uint64(l.limit) > uint64(hi)+2*uint64(r) {
			l.want = ahead(hi, r)
			select {
			case h.leaseDue <- struct{}{}:
			default:
			}
		}
	}
}

// Checkpoint is the clean stop: every lease is narrowed to the highest
// Sequence Number received and written in one Store call, so that a
// restart accepts the very next number. The window accepts nothing beyond
// it afterwards; the node calls it once its packet path stopped.
func (h *HomeAgent) Checkpoint() error {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	var batch []Lease
	for spi, a := range h.sas {
		hi := a.pair.In.Highest()
		a.setLimit(hi)
		a.in.want, a.in.writing = 0, 0
		batch = append(batch, Lease{SPI: spi, Lease: hi})
	}
	if len(batch) == 0 {
		return nil
	}
	if err := h.store().PutLeases(batch); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	for _, a := range h.sas {
		a.rec.InLease = a.in.limit
	}
	return nil
}
