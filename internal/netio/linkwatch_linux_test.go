//go:build linux

package netio

import (
	"context"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testbed"
)

// TestWatchLinks: inside a namespace, a link going down, an IPv6 address
// added and a route replaced each signal the watcher opened there.
func TestWatchLinks(t *testing.T) {
	tb := ownTestbed(t, "w")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ch <-chan struct{}
	if err := tb.Do(testbed.MN, func() (err error) { ch, err = WatchLinks(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	for _, change := range [][]string{
		{"link", "set", testbed.IfaceMNToNAR, "up"},
		{"-6", "addr", "add", "2001:db8:2::99/64", "dev", testbed.IfaceMNToNAR, "nodad"},
		{"-6", "route", "replace", "2001:db8:99::/64", "via", testbed.AddrPAR.String(), "dev", testbed.IfaceMNToPAR},
	} {
		// Drain what earlier changes queued, then make this one.
		select {
		case <-ch:
		default:
		}
		if _, err := tb.IP(context.Background(), testbed.MN, change...); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("ip %v: no notification", change)
		}
	}
}
