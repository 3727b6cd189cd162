package subscribers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fhkey/fhkey/mh"
)

// Memory is a Store store in memory, for tests and the in-process
// demo: lost when the process ends.
type Memory struct {
	mu     sync.Mutex
	subs   map[string]*memoryEntry
	closed bool
}

type memoryEntry struct {
	s       Subscriber
	last    mh.NTPTimestamp
	hasLast bool
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{subs: map[string]*memoryEntry{}} }

func (m *Memory) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	return nil
}

func (m *Memory) entry(nai string) (*memoryEntry, error) {
	if err := checkNAI(nai); err != nil {
		return nil, err
	}
	e, ok := m.subs[nai]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSubscriber, nai)
	}
	return e, nil
}

// clone returns a deep copy of s, with its HMK only if withHMK.
func clone(s *Subscriber, withHMK bool) Subscriber {
	c := *s
	c.ARPrefixes = slices.Clone(s.ARPrefixes)
	c.HMK = nil
	if withHMK {
		c.HMK = slices.Clone(s.HMK)
	}
	return c
}

// Get implements Subscribers.
func (m *Memory) Get(ctx context.Context, nai string) (Subscriber, error) {
	if err := m.lock(ctx); err != nil {
		return Subscriber{}, err
	}
	defer m.mu.Unlock()
	e, err := m.entry(nai)
	if err != nil {
		return Subscriber{}, err
	}
	return clone(&e.s, true), nil
}

// Load implements Loader.
func (m *Memory) Load(ctx context.Context, nai string, dst *Subscriber) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	e, err := m.entry(nai)
	if err != nil {
		return err
	}
	hmk, prefixes := dst.HMK[:0], dst.ARPrefixes[:0]
	*dst = e.s
	dst.HMK = append(hmk, e.s.HMK...)
	dst.ARPrefixes = append(prefixes, e.s.ARPrefixes...)
	return nil
}

// Put implements Subscribers.
func (m *Memory) Put(ctx context.Context, s *Subscriber) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if e, ok := m.subs[s.NAI]; ok {
		e.s.Zero()
		e.s = clone(s, true)
		return nil
	}
	m.subs[s.NAI] = &memoryEntry{s: clone(s, true)}
	return nil
}

// Delete implements Subscribers.
func (m *Memory) Delete(ctx context.Context, nai string) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	e, err := m.entry(nai)
	if err != nil {
		return err
	}
	e.s.Zero()
	delete(m.subs, nai)
	return nil
}

// List implements Subscribers.
func (m *Memory) List(ctx context.Context, withHMK bool) ([]Subscriber, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	all := make([]Subscriber, 0, len(m.subs))
	for _, e := range m.subs {
		all = append(all, clone(&e.s, withHMK))
	}
	slices.SortFunc(all, func(a, b Subscriber) int { return strings.Compare(a.NAI, b.NAI) })
	return all, nil
}

// AdvanceTimestamp implements Subscribers.
func (m *Memory) AdvanceTimestamp(ctx context.Context, nai string, ts mh.NTPTimestamp) (bool, error) {
	if err := m.lock(ctx); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	e, err := m.entry(nai)
	if err != nil {
		return false, err
	}
	if e.hasLast && TimestampOrder(ts) <= TimestampOrder(e.last) {
		return false, nil
	}
	e.last, e.hasLast = ts, true
	return true, nil
}

// LastTimestamp implements Subscribers.
func (m *Memory) LastTimestamp(ctx context.Context, nai string) (mh.NTPTimestamp, bool, error) {
	if err := m.lock(ctx); err != nil {
		return 0, false, err
	}
	defer m.mu.Unlock()
	e, err := m.entry(nai)
	if err != nil {
		return 0, false, err
	}
	return e.last, e.hasLast, nil
}

// Close implements Subscribers: it wipes every HMK. It is idempotent.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.subs {
		e.s.Zero()
	}
	m.subs, m.closed = nil, true
	return nil
}
