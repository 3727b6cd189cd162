package keystore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket names and the layout version of a Bolt file (docs/keystore.md).
var (
	bucketRecords = []byte("records") // AR|MN (32 octets) → encoded Record
	bucketExpiry  = []byte("expiry")  // Expires (8, big-endian Unix ns)|AR|MN → empty
	bucketMeta    = []byte("meta")    // "layout" → layoutVersion
	keyLayout     = []byte("layout")
)

const (
	layoutVersion  = 1
	indexKeyLen    = 8 + len(pairKey{})
	boltExpireTx   = 8192 // records removed per Expire transaction
	boltFileMode   = 0o600
	boltPermsOther = 0o077
)

// Bolt is a persistent Store in a bbolt file, so an access router restart
// loses no key: OpenBolt on an existing file recovers every record.
//
// The records bucket maps AR|MN to the encoded record
// ([Record.MarshalBinary]); the expiry bucket holds one empty-valued key per
// record, Expires (big-endian Unix nanoseconds)|AR|MN, so Expire walks a
// cursor over the expired prefix only. Concurrent Puts and Deletes share
// batched read-write transactions (WithBatchDelay), each Expire chunk is
// one transaction; every commit is fsynced.
type Bolt struct {
	// mu is held shared by every transaction this package runs and
	// exclusively by Scrub and Close, so that Scrub sees no open
	// transaction.
	mu     sync.RWMutex
	db     *bolt.DB
	now    func() time.Time
	batch  bool
	count  atomic.Int64
	closed atomic.Bool
}

// OpenBolt opens or creates the store file at path with mode 0600 (an
// existing file readable by group or others is narrowed to 0600). Options:
// WithClock, WithBatchDelay, WithLockTimeout, WithNoSync. Opening fails when the
// file holds another layout version or another process holds it open past
// the lock timeout. Records are not checked on open; a corrupt one surfaces
// as ErrCorrupt when read.
func OpenBolt(path string, opts ...Option) (*Bolt, error) {
	o := buildOptions(opts)
	db, err := bolt.Open(path, boltFileMode, &bolt.Options{Timeout: o.lockTimeout, NoSync: o.noSync})
	if err != nil {
		return nil, fmt.Errorf("keystore: open %s: %w", path, err)
	}
	if o.batchDelay > 0 {
		db.MaxBatchDelay = o.batchDelay
	}
	b := &Bolt{db: db, now: o.now, batch: o.batchDelay > 0}
	if err := b.init(path); err != nil {
		db.Close()
		return nil, err
	}
	if _, err := b.Scrub(); err != nil {
		db.Close()
		return nil, err
	}
	return b, nil
}

func (b *Bolt) init(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	if fi.Mode().Perm()&boltPermsOther != 0 {
		if err := os.Chmod(path, boltFileMode); err != nil {
			return fmt.Errorf("keystore: narrowing %s to 0600: %w", path, err)
		}
	}
	return b.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("keystore: %s: %w", path, err)
		}
		switch v := meta.Get(keyLayout); {
		case v == nil:
			if err := meta.Put(keyLayout, []byte{layoutVersion}); err != nil {
				return fmt.Errorf("keystore: %s: %w", path, err)
			}
		case len(v) != 1 || v[0] != layoutVersion:
			return fmt.Errorf("%w: %s: layout version %x, want %d", ErrCorrupt, path, v, layoutVersion)
		}
		recs, err := tx.CreateBucketIfNotExists(bucketRecords)
		if err != nil {
			return fmt.Errorf("keystore: %s: %w", path, err)
		}
		if _, err := tx.CreateBucketIfNotExists(bucketExpiry); err != nil {
			return fmt.Errorf("keystore: %s: %w", path, err)
		}
		b.count.Store(int64(recs.Stats().KeyN))
		return nil
	})
}

// update runs fn in a read-write transaction, batched unless the batch
// delay is 0. fn may run more than once (bbolt retries a failed batch member
// alone, after rolling the whole batch back), so it must assign, not
// accumulate, its results, and should report outcomes such as "not found"
// through its results rather than as an error.
func (b *Bolt) update(fn func(*bolt.Tx) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed.Load() {
		return ErrClosed
	}
	var err error
	if b.batch {
		err = b.db.Batch(fn)
	} else {
		err = b.db.Update(fn)
	}
	return b.mapErr(err)
}

func (b *Bolt) view(fn func(*bolt.Tx) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed.Load() {
		return ErrClosed
	}
	return b.mapErr(b.db.View(fn))
}

