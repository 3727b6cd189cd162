//go:build linux

package netio

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// TestNeighborTable: after the router end sends to the host end, the
// kernel's neighbor entry for the host's address holds the host's MAC
// address and LinkAddr returns it; an address without an entry, or with
// an INCOMPLETE/FAILED one, has none.
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
	if _, err := NewNeighborTable("nonexistent0"); err == nil {
		t.Error("NewNeighborTable(nonexistent0): no error")
	}
}
