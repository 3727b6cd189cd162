package keystore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is an injected clock the tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time  { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// opener creates an empty store that judges expiry by clock.
type opener func(t *testing.T, clock func() time.Time) Store

func openMemory(t *testing.T, clock func() time.Time) Store {
	s := NewMemory(WithClock(clock))
	t.Cleanup(func() { s.Close() })
	return s
}

func openBolt(t *testing.T, clock func() time.Time) Store {
	s, err := OpenBolt(filepath.Join(t.TempDir(), "keys.db"), WithClock(clock), WithNoSync(), WithBatchDelay(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openBoltBatch(t *testing.T, clock func() time.Time) Store {
	s, err := OpenBolt(filepath.Join(t.TempDir(), "keys.db"), WithClock(clock), WithNoSync(), WithBatchDelay(100*time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMemoryConformance(t *testing.T)    { testConformance(t, openMemory) }
func TestBoltConformance(t *testing.T)      { testConformance(t, openBolt) }
func TestBoltBatchConformance(t *testing.T) { testConformance(t, openBoltBatch) }

var (
	testAR  = netip.MustParseAddr("2001:db8::1")
	testAR2 = netip.MustParseAddr("2001:db8::2")
	t0      = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
)

// mnAddr returns a distinct care-of address for each i.
func mnAddr(i int) netip.Addr {
	var a [16]byte
	copy(a[:], []byte{0x20, 0x01, 0x0d, 0xb8, 0, 1})
	a[8], a[9], a[10], a[11] = 0x02, byte(i>>24), byte(i>>16), 0xff
	a[12], a[13], a[14], a[15] = 0xfe, byte(i>>8), byte(i), 0x01
	return netip.AddrFrom16(a)
}

// rec returns a valid record for (ar, mnAddr(i)) created at t0 with the
// given lifetime and a key derived from i and gen.
func rec(ar netip.Addr, i, gen int, lifetime time.Duration) *Record {
	r := &Record{AR: ar, MN: mnAddr(i), AT: uint8(gen % 16), SPI: uint32(gen), Created: t0, Expires: t0.Add(lifetime)}
	key := make([]byte, 20)
	for j := range key {
		key[j] = byte(i*31 + gen*7 + j)
	}
	if err := r.SetKey(key); err != nil {
		panic(err)
	}
	return r
}

func mustGet(t *testing.T, s Store, want *Record) {
	t.Helper()
	got, err := s.Get(want.AR, want.MN)
	if err != nil {
		t.Fatalf("Get(%v, %v): %v", want.AR, want.MN, err)
	}
	if !got.Equal(want) {
		t.Fatalf("Get = %v, want %v (or keys differ)", got, *want)
	}
}

func wantNotFound(t *testing.T, s Store, ar, mn netip.Addr, expired bool) {
	t.Helper()
	_, err := s.Get(ar, mn)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%v, %v) err = %v, want ErrNotFound", ar, mn, err)
	}
	if errors.Is(err, ErrExpired) != expired {
		t.Fatalf("Get(%v, %v) err = %v, want errors.Is(ErrExpired) = %v", ar, mn, err, expired)
	}
}

func collect(t *testing.T, s Store) map[netip.Addr]Record {
	t.Helper()
	m := make(map[netip.Addr]Record)
	if err := s.Range(func(r *Record) bool {
		if _, dup := m[r.MN]; dup && r.AR == testAR {
			t.Errorf("Range yielded %v twice", r.MN)
		}
		m[r.MN] = *r
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

func testConformance(t *testing.T, open opener) {
	t.Run("PutGet", func(t *testing.T) {
		clock := newFakeClock(t0)
		s := open(t, clock.Now)
		r := rec(testAR, 1, 0, HKLifetime)
		r.Key[25] = 0xee // beyond KeyLen: must not be stored
		in := *r
		in.AR, in.MN = in.AR.WithZone("eth0"), in.MN.WithZone("eth0")
		if err := s.Put(&in); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(testAR, r.MN.WithZone("wlan0"))
		if err != nil {
			t.Fatal(err)
		}
		r.Key[25] = 0
		if !got.Equal(r) || got.AR.Zone() != "" || got.MN.Zone() != "" {
			t.Fatalf("Get = %v, want %v without zones, tail zero", got, *r)
		}
		if got.Key[25] != 0 {
			t.Fatal("octet beyond KeyLen was stored")
		}
		if n := s.Len(); n != 1 {
			t.Fatalf("Len = %d, want 1", n)
		}
		wantNotFound(t, s, testAR2, r.MN, false)
		wantNotFound(t, s, testAR, mnAddr(2), false)
	})

	t.Run("SeveralRoutersSameMN", func(t *testing.T) {
		s := open(t, newFakeClock(t0).Now)
		a, b := rec(testAR, 1, 1, time.Hour), rec(testAR2, 1, 2, time.Hour)
		for _, r := range []*Record{a, b} {
			if err := s.Put(r); err != nil {
				t.Fatal(err)
			}
		}
		mustGet(t, s, a)
		mustGet(t, s, b)
		if s.Len() != 2 {
			t.Fatalf("Len = %d, want 2", s.Len())
		}
	})

	t.Run("Replace", func(t *testing.T) {
		clock := newFakeClock(t0)
		s := open(t, clock.Now)
		old := rec(testAR, 1, 1, time.Hour)
		longer := rec(testAR, 1, 2, 2*time.Hour)
		for _, r := range []*Record{old, longer} {
			if err := s.Put(r); err != nil {
				t.Fatal(err)
			}
		}
		mustGet(t, s, longer)
		if s.Len() != 1 {
			t.Fatalf("Len = %d after replace, want 1", s.Len())
		}
		// The old expiry no longer applies.
		if n, err := s.Expire(t0.Add(time.Hour)); err != nil || n != 0 {
			t.Fatalf("Expire at old expiry = %d, %v; want 0", n, err)
		}
		clock.Set(t0.Add(time.Hour))
		mustGet(t, s, longer)
		// Replacing with a shorter lifetime moves the expiry earlier.
		shorter := rec(testAR, 1, 3, 30*time.Minute)
		if err := s.Put(shorter); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Expire(t0.Add(30 * time.Minute)); err != nil || n != 1 {
			t.Fatalf("Expire at new expiry = %d, %v; want 1", n, err)
		}
		wantNotFound(t, s, testAR, shorter.MN, false)
		if n, err := s.Expire(t0.Add(3 * time.Hour)); err != nil || n != 0 {
			t.Fatalf("Expire later = %d, %v; want 0 (stale index entry counted?)", n, err)
		}
		if s.Len() != 0 {
			t.Fatalf("Len = %d, want 0", s.Len())
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t, newFakeClock(t0).Now)
		a, b := rec(testAR, 1, 1, time.Hour), rec(testAR, 2, 1, time.Hour)
		for _, r := range []*Record{a, b} {
			if err := s.Put(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Delete(a.AR, a.MN); err != nil {
			t.Fatal(err)
		}
		wantNotFound(t, s, a.AR, a.MN, false)
		mustGet(t, s, b)
		if err := s.Delete(a.AR, a.MN); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second Delete err = %v, want ErrNotFound", err)
		}
		if s.Len() != 1 {
			t.Fatalf("Len = %d, want 1", s.Len())
		}
		// The deleted record's index entry must not count in Expire.
		if n, err := s.Expire(t0.Add(2 * time.Hour)); err != nil || n != 1 {
			t.Fatalf("Expire = %d, %v; want 1", n, err)
		}
	})

	t.Run("ExpiryBoundary", func(t *testing.T) {
		clock := newFakeClock(t0)
		s := open(t, clock.Now)
		r := rec(testAR, 1, 0, HKLifetime)
		if err := s.Put(r); err != nil {
			t.Fatal(err)
		}
		clock.Set(r.Expires.Add(-time.Nanosecond))
		mustGet(t, s, r)
		clock.Set(r.Expires)
		wantNotFound(t, s, r.AR, r.MN, true)
		if got := collect(t, s); len(got) != 0 {
			t.Fatalf("Range yielded %d expired records", len(got))
		}
		if n, err := s.Expire(r.Expires.Add(-time.Nanosecond)); err != nil || n != 0 {
			t.Fatalf("Expire 1 ns early = %d, %v; want 0", n, err)
		}
		if s.Len() != 1 {
			t.Fatalf("Len = %d before Expire, want 1", s.Len())
		}
		if n, err := s.Expire(r.Expires); err != nil || n != 1 {
			t.Fatalf("Expire at Expires = %d, %v; want 1", n, err)
		}
		wantNotFound(t, s, r.AR, r.MN, false)
		if s.Len() != 0 {
			t.Fatalf("Len = %d, want 0", s.Len())
		}
		if n, err := s.Expire(time.Unix(-100, 0)); err != nil || n != 0 {
			t.Fatalf("Expire before 1970 = %d, %v", n, err)
		}
	})

	t.Run("ExpireMany", func(t *testing.T) {
		clock := newFakeClock(t0)
		s := open(t, clock.Now)
		rng := rand.New(rand.NewPCG(1, 2))
		const n = 600
		lifetimes := make([]time.Duration, n)
		for i := range n {
			lifetimes[i] = time.Duration(1+rng.IntN(100)) * time.Minute
			if err := s.Put(rec(testAR, i, 0, lifetimes[i])); err != nil {
				t.Fatal(err)
			}
		}
		// Replace a third with new lifetimes, delete a tenth.
		for i := 0; i < n; i += 3 {
			lifetimes[i] = time.Duration(1+rng.IntN(100)) * time.Minute
			if err := s.Put(rec(testAR, i, 1, lifetimes[i])); err != nil {
				t.Fatal(err)
			}
		}
		for i := 5; i < n; i += 10 {
			if err := s.Delete(testAR, mnAddr(i)); err != nil {
				t.Fatal(err)
			}
			lifetimes[i] = -1
		}
		alive := func(at time.Duration) int {
			c := 0
			for _, l := range lifetimes {
				if l > at {
					c++
				}
			}
			return c
		}
		prev := alive(-1)
		for _, at := range []time.Duration{10, 33, 50, 51, 99, 100} {
			at *= time.Minute
			got, err := s.Expire(t0.Add(at))
			if err != nil {
				t.Fatal(err)
			}
			want := alive(at)
			if got != prev-want || s.Len() != want {
				t.Fatalf("Expire(+%v) removed %d, Len %d; want %d, %d", at, got, s.Len(), prev-want, want)
			}
			prev = want
			clock.Set(t0.Add(at))
			m := collect(t, s)
			for i, l := range lifetimes {
				_, ok := m[mnAddr(i)]
				if ok != (l > at) {
					t.Fatalf("after Expire(+%v) record %d (lifetime %v) present = %v", at, i, l, ok)
				}
			}
		}
	})

	t.Run("InvalidPut", func(t *testing.T) {
		s := open(t, newFakeClock(t0).Now)
		for name, edit := range invalidEdits() {
			r := rec(testAR, 1, 0, time.Hour)
			edit(r)
			if err := s.Put(r); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: Put err = %v, want ErrInvalid", name, err)
			}
		}
		if s.Len() != 0 {
			t.Fatalf("Len = %d after invalid puts", s.Len())
		}
		for _, a := range []netip.Addr{{}, netip.MustParseAddr("192.0.2.1")} {
			if _, err := s.Get(a, mnAddr(1)); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(%v) err = %v, want ErrNotFound", a, err)
			}
			if err := s.Delete(testAR, a); !errors.Is(err, ErrNotFound) {
				t.Errorf("Delete(%v) err = %v, want ErrNotFound", a, err)
			}
		}
	})

	t.Run("Range", func(t *testing.T) {
		clock := newFakeClock(t0)
		s := open(t, clock.Now)
		const n = 700 // several Range chunks
		for i := range n {
			if err := s.Put(rec(testAR, i, 0, time.Duration(1+i%2)*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if m := collect(t, s); len(m) != n {
			t.Fatalf("Range yielded %d, want %d", len(m), n)
		}
		clock.Set(t0.Add(time.Hour)) // even i expired
		m := collect(t, s)
		if len(m) != n/2 {
			t.Fatalf("Range yielded %d unexpired, want %d", len(m), n/2)
		}
		for i := 1; i < n; i += 2 {
			r, ok := m[mnAddr(i)]
			if want := rec(testAR, i, 0, 2*time.Hour); !ok || !r.Equal(want) {
				t.Fatalf("Range record %d = %v, %v", i, r, ok)
			}
		}
		calls := 0
		if err := s.Range(func(*Record) bool { calls++; return calls < 10 }); err != nil || calls != 10 {
			t.Fatalf("Range after false: %d calls, %v", calls, err)
		}
		// fn may modify the store: delete everything while ranging.
		if err := s.Range(func(r *Record) bool { return s.Delete(r.AR, r.MN) == nil }); err != nil {
			t.Fatal(err)
		}
		if s.Len() != n/2 {
			t.Fatalf("Len = %d after deleting while ranging, want %d expired left", s.Len(), n/2)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		clock := newFakeClock(t0)
		s := open(t, clock.Now)
		const workers, perWorker, keys = 4, 150, 64
		var wg sync.WaitGroup
		errc := make(chan error, workers*2)
		for w := range workers {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for j := range perWorker {
					i := (w*perWorker + j) % keys
					var err error
					switch j % 4 {
					case 0, 1:
						err = s.Put(rec(testAR, i, w, time.Hour))
					case 2:
						if err = s.Delete(testAR, mnAddr(i)); errors.Is(err, ErrNotFound) {
							err = nil
						}
					case 3:
						_, err = s.Expire(t0.Add(-time.Minute))
					}
					if err != nil {
						errc <- err
						return
					}
				}
			}()
			go func() {
				defer wg.Done()
				for j := range perWorker {
					r, err := s.Get(testAR, mnAddr(j%keys))
					if err == nil && (r.KeyLen != 20 || r.MN != mnAddr(j%keys)) {
						err = fmt.Errorf("torn record %v", r)
					}
					if err != nil && !errors.Is(err, ErrNotFound) {
						errc <- err
						return
					}
					if j%50 == 0 {
						if err := s.Range(func(*Record) bool { return true }); err != nil {
							errc <- err
							return
						}
						_ = s.Len()
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		if m := collect(t, s); len(m) != s.Len() {
			t.Fatalf("Range yielded %d, Len %d", len(m), s.Len())
		}
		if n, err := s.Expire(t0.Add(time.Hour)); err != nil || s.Len() != 0 {
			t.Fatalf("Expire all removed %d, Len %d, %v", n, s.Len(), err)
		}
	})

	t.Run("Closed", func(t *testing.T) {
		s := open(t, newFakeClock(t0).Now)
		r := rec(testAR, 1, 0, time.Hour)
		if err := s.Put(r); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := s.Put(r); !errors.Is(err, ErrClosed) {
			t.Errorf("Put err = %v, want ErrClosed", err)
		}
		if _, err := s.Get(r.AR, r.MN); !errors.Is(err, ErrClosed) {
			t.Errorf("Get err = %v, want ErrClosed", err)
		}
		if err := s.Delete(r.AR, r.MN); !errors.Is(err, ErrClosed) {
			t.Errorf("Delete err = %v, want ErrClosed", err)
		}
		if _, err := s.Expire(t0.Add(2 * time.Hour)); !errors.Is(err, ErrClosed) {
			t.Errorf("Expire err = %v, want ErrClosed", err)
		}
		if err := s.Range(func(*Record) bool { return true }); !errors.Is(err, ErrClosed) {
			t.Errorf("Range err = %v, want ErrClosed", err)
		}
	})
}