// mapErr reports a transaction refused because Close won the race as
// ErrClosed and wraps other bbolt errors with the package prefix.
func (b *Bolt) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case b.closed.Load():
		return ErrClosed
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorrupt):
		return err
	}
	return fmt.Errorf("keystore: bolt: %w", err)
}

func indexKey(expires uint64, k *pairKey) []byte {
	ik := make([]byte, 0, indexKeyLen)
	ik = binary.BigEndian.AppendUint64(ik, expires)
	return append(ik, k[:]...)
}

// Put implements Store.
func (b *Bolt) Put(r *Record) error {
	val, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	defer clear(val)
	k := makePairKey(r.AR, r.MN)
	ik := indexKey(uint64(r.Expires.UnixNano()), &k)
	var added int64
	err = b.update(func(tx *bolt.Tx) error {
		added = 0
		recs, idx := tx.Bucket(bucketRecords), tx.Bucket(bucketExpiry)
		if old := recs.Get(k[:]); old == nil {
			added = 1
		} else if exp, ok := encodedExpires(old); ok {
			if err := idx.Delete(indexKey(exp, &k)); err != nil {
				return err
			}
		}
		if err := recs.Put(k[:], val); err != nil {
			return err
		}
		return idx.Put(ik, []byte{})
	})
	if err == nil {
		b.count.Add(added)
	}
	return err
}

// decodeStored decodes the value v stored under record key k, checking that
// the addresses inside match the key.
func decodeStored(k, v []byte, r *Record) error {
	if err := r.UnmarshalBinary(v); err != nil {
		return fmt.Errorf("%w (stored under %x)", err, k)
	}
	if got := makePairKey(r.AR, r.MN); !bytes.Equal(got[:], k) {
		r.Zero()
		return fmt.Errorf("%w: AR|MN %x stored under %x", ErrCorrupt, got, k)
	}
	return nil
}

// Get implements Store.
func (b *Bolt) Get(ar, mn netip.Addr) (Record, error) {
	if !validPair(ar, mn) {
		return Record{}, fmt.Errorf("%w: %w: AR %v, MN %v", ErrNotFound, ErrInvalid, ar, mn)
	}
	k := makePairKey(ar, mn)
	var r Record
	err := b.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRecords).Get(k[:])
		if v == nil {
			return fmt.Errorf("%w: AR %v, MN %v", ErrNotFound, ar, mn)
		}
		return decodeStored(k[:], v, &r)
	})
	if err != nil {
		return Record{}, err
	}
	if r.ExpiredAt(b.now()) {
		r.Zero()
		return Record{}, fmt.Errorf("%w: %w: AR %v, MN %v", ErrNotFound, ErrExpired, ar, mn)
	}
	return r, nil
}

// Delete implements Store. The record is removed in one transaction; bbolt
// writes modified pages to new locations, so the page that held the key
// stays in the file as a free page until reused (docs/keystore.md).
func (b *Bolt) Delete(ar, mn netip.Addr) error {
	if !validPair(ar, mn) {
		return fmt.Errorf("%w: %w: AR %v, MN %v", ErrNotFound, ErrInvalid, ar, mn)
	}
	k := makePairKey(ar, mn)
	var removed int64
	err := b.update(func(tx *bolt.Tx) error {
		removed = 0
		recs, idx := tx.Bucket(bucketRecords), tx.Bucket(bucketExpiry)
		v := recs.Get(k[:])
		if v == nil {
			return nil
		}
		if exp, ok := encodedExpires(v); ok {
			if err := idx.Delete(indexKey(exp, &k)); err != nil {
				return err
			}
		}
		removed = 1
		return recs.Delete(k[:])
	})
	if err != nil {
		return err
	}
	if removed == 0 {
		return fmt.Errorf("%w: AR %v, MN %v", ErrNotFound, ar, mn)
	}
	b.count.Add(-removed)
	return nil
}

