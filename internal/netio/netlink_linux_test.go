//go:build linux

package netio

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/fhkey/fhkey/internal/testbed"
)

// TestRouteVia: on the testbed's MN attached to the PAR's link, the PAR is
// reachable through par0 and not through nar0 (down), nor the CN through
// nar0 before the move; after the move, the other way round.
func TestRouteVia(t *testing.T) {
	tb := ownTestbed(t, "r")
	check := func(iface string, dst netip.Addr, want bool) {
		t.Helper()
		var got bool
		if err := tb.Do(testbed.MN, func() error { got = RouteVia(iface, dst); return nil }); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("RouteVia(%s, %v) = %v, want %v", iface, dst, got, want)
		}
	}
	check(testbed.IfaceMNToPAR, testbed.AddrPAR, true)
	check(testbed.IfaceMNToPAR, testbed.AddrCN, true)
	check(testbed.IfaceMNToNAR, testbed.AddrCN, false)
	if err := tb.Move(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(testbed.IfaceMNToNAR, testbed.AddrCN, true)
	check(testbed.IfaceMNToNAR, testbed.AddrPAR, true)
	check(testbed.IfaceMNToPAR, testbed.AddrCN, false)
	check("nonexistent0", testbed.AddrCN, false)
}

// TestAddDeleteAddress: an address added twice is there once, without
// DAD (not tentative); deleted twice, it is gone; an unknown interface is
// an error naming the package.
func TestAddDeleteAddress(t *testing.T) {
	tb := sharedTestbed(t)
	a := netip.MustParseAddr("2001:db8:1::77")
	show := func() string {
		t.Helper()
		out, err := tb.IP(context.Background(), testbed.MN, "-6", "addr", "show", "dev", testbed.IfaceMNToPAR)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	in := func(fn func() error) error { return tb.Do(testbed.MN, fn) }
	for range 2 {
		if err := in(func() error { return AddAddress(testbed.IfaceMNToPAR, a) }); err != nil {
			t.Fatal(err)
		}
	}
	out := show()
	if strings.Count(out, a.String()+"/128") != 1 || strings.Contains(out, "tentative") {
		t.Fatalf("after AddAddress twice:\n%s", out)
	}
	for range 2 {
		if err := in(func() error { return DeleteAddress(testbed.IfaceMNToPAR, a) }); err != nil {
			t.Fatal(err)
		}
	}
	if out := show(); strings.Contains(out, a.String()+"/") {
		t.Fatalf("after DeleteAddress twice:\n%s", out)
	}
	for _, op := range []func(string, netip.Addr) error{AddAddress, DeleteAddress} {
		err := in(func() error { return op("nonexistent0", a) })
		if err == nil || !strings.HasPrefix(err.Error(), "netio: ") {
			t.Errorf("on nonexistent0: %v", err)
		}
	}
}

// TestAddrsList: a Conn's Addrs list the interface's addresses, an added
// one included, and nothing once closed.
func TestAddrsList(t *testing.T) {
	tb := sharedTestbed(t)
	l := openAddrLister(t, tb)
	ifindex := mnIndex(t, tb)
	got, err := l.list(ifindex)
	if err != nil || !slices.Contains(got, testbed.AddrMNPrevious) || slices.ContainsFunc(got, netip.Addr.IsLoopback) {
		t.Fatalf("list(%d) = %v, %v", ifindex, got, err)
	}
	all, err := l.list(0)
	if err != nil || !slices.Contains(all, testbed.AddrMNPrevious) || slices.ContainsFunc(all, netip.Addr.IsLoopback) {
		t.Fatalf("list(0) = %v, %v", all, err)
	}
	l.close()
	if _, err := l.list(ifindex); !errors.Is(err, ErrClosed) {
		t.Fatalf("list after close: %v", err)
	}
}

func openAddrLister(t testing.TB, tb *testbed.Testbed) *addrLister {
	t.Helper()
	var l *addrLister
	if err := tb.Do(testbed.MN, func() (err error) { l, err = newAddrLister(); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.close() })
	return l
}

// mnIndex is the index of the MN's par0.
func mnIndex(t testing.TB, tb *testbed.Testbed) int {
	t.Helper()
	var ifi *net.Interface
	if err := tb.Do(testbed.MN, func() (err error) { ifi, err = net.InterfaceByName(testbed.IfaceMNToPAR); return err }); err != nil {
		t.Fatal(err)
	}
	return ifi.Index
}

// routeChanger adds and deletes one route on a link over a netlink handle
// of the namespace it was opened in.
type routeChanger struct {
	h *netlink.Handle
	r *netlink.Route
}

func newRouteChanger(dev string, p netip.Prefix) (*routeChanger, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	link, err := h.LinkByName(dev)
	if err != nil {
		h.Close()
		return nil, err
	}
	dst := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 128)}
	return &routeChanger{h: h, r: &netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst}}, nil
}

