package mip6mn

import "sync/atomic"

// Counters are what the role has done and dropped since it started; a
// snapshot from MobileNode.Counters. Every dropped packet counts in
// exactly one Drop field.
type Counters struct {
	BindingUpdatesSent              uint64 `json:"binding_updates_sent"`
	BindingUpdatesRetransmitted     uint64 `json:"binding_updates_retransmitted"`
	BindingAcknowledgementsAccepted uint64 `json:"binding_acknowledgements_accepted"`
	BindingAcknowledgementsRefused  uint64 `json:"binding_acknowledgements_refused"`
	BindingRefreshRequests          uint64 `json:"binding_refresh_requests"`
	Bootstraps                      uint64 `json:"bootstraps"`
	BootstrapFailures               uint64 `json:"bootstrap_failures"`
	DataSent                        uint64 `json:"data_sent"`
	DataReceived                    uint64 `json:"data_received"`
	Drops                           Drops  `json:"drops"`
}

// Drops counts dropped packets per reason.
type Drops struct {
	// Received from the home agent.
	Malformed  uint64 `json:"malformed"`    // ErrParse
	Auth       uint64 `json:"auth"`         // unknown SPI, ICV, padding
	Replayed   uint64 `json:"replayed"`     // mip6udp.ErrReplayed, ErrTooOld
	Scope      uint64 `json:"scope"`        // PType not allowed by mip6-sas
	Unexpected uint64 `json:"unexpected"`   // BA matching no BU, other MH types
	Source     uint64 `json:"source"`       // not from the home agent's address
	Dummy      uint64 `json:"dummy"`        // Next Header 59 (RFC 4303 §2.6)
	NotForHome uint64 `json:"not_for_home"` // inner destination is not the home address
	// Sent by the host through the home address.
	NotFromHome      uint64 `json:"not_from_home"`     // inner source is not the home address
	NotRegistered    uint64 `json:"not_registered"`    // no binding yet
	NoSA             uint64 `json:"no_sa"`             // SA expired or absent
	PlaintextRefused uint64 `json:"plaintext_refused"` // mip6-sas 0, plaintext not allowed
	SendFailed       uint64 `json:"send_failed"`       // Send or Seal failed
}

// counters is the live, atomically updated form of Counters.
type counters struct {
	buSent, buRetransmitted, baAccepted, baRefused, brr   atomic.Uint64
	bootstraps, bootstrapFailures, dataSent, dataReceived atomic.Uint64
	malformed, auth, replayed, scope, unexpected, source  atomic.Uint64
	dummy, notForHome, notFromHome, notRegistered, noSA   atomic.Uint64
	plaintextRefused, sendFailed                          atomic.Uint64
}

func (c *counters) snapshot() Counters {
	return Counters{
		BindingUpdatesSent:              c.buSent.Load(),
		BindingUpdatesRetransmitted:     c.buRetransmitted.Load(),
		BindingAcknowledgementsAccepted: c.baAccepted.Load(),
		BindingAcknowledgementsRefused:  c.baRefused.Load(),
		BindingRefreshRequests:          c.brr.Load(),
		Bootstraps:                      c.bootstraps.Load(),
		BootstrapFailures:               c.bootstrapFailures.Load(),
		DataSent:                        c.dataSent.Load(),
		DataReceived:                    c.dataReceived.Load(),
		Drops: Drops{
			Malformed: c.malformed.Load(), Auth: c.auth.Load(), Replayed: c.replayed.Load(),
			Scope: c.scope.Load(), Unexpected: c.unexpected.Load(), Source: c.source.Load(),
			Dummy: c.dummy.Load(), NotForHome: c.notForHome.Load(), NotFromHome: c.notFromHome.Load(),
			NotRegistered: c.notRegistered.Load(), NoSA: c.noSA.Load(),
			PlaintextRefused: c.plaintextRefused.Load(), SendFailed: c.sendFailed.Load(),
		},
	}
}
