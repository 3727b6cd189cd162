package keystore

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestBoltPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	clock := newFakeClock(t0)
	s, err := OpenBolt(path, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		if err := s.Put(rec(testAR, i, 0, time.Duration(1+i%3)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i += 10 {
		if err := s.Delete(testAR, mnAddr(i)); err != nil {
			t.Fatal(err)
		}
	}
	replaced := rec(testAR, 1, 9, 5*time.Hour)
	if err := s.Put(replaced); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("file mode %v, want 0600", perm)
	}

	clock.Set(t0.Add(90 * time.Minute)) // i%3 == 0 have expired
	s, err = OpenBolt(path, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := n - n/10; s.Len() != want {
		t.Fatalf("Len after reopen = %d, want %d", s.Len(), want)
	}
	for i := range n {
		switch {
		case i%10 == 0:
			wantNotFound(t, s, testAR, mnAddr(i), false)
		case i == 1:
			mustGet(t, s, replaced)
		case i%3 == 0:
			wantNotFound(t, s, testAR, mnAddr(i), true)
		default:
			mustGet(t, s, rec(testAR, i, 0, time.Duration(1+i%3)*time.Hour))
		}
	}
	// The expiry index survived the reopen too.
	removed, err := s.Expire(clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	wantRemoved := 0
	for i := 0; i < n; i += 3 {
		if i%10 != 0 {
			wantRemoved++
		}
	}
	if removed != wantRemoved {
		t.Fatalf("Expire after reopen removed %d, want %d", removed, wantRemoved)
	}
}

func TestBoltNarrowsFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after reopen %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

// rawUpdate edits a closed store file directly with bbolt.
func rawUpdate(t *testing.T, path string, fn func(recs, idx, meta *bolt.Bucket) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		return fn(tx.Bucket(bucketRecords), tx.Bucket(bucketExpiry), tx.Bucket(bucketMeta))
	}); err != nil {
		t.Fatal(err)
	}
}

func TestBoltCorruptRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	clock := newFakeClock(t0)
	s, err := OpenBolt(path, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if err := s.Put(rec(testAR, i, 0, time.Duration(1+i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	key := func(i int) []byte { k := makePairKey(testAR, mnAddr(i)); return k[:] }
	rawUpdate(t, path, func(recs, idx, meta *bolt.Bucket) error {
		// 0: a key octet flipped (CRC mismatch); expires at +1 h.
		v := bytes.Clone(recs.Get(key(0)))
		v[offKey] ^= 0xff
		if err := recs.Put(key(0), v); err != nil {
			return err
		}
		// 1: truncated.
		if err := recs.Put(key(1), bytes.Clone(recs.Get(key(1))[:30])); err != nil {
			return err
		}
		// 2: record 3's (valid) value stored under record 2's key.
		return recs.Put(key(2), bytes.Clone(recs.Get(key(3))))
	})

	s, err = OpenBolt(path, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		i   int
		eof bool
	}{{0, false}, {1, true}, {2, false}} {
		_, err := s.Get(testAR, mnAddr(tc.i))
		if !errors.Is(err, ErrCorrupt) || errors.Is(err, io.ErrUnexpectedEOF) != tc.eof {
			t.Errorf("Get corrupt record %d: err = %v, want ErrCorrupt (EOF %v)", tc.i, err, tc.eof)
		}
	}
	// Range yields the three good records and reports the corruption.
	seen := 0
	err = s.Range(func(r *Record) bool { seen++; return true })
	if !errors.Is(err, ErrCorrupt) || seen != 3 {
		t.Fatalf("Range: %d records, err %v; want 3 and ErrCorrupt", seen, err)
	}
	// Delete removes a corrupt record.
	if err := s.Delete(testAR, mnAddr(1)); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, testAR, mnAddr(1), false)
	// Expire removes the corrupt record 0 at its (still readable) expiry.
	if n, err := s.Expire(t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("Expire(+1h) = %d, %v; want 1", n, err)
	}
	wantNotFound(t, s, testAR, mnAddr(0), false)
	// Put over a corrupt record replaces it.
	good := rec(testAR, 2, 5, 10*time.Hour)
	if err := s.Put(good); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, good)
	if s.Len() != 4 {
		t.Fatalf("Len = %d, want 4", s.Len())
	}
}

func TestBoltOpenErrors(t *testing.T) {
	dir := t.TempDir()
	t.Run("layout version", func(t *testing.T) {
		path := filepath.Join(dir, "v2.db")
		s, err := OpenBolt(path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		rawUpdate(t, path, func(_, _, meta *bolt.Bucket) error { return meta.Put(keyLayout, []byte{2}) })
		if _, err := OpenBolt(path); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("OpenBolt err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("not a bbolt file", func(t *testing.T) {
		path := filepath.Join(dir, "garbage.db")
		if err := os.WriteFile(path, bytes.Repeat([]byte{0x5a}, 8192), 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := OpenBolt(path); err == nil {
			s.Close()
			t.Fatal("OpenBolt on garbage succeeded")
		}
	})
	t.Run("locked by another opener", func(t *testing.T) {
		path := filepath.Join(dir, "locked.db")
		s, err := OpenBolt(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s2, err := OpenBolt(path, WithLockTimeout(50*time.Millisecond)); err == nil {
			s2.Close()
			t.Fatal("second OpenBolt on a locked file succeeded")
		}
	})
}

// TestBoltScrub checks that Scrub erases a deleted key from the file while
// the store keeps working, and that OpenBolt scrubs on its own.
func TestBoltScrub(t *testing.T) {
	for _, reopen := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "keys.db")
		clock := newFakeClock(t0)
		s, err := OpenBolt(path, WithNoSync(), WithClock(clock.Now), WithBatchDelay(0))
		if err != nil {
			t.Fatal(err)
		}
		keep := make([]*Record, 200)
		for i := range keep {
			keep[i] = rec(testAR, i, 0, time.Hour)
			if err := s.Put(keep[i]); err != nil {
				t.Fatal(err)
			}
		}
		r := rec(testAR, 1000, 0, time.Hour)
		marker := bytes.Repeat([]byte{0xc3, 0x5a}, 16)
		if err := r.SetKey(marker); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(r); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(r.AR, r.MN); err != nil {
			t.Fatal(err)
		}
		if reopen {
			s.Close()
			if data, _ := os.ReadFile(path); !bytes.Contains(data, marker) {
				t.Fatal("residue not reproduced: the test no longer tests OpenBolt's scrub")
			}
			if s, err = OpenBolt(path, WithClock(clock.Now)); err != nil {
				t.Fatal(err)
			}
		} else if n, err := s.Scrub(); err != nil || n == 0 {
			t.Fatalf("Scrub = %d pages, %v", n, err)
		}
		// The store still works and still holds every other record.
		for _, k := range keep {
			mustGet(t, s, k)
		}
		extra := rec(testAR, 2000, 0, time.Hour)
		if err := s.Put(extra); err != nil {
			t.Fatal(err)
		}
		mustGet(t, s, extra)
		s.Close()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, marker) {
			t.Fatalf("reopen %v: deleted key octets still in the file after Scrub", reopen)
		}
		// bbolt's own consistency check passes on the scrubbed file.
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		}); err != nil {
			t.Fatalf("bbolt check after Scrub: %v", err)
		}
		db.Close()
	}
}
