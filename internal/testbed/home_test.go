package testbed

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestHomeNetwork: with Config.Home the HA, HAC and AAA namespaces are
// up, each reachable through the PAR from the MN (on either access link),
// the CN and each other; the home prefix is routed to the HA, which holds
// AddrHA and refuses unbound home addresses.
func TestHomeNetwork(t *testing.T) {
	requireTestbed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	prefix := testPrefix("h")
	t.Cleanup(func() { Down(context.Background(), prefix) })
	tb, err := Up(ctx, Config{Prefix: prefix, Home: true})
	if err != nil {
		t.Fatal(err)
	}
	// ping sends one UDP datagram from a socket in from's namespace to a
	// socket in to's, bound to addr, and waits for it.
	ping := func(from, to Node, addr netip.Addr) error {
		var rx, tx *net.UDPConn
		if err := tb.Do(to, func() (err error) {
			rx, err = net.ListenUDP("udp6", &net.UDPAddr{IP: addr.AsSlice()})
			return err
		}); err != nil {
			return err
		}
		defer rx.Close()
		if err := tb.Do(from, func() (err error) {
			tx, err = net.DialUDP("udp6", nil, rx.LocalAddr().(*net.UDPAddr))
			return err
		}); err != nil {
			return err
		}
		defer tx.Close()
		if _, err := tx.Write([]byte("probe")); err != nil {
			return err
		}
		rx.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err := rx.Read(make([]byte, 16))
		return err
	}
	reach := []struct {
		from, n Node
		to      netip.Addr
	}{
		{MN, HAC, AddrHAC}, {MN, HA, AddrHA}, {CN, HA, AddrHA}, {HAC, HA, AddrHACore}, {HAC, AAA, AddrAAA}, {AAA, HAC, AddrHAC}, {HA, CN, AddrCN},
	}
	for _, r := range reach {
		if err := ping(r.from, r.n, r.to); err != nil {
			t.Errorf("%s → %s: %v", r.from, r.to, err)
		}
	}
	if out, err := tb.IP(ctx, HA, "-6", "route", "get", AddrMNHome.String()); err == nil {
		t.Errorf("HA routes the unbound home address %s: %s", AddrMNHome, out)
	}
	if err := tb.Move(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ping(MN, HAC, AddrHAC); err != nil {
		t.Errorf("from the NAR's link, MN → HAC: %v", err)
	}
	if o, err := Open(ctx, Config{Prefix: prefix, Home: true}); err != nil || len(o.Nodes()) != 7 {
		t.Fatalf("Open: %v", err)
	}
	if err := tb.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if got := namespaces(t, prefix); len(got) != 0 {
		t.Fatalf("after Down: %v", got)
	}
}
