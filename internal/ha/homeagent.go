package ha

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/mip6sa"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// Defaults of Config.
const (
	DefaultMaxLifetime = time.Hour
	DefaultGrace       = 5 * time.Minute
	// SequenceBlock is how far ahead of the last outbound Sequence Number
	// the persisted reservation runs: a restart resumes sealing after the
	// reservation, so no number is ever sent twice, and the store is
	// written once per SequenceBlock packets.
	SequenceBlock = 1 << 16
)

// Config configures a HomeAgent.
type Config struct {
	// HomePrefix is the home link's prefix (RFC 6275 §10.3.1: a home
	// address off it is refused with status 132).
	HomePrefix netip.Prefix
	// Address is the home agent's address, the source of the pseudo-header
	// of the Binding Acknowledgement's checksum when the SA's bootstrapping
	// data has no mip6-haa-ip6 (RFC 6618 §5.7.1).
	Address netip.Addr
	// MaxLifetime caps a binding's lifetime (RFC 6275 §10.3.1: "MAY
	// further decrease"); 0 means DefaultMaxLifetime.
	MaxLifetime time.Duration
	// Grace is how long an SA is kept after its validity end, only to
	// answer a Binding Update with REINIT_SA_WITH_HAC (176, RFC 6618 §8.2);
	// 0 means DefaultGrace, negative none.
	Grace time.Duration
	// Store persists SAs and bindings; nil keeps them in memory only.
	Store Store
	// Rand supplies the CBC IVs; nil means crypto/rand.
	Rand io.Reader
	// HoldBeyondLease makes HandleUDP return a verified packet beyond its
	// SA's inbound lease (ErrLeaseWait) instead of writing the lease
	// itself, so that the caller can write the leases of many such packets
	// at once (the node does) and then hand them to HandleHeld.
	HoldBeyondLease bool
}

// Store persists the home agent's state. Each call is one change; the role
// makes the change only when the call succeeded.
type Store interface {
	PutSA(SARecord) error
	DeleteSA(mip6udp.SPI) error
	PutBinding(Binding) error
	DeleteBinding(homeAddress netip.Addr) error
	// PutLeases stores the inbound lease of each SA, all in one write;
	// an SA no longer stored is skipped.
	PutLeases([]Lease) error
}

// SARecord is what the Store keeps of an SA: the SA with its keys, the
// bootstrapping data, and the Sequence Number state of both directions.
type SARecord struct {
	SA        mip6tls.SecurityAssociation
	Bootstrap mip6tls.Bootstrap
	// OutReserved: Seal may use Sequence Numbers up to it; a restart
	// resumes after it.
	OutReserved uint32
	// InHighest: the highest Sequence Number received when the record
	// was written.
	InHighest uint32
	// InLease: the inbound lease, ≥ every Sequence Number the home agent
	// accepted (the highest one after a clean stop). A restart accepts
	// only numbers beyond max(InHighest, InLease).
	InLease uint32
}

// Binding is a binding cache entry (RFC 6275 §9.1) of a home
// registration.
type Binding struct {
	HomeAddress netip.Addr     `json:"home_address"`
	CareOf      netip.AddrPort `json:"care_of"` // address and UDP port the BU came from
	SPI         mip6udp.SPI    `json:"spi"`
	Sequence    uint16         `json:"sequence"`
	Expires     time.Time      `json:"expires"`
}

// SAInfo describes an installed SA without its keys (for /status).
type SAInfo struct {
	SPI         mip6udp.SPI   `json:"spi"`
	Suite       string        `json:"suite"`
	Scope       mip6udp.Scope `json:"scope"`
	HomeAddress netip.Addr    `json:"home_address"`
	ValidUntil  time.Time     `json:"valid_until"`
	Expired     bool          `json:"expired"`
}

type association struct {
	pair *mip6sa.Pair
	rec  SARecord
	in   inboundLease
}

