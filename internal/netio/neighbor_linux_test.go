//go:build linux

package netio

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// TestNeighborTable: after the router end sends to the host end, the
// kernel's neighbor entry for the host's address holds the host's MAC
// address and LinkAddr returns it; an address never resolved has none.
// Changes the kernel notifies are followed: an entry replaced with
// another address answers with it, an entry that became FAILED keeps its
// last address, a deleted entry is forgotten.
func TestNeighborTable(t *testing.T) {
	requireTestbed(t)
	p, err := testbed.UpPair(context.Background(), fmt.Sprintf("fhk-b%d-", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Down(context.Background()) })
	var nt *NeighborTable
	var hostMAC net.HardwareAddr
	if err := testbed.Do(p.A(), func() (err error) { nt, err = NewNeighborTable(testbed.PairIfaceA); return err }); err != nil {
		t.Fatal(err)
	}
	defer nt.Close()
	if err := testbed.Do(p.H(), func() error {
		ifi, err := net.InterfaceByName(testbed.PairIfaceH)
		if err == nil {
			hostMAC = ifi.HardwareAddr
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	absent := netip.MustParseAddr("2001:db8:1::99")
	// Address resolution for both: the host answers, the absent one never.
	if err := testbed.Do(p.A(), func() error {
		for _, a := range []netip.Addr{testbed.PairAddrH, absent} {
			c, err := net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 9)))
			if err != nil {
				return err
			}
			c.Write([]byte("x"))
			c.Close()
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, "neighbor entry of the host", func() (bool, string) {
		mac, ok := nt.LinkAddr(testbed.PairAddrH)
		return ok && net.HardwareAddr(mac[:]).String() == hostMAC.String(), fmt.Sprintf("%x %v (host %v)", mac, ok, hostMAC)
	})
	if mac, ok := nt.LinkAddr(absent); ok {
		t.Errorf("LinkAddr(%v) = %x for an unresolved address", absent, mac)
	}
	other := netip.MustParseAddr("2001:db8:1::77")
	ip := func(args ...string) {
		t.Helper()
		if _, err := p.IP(context.Background(), p.A(), append([]string{"neigh"}, args...)...); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(a netip.Addr, what string, want [6]byte, wantOK bool) {
		t.Helper()
		testenv.Eventually(t, 5*time.Second, what, func() (bool, string) {
			mac, ok := nt.LinkAddr(a)
			return ok == wantOK && mac == want, fmt.Sprintf("%x %v", mac, ok)
		})
	}
	wait := func(what string, want [6]byte, wantOK bool) { t.Helper(); waitFor(other, what, want, wantOK) }
	ip("replace", other.String(), "lladdr", "02:00:00:00:77:01", "dev", testbed.PairIfaceA, "nud", "reachable")
	wait("new entry", [6]byte{2, 0, 0, 0, 0x77, 1}, true)
	ip("replace", other.String(), "lladdr", "02:00:00:00:77:02", "dev", testbed.PairIfaceA, "nud", "stale")
	wait("replaced entry", [6]byte{2, 0, 0, 0, 0x77, 2}, true)
	ip("change", other.String(), "dev", testbed.PairIfaceA, "nud", "failed")
	if out, _ := p.IP(context.Background(), p.A(), "neigh", "show", other.String()); !strings.Contains(out, "FAILED") {
		t.Fatalf("entry not FAILED: %q", out)
	}
	// Notifications arrive in order: once a later change is seen, the
	// FAILED one was taken.
	sentinel := netip.MustParseAddr("2001:db8:1::78")
	ip("replace", sentinel.String(), "lladdr", "02:00:00:00:78:00", "dev", testbed.PairIfaceA, "nud", "permanent")
	waitFor(sentinel, "sentinel entry", [6]byte{2, 0, 0, 0, 0x78, 0}, true)
	if mac, ok := nt.LinkAddr(other); !ok || mac != [6]byte{2, 0, 0, 0, 0x77, 2} {
		t.Errorf("FAILED entry: %x %v, want its last address", mac, ok)
	}
	ip("del", other.String(), "dev", testbed.PairIfaceA)
	wait("deleted entry", [6]byte{}, false)
	if _, err := NewNeighborTable("nonexistent0"); err == nil {
		t.Error("NewNeighborTable(nonexistent0): no error")
	}
}
