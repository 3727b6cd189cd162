package rolemetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/ha"
)

type haBy = by[ha.Stats]

// RegisterHA registers the home agent's metrics (RFC 6618 §6, docs/ha.md),
// read at each scrape from stats (ha.HomeAgent.Stats).
func RegisterHA(reg prometheus.Registerer, stats func() ha.Stats) {
	c := &statsCollector[ha.Stats]{stats: stats}
	c.add("fhkey_ha_security_associations_total", "Security associations installed from the HAC (event: installed, replaced by a re-bootstrap, expired).", "event",
		haBy{"installed", func(s *ha.Stats) uint64 { return s.SAsInstalled }},
		haBy{"replaced", func(s *ha.Stats) uint64 { return s.SAsReplaced }},
		haBy{"expired", func(s *ha.Stats) uint64 { return s.SAsExpired }})
	c.add("fhkey_ha_bindings_expired_total", "Binding cache entries dropped at the end of their lifetime or of their SA's validity.", "",
		haBy{"", func(s *ha.Stats) uint64 { return s.BindingsExpired }})
	c.add("fhkey_ha_binding_updates_total", "Binding Updates answered, by BA status: accepted (0), home_registration_not_supported (131), not_home_subnet (132), not_home_agent_for_this_mobile (133), sequence_out_of_window (135), reinit_sa_with_hac (176).", "status",
		haBy{"accepted", func(s *ha.Stats) uint64 { return s.BindingUpdatesAccepted }},
		haBy{"home_registration_not_supported", func(s *ha.Stats) uint64 { return s.BindingUpdatesRejected.HomeRegistrationNotSupported }},
		haBy{"not_home_subnet", func(s *ha.Stats) uint64 { return s.BindingUpdatesRejected.NotHomeSubnet }},
		haBy{"not_home_agent_for_this_mobile", func(s *ha.Stats) uint64 { return s.BindingUpdatesRejected.NotHomeAgentForThisMobile }},
		haBy{"sequence_out_of_window", func(s *ha.Stats) uint64 { return s.BindingUpdatesRejected.SequenceOutOfWindow }},
		haBy{"reinit_sa_with_hac", func(s *ha.Stats) uint64 { return s.BindingUpdatesRejected.ReinitSAWithHAC }})
	c.add("fhkey_ha_data_packets_total", "Reverse-tunneled packets forwarded, by direction: from_mobile (to the home link), to_mobile (to the care-of address).", "direction",
		haBy{"from_mobile", func(s *ha.Stats) uint64 { return s.DataFromMobile }},
		haBy{"to_mobile", func(s *ha.Stats) uint64 { return s.DataToMobile }})
	d := func(name string, f func(*ha.Drops) uint64) haBy {
		return haBy{name, func(s *ha.Stats) uint64 { return f(&s.Drops) }}
	}
	c.add("fhkey_ha_dropped_total", "Packets silently discarded, by reason (docs/ha.md, Counters).", "reason",
		d("malformed", func(x *ha.Drops) uint64 { return x.Malformed }),
		d("spi_zero", func(x *ha.Drops) uint64 { return x.SPIZero }),
		d("unknown_spi", func(x *ha.Drops) uint64 { return x.UnknownSPI }),
		d("replayed", func(x *ha.Drops) uint64 { return x.Replayed }),
		d("too_old", func(x *ha.Drops) uint64 { return x.TooOld }),
		d("icv", func(x *ha.Drops) uint64 { return x.ICV }),
		d("scope", func(x *ha.Drops) uint64 { return x.Scope }),
		d("expired_sa", func(x *ha.Drops) uint64 { return x.ExpiredSA }),
		d("not_binding_update", func(x *ha.Drops) uint64 { return x.NotBindingUpdate }),
		d("inner_source", func(x *ha.Drops) uint64 { return x.InnerSource }),
		d("no_binding", func(x *ha.Drops) uint64 { return x.NoBinding }),
		d("dummy", func(x *ha.Drops) uint64 { return x.Dummy }),
		d("seal_failed", func(x *ha.Drops) uint64 { return x.SealFailed }),
		d("lease", func(x *ha.Drops) uint64 { return x.Lease }),
		d("store", func(x *ha.Drops) uint64 { return x.Store }))
	c.add("fhkey_ha_inbound_lease_total", "Inbound Sequence Number leases (docs/ha.md): writes (one transaction each, every SA due), write_failures, waits (packets beyond their lease that waited for its write).", "event",
		haBy{"writes", func(s *ha.Stats) uint64 { return s.Leases.Writes }},
		haBy{"write_failures", func(s *ha.Stats) uint64 { return s.Leases.WriteFailures }},
		haBy{"waits", func(s *ha.Stats) uint64 { return s.Leases.Waits }})
	reg.MustRegister(c)
}
