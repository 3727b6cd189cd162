package hks

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mh"
)

// TestPostgresTwoServersRace: two Handover Key Servers, each with its own
// connection pool to the same database, get the same HKReq at once, for
// several Timestamps: exactly one of them grants the HK each time, the
// other answers INVALID_TIMESTAMP.
func TestPostgresTwoServersRace(t *testing.T) {
	dsn := postgresDSN(t)
	ctx := context.Background()
	var servers [2]*fixture
	for i := range servers {
		store, err := OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		servers[i] = newFixture(t, store, Config{})
	}
	for round := range 20 {
		ts := exTime.Add(time.Duration(round) * 100 * time.Millisecond)
		for _, f := range servers {
			f.clock.Set(ts)
		}
		b := exampleReq().withTime(ts).sign(t)
		var (
			wg       sync.WaitGroup
			statuses [2]uint16
			errs     [2]error
		)
		for i, f := range servers {
			wg.Go(func() {
				resp, err := f.srv.RequestKey(ctx, request(b))
				statuses[i], errs[i] = resp.Status, err
			})
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v, %v", round, errs[0], errs[1])
		}
		if statuses != [2]uint16{0, mh.HandoverKeyStatusInvalidTimestamp} && statuses != [2]uint16{mh.HandoverKeyStatusInvalidTimestamp, 0} {
			t.Fatalf("round %d: statuses %v, want one 0 and one %d", round, statuses, mh.HandoverKeyStatusInvalidTimestamp)
		}
	}
	a, b := servers[0].srv.Stats(), servers[1].srv.Stats()
	if a.Accepted+b.Accepted != 20 || a.Replayed+b.Replayed != 20 {
		t.Fatalf("stats %+v and %+v", a, b)
	}
}
