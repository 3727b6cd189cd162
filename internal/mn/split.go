package mn

import (
	"context"
	"net/netip"
	"sync"

	"github.com/fhkey/fhkey/internal/netio"
)

// SplitConn reads conn on its own goroutine until ctx ends: packets for
// which divert returns true are passed to it there, the others are queued
// for the returned Conn. A mobile node whose RouterAuthorizer fetches
// certification paths over the same link needs it: the PrRtAdv being
// verified waits for the Certification Path Advertisements, which must be
// read by someone else (divert them to certdisc.Solicitor.HandlePacket).
// Closing the returned Conn stops the reader but leaves conn open.
func SplitConn(ctx context.Context, conn netio.Conn, divert func(netio.Packet) bool) netio.Conn {
	ctx, cancel := context.WithCancel(ctx)
	s := &splitConn{conn: conn, in: make(chan netio.Packet, 64), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			p, err := conn.ReadPacket(ctx)
			if err != nil {
				return
			}
			if divert(p) {
				continue
			}
			select {
			case s.in <- p:
			default: // full, as a socket buffer would drop
			}
		}
	}()
	return s
}

type splitConn struct {
	conn   netio.Conn
	in     chan netio.Packet
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func (s *splitConn) ReadPacket(ctx context.Context) (netio.Packet, error) {
	select {
	case p := <-s.in:
		return p, nil
	case <-s.done:
		return netio.Packet{}, netio.ErrClosed
	case <-ctx.Done():
		return netio.Packet{}, ctx.Err()
	}
}

func (s *splitConn) WritePacket(ctx context.Context, p netio.Packet) error {
	return s.conn.WritePacket(ctx, p)
}

func (s *splitConn) Addrs() []netip.Addr { return s.conn.Addrs() }

func (s *splitConn) Close() error {
	s.once.Do(func() { s.cancel(); <-s.done })
	return nil
}
