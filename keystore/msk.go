package keystore

import (
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fhkey/fhkey/hokey"
)

// bucketMSK holds the access router's MSKs: NAI → encoded MSKRecord.
var bucketMSK = []byte("msk")

// MSKs is the access router's MSK source (ar.MSKSource) kept in the
// store's bbolt file beside the handover keys: the 802.1X authenticator
// puts the MSK of each NAI after an EAP success, the PAR looks it up for
// every FBU of the MSK mode. Every record is also held in memory, loaded
// when the table opens, so that LookupMSK reads no file and allocates
// nothing; writes go to the file first (fsynced), then to memory, so a
// restart keeps every MSK not yet expired. Safe for concurrent use.
type MSKs struct {
	b   *Bolt
	now func() time.Time
	// wmu serializes the writers of one NAI (by stripe), so that the
	// file and the map change in the same order for it (an Expire
	// cannot remove a record a Put renewed); writers of other NAIs
	// proceed at once, so that a store opened with a batch delay
	// (WithBatchDelay, the default) commits concurrent
	// authentications in one transaction and one fsync.
	wmu  [mskWriteStripes]sync.Mutex
	seed maphash.Seed

	mu sync.RWMutex
	m  map[string]*MSKRecord
	// gen advances under mu with every change of m (MSKGeneration).
	gen atomic.Uint64
}

// mskWriteStripes is how many NAI stripes MSKs's writers lock.
const mskWriteStripes = 64

// writeLock returns the writer lock of nai's stripe.
func (t *MSKs) writeLock(nai string) *sync.Mutex {
	return &t.wmu[maphash.String(t.seed, nai)%mskWriteStripes]
}

