package subscribers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fhkey/fhkey/mh"
)

// Bucket names of a Bolt subscriber file (docs/aaa.md, "Stores").
var (
	bucketSubscribers = []byte("subscribers") // NAI → encoded record
	bucketReplay      = []byte("replay")      // NAI → last accepted Timestamp, 8 octets big-endian
	bucketMeta        = []byte("meta")        // "layout" → boltLayout
	keyLayout         = []byte("layout")
)

const (
	boltLayout     = 1
	boltFileMode   = 0o600
	boltPermsOther = 0o077
	recordVersion  = 1
)

// Bolt is a Store store in one bbolt file, the default of a single
// Handover Key Server. The file is created with mode 0600 (an existing one
// readable by group or others is narrowed); HMKs are stored in the clear,
// so the file's permissions and the disk's encryption protect them.
type Bolt struct {
	mu     sync.RWMutex // shared by operations, exclusive by Close
	db     *bolt.DB
	closed bool
}

// OpenBolt opens or creates the subscriber file at path, waiting at most
// lockTimeout (0: 1 s) for another process holding it.
func OpenBolt(path string, lockTimeout time.Duration) (*Bolt, error) {
	if lockTimeout <= 0 {
		lockTimeout = time.Second
	}
	db, err := bolt.Open(path, boltFileMode, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %w", ErrStore, path, err)
	}
	b := &Bolt{db: db}
	if err := b.init(path); err != nil {
		db.Close()
		return nil, err
	}
	return b, nil
}

func (b *Bolt) init(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	if fi.Mode().Perm()&boltPermsOther != 0 {
		if err := os.Chmod(path, boltFileMode); err != nil {
			return fmt.Errorf("%w: narrowing %s to 0600: %w", ErrStore, path, err)
		}
	}
	return b.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrStore, path, err)
		}
		switch v := meta.Get(keyLayout); {
		case v == nil:
			if err := meta.Put(keyLayout, []byte{boltLayout}); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrStore, path, err)
			}
		case len(v) != 1 || v[0] != boltLayout:
			return fmt.Errorf("%w: %s: layout version %x, want %d", ErrCorrupt, path, v, boltLayout)
		}
		for _, name := range [][]byte{bucketSubscribers, bucketReplay} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrStore, path, err)
			}
		}
		return nil
	})
}

func (b *Bolt) run(ctx context.Context, write bool, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	var err error
	if write {
		err = b.db.Update(fn)
	} else {
		err = b.db.View(fn)
	}
	switch {
	case err == nil, errors.Is(err, ErrUnknownSubscriber), errors.Is(err, ErrCorrupt), errors.Is(err, ErrInvalid):
		return err
	}
	return fmt.Errorf("%w: %w", ErrStore, err)
}

// Get implements Subscribers.
func (b *Bolt) Get(ctx context.Context, nai string) (Subscriber, error) {
	if err := checkNAI(nai); err != nil {
		return Subscriber{}, err
	}
	var s Subscriber
	err := b.run(ctx, false, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSubscribers).Get([]byte(nai))
		if v == nil {
			return fmt.Errorf("%w: %q", ErrUnknownSubscriber, nai)
		}
		var err error
		s, err = decodeRecord(nai, v, true)
		return err
	})
	return s, err
}

// Put implements Subscribers.
func (b *Bolt) Put(ctx context.Context, s *Subscriber) error {
	if err := s.Validate(); err != nil {
		return err
	}
	rec := encodeRecord(s)
	defer clear(rec)
	return b.run(ctx, true, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubscribers).Put([]byte(s.NAI), rec)
	})
}

// Delete implements Subscribers.
func (b *Bolt) Delete(ctx context.Context, nai string) error {
	if err := checkNAI(nai); err != nil {
		return err
	}
	return b.run(ctx, true, func(tx *bolt.Tx) error {
		subs := tx.Bucket(bucketSubscribers)
		if subs.Get([]byte(nai)) == nil {
			return fmt.Errorf("%w: %q", ErrUnknownSubscriber, nai)
		}
		if err := subs.Delete([]byte(nai)); err != nil {
			return err
		}
		return tx.Bucket(bucketReplay).Delete([]byte(nai))
	})
}

// List implements Subscribers.
func (b *Bolt) List(ctx context.Context, withHMK bool) ([]Subscriber, error) {
	var all []Subscriber
	err := b.run(ctx, false, func(tx *bolt.Tx) error {
		all = all[:0]
		return tx.Bucket(bucketSubscribers).ForEach(func(k, v []byte) error {
			s, err := decodeRecord(string(k), v, withHMK)
			if err != nil {
				return err
			}
			all = append(all, s)
			return nil
		})
	})
	if err != nil {
		for i := range all {
			all[i].Zero()
		}
		return nil, err
	}
	return all, nil
}

