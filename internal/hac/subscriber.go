package hac

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"sync"

	"github.com/fhkey/fhkey/mip6tls"
)

// Errors of the subscriber stores.
var (
	// ErrUnknownSubscriber: no subscriber has this identity.
	ErrUnknownSubscriber = errors.New("hac: unknown subscriber")
	// ErrSubscriber: a subscriber record is invalid.
	ErrSubscriber = errors.New("hac: invalid subscriber")
	// ErrStore: the store failed (I/O, a closed store, a corrupt record).
	ErrStore = errors.New("hac: subscriber store failed")
)

// MaxPSKLen bounds a subscriber's PSK (RFC 6618 §5.8: "can be variable
// length"; 1024 octets is far beyond any use).
const MaxPSKLen = 1024

// Subscriber is one MN the HAC serves: its identity (§5.5.1), the
// methods it may use (§5.5.2), its PSK for psk (§5.8), and its
// bootstrapping data (§5.7: home address, home network prefix, DNS).
// String redacts the PSK.
type Subscriber struct {
	Identity mip6tls.MNIdentifier
	Methods  []mip6tls.AuthMethod
	PSK      []byte
	// HomeAddress and HomePrefix are the MN's (either may be invalid:
	// absent); DNS the DNS server sent with them.
	HomeAddress netip.Addr
	HomePrefix  netip.Prefix
	DNS         netip.Addr
}

// Allows reports whether s may authenticate with m.
func (s *Subscriber) Allows(m mip6tls.AuthMethod) bool { return slices.Contains(s.Methods, m) }

// Check validates s: a well-formed identity, at least one known method,
// a PSK (1..MaxPSKLen octets) exactly when psk is allowed.
func (s *Subscriber) Check() error {
	if _, err := mip6tls.MarshalMessage(mip6tls.Message{Identifier: 1, Parameters: []mip6tls.Parameter{s.Identity}}); err != nil {
		return fmt.Errorf("%w: identity %q: %w", ErrSubscriber, s.Identity, err)
	}
	if len(s.Methods) == 0 {
		return fmt.Errorf("%w: %s: no authentication method", ErrSubscriber, s.Identity)
	}
	for _, m := range s.Methods {
		if m != mip6tls.AuthMethodPSK && m != mip6tls.AuthMethodEAP {
			return fmt.Errorf("%w: %s: method %q", ErrSubscriber, s.Identity, m)
		}
	}
	if s.Allows(mip6tls.AuthMethodPSK) != (len(s.PSK) > 0) || len(s.PSK) > MaxPSKLen {
		return fmt.Errorf("%w: %s: a PSK of 1..%d octets is needed with psk, and only then", ErrSubscriber, s.Identity, MaxPSKLen)
	}
	return nil
}

// String names the subscriber without its PSK.
func (s Subscriber) String() string {
	return fmt.Sprintf("Subscriber(%s, methods %v, psk %d octets redacted, hoa %v, hnp %v)", s.Identity, s.Methods, len(s.PSK), s.HomeAddress, s.HomePrefix)
}

// GoString is String, so that %#v redacts too.
func (s Subscriber) GoString() string { return s.String() }

// clone returns a deep copy (the caller may clear its PSK).
func (s Subscriber) clone() Subscriber {
	s.Methods = slices.Clone(s.Methods)
	s.PSK = slices.Clone(s.PSK)
	return s
}

// SubscriberStore finds subscribers by identity. Get returns a copy whose
// PSK the caller clears; an absent identity wraps ErrUnknownSubscriber.
type SubscriberStore interface {
	Get(ctx context.Context, id mip6tls.MNIdentifier) (Subscriber, error)
	Put(ctx context.Context, s Subscriber) error
	Remove(ctx context.Context, id mip6tls.MNIdentifier) error
	List(ctx context.Context) ([]Subscriber, error)
}

// Memory is a SubscriberStore in memory (tests, the benchmark).
type Memory struct {
	mu   sync.RWMutex
	subs map[mip6tls.MNIdentifier]Subscriber
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{subs: map[mip6tls.MNIdentifier]Subscriber{}} }

// Get implements SubscriberStore.
func (m *Memory) Get(_ context.Context, id mip6tls.MNIdentifier) (Subscriber, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.subs[id]
	if !ok {
		return Subscriber{}, fmt.Errorf("%w: %s", ErrUnknownSubscriber, id)
	}
	return s.clone(), nil
}

// Put implements SubscriberStore: it adds or replaces s after Check.
func (m *Memory) Put(_ context.Context, s Subscriber) error {
	if err := s.Check(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.subs[s.Identity]; ok {
		clear(old.PSK)
	}
	m.subs[s.Identity] = s.clone()
	return nil
}

// Remove implements SubscriberStore.
func (m *Memory) Remove(_ context.Context, id mip6tls.MNIdentifier) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownSubscriber, id)
	}
	clear(s.PSK)
	delete(m.subs, id)
	return nil
}

// List implements SubscriberStore, sorted by identity.
func (m *Memory) List(_ context.Context) ([]Subscriber, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Subscriber, 0, len(m.subs))
	for _, s := range m.subs {
		out = append(out, s.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Identity < out[j].Identity })
	return out, nil
}
