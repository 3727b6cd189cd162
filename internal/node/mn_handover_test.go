package node

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"testing"

	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// TestNotRoutable: the send failures of a link whose routes are not in
// place yet are retried; a missing FBack or any other error is not.
func TestNotRoutable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("netio: send: %w", syscall.ENETUNREACH), true},
		{fmt.Errorf("netio: send: %w", syscall.EHOSTUNREACH), true},
		{fmt.Errorf("netio: send: %w", syscall.EADDRNOTAVAIL), true},
		{fmt.Errorf("netio: send: %w", syscall.EPERM), false},
		{mn.ErrNoAnswer, false},
		{fmt.Errorf("wrapped: %w", mn.ErrNoAnswer), false},
	} {
		if got := notRoutable(tc.err); got != tc.want {
			t.Errorf("notRoutable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestRouteVia: on the testbed's MN attached to the PAR's link, the PAR is
// reachable through par0 and not through nar0 (down), nor the CN through
// nar0 before the move; after the move, the other way round.
func TestRouteVia(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	prefix := fmt.Sprintf("fhk-r%d-", os.Getpid())
	ctx := context.Background()
	tb, err := testbed.Up(ctx, testbed.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testbed.Down(context.Background(), prefix) })
	check := func(iface string, dst netip.Addr, want bool) {
		t.Helper()
		var got bool
		if err := tb.Do(testbed.MN, func() error { got = routeVia(iface, dst); return nil }); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("routeVia(%s, %v) = %v, want %v", iface, dst, got, want)
		}
	}
	check(testbed.IfaceMNToPAR, testbed.AddrPAR, true)
	check(testbed.IfaceMNToPAR, testbed.AddrCN, true)
	check(testbed.IfaceMNToNAR, testbed.AddrCN, false)
	if err := tb.Move(ctx); err != nil {
		t.Fatal(err)
	}
	check(testbed.IfaceMNToNAR, testbed.AddrCN, true)
	check(testbed.IfaceMNToNAR, testbed.AddrPAR, true)
	check("nonexistent0", testbed.AddrCN, false)
}
