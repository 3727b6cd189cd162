package hks

import (
	"context"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
)

// TestRequestKeyAllocs pins the role's allocations for an accepted key
// request over a Memory store (issue 11, docs/aaa.md "bench hks"): the
// HKS-Nonce the KeyResponse carries, nothing else. The HKReq is parsed
// without boxing an option and the HMK is copied into a pooled, wiped
// Subscriber.
func TestRequestKeyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	const runs = 100
	f := newFixture(t, nil, Config{})
	reqs := make([][]byte, runs+1) // AllocsPerRun calls once more to warm up
	for i := range reqs {
		r := exampleReq().withTime(exTime.Add(time.Duration(i) * time.Millisecond))
		r.prf, r.mac = uint8(hokey.PRFHMACSHA256), hokey.MACHMACSHA256
		reqs[i] = r.sign(t)
	}
	ctx := context.Background()
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		resp, err := f.srv.RequestKey(ctx, request(reqs[i]))
		if err != nil || resp.Status != 0 || resp.HK.IsZero() {
			t.Fatalf("request %d: %+v, %v", i, resp.Status, err)
		}
		resp.HK.Zero()
		i++
	})
	if allocs > 1 {
		t.Errorf("%v allocations per accepted key request, want at most 1 (the HKS-Nonce)", allocs)
	}
}
