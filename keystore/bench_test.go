package keystore

import (
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fillMemory inserts n records into a new Memory store and returns it with
// the growth of the live heap (after GC), per key.
func fillMemory(tb testing.TB, n int) (*Memory, float64, float64) {
	tb.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := NewMemory(WithClock(func() time.Time { return t0 }))
	r := rec(testAR, 0, 0, HKLifetime)
	for i := range n {
		r.MN = mnAddr(i)
		r.Key[0] = byte(i)
		if err := s.Put(r); err != nil {
			tb.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	alloc := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	inuse := float64(after.HeapInuse-before.HeapInuse) / float64(n)
	return s, alloc, inuse
}

const millionKeys = 1_000_000

// TestMemoryBytesPerKey enforces the budget: at most 256 octets of
// heap per key at one million keys. It takes about a second and is skipped
// with -short and under the race detector (which inflates memory).
func TestMemoryBytesPerKey(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("1M-key memory test skipped with -short and -race")
	}
	s, alloc, inuse := fillMemory(t, millionKeys)
	defer s.Close()
	if s.Len() != millionKeys {
		t.Fatalf("Len = %d", s.Len())
	}
	t.Logf("heap per key at 1M keys: %.1f octets allocated, %.1f in use", alloc, inuse)
	if alloc > 256 || inuse > 256 {
		t.Fatalf("heap per key %.1f allocated / %.1f in use, budget 256", alloc, inuse)
	}
	runtime.KeepAlive(s)
}

// BenchmarkMemoryBytesPerKey reports heap octets per key at 1M keys (one
// fill per iteration; run with -benchtime=1x).
func BenchmarkMemoryBytesPerKey(b *testing.B) {
	var alloc, inuse float64
	for range b.N {
		s, a, i := fillMemory(b, millionKeys)
		alloc, inuse = a, i
		s.Close()
	}
	b.ReportMetric(alloc, "heapB/key")
	b.ReportMetric(inuse, "inuseB/key")
}

func BenchmarkMemoryPut(b *testing.B) {
	s := NewMemory()
	defer s.Close()
	r := rec(testAR, 0, 0, HKLifetime)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.MN = mnAddr(i % millionKeys)
		if err := s.Put(r); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

const benchKeys = 100_000

func BenchmarkMemoryGetParallel(b *testing.B) {
	clock := func() time.Time { return t0 }
	s := NewMemory(WithClock(clock))
	defer s.Close()
	for i := range benchKeys {
		if err := s.Put(rec(testAR, i, 0, HKLifetime)); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(7919))
		for pb.Next() {
			if _, err := s.Get(testAR, mnAddr(i%benchKeys)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkMemoryExpire measures removal of expired records: each iteration
// removes one record among benchKeys live ones.
func BenchmarkMemoryExpire(b *testing.B) {
	s := NewMemory()
	defer s.Close()
	for i := range benchKeys {
		if err := s.Put(rec(testAR, i, 0, time.Duration(i+1)*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % benchKeys
		if j == 0 && i > 0 {
			b.StopTimer()
			for k := range benchKeys {
				s.Put(rec(testAR, k, 0, time.Duration(k+1)*time.Second))
			}
			b.StartTimer()
		}
		if n, err := s.Expire(t0.Add(time.Duration(j+1) * time.Second)); err != nil || n != 1 {
			b.Fatalf("Expire removed %d, %v", n, err)
		}
	}
}

func openBenchBolt(b *testing.B, opts ...Option) *Bolt {
	s, err := OpenBolt(filepath.Join(b.TempDir(), "keys.db"), opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkBoltPut: one writer; per-Put transactions and the default
// batching (1 ms), each commit fsynced.
func BenchmarkBoltPut(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{{"PerPut", []Option{WithBatchDelay(0)}}, {"Batch1ms", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			s := openBenchBolt(b, bc.opts...)
			r := rec(testAR, 0, 0, HKLifetime)
			i := 0
			for b.Loop() {
				r.MN = mnAddr(i)
				if err := s.Put(r); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkBoltPutParallel: concurrent writers, per-Put transactions and
// the default batching (1 ms).
func BenchmarkBoltPutParallel(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{{"PerPut", []Option{WithBatchDelay(0)}}, {"Batch1ms", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			s := openBenchBolt(b, bc.opts...)
			var next atomic.Int64
			b.SetParallelism(32) // 64 writers on 2 cores, as RtSolPrs arrive
			b.RunParallel(func(pb *testing.PB) {
				r := rec(testAR, 0, 0, HKLifetime)
				for pb.Next() {
					r.MN = mnAddr(int(next.Add(1)))
					if err := s.Put(r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkBoltGetParallel(b *testing.B) {
	s := openBenchBolt(b, WithClock(func() time.Time { return t0 }), WithNoSync())
	recs := make([]*Record, 0, 1000)
	for i := range benchKeys {
		recs = append(recs, rec(testAR, i, 0, HKLifetime))
		if len(recs) == cap(recs) || i == benchKeys-1 {
			if err := s.db.Batch(func(tx *bolt.Tx) error { return putAll(tx, recs) }); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(7919))
		for pb.Next() {
			if _, err := s.Get(testAR, mnAddr(i%benchKeys)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// putAll bulk-loads records in one transaction, as Put would store them.
func putAll(tx *bolt.Tx, recs []*Record) error {
	for _, r := range recs {
		v, err := r.MarshalBinary()
		if err != nil {
			return err
		}
		k := makePairKey(r.AR, r.MN)
		if err := tx.Bucket(bucketRecords).Put(k[:], v); err != nil {
			return err
		}
		if err := tx.Bucket(bucketExpiry).Put(indexKey(uint64(r.Expires.UnixNano()), &k), []byte{}); err != nil {
			return err
		}
	}
	return nil
}