// Expire implements Store. It removes expired records in transactions of at
// most boltExpireTx records, each walking the expiry index from its first
// key. An index key whose record is missing or carries another Expires is
// stale and only the index key is removed; a record whose Expires field
// cannot be read is removed with its expired index key.
func (b *Bolt) Expire(now time.Time) (int, error) {
	t := nowNano(now)
	if t < 0 {
		return 0, nil
	}
	total := 0
	for {
		var removed int
		var more bool
		err := b.update(func(tx *bolt.Tx) error {
			removed, more = 0, false
			recs, idx := tx.Bucket(bucketRecords), tx.Bucket(bucketExpiry)
			var expired [][]byte
			c := idx.Cursor()
			for ik, _ := c.First(); ik != nil; ik, _ = c.Next() {
				if len(ik) == indexKeyLen && binary.BigEndian.Uint64(ik) > uint64(t) {
					break
				}
				if len(expired) == boltExpireTx {
					more = true
					break
				}
				expired = append(expired, bytes.Clone(ik))
			}
			for _, ik := range expired {
				if err := idx.Delete(ik); err != nil {
					return err
				}
				if len(ik) != indexKeyLen {
					continue // malformed index key: drop it
				}
				pk := ik[8:]
				v := recs.Get(pk)
				if v == nil {
					continue
				}
				if exp, ok := encodedExpires(v); ok && exp != binary.BigEndian.Uint64(ik) {
					continue
				}
				if err := recs.Delete(pk); err != nil {
					return err
				}
				removed++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += removed
		b.count.Add(-int64(removed))
		if !more {
			return total, nil
		}
	}
}

// Len implements Store from a counter taken at open and kept by each
// committed transaction.
func (b *Bolt) Len() int { return int(b.count.Load()) }

// Range implements Store. It reads rangeChunk records per read transaction
// and calls fn outside it, resuming after the last key seen. A corrupt
// record is skipped and Range returns the first such error (wrapping
// ErrCorrupt) after the walk.
func (b *Bolt) Range(fn func(r *Record) bool) error {
	buf := make([]Record, 0, rangeChunk)
	defer func() { clear(buf[:cap(buf)]) }()
	var after []byte
	var firstErr error
	for {
		buf = buf[:0]
		done := false
		err := b.view(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketRecords).Cursor()
			var k, v []byte
			if after == nil {
				k, v = c.First()
			} else if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
			for ; k != nil && len(buf) < rangeChunk; k, v = c.Next() {
				after = append(after[:0], k...)
				buf = append(buf, Record{})
				if err := decodeStored(k, v, &buf[len(buf)-1]); err != nil {
					buf = buf[:len(buf)-1]
					if firstErr == nil {
						firstErr = err
					}
				}
			}
			done = k == nil
			return nil
		})
		if err != nil {
			return err
		}
		now := b.now()
		for i := range buf {
			if !buf[i].ExpiredAt(now) && !fn(&buf[i]) {
				return firstErr
			}
		}
		if done {
			return firstErr
		}
	}
}

// Close implements Store: it closes the bbolt file (waiting for running
// transactions).
func (b *Bolt) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Swap(true) {
		return nil
	}
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("keystore: bolt: %w", err)
	}
	return nil
}

// Scrub overwrites with zeros every page on bbolt's freelist and syncs the
// file, and returns how many pages it wrote. bbolt writes every modified page
// to a new location and only frees the old one, so after Delete, Expire or a
// replacing Put the old key octets stay in the file until bbolt reuses the
// page (TestBoltScrub shows both). Scrub erases them: it holds out every
// transaction of this store while it runs, so no reader can still use a
// freed page, and writes only pages bbolt itself lists as free (pending
// pages included, which no transaction references once all are closed).
// OpenBolt scrubs once; call it after Expire or Delete when erasure on disk
// matters (it costs one pass over the page list plus one write per free
// page and an fsync). It does not reach copies outside the file: see
// docs/keystore.md.
func (b *Bolt) Scrub() (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return 0, ErrClosed
	}
	pageSize := b.db.Info().PageSize
	var free []int
	err := b.db.View(func(tx *bolt.Tx) error {
		pages := int(tx.Size() / int64(pageSize))
		for id := 2; id < pages; id++ { // pages 0 and 1 are the meta pages
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info != nil && info.Type == "free" {
				free = append(free, id)
			}
		}
		return nil
	})
	if err != nil || len(free) == 0 {
		return 0, b.mapErr(err)
	}
	f, err := os.OpenFile(b.db.Path(), os.O_WRONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("keystore: scrub: %w", err)
	}
	zero := make([]byte, pageSize)
	for i, id := range free {
		if _, err := f.WriteAt(zero, int64(id)*int64(pageSize)); err != nil {
			f.Close()
			return i, fmt.Errorf("keystore: scrub page %d: %w", id, err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return len(free), fmt.Errorf("keystore: scrub: %w", err)
	}
	if err := f.Close(); err != nil {
		return len(free), fmt.Errorf("keystore: scrub: %w", err)
	}
	return len(free), nil
}

var _ Store = (*Bolt)(nil)
