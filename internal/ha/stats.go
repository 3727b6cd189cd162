package ha

import (
	"errors"

	"github.com/fhkey/fhkey/mip6udp"
)

// Stats are the home agent's counters, for /status and /metrics. Every
// packet handed to HandleUDP or FromHomeLink ends in exactly one of the
// success counters or one Drops counter.
type Stats struct {
	SAsInstalled    uint64 `json:"sas_installed"`
	SAsReplaced     uint64 `json:"sas_replaced"`
	SAsExpired      uint64 `json:"sas_expired"`
	BindingsExpired uint64 `json:"bindings_expired"`
	// BindingUpdatesAccepted counts BUs answered with status 0
	// (registrations and de-registrations).
	BindingUpdatesAccepted uint64 `json:"binding_updates_accepted"`
	// BindingUpdatesRejected counts BUs answered with a status ≥ 128, by
	// status (RFC 6275 §6.1.8, RFC 6618 §8.2).
	BindingUpdatesRejected Rejections `json:"binding_updates_rejected"`
	// DataFromMobile: inner packets handed to the home link.
	DataFromMobile uint64 `json:"data_from_mobile"`
	// DataToMobile: home-link packets sent to a care-of address.
	DataToMobile uint64     `json:"data_to_mobile"`
	Leases       LeaseStats `json:"leases"`
	Drops        Drops      `json:"drops"`
}

// LeaseStats count the inbound lease's work (docs/ha.md, "Sequence
// Numbers across a restart").
type LeaseStats struct {
	// Writes: Store.PutLeases calls by WriteLeases (each one transaction
	// for every SA whose lease was due).
	Writes        uint64 `json:"writes"`
	WriteFailures uint64 `json:"write_failures"`
	// Waits: verified packets that came beyond their SA's lease before
	// the new one was written and waited for the write (in HandleUDP,
	// or returned with ErrLeaseWait); a packet may wait more than once.
	Waits uint64 `json:"waits"`
}

// Rejections count Binding Acknowledgements by refusal status.
type Rejections struct {
	HomeRegistrationNotSupported uint64 `json:"home_registration_not_supported"` // 131
	NotHomeSubnet                uint64 `json:"not_home_subnet"`                 // 132
	NotHomeAgentForThisMobile    uint64 `json:"not_home_agent_for_this_mobile"`  // 133
	SequenceOutOfWindow          uint64 `json:"sequence_out_of_window"`          // 135
	ReinitSAWithHAC              uint64 `json:"reinit_sa_with_hac"`              // 176
}

// Drops count silently discarded packets by reason.
type Drops struct {
	Malformed        uint64 `json:"malformed"`          // header, lengths, padding, inner packet
	SPIZero          uint64 `json:"spi_zero"`           // PType 1 or 8 with SPI 0
	UnknownSPI       uint64 `json:"unknown_spi"`        // no SA with that SPI
	Replayed         uint64 `json:"replayed"`           // Sequence Number already received
	TooOld           uint64 `json:"too_old"`            // left of the replay window
	ICV              uint64 `json:"icv"`                // Integrity Check Value mismatch
	Scope            uint64 `json:"scope"`              // PType not allowed by mip6-sas
	ExpiredSA        uint64 `json:"expired_sa"`         // data on an SA past its validity
	NotBindingUpdate uint64 `json:"not_binding_update"` // PType 8 without a BU
	InnerSource      uint64 `json:"inner_source"`       // data not from the SA's home address
	NoBinding        uint64 `json:"no_binding"`         // data for/from an unbound home address
	Dummy            uint64 `json:"dummy"`              // Next Header 59 (RFC 4303 §2.6)
	SealFailed       uint64 `json:"seal_failed"`        // outbound Sequence Number exhausted
	Lease            uint64 `json:"lease"`              // beyond the inbound lease, which could not be written
	Store            uint64 `json:"store"`              // state could not be persisted
}

// count adds the drop err to its counter.
func (d *Drops) count(err error) {
	c := &d.Malformed
	for _, m := range []struct {
		cause error
		n     *uint64
	}{
		{ErrSPIZero, &d.SPIZero}, {mip6udp.ErrUnknownSPI, &d.UnknownSPI},
		{mip6udp.ErrReplayed, &d.Replayed}, {mip6udp.ErrTooOld, &d.TooOld},
		{mip6udp.ErrICV, &d.ICV}, {mip6udp.ErrScope, &d.Scope}, {ErrExpiredSA, &d.ExpiredSA},
		{ErrNotBindingUpdate, &d.NotBindingUpdate}, {ErrInnerSource, &d.InnerSource},
		{ErrNoBinding, &d.NoBinding}, {errDummy, &d.Dummy},
		{mip6udp.ErrSequenceNumberExhausted, &d.SealFailed}, {ErrLease, &d.Lease}, {ErrStore, &d.Store},
	} {
		if errors.Is(err, m.cause) {
			c = m.n
			break
		}
	}
	*c++
}

// errDummy marks a dummy packet (Next Header 59), dropped as RFC 4303
// §2.6 asks.
var errDummy = errors.New("ha: dummy packet")
