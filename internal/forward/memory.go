package forward

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
)

// Memory is a Forwarder without a data plane of its own, for tests of the
// access-router role and of this package: the role adds and removes
// bindings, and the test hands it packets with Deliver, as routing would
// after the host route for the previous CoA is installed; Memory records
// the tunnel packets it would send.
type Memory struct {
	t        *table
	source   netip.Addr
	hopLimit uint8

	mu   sync.Mutex
	sent [][]byte
}

var _ Forwarder = (*Memory)(nil)

// NewMemory returns a Memory forwarder whose tunnel packets come from
// source, the PAR's global address on the MN's previous link (RFC 5568 §4),
// with hop limit DefaultHopLimit.
func NewMemory(source netip.Addr, opts Options) *Memory {
	return &Memory{t: newTable(opts, nil), source: source, hopLimit: DefaultHopLimit}
}

// Add implements Forwarder.
func (m *Memory) Add(ctx context.Context, b Binding) error { return m.t.add(ctx, b) }

// Remove implements Forwarder.
func (m *Memory) Remove(pcoa netip.Addr) error { return m.t.remove(pcoa) }

// Bindings implements Forwarder.
func (m *Memory) Bindings() []Entry { return m.t.bindings() }

// Counters implements Forwarder.
func (m *Memory) Counters() Counters { return m.t.counters() }

// Close implements Forwarder.
func (m *Memory) Close() error {
	m.t.close()
	return nil
}

// Deliver hands m one original packet and returns the tunnel packet m
// records as sent, or an error for a packet that is dropped (and counted):
// ErrNoBinding without a live binding for its destination, ErrParse when
// it is not one well-formed IPv6 packet, ErrClosed after Close. pkt is not
// retained.
func (m *Memory) Deliver(pkt []byte) ([]byte, error) {
	out, _, err := m.t.encapsulate(nil, m.source, m.hopLimit, pkt)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil && m.t.isClosed() {
		err = fmt.Errorf("forward: deliver: %w", ErrClosed)
	}
	m.t.account(pkt, err)
	if err != nil {
		return nil, err
	}
	m.sent = append(m.sent, out)
	return out, nil
}

// Sent returns the tunnel packets recorded so far, oldest first.
func (m *Memory) Sent() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([][]byte(nil), m.sent...)
}
