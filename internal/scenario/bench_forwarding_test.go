package scenario

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/node/nodetest"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// TestForwardingArrivals runs the forwarding bench, short, and checks
// what the plot is drawn from: every datagram received has its arrival,
// in order, and the events of each run are in the order they happen.
func TestForwardingArrivals(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		testenv.Unavailable(t, "no /dev/net/tun: %v", err)
	}
	creds := nodetest.LabCredentials(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prefix := fmt.Sprintf("fhk-bf%d-", os.Getpid())
	tb, err := testbed.Up(ctx, testbed.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testbed.Down(context.Background(), prefix); err != nil {
			t.Errorf("testbed down: %v", err)
		}
	})
	if err := AssignCGAs(ctx, tb, creds); err != nil {
		t.Fatal(err)
	}
	const n = 60
	res, err := NewBench(tb, creds, t.TempDir(), t.Output()).Forwarding(ctx, n, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2 || res.Runs[0].Forwarding || !res.Runs[1].Forwarding {
		t.Fatalf("runs: %+v", res.Runs)
	}
	for _, run := range res.Runs {
		if len(run.Arrivals) != run.Stream.Received || run.BeforeMove.Received == 0 {
			t.Errorf("forwarding %v: %d arrivals, %d received (%d before the move)", run.Forwarding, len(run.Arrivals), run.Stream.Received, run.BeforeMove.Received)
		}
		seen := map[int]bool{}
		prev := 0.0
		for i, a := range run.Arrivals {
			if a.Index < 0 || a.Index >= n || seen[a.Index] || a.AtMS < prev {
				t.Fatalf("forwarding %v: arrival %d of %d: %+v after %v ms (indices seen: %v)", run.Forwarding, i, len(run.Arrivals), a, prev, seen)
			}
			seen[a.Index], prev = true, a.AtMS
		}
		events := []float64{0, run.MoveStartMS, run.MoveEndMS}
		if run.Forwarding {
			events = append(events, run.FBUSentMS, run.FBackMS)
		} else if run.FBUSentMS != 0 || run.FBackMS != 0 {
			t.Errorf("no FBU, but FBU sent at %v ms, FBack at %v ms", run.FBUSentMS, run.FBackMS)
		}
		for i := 1; i < len(events); i++ {
			if events[i] < events[i-1] || (i == len(events)-1 && events[i] == events[i-1]) {
				t.Errorf("forwarding %v: events out of order (stream start, move start, move end[, FBU, FBack]): %v", run.Forwarding, events)
			}
		}
	}
	f := res.Figure()
	if len(f.Series) != 2 || len(f.Series[1].Points) != res.Runs[1].Stream.Received || len(f.Events) != 3 {
		t.Errorf("figure: %d series, %d events", len(f.Series), len(f.Events))
	}
	var svg bytes.Buffer
	if err := f.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
}
