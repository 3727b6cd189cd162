package scenario

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/mip6tls"
)

// dataWindow is the number of data packets the sender keeps in flight on
// either path: enough to pipeline the MN's send, the HA's receive and the
// home link, few enough that loopback's socket buffers never overflow.
const dataWindow = 32

// deliveryCounter counts packets arriving at the end of a path and wakes
// the sender waiting for room in its window.
type deliveryCounter struct {
	n, octets atomic.Uint64
	wake      chan struct{}
}

func newDeliveryCounter() *deliveryCounter { return &deliveryCounter{wake: make(chan struct{}, 1)} }

func (d *deliveryCounter) deliver(k int) {
	d.n.Add(1)
	d.octets.Add(uint64(k))
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// countingLink is the HA node's home link in the bench: it counts what the
// HA forwards from the mobile node (node.HomeLink) and never has anything
// to read.
type countingLink struct {
	*deliveryCounter
	deadline atomic.Pointer[time.Time]
	kick     chan struct{}
}

func newCountingLink() *countingLink {
	return &countingLink{deliveryCounter: newDeliveryCounter(), kick: make(chan struct{}, 1)}
}

var _ node.HomeLink = (*countingLink)(nil)

func (l *countingLink) Read([]byte) (int, error) {
	for {
		d := l.deadline.Load()
		if d != nil && !time.Now().Before(*d) {
			return 0, os.ErrDeadlineExceeded
		}
		l.waitKick(d)
	}
}

// waitKick waits for SetReadDeadline or until the deadline d (nil: none).
func (l *countingLink) waitKick(d *time.Time) {
	if d == nil {
		<-l.kick
		return
	}
	t := time.NewTimer(time.Until(*d))
	defer t.Stop()
	select {
	case <-l.kick:
	case <-t.C:
	}
}

func (l *countingLink) Write(b []byte) (int, error) { l.deliver(len(b)); return len(b), nil }

func (l *countingLink) SetReadDeadline(t time.Time) error {
	l.deadline.Store(&t)
	select {
	case l.kick <- struct{}{}:
	default:
	}
	return nil
}

func (l *countingLink) AddRoute(netip.Addr) error    { return nil }
func (l *countingLink) DeleteRoute(netip.Addr) error { return nil }
func (l *countingLink) Close() error                 { return nil }

// pump sends n packets with send, keeping at most dataWindow of them
// undelivered at d; a window that makes no progress for lossTimeout is
// counted lost. It returns the time until the last delivery (or loss)
// and the packets lost.
func pump(ctx context.Context, n int, d *deliveryCounter, send func() error) (time.Duration, uint64, error) {
	const lossTimeout = 200 * time.Millisecond
	base := d.n.Load()
	var sent, lost uint64
	start := time.Now()
	timer := time.NewTimer(lossTimeout)
	defer timer.Stop()
	for sent < uint64(n) || d.n.Load()-base+lost < sent {
		if ctx.Err() != nil {
			return 0, 0, ctx.Err()
		}
		if sent < uint64(n) && sent-(d.n.Load()-base)-lost < dataWindow {
			if err := send(); err != nil {
				return 0, 0, err
			}
			sent++
			continue
		}
		timer.Reset(lossTimeout)
		select {
		case <-d.wake:
		case <-timer.C:
			if got := d.n.Load() - base; got+lost < sent {
				lost = sent - got
			}
		}
	}
	return time.Since(start), lost, nil
}

// innerPacket is the user packet of the data plane: IPv6 from the home
// address to a correspondent, size octets, Next Header 59.
func innerPacket(size int) []byte {
	p := make([]byte, size)
	p[0] = 0x60
	binary.BigEndian.PutUint16(p[4:], uint16(size-40))
	p[6], p[7] = 59, 64
	copy(p[8:24], benchHoA.AsSlice())
	copy(p[24:40], benchCN.AsSlice())
	return p
}

// bootstrapper is the MIP6 node's bootstrap client in the bench: the
// bench's hacclient configuration against the HAC node.
type bootstrapper struct{ b *tlsBench }

func (s bootstrapper) Bootstrap(ctx context.Context) (*mip6tls.SecurityAssociation, *mip6tls.Bootstrap, error) {
	r, err := s.b.bootstrap(ctx)
	if err != nil {
		return nil, nil, err
	}
	return &r.SA, &r.Bootstrap, nil
}

// dataPlane compares the MIP6 node sending AES_128_CBC_SHA packets to the
// HA node with plain UDP datagrams of the inner packet's size on the same
// loopback, in interleaved batches, then the per-packet cost with the
// limit (perPacket).
func (b *tlsBench) dataPlane(ctx context.Context, res *TLSBenchResult) error {
	mn, err := node.OpenMIP6(ctx, node.MIP6Spec{Bootstrapper: bootstrapper{b}, Role: mip6mn.Config{Lifetime: time.Hour},
		Local: netip.MustParseAddrPort("[::1]:0"), CareOf: benchCareOf})
	if err != nil {
		return err
	}
	b.serve(ctx, "MIP6", mn.Serve)
	if err := waitRegistered(ctx, mn); err != nil {
		return err
	}
	plain, err := newPlainPath(b.ha.Addr().Addr())
	if err != nil {
		return err
	}
	defer plain.close()
	pkt := innerPacket(b.cfg.PacketSize)
	protectedSend := func() error { return mn.Send(pkt) }
	plainSend := func() error { _, err := plain.tx.Write(pkt); return err }
	// Warm up both paths.
	for _, p := range []struct {
		d    *deliveryCounter
		send func() error
	}{{b.link.deliveryCounter, protectedSend}, {plain.rx, plainSend}} {
		if _, _, err := pump(ctx, dataWindow*4, p.d, p.send); err != nil {
			return err
		}
	}
	var prot, pl, ratios []float64
	bits := float64(b.cfg.Packets * b.cfg.PacketSize * 8)
	for range b.cfg.DataBatches {
		tPlain, lostPlain, err := pump(ctx, b.cfg.Packets, plain.rx, plainSend)
		if err != nil {
			return err
		}
		tProt, lostProt, err := pump(ctx, b.cfg.Packets, b.link.deliveryCounter, protectedSend)
		if err != nil {
			return err
		}
		res.PlainLost += lostPlain
		res.ProtectedLost += lostProt
		pl, prot = append(pl, bits/tPlain.Seconds()/1e6), append(prot, bits/tProt.Seconds()/1e6)
		ratios = append(ratios, tPlain.Seconds()/tProt.Seconds())
	}
	res.ProtectedMbitS, res.PlainMbitS, res.ProtectedToPlain = median(prot), median(pl), median(ratios)
	res.ProtectedUSPerPacket = float64(b.cfg.PacketSize*8) / res.ProtectedMbitS
	res.PlainUSPerPacket = float64(b.cfg.PacketSize*8) / res.PlainMbitS
	res.DataPackets = b.cfg.DataBatches * b.cfg.Packets
	if st := mn.Role.Counters(); st.DataSent == 0 {
		return errors.New("scenario: bench tls: the MIP6 node sent no data")
	}
	return b.perPacket(ctx, res)
}

// waitRegistered waits until the MIP6 node's binding is acknowledged.
func waitRegistered(ctx context.Context, mn *node.MIP6) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		st := mn.Role.Status()
		if st.State == mip6mn.StateRegistered && !st.Outstanding {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("scenario: bench tls: the MIP6 node did not register (%s, last status %d): %w", st.State, st.LastStatus, ctx.Err())
		case <-tick.C:
		}
	}
}

// plainPath is the baseline of the data plane: a UDP socket sending to
// another on the HA's address, whose reader counts the datagrams.
type plainPath struct {
	tx, rxConn *net.UDPConn
	rx         *deliveryCounter
	done       chan struct{}
}

func newPlainPath(addr netip.Addr) (*plainPath, error) {
	rxConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
	if err != nil {
		return nil, err
	}
	tx, err := net.DialUDP("udp", nil, rxConn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		rxConn.Close()
		return nil, err
	}
	p := &plainPath{tx: tx, rxConn: rxConn, rx: newDeliveryCounter(), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 65536)
		for {
			k, err := rxConn.Read(buf)
			if err != nil {
				return
			}
			p.rx.deliver(k)
		}
	}()
	return p, nil
}

func (p *plainPath) close() {
	p.tx.Close()
	p.rxConn.Close()
	<-p.done
}
