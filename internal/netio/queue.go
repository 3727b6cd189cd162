package netio

import (
	"context"
	"sync"
	"sync/atomic"
)

// received is one packet (or a fatal reader error) handed from a reader
// goroutine to ReadPacket and ReadBatch.
type received struct {
	p   Packet
	err error
}

// packetQueue is the bounded FIFO between a raw Conn's reader goroutines
// and its readers. A reader goroutine adds every packet of one
// recvmmsg(2) at once and wakes one waiting reader, which takes as many
// as it has room for: one wake-up per batch, not per packet, and the
// batches stay whole.
type packetQueue struct {
	mu    sync.Mutex
	ring  []received
	head  int // index of the oldest entry
	n     int // entries held
	ready chan struct{}
	space chan struct{}
	done  <-chan struct{}

	// blocked counts the readers waiting in pop for a packet, ctx or
	// close, so that tests can act once a reader waits instead of
	// sleeping and hoping it does.
	blocked atomic.Int32
}

func newPacketQueue(limit int, done <-chan struct{}) *packetQueue {
	return &packetQueue{ring: make([]received, limit), ready: make(chan struct{}, 1), space: make(chan struct{}, 1), done: done}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// push adds rs in order, waiting for room while the queue is full; it
// reports false if done closed first.
func (q *packetQueue) push(rs []received) bool {
	for len(rs) > 0 {
		q.mu.Lock()
		k := min(len(rs), len(q.ring)-q.n)
		for _, r := range rs[:k] {
			q.ring[(q.head+q.n)%len(q.ring)] = r
			q.n++
		}
		q.mu.Unlock()
		rs = rs[k:]
		if k > 0 {
			signal(q.ready)
		}
		if len(rs) == 0 {
			return true
		}
		select {
		case <-q.space:
		case <-q.done:
			return false
		}
	}
	return true
}

// pop moves the oldest packets into ps, waiting for the first one until
// ctx ends or done closes. A reader error is returned when it is the
// oldest entry, with no packet.
func (q *packetQueue) pop(ctx context.Context, ps []Packet) (int, error) {
	for {
		select {
		case <-q.done:
			return 0, ErrClosed
		default:
		}
		q.mu.Lock()
		k := 0
		var err error
		for k < len(ps) && q.n > 0 {
			r := q.ring[q.head]
			if r.err != nil {
				if k > 0 {
					break // returned by the next call
				}
				err = r.err
			} else {
				ps[k] = r.p
				k++
			}
			q.ring[q.head] = received{}
			q.head = (q.head + 1) % len(q.ring)
			q.n--
			if err != nil {
				break
			}
		}
		left := q.n
		q.mu.Unlock()
		if k > 0 || err != nil {
			signal(q.space)
			if left > 0 {
				signal(q.ready) // another reader may take the rest
			}
			return k, err
		}
		if len(ps) == 0 {
			return 0, nil
		}
		if err := q.wait(ctx); err != nil {
			return 0, err
		}
	}
}

// wait blocks until a push signals ready (nil), done closes (ErrClosed)
// or ctx ends (its error).
func (q *packetQueue) wait(ctx context.Context) error {
	q.blocked.Add(1)
	defer q.blocked.Add(-1)
	select {
	case <-q.ready:
		return nil
	case <-q.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}
