package hac

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fhkey/fhkey/mip6tls"
)

// bucketSubscribers maps an identity to its JSON record (boltRecord).
var bucketSubscribers = []byte("hac-subscribers")

// boltRecord is a subscriber as stored: JSON with the PSK as base64
// (docs/tls.md, "Subscribers").
type boltRecord struct {
	Methods     []mip6tls.AuthMethod `json:"methods"`
	PSK         []byte               `json:"psk,omitempty"`
	HomeAddress netip.Addr           `json:"home_address,omitzero"`
	HomePrefix  netip.Prefix         `json:"home_prefix,omitzero"`
	DNS         netip.Addr           `json:"dns,omitzero"`
}

// Bolt is a SubscriberStore in one bbolt file, the default of fhkey hac.
// The file is created with mode 0600 and an existing one is narrowed to
// it: PSKs are stored in the clear.
type Bolt struct {
	mu sync.RWMutex
	db *bolt.DB
}

// OpenBolt opens or creates the subscriber file at path, waiting at most
// lockTimeout (0: 1 s) for another process holding it.
func OpenBolt(path string, lockTimeout time.Duration) (*Bolt, error) {
	if lockTimeout <= 0 {
		lockTimeout = time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %w", ErrStore, path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketSubscribers)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrStore, path, err)
	}
	return &Bolt{db: db}, nil
}

// Close closes the file.
func (b *Bolt) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.db.Close()
}

// Get implements SubscriberStore.
func (b *Bolt) Get(_ context.Context, id mip6tls.MNIdentifier) (Subscriber, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var s Subscriber
	err := b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSubscribers).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("%w: %s", ErrUnknownSubscriber, id)
		}
		var err error
		s, err = decodeRecord(id, v)
		return err
	})
	return s, err
}

func decodeRecord(id mip6tls.MNIdentifier, v []byte) (Subscriber, error) {
	var r boltRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return Subscriber{}, fmt.Errorf("%w: record of %s: %w", ErrStore, id, err)
	}
	return Subscriber{Identity: id, Methods: r.Methods, PSK: r.PSK, HomeAddress: r.HomeAddress, HomePrefix: r.HomePrefix, DNS: r.DNS}, nil
}

// Put implements SubscriberStore: it adds or replaces s after Check.
func (b *Bolt) Put(_ context.Context, s Subscriber) error {
	if err := s.Check(); err != nil {
		return err
	}
	v, err := json.Marshal(boltRecord{Methods: s.Methods, PSK: s.PSK, HomeAddress: s.HomeAddress, HomePrefix: s.HomePrefix, DNS: s.DNS})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	defer clear(v)
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.wrap(b.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubscribers).Put([]byte(s.Identity), v)
	}))
}

// Remove implements SubscriberStore.
func (b *Bolt) Remove(_ context.Context, id mip6tls.MNIdentifier) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketSubscribers)
		if bk.Get([]byte(id)) == nil {
			return fmt.Errorf("%w: %s", ErrUnknownSubscriber, id)
		}
		return b.wrap(bk.Delete([]byte(id)))
	})
}

// List implements SubscriberStore, sorted by identity (bbolt's key order).
func (b *Bolt) List(_ context.Context) ([]Subscriber, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []Subscriber
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubscribers).ForEach(func(k, v []byte) error {
			s, err := decodeRecord(mip6tls.MNIdentifier(k), v)
			out = append(out, s)
			return err
		})
	})
	return out, err
}

func (b *Bolt) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrStore, err)
}
