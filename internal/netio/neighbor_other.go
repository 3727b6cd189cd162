//go:build !linux

package netio

import "net/netip"

// NeighborTable is the kernel neighbor table; on this platform it cannot
// be opened.
type NeighborTable struct{}

// NewNeighborTable returns ErrUnsupportedPlatform outside Linux.
func NewNeighborTable(ifname string) (*NeighborTable, error) { return nil, ErrUnsupportedPlatform }

// LinkAddr finds nothing.
func (n *NeighborTable) LinkAddr(addr netip.Addr) ([6]byte, bool) { return [6]byte{}, false }

// Close does nothing.
func (n *NeighborTable) Close() error { return nil }
