package netio

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// Tap observes every packet a Network delivers (for captures).
type Tap func(Packet)

// Network is an in-memory IPv6 network: every attached Conn receives the
// unicast packets addressed to one of its addresses and the multicast
// packets of the groups it joined. It stands in for links and routers in
// tests and in `fhkey demo`; it checks nothing on behalf of the roles.
type Network struct {
	mu    sync.Mutex
	conns []*MemConn
	taps  []Tap
}

// NewNetwork returns an empty in-memory network.
func NewNetwork() *Network { return &Network{} }

// AddTap registers f to see every packet written to the network.
func (n *Network) AddTap(f Tap) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.taps = append(n.taps, f)
}

// Attach returns a Conn for a node with the given unicast addresses and
// joined multicast groups. queue bounds its receive queue; when full,
// further packets for it are dropped, as a real socket buffer would.
func (n *Network) Attach(addrs []netip.Addr, groups []netip.Addr, queue int) *MemConn {
	if queue <= 0 {
		queue = 64
	}
	c := &MemConn{net: n, addrs: slices.Clone(addrs), groups: slices.Clone(groups), in: make(chan Packet, queue), done: make(chan struct{})}
	n.mu.Lock()
	n.conns = append(n.conns, c)
	n.mu.Unlock()
	return c
}

func (n *Network) deliver(p Packet) {
	n.mu.Lock()
	taps := slices.Clone(n.taps)
	var targets []*MemConn
	for _, c := range n.conns {
		if c.accepts(p.Dst) {
			targets = append(targets, c)
		}
	}
	n.mu.Unlock()
	for _, t := range taps {
		t(p)
	}
	for _, c := range targets {
		q := p
		q.Payload = slices.Clone(p.Payload)
		select {
		case c.in <- q:
		case <-c.done:
		default:
			c.mu.Lock()
			c.dropped++
			c.mu.Unlock()
		}
	}
}

// MemConn is a Conn on an in-memory Network.
type MemConn struct {
	net     *Network
	mu      sync.Mutex
	addrs   []netip.Addr
	groups  []netip.Addr
	in      chan Packet
	done    chan struct{}
	once    sync.Once
	dropped uint64
}

var _ Conn = (*MemConn)(nil)

func (c *MemConn) accepts(dst netip.Addr) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.addrs, dst) || slices.Contains(c.groups, dst)
}

// SetAddrs replaces the node's unicast addresses (a node moving links).
func (c *MemConn) SetAddrs(addrs []netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addrs = slices.Clone(addrs)
}

// Dropped returns the number of packets dropped because the queue was full.
func (c *MemConn) Dropped() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

func (c *MemConn) Addrs() []netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.addrs)
}

func (c *MemConn) ReadPacket(ctx context.Context) (Packet, error) {
	select {
	case p := <-c.in:
		return p, nil
	case <-c.done:
		return Packet{}, ErrClosed
	case <-ctx.Done():
		return Packet{}, ctx.Err()
	}
}

func (c *MemConn) WritePacket(ctx context.Context, p Packet) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	if !p.Src.Is6() || !p.Dst.Is6() {
		return fmt.Errorf("netio: write: source %v and destination %v must be IPv6", p.Src, p.Dst)
	}
	p.Payload = slices.Clone(p.Payload)
	c.net.deliver(p)
	return nil
}

func (c *MemConn) Close() error {
	c.once.Do(func() {
		close(c.done)
		n := c.net
		n.mu.Lock()
		n.conns = slices.DeleteFunc(n.conns, func(x *MemConn) bool { return x == c })
		n.mu.Unlock()
	})
	return nil
}
