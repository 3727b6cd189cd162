package rolemetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/pae"
)

type paeBy = by[pae.Stats]

// RegisterPAE registers the 802.1X authenticator's metrics (docs/eap.md,
// The authenticator), read at each scrape from stats
// (pae.Authenticator.Stats): the sessions and authorized supplicants as
// gauges, the outcomes and the drops (an EAPOL flood shows in
// fhkey_pae_dropped_total and fhkey_pae_sessions_evicted_total) as
// counters.
func RegisterPAE(reg prometheus.Registerer, stats func() pae.Stats) {
	c := &statsCollector[pae.Stats]{stats: stats}
	c.add("fhkey_pae_sessions_started_total", "802.1X authentications started (EAPOL-Start, IEEE 802.1X-2010 §8.4).", "",
		paeBy{"", func(s *pae.Stats) uint64 { return s.Started }})
	c.add("fhkey_pae_outcomes_total", "Authentications ended, by outcome: accepted (MSK stored), accepted_no_msk and store_error (EAP-Failure sent), rejected, backend_error (no or bad answer from RADIUS), expired (abandoned), logoff.", "outcome",
		paeBy{"accepted", func(s *pae.Stats) uint64 { return s.Accepted }},
		paeBy{"accepted_no_msk", func(s *pae.Stats) uint64 { return s.AcceptedNoMSK }},
		paeBy{"store_error", func(s *pae.Stats) uint64 { return s.StoreErrors }},
		paeBy{"rejected", func(s *pae.Stats) uint64 { return s.Rejected }},
		paeBy{"backend_error", func(s *pae.Stats) uint64 { return s.BackendErrors }},
		paeBy{"expired", func(s *pae.Stats) uint64 { return s.Expired }},
		paeBy{"logoff", func(s *pae.Stats) uint64 { return s.Logoffs }})
	c.add("fhkey_pae_reauthentications_total", "Re-authentications of authenticated supplicants before their MSK expires (IEEE 802.1X-2004 §8.2.4), by result: ok (new MSK stored), failed (the old MSK stays until it expires).", "result",
		paeBy{"ok", func(s *pae.Stats) uint64 { return s.Reauthenticated }},
		paeBy{"failed", func(s *pae.Stats) uint64 { return s.ReauthFailed }})
	c.add("fhkey_pae_retransmissions_total", "EAP-Requests sent again to a silent supplicant (RFC 3748 §4.3).", "",
		paeBy{"", func(s *pae.Stats) uint64 { return s.Retransmissions }})
	c.add("fhkey_pae_sessions_evicted_total", "Sessions evicted to make room for a new supplicant (table full).", "",
		paeBy{"", func(s *pae.Stats) uint64 { return s.Evicted }})
	c.add("fhkey_pae_quiet_evicted_total", "Quiet periods cut short to bound the table of rejected MAC addresses.", "",
		paeBy{"", func(s *pae.Stats) uint64 { return s.QuietEvicted }})
	c.add("fhkey_pae_quiet_restarts_total", "Authentications the authenticator started itself (EAP-Request/Identity) at the end of a MAC's quiet period (IEEE 802.1X-2004 HELD to RESTART).", "",
		paeBy{"", func(s *pae.Stats) uint64 { return s.QuietRestarts }})
	c.add("fhkey_pae_dropped_total", "EAPOL frames dropped, by reason: rate_limited (per supplicant or session creation), refused (table full of sessions waiting for RADIUS), malformed, unexpected, quiet (EAPOL-Start or EAP-Response in the MAC's quiet period after a rejection, IEEE 802.1X-2004 quietWhile).", "reason",
		paeBy{"rate_limited", func(s *pae.Stats) uint64 { return s.RateLimited }},
		paeBy{"refused", func(s *pae.Stats) uint64 { return s.Refused }},
		paeBy{"malformed", func(s *pae.Stats) uint64 { return s.Malformed }},
		paeBy{"unexpected", func(s *pae.Stats) uint64 { return s.Unexpected }},
		paeBy{"quiet", func(s *pae.Stats) uint64 { return s.Quiet }})
	reg.MustRegister(c,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fhkey_pae_sessions", Help: "802.1X authentications in progress (bounded by MaxSessions)."},
			func() float64 { return float64(stats().Sessions) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fhkey_pae_authorized", Help: "Supplicant MAC addresses authenticated and not logged off."},
			func() float64 { return float64(stats().Authorized) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fhkey_pae_quiet", Help: "Supplicant MAC addresses in their quiet period after a rejection (bounded)."},
			func() float64 { return float64(stats().QuietMACs) }))
}