// HomeAgent is the RFC 6618 §6 home agent role. It is safe for concurrent
// use.
type HomeAgent struct {
	cfg      Config
	mu       sync.Mutex
	sas      map[mip6udp.SPI]*association
	byHoA    map[netip.Addr]mip6udp.SPI
	bindings map[netip.Addr]*Binding
	byCoA    map[netip.AddrPort]netip.Addr
	// previous is the SA a re-bootstrap replaced, per home address, kept
	// while the binding still uses it (until a BU under the new SA).
	previous map[netip.Addr]mip6udp.SPI
	// changed are the home addresses whose binding was created or
	// removed since the last BindingChanges: the node routes only those.
	changed map[netip.Addr]struct{}
	stats   Stats
	// leaseDue signals that a lease is wanted (LeaseDue); writeMu
	// serializes the store writes made without mu (lease writes, a new
	// SPI's install) and is taken before mu.
	leaseDue chan struct{}
	writeMu  sync.Mutex
}

// New returns a home agent with no SA and no binding.
func New(cfg Config) *HomeAgent {
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = DefaultMaxLifetime
	}
	if cfg.Grace == 0 {
		cfg.Grace = DefaultGrace
	}
	return &HomeAgent{cfg: cfg, sas: map[mip6udp.SPI]*association{}, byHoA: map[netip.Addr]mip6udp.SPI{},
		bindings: map[netip.Addr]*Binding{}, byCoA: map[netip.AddrPort]netip.Addr{}, previous: map[netip.Addr]mip6udp.SPI{},
		changed: map[netip.Addr]struct{}{}, leaseDue: make(chan struct{}, 1)}
}

// InstallSA installs an SA the HAC provisioned (RFC 6618 §4.3). It needs
// an IPv6 home address in bs: "the home address unequivocally identifying
// the security association" (RFC 6275 §10.3.1). An SA with the same SPI is
// replaced at once. Another SA of the same home address (a re-bootstrap)
// is replaced too, but while the binding still uses it, it is kept for that
// binding until the MN registers under the new SA (the MN keeps using it
// until then, docs/ha.md). An SA whose validity already ended is refused.
func (h *HomeAgent) InstallSA(now time.Time, sa mip6tls.SecurityAssociation, bs mip6tls.Bootstrap) error {
	if !bs.HomeAddress6.IsValid() {
		return fmt.Errorf("%w: no IPv6 home address (mip6-ip6-hoa, RFC 6618 §5.7.3)", ErrSA)
	}
	if !now.Before(sa.ValidityEnd) {
		return fmt.Errorf("%w: SPI %d: validity ended %s (§5.6.3)", ErrSA, sa.SPI, sa.ValidityEnd.UTC().Format(time.RFC3339))
	}
	// Installs are serialized by writeMu (with the lease writes), so
	// that the store sees them in the order the table does. A new SPI —
	// every provisioning but a re-install — is written to the store
	// without h.mu: the packet path, which takes h.mu, does not wait for
	// the fsync (docs/ha.md, "Persistence"). No other write can touch the
	// record of an SPI that is not in the table meanwhile: the packet
	// path writes only installed SAs' records, and the lease writes and
	// the other installs wait for writeMu. An SA already installed with
	// this SPI may write its record from the packet path (an outbound
	// reservation): that rare re-install is done under h.mu throughout.
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	a, err := h.build(SARecord{SA: sa, Bootstrap: bs}) // under h.mu: Config.Rand is the packet path's too
	if err != nil {
		h.mu.Unlock()
		return err
	}
	if _, reinstall := h.sas[a.pair.SPI]; reinstall {
		err = h.store().PutSA(a.rec)
	} else {
		h.mu.Unlock()
		err = h.store().PutSA(a.rec)
		h.mu.Lock()
	}
	if err != nil {
		h.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	retired := h.place(a)
	h.mu.Unlock()
	// Retired SAs are out of the table: no packet writes their records,
	// and another install of their SPI waits for writeMu.
	for _, spi := range retired {
		_ = h.store().DeleteSA(spi)
	}
	return nil
}

func (h *HomeAgent) expiredPastGrace(now, end time.Time) bool {
	return !now.Before(end.Add(max(h.cfg.Grace, 0)))
}

// store returns the Store, or one that keeps nothing.
func (h *HomeAgent) store() Store {
	if h.cfg.Store == nil {
		return nopStore{}
	}
	return h.cfg.Store
}

type nopStore struct{}

func (nopStore) PutSA(SARecord) error           { return nil }
func (nopStore) DeleteSA(mip6udp.SPI) error     { return nil }
func (nopStore) PutBinding(Binding) error       { return nil }
func (nopStore) DeleteBinding(netip.Addr) error { return nil }
func (nopStore) PutLeases([]Lease) error        { return nil }

func (h *HomeAgent) bind(b Binding) {
	if old := h.bindings[b.HomeAddress]; old != nil {
		delete(h.byCoA, old.CareOf)
	} else {
		h.changed[b.HomeAddress] = struct{}{}
	}
	h.bindings[b.HomeAddress] = &b
	h.byCoA[b.CareOf] = b.HomeAddress
}

func (h *HomeAgent) unbind(hoa netip.Addr) {
	if b := h.bindings[hoa]; b != nil {
		delete(h.byCoA, b.CareOf)
		delete(h.bindings, hoa)
		h.changed[hoa] = struct{}{}
	}
}

// BindingChanges returns the home addresses whose binding was created or
// removed since the last call, each with whether it is bound now: what
// the node's home-link routes must follow, without a pass over the whole
// cache on every registration or provisioning.
func (h *HomeAgent) BindingChanges() map[netip.Addr]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.changed) == 0 {
		return nil
	}
	out := make(map[netip.Addr]bool, len(h.changed))
	for hoa := range h.changed {
		out[hoa] = h.bindings[hoa] != nil
	}
	clear(h.changed)
	return out
}