// MSKs opens the MSK table of the store, creating its bucket if needed:
// it loads every record, dropping (from the file too) the expired ones.
// A corrupt record fails with ErrCorrupt.
func (b *Bolt) MSKs() (*MSKs, error) {
	t := &MSKs{b: b, now: b.now, m: make(map[string]*MSKRecord), seed: maphash.MakeSeed()}
	now := b.now()
	err := b.update(func(tx *bolt.Tx) error {
		clear(t.m)
		bk, err := tx.CreateBucketIfNotExists(bucketMSK)
		if err != nil {
			return err
		}
		var expired [][]byte
		err = bk.ForEach(func(k, v []byte) error {
			r := new(MSKRecord)
			if err := parseMSKRecord(k, v, r); err != nil {
				return fmt.Errorf("keystore: NAI %q: %w", k, err)
			}
			if !r.Expires.After(now) {
				r.MSK.Zero()
				expired = append(expired, append([]byte(nil), k...))
				return nil
			}
			t.m[r.NAI] = r
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range expired {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Put stores r (replacing and wiping the NAI's previous MSK). The record
// is on disk when Put returns. ErrInvalid for an empty or over-long NAI
// or an expiry outside 1970..2262.
func (t *MSKs) Put(r MSKRecord) error {
	var buf [MSKRecordLen]byte
	enc, err := appendMSKRecord(buf[:0], &r)
	defer clear(buf[:])
	if err != nil {
		return err
	}
	wl := t.writeLock(r.NAI)
	wl.Lock()
	defer wl.Unlock()
	if err := t.b.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMSK).Put([]byte(r.NAI), enc)
	}); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.m[r.NAI]; old != nil {
		old.MSK.Zero()
	}
	t.gen.Add(1)
	t.m[r.NAI] = &r
	return nil
}

// Delete forgets the MSK of nai; deleting an absent NAI is not an error.
func (t *MSKs) Delete(nai string) error {
	wl := t.writeLock(nai)
	wl.Lock()
	defer wl.Unlock()
	return t.deleteLocked(nai)
}

func (t *MSKs) deleteLocked(nai string) error {
	if err := t.b.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMSK).Delete([]byte(nai))
	}); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.m[nai]; old != nil {
		t.gen.Add(1)
		old.MSK.Zero()
		delete(t.m, nai)
	}
	return nil
}

// LookupMSK implements ar.MSKSource: the MSK of nai and its expiry, if
// one is held and not expired at now. It does not allocate.
func (t *MSKs) LookupMSK(nai []byte) (hokey.MSK, time.Time, bool) {
	msk, expires, _, ok := t.LookupSupplicantMSK(nai)
	return msk, expires, ok
}

// LookupSupplicantMSK implements ar.SupplicantAddrs: LookupMSK with the
// MAC address of the supplicant that authenticated as nai. It does not
// allocate.
func (t *MSKs) LookupSupplicantMSK(nai []byte) (hokey.MSK, time.Time, [6]byte, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r := t.m[string(nai)]
	if r == nil || !r.Expires.After(t.now()) {
		return hokey.MSK{}, time.Time{}, [6]byte{}, false
	}
	return r.MSK, r.Expires, r.MAC, true
}

// MSKGeneration implements ar.MSKGenerations: a counter that advances
// with every Put, Delete and Expire removal, while the memory copy
// changes (under the lock lookups take), so that the router's FHK cache
// can skip LookupSupplicantMSK while it has not moved.
func (t *MSKs) MSKGeneration() uint64 { return t.gen.Load() }

// SupplicantAddr returns the MAC address of the supplicant that
// authenticated as nai, while its MSK is valid.
func (t *MSKs) SupplicantAddr(nai []byte) ([6]byte, bool) {
	msk, _, mac, ok := t.LookupSupplicantMSK(nai)
	msk.Zero()
	return mac, ok
}

// Expire removes the MSKs expired at now, from memory and file, and
// returns how many.
func (t *MSKs) Expire(now time.Time) (int, error) {
	t.mu.RLock()
	var gone []string
	for nai, r := range t.m {
		if !r.Expires.After(now) {
			gone = append(gone, nai)
		}
	}
	t.mu.RUnlock()
	var errs []error
	n := 0
	for _, nai := range gone {
		removed, err := t.expireOne(nai, now)
		if err != nil {
			errs = append(errs, err)
		}
		if removed {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// expireOne removes nai's record if it is still expired at now under its
// writer lock (a Put may have renewed it since Expire looked).
func (t *MSKs) expireOne(nai string, now time.Time) (bool, error) {
	wl := t.writeLock(nai)
	wl.Lock()
	defer wl.Unlock()
	t.mu.RLock()
	r := t.m[nai]
	expired := r != nil && !r.Expires.After(now)
	t.mu.RUnlock()
	if !expired {
		return false, nil
	}
	if err := t.deleteLocked(nai); err != nil {
		return false, err
	}
	return true, nil
}

// Len returns the number of MSKs held, expired ones not yet removed
// included.
func (t *MSKs) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.m)
}

// MSKHolder is an NAI holding an MSK, without the key: what a router
// shows of its MSK table (the access router's /status).
type MSKHolder struct {
	NAI     string
	MAC     [6]byte
	Expires time.Time
	// Authenticated and Port as in MSKRecord (zero and empty for a
	// record of version 1): what a restarted authenticator rebuilds its
	// re-authentication timers from.
	Authenticated time.Time
	Port          string
}

// Holders lists the NAIs whose MSK is valid at now, with the supplicant's
// MAC address and the expiry, sorted by NAI. It never returns an MSK.
func (t *MSKs) Holders(now time.Time) []MSKHolder {
	t.mu.RLock()
	out := make([]MSKHolder, 0, len(t.m))
	for _, r := range t.m {
		if r.Expires.After(now) {
			out = append(out, MSKHolder{NAI: r.NAI, MAC: r.MAC, Expires: r.Expires, Authenticated: r.Authenticated, Port: r.Port})
		}
	}
	t.mu.RUnlock()
	slices.SortFunc(out, func(a, b MSKHolder) int { return strings.Compare(a.NAI, b.NAI) })
	return out
}
