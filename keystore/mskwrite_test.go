package keystore

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestMSKsConcurrentWrites: with many writers of different NAIs at once
// on a store with a batch delay (their transactions shared), every
// record is durable when Put returns, and an Expire racing with the Puts
// that renew the same NAIs never removes a renewed record.
func TestMSKsConcurrentWrites(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "keys.db")
	b, err := OpenBolt(path, WithClock(func() time.Time { return now }), WithBatchDelay(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	m, err := b.MSKs()
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	nai := func(i int) string { return fmt.Sprintf("mn%d@example.com", i) }
	for i := range n { // short-lived records, renewed below
		if err := m.Put(MSKRecord{NAI: nai(i), MSK: testMSK(byte(i)), Expires: now.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	for i := range n {
		wg.Go(func() {
			errs <- m.Put(MSKRecord{NAI: nai(i), MSK: testMSK(byte(i + 1)), Expires: now.Add(time.Hour)})
		})
	}
	wg.Go(func() {
		_, err := m.Expire(now.Add(time.Minute)) // the old records' expiry passed, the renewed ones' not
		errs <- err
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	b, err = OpenBolt(path, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if m, err = b.MSKs(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		msk, _, ok := m.LookupMSK([]byte(nai(i)))
		want := testMSK(byte(i + 1))
		if !ok || !msk.Equal(&want) {
			t.Errorf("%s: renewed record lost or stale after reopening (found %v)", nai(i), ok)
		}
	}
}

// BenchmarkMSKsPutParallel is the 802.1X authenticator's write of one MSK
// per authentication, from 8 goroutines per core at once (fsynced, the
// default 1 ms batch delay): writers of different NAIs share
// transactions.
func BenchmarkMSKsPutParallel(b *testing.B) {
	m := openMSKs(b, WithBatchDelay(DefaultBatchDelay))
	var next sync.Mutex
	id := 0
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		next.Lock()
		id++
		nai := fmt.Sprintf("mn%d@example.com", id)
		next.Unlock()
		for pb.Next() {
			if err := m.Put(MSKRecord{NAI: nai, MSK: testMSK(1), Expires: time.Now().Add(time.Hour)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}