// AdvanceTimestamp implements Subscribers: one read-write transaction
// (bbolt has a single writer), so the compare and the store are atomic.
func (b *Bolt) AdvanceTimestamp(ctx context.Context, nai string, ts mh.NTPTimestamp) (bool, error) {
	if err := checkNAI(nai); err != nil {
		return false, err
	}
	var ok bool
	err := b.run(ctx, true, func(tx *bolt.Tx) error {
		ok = false
		if tx.Bucket(bucketSubscribers).Get([]byte(nai)) == nil {
			return fmt.Errorf("%w: %q", ErrUnknownSubscriber, nai)
		}
		rp := tx.Bucket(bucketReplay)
		if v := rp.Get([]byte(nai)); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("%w: %q: replay state of %d octets", ErrCorrupt, nai, len(v))
			}
			if TimestampOrder(ts) <= TimestampOrder(mh.NTPTimestamp(binary.BigEndian.Uint64(v))) {
				return nil
			}
		}
		ok = true
		return rp.Put([]byte(nai), binary.BigEndian.AppendUint64(nil, uint64(ts)))
	})
	return ok && err == nil, err
}

// LastTimestamp implements Subscribers.
func (b *Bolt) LastTimestamp(ctx context.Context, nai string) (mh.NTPTimestamp, bool, error) {
	if err := checkNAI(nai); err != nil {
		return 0, false, err
	}
	var (
		ts mh.NTPTimestamp
		ok bool
	)
	err := b.run(ctx, false, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSubscribers).Get([]byte(nai)) == nil {
			return fmt.Errorf("%w: %q", ErrUnknownSubscriber, nai)
		}
		v := tx.Bucket(bucketReplay).Get([]byte(nai))
		switch {
		case v == nil:
			ts, ok = 0, false
		case len(v) != 8:
			return fmt.Errorf("%w: %q: replay state of %d octets", ErrCorrupt, nai, len(v))
		default:
			ts, ok = mh.NTPTimestamp(binary.BigEndian.Uint64(v)), true
		}
		return nil
	})
	return ts, ok, err
}

// Close implements Subscribers; it is idempotent.
func (b *Bolt) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	return nil
}

// encodeRecord encodes s (valid) as a Bolt record:
//
//	version (1) | flags (1: bit 0 enabled) | max lifetime (4, seconds) |
//	prefix count (1) | count × (address (16) | bits (1)) | HMK length (2) | HMK
func encodeRecord(s *Subscriber) []byte {
	b := make([]byte, 0, 9+17*len(s.ARPrefixes)+len(s.HMK))
	var flags byte
	if s.Enabled {
		flags |= 1
	}
	b = append(b, recordVersion, flags)
	b = binary.BigEndian.AppendUint32(b, uint32(s.MaxLifetime/time.Second))
	b = append(b, byte(len(s.ARPrefixes)))
	for _, p := range s.ARPrefixes {
		a := p.Addr().As16()
		b = append(append(b, a[:]...), byte(p.Bits()))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.HMK)))
	return append(b, s.HMK...)
}

// decodeRecord decodes a record stored under nai; the HMK is copied out of
// bbolt's memory only if withHMK.
func decodeRecord(nai string, v []byte, withHMK bool) (Subscriber, error) {
	bad := func(what string) (Subscriber, error) {
		return Subscriber{}, fmt.Errorf("%w: %q: %s", ErrCorrupt, nai, what)
	}
	if len(v) < 9 || v[0] != recordVersion {
		return bad("short record or unknown version")
	}
	s := Subscriber{NAI: nai, Enabled: v[1]&1 != 0, MaxLifetime: time.Duration(binary.BigEndian.Uint32(v[2:])) * time.Second}
	n := int(v[6])
	v = v[7:]
	if len(v) < 17*n+2 {
		return bad("truncated AR prefixes")
	}
	for range n {
		p, err := netip.AddrFrom16([16]byte(v[:16])).Prefix(int(v[16]))
		if err != nil || p.Bits() != int(v[16]) {
			return bad("bad AR prefix")
		}
		s.ARPrefixes = append(s.ARPrefixes, p)
		v = v[17:]
	}
	hl := int(binary.BigEndian.Uint16(v))
	if len(v) != 2+hl {
		return bad("HMK length")
	}
	if withHMK {
		s.HMK = append([]byte(nil), v[2:]...)
	}
	return s, nil
}
