//go:build linux

package netio

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NeighborTable reads the kernel's IPv6 neighbor table (RFC 4861 §5.1,
// the Neighbor Cache) of one interface over netlink: the PAR's check
// that an FBU's PCoA belongs to the NAI (ar.NeighborTable, docs/msk.md).
// Its netlink socket stays in the network namespace it was opened in.
// Safe for concurrent use.
type NeighborTable struct {
	ifindex int
	mu      sync.Mutex
	h       *netlink.Handle
}

// usableNUD are the states whose entry holds a link-layer address the
// kernel took from a Neighbor Advertisement or Solicitation, or that an
// administrator set: not INCOMPLETE or FAILED (RFC 4861 §7.3.2).
const usableNUD = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY | netlink.NUD_PROBE |
	netlink.NUD_PERMANENT | netlink.NUD_NOARP

// NewNeighborTable opens the neighbor table of ifname.
func NewNeighborTable(ifname string) (*NeighborTable, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("netio: neighbor table: interface %q: %w", ifname, err)
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netio: neighbor table: netlink: %w", err)
	}
	return &NeighborTable{ifindex: ifi.Index, h: h}, nil
}

// LinkAddr returns the Ethernet address of addr's neighbor entry on the
// interface, if the entry is usable (usableNUD). One netlink dump per
// call: the PAR calls it only for an FBU that authenticated.
func (n *NeighborTable) LinkAddr(addr netip.Addr) (mac [6]byte, ok bool) {
	n.mu.Lock()
	neighs, err := n.h.NeighList(n.ifindex, netlink.FAMILY_V6)
	n.mu.Unlock()
	if err != nil {
		return mac, false
	}
	addr = addr.WithZone("")
	for _, e := range neighs {
		ip, valid := netip.AddrFromSlice(e.IP)
		if !valid || ip != addr || e.State&usableNUD == 0 || len(e.HardwareAddr) != 6 {
			continue
		}
		return [6]byte(e.HardwareAddr), true
	}
	return mac, false
}

// Close closes the netlink socket.
func (n *NeighborTable) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.h.Close()
	return nil
}
