package hac

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/mip6tls"
)

// ErrReadOnly: the store is a snapshot; its file is edited instead
// (fhkey hac subscriber add|remove) and read again by FileStore.Load.
var ErrReadOnly = errors.New("hac: subscriber store is a read-only snapshot of its file")

// FileStore serves the subscribers of a bbolt file (Bolt) from memory,
// the store of the fhkey hac daemon. Load reads the whole file, holding
// the file's lock only while it reads, and replaces the set at once; in
// between, `fhkey hac subscriber add|remove` can edit the file (a Bolt
// held open by the daemon would lock them out), and the daemon's next
// Load — at SIGHUP — applies the edits. A session that has read its
// subscriber keeps that copy. Put and Remove return ErrReadOnly.
type FileStore struct {
	cur  atomic.Pointer[Memory]
	path atomic.Pointer[string]
}

// OpenFileStore loads path (created, mode 0600, when absent: OpenBolt),
// waiting at most lockTimeout for a process that holds it.
func OpenFileStore(path string, lockTimeout time.Duration) (*FileStore, error) {
	f := &FileStore{}
	if _, err := f.Load(path, lockTimeout); err != nil {
		return nil, err
	}
	return f, nil
}

// Load reads path and, when every record is valid (Subscriber.Check),
// replaces the subscribers with its records and returns how many; any
// error leaves the store as it was.
func (f *FileStore) Load(path string, lockTimeout time.Duration) (int, error) {
	b, err := OpenBolt(path, lockTimeout)
	if err != nil {
		return 0, err
	}
	subs, err := b.List(context.Background())
	err = errors.Join(err, b.Close())
	next := NewMemory()
	for i := range subs {
		if err == nil {
			err = next.Put(context.Background(), subs[i])
		}
		clear(subs[i].PSK)
	}
	if err != nil {
		next.wipe()
		return 0, fmt.Errorf("%w: %s: %w", ErrStore, path, err)
	}
	f.path.Store(&path)
	if old := f.cur.Swap(next); old != nil {
		old.wipe()
	}
	return len(subs), nil
}

// Path is the file last loaded.
func (f *FileStore) Path() string { return *f.path.Load() }

// Len is the number of subscribers loaded.
func (f *FileStore) Len() int {
	m := f.cur.Load()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.subs)
}

// Get implements SubscriberStore. A Get that raced a Load and found the
// old set already wiped asks the new one.
func (f *FileStore) Get(ctx context.Context, id mip6tls.MNIdentifier) (Subscriber, error) {
	for {
		m := f.cur.Load()
		s, err := m.Get(ctx, id)
		if err == nil || f.cur.Load() == m {
			return s, err
		}
	}
}

// Put returns ErrReadOnly.
func (f *FileStore) Put(context.Context, Subscriber) error { return ErrReadOnly }

// Remove returns ErrReadOnly.
func (f *FileStore) Remove(context.Context, mip6tls.MNIdentifier) error { return ErrReadOnly }

// List implements SubscriberStore.
func (f *FileStore) List(ctx context.Context) ([]Subscriber, error) { return f.cur.Load().List(ctx) }

// Close wipes the PSKs held.
func (f *FileStore) Close() error {
	f.cur.Load().wipe()
	return nil
}

// wipe clears every PSK and forgets the subscribers.
func (m *Memory) wipe() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.subs {
		clear(s.PSK)
	}
	clear(m.subs)
}