func (c *routeChanger) change(add bool) error {
	if add {
		return c.h.RouteAdd(c.r)
	}
	return c.h.RouteDel(c.r)
}

func (c *routeChanger) close() {
	_ = c.h.RouteDel(c.r)
	c.h.Close()
}

// inMN runs the benchmark loop on a thread in the MN's namespace.
func inMN(b *testing.B, tb *testbed.Testbed, loop func()) {
	b.Helper()
	if err := tb.Do(testbed.MN, func() error { b.ResetTimer(); loop(); b.StopTimer(); return nil }); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRouteVia is the mobile node's route check before an FBU: the
// PAR through par0 (true).
func BenchmarkRouteVia(b *testing.B) {
	tb := sharedTestbed(b)
	inMN(b, tb, func() {
		for range b.N {
			if !RouteVia(testbed.IfaceMNToPAR, testbed.AddrPAR) {
				b.Fatal("no route")
			}
		}
	})
}

// BenchmarkAddressAddDelete: one op adds and deletes an address/128.
func BenchmarkAddressAddDelete(b *testing.B) {
	tb := sharedTestbed(b)
	a := netip.MustParseAddr("2001:db8:1::78")
	inMN(b, tb, func() {
		for range b.N {
			if err := AddAddress(testbed.IfaceMNToPAR, a); err != nil {
				b.Fatal(err)
			}
			if err := DeleteAddress(testbed.IfaceMNToPAR, a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAddrs: a Conn's address list of par0.
func BenchmarkAddrs(b *testing.B) {
	tb := sharedTestbed(b)
	ifindex := mnIndex(b, tb)
	l := openAddrLister(b, tb)
	for b.Loop() {
		if a, err := l.list(ifindex); err != nil || len(a) == 0 {
			b.Fatal(a, err)
		}
	}
}

// BenchmarkWatchLinks measures the notification latency of a watcher: the
// time from the start of a route change (RTM_NEWROUTE or RTM_DELROUTE of
// 2001:db8:99::/64 on par0, one notification each, so no signal is left
// over for the next change) until the watcher signals, as µs/notify. An
// op is one add and one delete.
func BenchmarkWatchLinks(b *testing.B) {
	tb := sharedTestbed(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ch <-chan struct{}
	var rt *routeChanger
	if err := tb.Do(testbed.MN, func() (err error) {
		if ch, err = WatchLinks(ctx); err != nil {
			return err
		}
		rt, err = newRouteChanger(testbed.IfaceMNToPAR, netip.MustParsePrefix("2001:db8:99::/64"))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	defer rt.close()
	var total time.Duration
	b.ResetTimer()
	for i := range 2 * b.N {
		select {
		case <-ch:
		default:
		}
		start := time.Now()
		if err := rt.change(i%2 == 0); err != nil {
			b.Fatal(err)
		}
		select {
		case <-ch:
			total += time.Since(start)
		case <-time.After(5 * time.Second):
			b.Fatalf("change %d (add %v): no notification", i, i%2 == 0)
		}
	}
	b.ReportMetric(float64(total.Microseconds())/float64(2*b.N), "µs/notify")
}
