package subscribers

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mh"
)

// TestPostgresTwoInstancesRace: two Handover Key Servers, each with its own
// connection pool to the same database (the deployment of several HKS
// behind a FreeRADIUS pool), record the same HKReq Timestamp at once, for
// several Timestamps: exactly one of them wins each time, so a replayed
// HKReq cannot get a key from both (the HKS answers the loser
// INVALID_TIMESTAMP).
func TestPostgresTwoInstancesRace(t *testing.T) {
	dsn := postgresDSN(t)
	ctx := context.Background()
	var stores [2]*Postgres
	for i := range stores {
		s, err := OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	const nai = "race@example.com"
	if err := stores[0].Put(ctx, &Subscriber{NAI: nai, HMK: seq(1, 64), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		ts := mh.NTPTime(exTime.Add(time.Duration(round) * 100 * time.Millisecond))
		var (
			wg   sync.WaitGroup
			won  [2]bool
			errs [2]error
		)
		for i, s := range stores {
			wg.Go(func() { won[i], errs[i] = s.AdvanceTimestamp(ctx, nai, ts) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v, %v", round, errs[0], errs[1])
		}
		if won[0] == won[1] {
			t.Fatalf("round %d: both %v, want exactly one winner", round, won[0])
		}
	}
}
