package scenario

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/testbed"
)

// datagramLen is the payload of a stream datagram: a 64-bit sequence
// number and the 64-bit send time in nanoseconds since the Unix epoch (every
// namespace shares the host's clock).
const datagramLen = 16

// Receiver counts the stream datagrams arriving at one UDP socket.
type Receiver struct {
	conn *net.UDPConn
	done chan struct{}

	mu     sync.Mutex
	seen   map[uint64]time.Duration // sequence number → one-way delay
	dups   int
	other  int
	last   time.Time
	arrive []Arrival // first copies, in order of arrival
}

// Arrival is a stream datagram's sequence number and the time the Receiver
// read it (the first copy only).
type Arrival struct {
	Seq uint64
	At  time.Time
}

// ListenUDP opens a UDP socket bound to addr in node's namespace and counts
// the datagrams SendStream sends there.
func ListenUDP(tb *testbed.Testbed, node testbed.Node, addr netip.AddrPort) (*Receiver, error) {
	r := &Receiver{done: make(chan struct{}), seen: map[uint64]time.Duration{}}
	if err := tb.Do(node, func() error {
		var err error
		r.conn, err = net.ListenUDP("udp6", net.UDPAddrFromAddrPort(addr))
		return err
	}); err != nil {
		return nil, err
	}
	go r.run()
	return r, nil
}

func (r *Receiver) run() {
	defer close(r.done)
	buf := make([]byte, 2048)
	for {
		n, _, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		now := time.Now()
		r.mu.Lock()
		if n != datagramLen {
			r.other++
		} else {
			seq := binary.BigEndian.Uint64(buf)
			sent := time.Unix(0, int64(binary.BigEndian.Uint64(buf[8:])))
			if _, dup := r.seen[seq]; dup {
				r.dups++
			} else {
				r.seen[seq] = now.Sub(sent)
				r.arrive = append(r.arrive, Arrival{Seq: seq, At: now})
			}
			r.last = now
		}
		r.mu.Unlock()
	}
}

// Reserve makes room for the arrival records of n more datagrams, so that
// recording them does not grow the slice while a stream runs.
func (r *Receiver) Reserve(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.arrive = slices.Grow(r.arrive, n)
}

// Arrivals returns the first copies of the datagrams with sequence numbers
// in [from, to), in order of arrival.
func (r *Receiver) Arrivals(from, to uint64) []Arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Arrival
	for _, a := range r.arrive {
		if a.Seq >= from && a.Seq < to {
			out = append(out, a)
		}
	}
	return out
}

// WaitQuiet waits until no datagram has arrived for quiet, or at most max.
func (r *Receiver) WaitQuiet(quiet, max time.Duration) {
	deadline := time.Now().Add(max)
	start := time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(quiet / 4)
		r.mu.Lock()
		last := r.last
		r.mu.Unlock()
		if last.IsZero() {
			last = start
		}
		if time.Since(last) >= quiet {
			return
		}
	}
}

// Await waits until the datagrams of [from, to) have arrived, and returns
// their statistics: all of them, or at least want when no more has come
// for 50 ms (the rest is then taken as lost), for at most max. Unlike
// WaitQuiet, a slow receiver cannot make it return before want have
// arrived: tests wait with it for what they then check.
func (r *Receiver) Await(from, to uint64, want int, max time.Duration) StreamStats {
	deadline := time.Now().Add(max)
	for pause := 100 * time.Microsecond; ; pause = min(2*pause, 10*time.Millisecond) {
		r.mu.Lock()
		n, last := 0, r.last
		for seq := from; seq < to; seq++ {
			if _, ok := r.seen[seq]; ok {
				n++
			}
		}
		r.mu.Unlock()
		if n == int(to-from) || (n >= want && time.Since(last) >= 50*time.Millisecond) || time.Now().After(deadline) {
			return r.Stats(from, to)
		}
		time.Sleep(pause)
	}
}

// StreamStats summarize what a Receiver got from sequence numbers [from, to).
type StreamStats struct {
	Sent      int     `json:"sent"`
	Received  int     `json:"received"`
	Lost      int     `json:"lost"`
	Duplicate int     `json:"duplicate"`
	Reordered int     `json:"reordered"`
	DelayP50  float64 `json:"delay_p50_ms"`
	DelayP99  float64 `json:"delay_p99_ms"`
	DelayMax  float64 `json:"delay_max_ms"`
}

