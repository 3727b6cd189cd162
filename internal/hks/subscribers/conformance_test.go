package subscribers

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mh"
)

func openMemory(t *testing.T) Store {
	s := NewMemory()
	t.Cleanup(func() { s.Close() })
	return s
}

func openBolt(t *testing.T) Store {
	s, err := OpenBolt(filepath.Join(t.TempDir(), "subscribers.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMemoryConformance(t *testing.T)   { testConformance(t, openMemory) }
func TestBoltConformance(t *testing.T)     { testConformance(t, openBolt) }
func TestPostgresConformance(t *testing.T) { testConformance(t, openPostgres) }

func sub(nai string, i byte) *Subscriber {
	return &Subscriber{NAI: nai, HMK: seq(i, 64+int(i)), Enabled: i%2 == 0,
		ARPrefixes:  []netip.Prefix{netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("2001:db8:1:2::/64")}[:i%3],
		MaxLifetime: time.Duration(i) * time.Minute}
}

// testLoad checks Loader.Load against Get's results: one reused
// Subscriber, its arrays reused once large enough, wiped by the caller
// without touching the store.
func testLoad(t *testing.T, l Loader, names []string) {
	t.Helper()
	ctx := context.Background()
	dst := Subscriber{HMK: make([]byte, 0, MaxHMKLen), ARPrefixes: make([]netip.Prefix, 0, 4)}
	hmk := &dst.HMK[:1][0]
	for i, n := range names {
		if err := l.Load(ctx, n, &dst); err != nil {
			t.Fatal(err)
		}
		if want := sub(n, byte(i)); !dst.Equal(want) || &dst.HMK[0] != hmk {
			t.Fatalf("Load(%s) = %v, want %v in the caller's array", n, dst, want)
		}
		dst.Zero()
	}
	if err := l.Load(ctx, "nobody@example.com", &dst); !errors.Is(err, ErrUnknownSubscriber) {
		t.Errorf("Load: %v", err)
	}
	if err := l.Load(ctx, names[0], &dst); err != nil || !dst.Equal(sub(names[0], 0)) {
		t.Fatalf("clearing a loaded HMK changed the stored one: %v", err)
	}
	allocs := testing.AllocsPerRun(50, func() { _ = l.Load(ctx, names[0], &dst) })
	if allocs != 0 {
		t.Errorf("Load: %v allocations, want 0", allocs)
	}
}

// testConformance is the contract of Store, run against each store.
func testConformance(t *testing.T, open func(*testing.T) Store) {
	ctx := context.Background()
	t.Run("unknown", func(t *testing.T) {
		s := open(t)
		if _, err := s.Get(ctx, "nobody@example.com"); !errors.Is(err, ErrUnknownSubscriber) {
			t.Errorf("Get: %v", err)
		}
		if err := s.Delete(ctx, "nobody@example.com"); !errors.Is(err, ErrUnknownSubscriber) {
			t.Errorf("Delete: %v", err)
		}
		if _, err := s.AdvanceTimestamp(ctx, "nobody@example.com", 1); !errors.Is(err, ErrUnknownSubscriber) {
			t.Errorf("AdvanceTimestamp: %v", err)
		}
		if _, _, err := s.LastTimestamp(ctx, "nobody@example.com"); !errors.Is(err, ErrUnknownSubscriber) {
			t.Errorf("LastTimestamp: %v", err)
		}
		if all, err := s.List(ctx, true); err != nil || len(all) != 0 {
			t.Errorf("List: %v %v", all, err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		s := open(t)
		for _, bad := range []*Subscriber{
			{NAI: "", HMK: seq(0, 64)},
			{NAI: strings.Repeat("a", 255), HMK: seq(0, 64)},
			{NAI: "a@b", HMK: seq(0, 63)},
			{NAI: "a@b", HMK: seq(0, MaxHMKLen+1)},
			{NAI: "a@b", HMK: seq(0, 64), ARPrefixes: []netip.Prefix{netip.MustParsePrefix("2001:db8::1/64")}},
			{NAI: "a@b", HMK: seq(0, 64), ARPrefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}},
			{NAI: "a@b", HMK: seq(0, 64), MaxLifetime: 1500 * time.Millisecond},
			{NAI: "a@b", HMK: seq(0, 64), MaxLifetime: MaxLifetime + time.Second},
		} {
			if err := s.Put(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("Put(%v): %v", bad, err)
			}
		}
		if _, err := s.Get(ctx, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("Get(\"\"): %v", err)
		}
	})
	t.Run("put get list delete", func(t *testing.T) {
		s := open(t)
		names := []string{"c@example.com", "a@example.com", "b@example.net", "B@example.com"}
		for i, n := range names {
			if err := s.Put(ctx, sub(n, byte(i))); err != nil {
				t.Fatal(err)
			}
		}
		for i, n := range names {
			got, err := s.Get(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			if want := sub(n, byte(i)); !got.Equal(want) {
				t.Fatalf("Get(%s) = %v, want %v", n, got, want)
			}
			clear(got.HMK) // the caller's copy
		}
		if got, _ := s.Get(ctx, names[0]); !bytes.Equal(got.HMK, sub(names[0], 0).HMK) {
			t.Fatal("clearing a returned HMK changed the stored one")
		}
		if l, ok := s.(Loader); ok {
			testLoad(t, l, names)
		}
		for _, withHMK := range []bool{false, true} {
			all, err := s.List(ctx, withHMK)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range all {
				got = append(got, a.NAI)
				if (a.HMK != nil) != withHMK {
					t.Fatalf("List(%v): HMK of %s present: %v", withHMK, a.NAI, a.HMK != nil)
				}
			}
			if want := "B@example.com a@example.com b@example.net c@example.com"; strings.Join(got, " ") != want {
				t.Fatalf("List order %v, want %s", got, want)
			}
			if want := sub("a@example.com", 1); all[1].Enabled != want.Enabled || all[1].MaxLifetime != want.MaxLifetime || len(all[1].ARPrefixes) != 1 {
				t.Fatalf("List settings %v, want %v", all[1], want)
			}
		}
		if err := s.Delete(ctx, "a@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "a@example.com"); !errors.Is(err, ErrUnknownSubscriber) {
			t.Fatalf("Get after Delete: %v", err)
		}
	})
	t.Run("replay state", func(t *testing.T) {
		s := open(t)
		if err := s.Put(ctx, sub("mn@example.com", 0)); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.LastTimestamp(ctx, "mn@example.com"); ok || err != nil {
			t.Fatalf("new subscriber has a last timestamp: %v %v", ok, err)
		}
		era0 := mh.NTPTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
		era1 := mh.NTPTime(time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)) // seconds field wrapped
		for i, step := range []struct {
			ts   mh.NTPTimestamp
			want bool
		}{{era0, true}, {era0, false}, {era0 - 1, false}, {era0 + 1, true}, {era1, true}, {era0 + 2, false}, {era1 + 1, true}} {
			ok, err := s.AdvanceTimestamp(ctx, "mn@example.com", step.ts)
			if err != nil || ok != step.want {
				t.Fatalf("step %d: AdvanceTimestamp(%x) = %v, %v; want %v", i, uint64(step.ts), ok, err, step.want)
			}
		}
		// Put keeps the replay state; Delete drops it.
		if err := s.Put(ctx, sub("mn@example.com", 2)); err != nil {
			t.Fatal(err)
		}
		if last, ok, err := s.LastTimestamp(ctx, "mn@example.com"); !ok || err != nil || last != era1+1 {
			t.Fatalf("after Put: %x %v %v", uint64(last), ok, err)
		}
		if err := s.Delete(ctx, "mn@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, sub("mn@example.com", 2)); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.LastTimestamp(ctx, "mn@example.com"); ok || err != nil {
			t.Fatalf("after Delete and Put: %v %v", ok, err)
		}
	})
	t.Run("concurrent advance", func(t *testing.T) {
		s := open(t)
		if err := s.Put(ctx, sub("mn@example.com", 0)); err != nil {
			t.Fatal(err)
		}
		for round := range 5 {
			ts := mh.NTPTime(exTime.Add(time.Duration(round) * time.Second))
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				wins int
			)
			for range 8 {
				wg.Go(func() {
					ok, err := s.AdvanceTimestamp(ctx, "mn@example.com", ts)
					if err != nil {
						t.Error(err)
					}
					if ok {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("round %d: %d winners", round, wins)
			}
		}
	})
	t.Run("closed", func(t *testing.T) {
		s := open(t)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := s.Get(ctx, "mn@example.com"); !errors.Is(err, ErrClosed) {
			t.Fatalf("Get after Close: %v", err)
		}
		if err := s.Put(ctx, sub("mn@example.com", 0)); !errors.Is(err, ErrClosed) {
			t.Fatalf("Put after Close: %v", err)
		}
	})
}

// TestBoltFile: the file is 0600 (an existing wider one is narrowed) and
// keeps subscribers and replay state across a reopen.
func TestBoltFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "subscribers.db")
	s, err := OpenBolt(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, sub("mn@example.com", 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AdvanceTimestamp(ctx, "mn@example.com", 42); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = OpenBolt(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	if got, err := s.Get(ctx, "mn@example.com"); err != nil || !got.Equal(sub("mn@example.com", 0)) {
		t.Fatalf("after reopen: %v %v", got, err)
	}
	if last, ok, err := s.LastTimestamp(ctx, "mn@example.com"); last != 42 || !ok || err != nil {
		t.Fatalf("replay state after reopen: %v %v %v", last, ok, err)
	}
}

// seq is n octets counting up from start.
func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// exTime is the time of the timestamps the tests store.
var exTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
