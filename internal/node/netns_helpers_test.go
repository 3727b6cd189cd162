//go:build linux

package node

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// upTestPair checks root, ip(8) and /dev/net/tun (skipping, or failing
// under CI=true, without them) and brings up a testbed pair named after
// tag, taken down when the test ends; ctx bounds the test to a minute.
func upTestPair(t *testing.T, tag string) (*testbed.Pair, context.Context) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		testenv.Unavailable(t, "no /dev/net/tun: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	pair, err := testbed.UpPair(ctx, fmt.Sprintf("fhk-%s%d-", tag, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pair.Down(context.Background()) })
	return pair, ctx
}

// netnsHTTPClient is an HTTP client whose connections are made in netns.
func netnsHTTPClient(netns string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		err = testbed.Do(netns, func() (err error) { c, err = (&net.Dialer{}).DialContext(ctx, network, addr); return err })
		return c, err
	}}}
}