// Stats returns the statistics of sequence numbers [from, to).
func (r *Receiver) Stats(from, to uint64) StreamStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := StreamStats{Sent: int(to - from), Duplicate: r.dups}
	var delays []time.Duration
	for seq := from; seq < to; seq++ {
		if d, ok := r.seen[seq]; ok {
			delays = append(delays, d)
		}
	}
	var prev uint64
	for i, a := range r.arrive {
		seq := a.Seq
		if seq < from || seq >= to {
			continue
		}
		if i > 0 && seq < prev {
			s.Reordered++
		}
		prev = seq
	}
	s.Received = len(delays)
	s.Lost = s.Sent - s.Received
	if len(delays) > 0 {
		slices.Sort(delays)
		ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
		s.DelayP50 = ms(delays[len(delays)/2])
		s.DelayP99 = ms(delays[(len(delays)*99)/100])
		s.DelayMax = ms(delays[len(delays)-1])
	}
	return s
}

// Close closes the socket.
func (r *Receiver) Close() error {
	err := r.conn.Close()
	<-r.done
	return err
}

// Sender sends stream datagrams from a UDP socket in one namespace.
type Sender struct {
	conn *net.UDPConn
	next uint64
}

// NewSender opens a UDP socket in node's namespace bound to src (port 0).
func NewSender(tb *testbed.Testbed, node testbed.Node, src netip.Addr) (*Sender, error) {
	s := &Sender{}
	if err := tb.Do(node, func() error {
		var err error
		s.conn, err = net.ListenUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0)))
		return err
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// Stream sends count datagrams to dst, one every spacing (paced against the
// start time, so a late wake-up does not stretch the stream), and returns
// the range [from, to) of sequence numbers it used. tick, when set, is
// called before datagram i is sent (i counts from 0).
func (s *Sender) Stream(ctx context.Context, dst netip.AddrPort, count int, spacing time.Duration, tick func(i int)) (from, to uint64, err error) {
	from = s.next
	start := time.Now()
	b := make([]byte, datagramLen)
	for i := range count {
		if tick != nil {
			tick(i)
		}
		if d := time.Until(start.Add(time.Duration(i) * spacing)); d > 0 {
			select {
			case <-ctx.Done():
				return from, s.next, ctx.Err()
			case <-time.After(d):
			}
		}
		binary.BigEndian.PutUint64(b, s.next)
		binary.BigEndian.PutUint64(b[8:], uint64(time.Now().UnixNano()))
		s.next++
		// A send error (no route while the MN moves, say) is a lost
		// datagram, as it would be on the wire.
		_, _ = s.conn.WriteToUDPAddrPort(b, dst)
	}
	return from, s.next, nil
}

// Close closes the socket.
func (s *Sender) Close() error { return s.conn.Close() }

// TunnelSink counts the IPv6-in-IPv6 packets (RFC 2473) that reach a node:
// what an attacker would receive if a forged FBU had redirected a previous
// CoA to its address.
type TunnelSink struct {
	fd    int
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	count int
}

// Count returns the number of tunnel packets received.
func (t *TunnelSink) Count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.count
}

var errSink = errors.New("scenario: tunnel sink")

func sinkError(op string, err error) error { return fmt.Errorf("%w: %s: %w", errSink, op, err) }

// EchoBurst sends n datagrams ("<what> <i>") on conn, a socket connected
// to a UDP echo, without waiting for answers, and counts the answers that
// come back within wait of the last one. After the home agent's crash
// the demo and the e2e use it to use up the Sequence Numbers the
// restarted HA refuses to the MN (docs/ha.md, "Sequence Numbers across a
// restart").
func EchoBurst(conn *net.UDPConn, n int, what string, wait time.Duration) int {
	want := map[string]bool{}
	for i := range n {
		msg := fmt.Sprintf("%s %d", what, i)
		if _, err := conn.Write([]byte(msg)); err == nil {
			want[msg] = true
		}
	}
	got := 0
	buf := make([]byte, 256)
	conn.SetReadDeadline(time.Now().Add(wait))
	for len(want) > 0 {
		k, err := conn.Read(buf)
		if err != nil {
			break
		}
		if want[string(buf[:k])] {
			delete(want, string(buf[:k]))
			got++
		}
	}
	return got
}