// Expire drops the bindings whose lifetime ended or whose SA's validity
// ended (RFC 6275 §10.3.1: "MUST be deleted by the home agent after the
// expiration of this lifetime"), and the SAs past validity and grace. It
// returns the time of the next expiry (zero when nothing is left), for the
// node's timer.
func (h *HomeAgent) Expire(now time.Time) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	var next time.Time
	soonest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for hoa, b := range h.bindings {
		a := h.sas[b.SPI]
		if now.Before(b.Expires) && a != nil && a.pair.Valid(now) {
			soonest(b.Expires)
			soonest(a.pair.ValidUntil)
			continue
		}
		h.unbind(hoa)
		h.stats.BindingsExpired++
		_ = h.store().DeleteBinding(hoa)
	}
	for spi, a := range h.sas {
		if !h.expiredPastGrace(now, a.pair.ValidUntil) {
			soonest(a.pair.ValidUntil.Add(max(h.cfg.Grace, 0)))
			continue
		}
		h.forget(spi)
		h.stats.SAsExpired++
		_ = h.store().DeleteSA(spi)
	}
	return next
}

// Stats returns a copy of the counters.
func (h *HomeAgent) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}

// SAs lists the installed SAs by SPI, without keys.
func (h *HomeAgent) SAs(now time.Time) []SAInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]SAInfo, 0, len(h.sas))
	for _, a := range h.sas {
		out = append(out, SAInfo{SPI: a.pair.SPI, Suite: a.pair.Suite.Name, Scope: a.pair.Scope,
			HomeAddress: a.pair.HomeAddress, ValidUntil: a.pair.ValidUntil, Expired: !a.pair.Valid(now)})
	}
	slices.SortFunc(out, func(a, b SAInfo) int { return cmp.Compare(a.SPI, b.SPI) })
	return out
}

// Bindings lists the binding cache by home address.
func (h *HomeAgent) Bindings() []Binding {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Binding, 0, len(h.bindings))
	for _, b := range h.bindings {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b Binding) int { return a.HomeAddress.Compare(b.HomeAddress) })
	return out
}
