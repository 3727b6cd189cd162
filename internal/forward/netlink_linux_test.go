package forward

import (
	"net/netip"
	"strings"
	"testing"
)

// TestRouteSocket: a PCoA route is installed on the TUN device, replacing
// it is not an error, and deleting it twice neither; the route is gone.
func TestRouteSocket(t *testing.T) {
	tp := newTopology(t)
	routes := routesOnPAR(t, tp, "fhkrt%d")
	show := func() string { return tp.output("-n", tp.ns("par"), "-6", "route", "show", addrPCoA.String()+"/128") }
	for range 2 {
		if err := routes.addRoute(addrPCoA); err != nil {
			t.Fatal(err)
		}
	}
	if got := show(); !strings.Contains(got, "dev fhkrt") || !strings.Contains(got, "proto static") {
		t.Fatalf("after addRoute: %q", got)
	}
	for range 2 {
		if err := routes.delRoute(addrPCoA); err != nil {
			t.Fatal(err)
		}
	}
	if got := show(); got != "" {
		t.Fatalf("after delRoute: %q", got)
	}
	if got := tp.output("-n", tp.ns("par"), "link", "show", "fhkrt0"); !strings.Contains(got, "mtu 1460") || !strings.Contains(got, ",UP") {
		t.Fatalf("TUN device: %q", got)
	}
}

// BenchmarkRouteAddDel: one op installs and removes PCoA/128 on a TUN
// device in a network namespace (ip -6 route replace + del).
func BenchmarkRouteAddDel(b *testing.B) {
	tp := newTopology(b)
	pcoa := netip.MustParseAddr("2001:db8:1::200")
	routes := routesOnPAR(b, tp, "")
	for b.Loop() {
		if err := routes.addRoute(pcoa); err != nil {
			b.Fatal(err)
		}
		if err := routes.delRoute(pcoa); err != nil {
			b.Fatal(err)
		}
	}
}

// routesOnPAR creates a TUN device (MTU 1460) in the PAR's namespace and
// a route socket for it there; both are closed when t ends.
func routesOnPAR(t testing.TB, tp *topology, name string) *routeSocket {
	t.Helper()
	var routes *routeSocket
	tp.in("par", func() {
		h, err := openHandle()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		f, name, ifindex, err := openTUNDevice(h, name, 1460)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		routes = &routeSocket{h: h, ifindex: ifindex, ifname: name}
	})
	return routes
}
