package mip6mn

import (
	"net/netip"
	"time"
)

// Status is the role's state for /status: the SA without its keys, the
// binding, the counters.
type Status struct {
	State       State          `json:"state"`
	HomeAddress netip.Addr     `json:"home_address"`
	HomeAgent   netip.AddrPort `json:"home_agent"`
	CareOf      netip.Addr     `json:"care_of_address"`
	SA          SAStatus       `json:"sa"`
	// Sequence is that of the last Binding Update sent.
	Sequence uint16 `json:"sequence"`
	// Outstanding: a Binding Update waits for its acknowledgement.
	Outstanding bool `json:"outstanding"`
	// LastStatus is the status of the last Binding Acknowledgement, -1
	// before any.
	LastStatus int        `json:"last_status"`
	Lifetime   Seconds    `json:"lifetime_s"`
	Expires    *time.Time `json:"expires,omitempty"`
	NextBU     *time.Time `json:"next_binding_update,omitempty"`
	Counters   Counters   `json:"counters"`
}

// SAStatus describes the current SA; it has no field for a key.
type SAStatus struct {
	SPI           uint32    `json:"spi"`
	Suite         string    `json:"ciphersuite"`
	Scope         uint8     `json:"mip6_sas"`
	ValidUntil    time.Time `json:"valid_until"`
	RebootstrapAt time.Time `json:"rebootstrap_at"`
	PreviousSPI   uint32    `json:"previous_spi,omitempty"`
}

// Seconds is a duration shown in seconds.
type Seconds float64

// Status returns a snapshot.
func (m *MobileNode) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Status{
		State: m.state, HomeAddress: m.cur.home, HomeAgent: m.cur.homeAgent, CareOf: m.coa,
		Sequence: m.seq, Outstanding: m.outstanding, LastStatus: m.lastStatus,
		SA: SAStatus{
			SPI: uint32(m.cur.pair.SPI), Suite: m.cur.pair.Suite.Name, Scope: uint8(m.cur.pair.Scope),
			ValidUntil: m.cur.pair.ValidUntil, RebootstrapAt: m.bootAt,
		},
		Counters: m.c.snapshot(),
	}
	if m.prev != nil {
		s.SA.PreviousSPI = uint32(m.prev.pair.SPI)
	}
	if m.state == StateRegistered {
		e := m.expires
		s.Expires = &e
		s.Lifetime = Seconds(m.granted.Seconds())
	}
	if m.state != StateIdle {
		n := m.nextTx
		s.NextBU = &n
	}
	return s
}
