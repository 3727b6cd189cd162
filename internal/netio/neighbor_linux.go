//go:build linux

package netio

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// MaxNeighbors bounds the addresses a NeighborTable remembers; beyond it,
// an arbitrary one is forgotten for each new one.
const MaxNeighbors = 65536

// NeighborTable follows the kernel's IPv6 neighbor table (RFC 4861 §5.1,
// the Neighbor Cache) of one interface over netlink: the PAR's check that
// an FBU's PCoA belongs to the NAI (ar.NeighborTable, docs/msk.md). It
// reads the table once, then keeps the last link-layer address of each
// entry from the kernel's notifications (RTNLGRP_NEIGH), so that a lookup
// is a map read, and an entry that became FAILED after the mobile node
// left the link (neighbor unreachability detection) still answers with
// the address it had; a deleted entry is forgotten. If the notification
// socket fails, lookups fall back to one netlink dump each. Its netlink
// sockets stay in the network namespace it was opened in. Safe for
// concurrent use.
type NeighborTable struct {
	ifindex int

	mu   sync.RWMutex
	m    map[netip.Addr][6]byte
	live atomic.Bool // the notifications keep m current

	hmu  sync.Mutex
	h    *netlink.Handle
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
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
	n := &NeighborTable{ifindex: ifi.Index, h: h, m: make(map[netip.Addr][6]byte), done: make(chan struct{})}
	// Subscribe first, then read the table: no change falls in between.
	updates := make(chan netlink.NeighUpdate, 256)
	if err := netlink.NeighSubscribeWithOptions(updates, n.done, netlink.NeighSubscribeOptions{}); err != nil {
		h.Close()
		return nil, fmt.Errorf("netio: neighbor table: subscribe: %w", err)
	}
	neighs, err := h.NeighList(n.ifindex, netlink.FAMILY_V6)
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("netio: neighbor table: %w", err)
	}
	for i := range neighs {
		n.apply(unix.RTM_NEWNEIGH, &neighs[i])
	}
	n.live.Store(true)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for u := range updates {
			n.apply(u.Type, &u.Neigh)
		}
		n.live.Store(false) // the socket failed or was closed
	}()
	return n, nil
}

// apply takes one entry (dump or notification) of the interface.
func (n *NeighborTable) apply(typ uint16, e *netlink.Neigh) {
	if e.LinkIndex != n.ifindex || e.Family != netlink.FAMILY_V6 {
		return
	}
	ip, ok := netip.AddrFromSlice(e.IP)
	if !ok {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case typ == unix.RTM_DELNEIGH:
		delete(n.m, ip)
	case e.State&usableNUD != 0 && len(e.HardwareAddr) == 6:
		if _, ok := n.m[ip]; !ok && len(n.m) >= MaxNeighbors {
			for k := range n.m {
				delete(n.m, k)
				break
			}
		}
		n.m[ip] = [6]byte(e.HardwareAddr)
	}
	// INCOMPLETE, FAILED: the last address stays.
}

// LinkAddr returns the Ethernet address of addr's neighbor entry on the
// interface: the last usable one while the entry exists.
func (n *NeighborTable) LinkAddr(addr netip.Addr) (mac [6]byte, ok bool) {
	addr = addr.WithZone("")
	if n.live.Load() {
		n.mu.RLock()
		mac, ok = n.m[addr]
		n.mu.RUnlock()
		return mac, ok
	}
	n.hmu.Lock()
	neighs, err := n.h.NeighList(n.ifindex, netlink.FAMILY_V6)
	n.hmu.Unlock()
	if err != nil {
		return mac, false
	}
	for _, e := range neighs {
		ip, valid := netip.AddrFromSlice(e.IP)
		if valid && ip == addr && e.State&usableNUD != 0 && len(e.HardwareAddr) == 6 {
			return [6]byte(e.HardwareAddr), true
		}
	}
	return mac, false
}

// Close closes the netlink sockets.
func (n *NeighborTable) Close() error {
	n.once.Do(func() {
		close(n.done)
		n.wg.Wait()
		n.hmu.Lock()
		n.h.Close()
		n.hmu.Unlock()
	})
	return nil
}
