package rolemetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/mip6mn"
)

type mip6By = by[mip6mn.Counters]

// RegisterMIP6 registers the RFC 6618 mobile node's counters
// (docs/mip6mn.md, Counters), read from counters at each scrape.
func RegisterMIP6(reg prometheus.Registerer, counters func() mip6mn.Counters) {
	c := &statsCollector[mip6mn.Counters]{stats: counters}
	c.add("fhkey_mip6_binding_updates_total", "Binding Updates sent to the home agent (RFC 6618 §6.3), by kind: sent (all), retransmitted (RFC 6275 §11.8).", "kind",
		mip6By{"sent", func(s *mip6mn.Counters) uint64 { return s.BindingUpdatesSent }},
		mip6By{"retransmitted", func(s *mip6mn.Counters) uint64 { return s.BindingUpdatesRetransmitted }})
	c.add("fhkey_mip6_binding_acknowledgements_total", "Binding Acknowledgements matching a Binding Update, by result: accepted, refused (status >= 128, 135 or lifetime 0).", "result",
		mip6By{"accepted", func(s *mip6mn.Counters) uint64 { return s.BindingAcknowledgementsAccepted }},
		mip6By{"refused", func(s *mip6mn.Counters) uint64 { return s.BindingAcknowledgementsRefused }})
	c.add("fhkey_mip6_bootstraps_total", "New SAs bootstrapped with the HAC before mip6-sa-validity-end, by result: ok, failed.", "result",
		mip6By{"ok", func(s *mip6mn.Counters) uint64 { return s.Bootstraps }},
		mip6By{"failed", func(s *mip6mn.Counters) uint64 { return s.BootstrapFailures }})
	c.add("fhkey_mip6_data_packets_total", "User data packets through the tunnel (RFC 6618 §6.4), by direction: sent, received.", "direction",
		mip6By{"sent", func(s *mip6mn.Counters) uint64 { return s.DataSent }},
		mip6By{"received", func(s *mip6mn.Counters) uint64 { return s.DataReceived }})
	d := func(f func(*mip6mn.Drops) uint64) func(*mip6mn.Counters) uint64 {
		return func(s *mip6mn.Counters) uint64 { return f(&s.Drops) }
	}
	c.add("fhkey_mip6_dropped_total", "Packets dropped, by reason (docs/mip6mn.md, Counters).", "reason",
		mip6By{"malformed", d(func(s *mip6mn.Drops) uint64 { return s.Malformed })},
		mip6By{"auth", d(func(s *mip6mn.Drops) uint64 { return s.Auth })},
		mip6By{"replayed", d(func(s *mip6mn.Drops) uint64 { return s.Replayed })},
		mip6By{"scope", d(func(s *mip6mn.Drops) uint64 { return s.Scope })},
		mip6By{"unexpected", d(func(s *mip6mn.Drops) uint64 { return s.Unexpected })},
		mip6By{"source", d(func(s *mip6mn.Drops) uint64 { return s.Source })},
		mip6By{"dummy", d(func(s *mip6mn.Drops) uint64 { return s.Dummy })},
		mip6By{"not_for_home", d(func(s *mip6mn.Drops) uint64 { return s.NotForHome })},
		mip6By{"not_from_home", d(func(s *mip6mn.Drops) uint64 { return s.NotFromHome })},
		mip6By{"not_registered", d(func(s *mip6mn.Drops) uint64 { return s.NotRegistered })},
		mip6By{"no_sa", d(func(s *mip6mn.Drops) uint64 { return s.NoSA })},
		mip6By{"plaintext_refused", d(func(s *mip6mn.Drops) uint64 { return s.PlaintextRefused })},
		mip6By{"send_failed", d(func(s *mip6mn.Drops) uint64 { return s.SendFailed })})
	reg.MustRegister(c)
}
