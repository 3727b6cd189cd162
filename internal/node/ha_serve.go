package node

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/mip6udp"
)

// haLeasePace is the least time between two background lease writes:
// every SA's lease due meanwhile goes into the next one, so the state file
// sees at most 1/haLeasePace of them a second however many SAs there are
// (docs/ha.md, "Sequence Numbers across a restart"). A lease is asked for
// when R/2 numbers are left, a quarter of a second at the SA's rate, so
// the write normally lands before the packets reach it. Held datagrams
// (beyond their lease) are written for at once.
const haLeasePace = 100 * time.Millisecond

// haTick is how often expiry runs: bindings are dropped within a second
// of their lifetime.
const haTick = time.Second

// Serve runs the home agent until ctx ends (nil) or a socket fails: the
// service port, the home link, expiry and checkpoints, and the HAC
// channel when there is one. It closes nothing; Close does.
func (h *HA) Serve(parent context.Context) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	tasks := []func(context.Context) error{h.serveUDP, h.serveHomeLink, h.serveTimers, h.serveLeases}
	if h.channel != nil {
		tasks = append(tasks, func(ctx context.Context) error {
			return HACChannel(ctx, h.channel, h.channelTLS, h.InstallSA, h.log)
		})
	}
	done := make(chan struct{}, len(tasks))
	for _, t := range tasks {
		go func() {
			if err := t(ctx); err != nil {
				cancel(err)
			}
			done <- struct{}{}
		}()
	}
	<-ctx.Done()
	// Unblock the readers; each returns nil once ctx is done.
	_ = h.conn.SetReadDeadline(time.Now())
	_ = h.link.SetReadDeadline(time.Now())
	for range tasks {
		<-done
	}
	if parent.Err() != nil {
		return nil
	}
	return context.Cause(ctx)
}

// serveUDP answers BUs and hands reverse-tunneled data to the home link.
// A datagram beyond its SA's inbound lease is held for serveLeases, and
// the loop goes on reading.
func (h *HA) serveUDP(ctx context.Context) error {
	buf := make([]byte, 65536)
	out := make([]byte, 0, 65536+256)
	for ctx.Err() == nil {
		n, from, err := h.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if h.holding.Load() > 0 && h.hold(from, buf[:n], false) {
			continue // behind a held datagram of its SA
		}
		r, err := h.Role.HandleUDP(out[:0], h.now(), from, buf[:n])
		if errors.Is(err, ha.ErrLeaseWait) {
			h.hold(from, buf[:n], true)
			continue
		}
		h.deliver(from, r, err)
	}
	return nil
}

// deliver sends what HandleUDP or HandleHeld made of a datagram from
// `from`.
func (h *HA) deliver(from netip.AddrPort, r ha.Result, err error) {
	if err != nil {
		h.log.Debug("UDP packet dropped", "from", from.String(), "err", err)
		return
	}
	if r.HomeLink != nil {
		if _, err := h.link.Write(r.HomeLink); err != nil {
			h.log.Warn("home link write", "err", err)
		}
	}
	if r.Reply != nil {
		if err := h.syncRoutes(); err != nil {
			h.log.Warn("home address routes", "err", err)
		}
		if _, err := h.conn.WriteToUDPAddrPort(r.Reply, from); err != nil {
			h.log.Warn("Binding Acknowledgement not sent", "to", from.String(), "err", err)
		}
	}
}

// hold queues a datagram for serveLeases: always when HandleUDP asked
// for its lease (force), else only behind a held datagram of the same SPI,
// so that an SA's datagrams are handled in the order they came (a later
// one accepted first could push a held one left of the replay window).
func (h *HA) hold(from netip.AddrPort, payload []byte, force bool) bool {
	var spi mip6udp.SPI
	if len(payload) >= 4 {
		spi = mip6udp.SPI(binary.BigEndian.Uint32(payload)) & mip6udp.MaxSPI
	}
	h.heldMu.Lock()
	if !force && h.heldSPIs[spi] == 0 {
		h.heldMu.Unlock()
		return false
	}
	h.held = append(h.held, heldDatagram{from: from, payload: bytes.Clone(payload), spi: spi})
	h.heldSPIs[spi]++
	h.holding.Add(1)
	h.heldMu.Unlock()
	select {
	case h.heldDue <- struct{}{}:
	default:
	}
	return true
}

// releaseHeld hands the held datagrams, in order, to the role once the
// leases were written. One still beyond its lease is dropped (HandleHeld)
// when that write failed (writeErr); otherwise its lease was asked for
// during the write, and it waits, with those behind it, for the next one.
func (h *HA) releaseHeld(out []byte, writeErr error) {
	for {
		h.heldMu.Lock()
		if len(h.held) == 0 {
			h.heldMu.Unlock()
			return
		}
		d := h.held[0]
		h.heldMu.Unlock()
		r, err := h.Role.HandleUDP(out[:0], h.now(), d.from, d.payload)
		if errors.Is(err, ha.ErrLeaseWait) {
			if writeErr == nil {
				select {
				case h.heldDue <- struct{}{}:
				default:
				}
				return
			}
			r, err = h.Role.HandleHeld(out[:0], h.now(), d.from, d.payload)
		}
		h.deliver(d.from, r, err)
		h.heldMu.Lock()
		h.held[0] = heldDatagram{}
		h.held = h.held[1:]
		if h.heldSPIs[d.spi]--; h.heldSPIs[d.spi] == 0 {
			delete(h.heldSPIs, d.spi)
		}
		h.holding.Add(-1)
		h.heldMu.Unlock()
	}
}

// serveHomeLink sends home-link packets for bound home addresses to their
// care-of addresses.
func (h *HA) serveHomeLink(ctx context.Context) error {
	buf := make([]byte, 65536)
	out := make([]byte, 0, 65536+256)
	for ctx.Err() == nil {
		n, err := h.link.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		to, pkt, err := h.Role.FromHomeLink(out[:0], h.now(), buf[:n])
		if err != nil {
			h.log.Debug("home link packet dropped", "err", err)
			continue
		}
		if _, err := h.conn.WriteToUDPAddrPort(pkt, to); err != nil {
			h.log.Debug("packet to care-of address not sent", "to", to.String(), "err", err)
		}
	}
	return nil
}

// serveTimers expires bindings and SAs and trims the leases of SAs
// whose rate fell.
func (h *HA) serveTimers(ctx context.Context) error {
	tick := time.NewTicker(haTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		h.Role.Expire(h.now())
		if err := h.syncRoutes(); err != nil {
			h.log.Warn("home address routes", "err", err)
		}
		h.Role.TrimLeases(h.now())
	}
}

// serveLeases writes the inbound leases the role asks for, off the packet
// path: at once when datagrams are held (one write for all of them, and
// for every SA due: a group commit), and otherwise at most one write per
// haLeasePace. The held datagrams are then handled again in order.
func (h *HA) serveLeases(ctx context.Context) error {
	out := make([]byte, 0, 65536+256)
	var next time.Time // earliest time of the next background write
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.heldDue:
		case <-h.Role.LeaseDue():
			if d := time.Until(next); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-h.heldDue:
				case <-t.C:
				}
				t.Stop()
			}
		}
		err := h.Role.WriteLeases()
		if err != nil {
			h.log.Warn("inbound lease not written", "err", err)
		}
		if h.holding.Load() == 0 {
			next = time.Now().Add(haLeasePace)
		}
		h.releaseHeld(out, err)
	}
}
