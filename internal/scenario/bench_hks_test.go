package scenario

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testenv"
)

// TestBenchHKS runs `fhkey bench hks` small (loopback, no root), so that
// the bench path cannot rot: FreeRADIUS answers its PAP requests and
// proxies key requests to the HKS, radclient gets every request accepted
// by both, and the latencies are measured.
func TestBenchHKS(t *testing.T) {
	testenv.RequireTool(t, "freeradius")
	testenv.RequireTool(t, "radclient")
	var log strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := BenchHKS(ctx, HKSBenchConfig{Requests: 400, Parallel: 32, LatencySamples: 20, Dir: t.TempDir(), Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if res.HKS.Accepted != 400 || res.PAP.Accepted != 400 || res.HKSPerS <= 0 || res.FreeRADIUSPAPPerS <= 0 ||
		res.ProxyLatency.Samples != 20 || res.ProxyLatency.Median <= 0 || res.DirectLatency.Median <= 0 {
		t.Errorf("result %+v", res)
	}
	t.Log(res)
}
