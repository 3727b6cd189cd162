package rolemetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/radius"
)

// addHKReq adds the shared-key mode's counter families (docs/aaa.md, The
// access router) to the router's collector: zero on a router without
// [aaa].
func addHKReq(c *statsCollector[ar.Stats]) {
	type b = by[ar.Stats]
	c.add("fhkey_ar_hkreq_received_total", "Handover Key Requests received (draft-vidya-mipshop-handover-keys-aaa-04 §6.3).", "",
		b{"", func(s *ar.Stats) uint64 { return s.HKReqReceived }})
	c.add("fhkey_ar_hkreq_dropped_total", "Handover Key Requests silently discarded, by reason: malformed, no_mn_id, no_mac, duplicate (pending), replayed (Timestamp), pending_full, bad_mac (V flag).", "reason",
		b{"malformed", func(s *ar.Stats) uint64 { return s.HKReqMalformed }},
		b{"no_mn_id", func(s *ar.Stats) uint64 { return s.HKReqNoMNID }},
		b{"no_mac", func(s *ar.Stats) uint64 { return s.HKReqNoMAC }},
		b{"duplicate", func(s *ar.Stats) uint64 { return s.HKReqDuplicate }},
		b{"replayed", func(s *ar.Stats) uint64 { return s.HKReqReplayed }},
		b{"pending_full", func(s *ar.Stats) uint64 { return s.HKReqPendingFull }},
		b{"bad_mac", func(s *ar.Stats) uint64 { return s.HKReqBadMAC }})
	c.add("fhkey_ar_hkreq_refused_total", "Handover Key Requests answered with a status by the router itself, by reason: coa_auth_failed (the CoA check), verify_no_key (V flag, no key: HK_VERIFY_FAILED).", "reason",
		b{"coa_auth_failed", func(s *ar.Stats) uint64 { return s.HKReqCoAFailed }},
		b{"verify_no_key", func(s *ar.Stats) uint64 { return s.HKReqVerifyNoKey }})
	c.add("fhkey_ar_hkreq_verify_relayed_total", "V-flag Handover Key Requests without a key here, relayed to the HKS as new requests (§6.3.1).", "",
		b{"", func(s *ar.Stats) uint64 { return s.HKReqVerifyRelayed }})
	c.add("fhkey_ar_hkreq_hks_failures_total", "Requests to the Handover Key Server without a usable key, by result: no_answer, discarded, refused (status relayed), error.", "result",
		b{"no_answer", func(s *ar.Stats) uint64 { return s.HKSNoAnswer }},
		b{"discarded", func(s *ar.Stats) uint64 { return s.HKSDiscarded }},
		b{"refused", func(s *ar.Stats) uint64 { return s.HKSRefused }},
		b{"error", func(s *ar.Stats) uint64 { return s.HKSErrors }})
	c.add("fhkey_ar_hkreq_answered_total", "Handover Key Responses sent, by kind: key (a new HK), verified (V flag), status (an error), resent (a buffered answer to a retransmission).", "kind",
		b{"key", func(s *ar.Stats) uint64 { return s.HKRespSent }},
		b{"verified", func(s *ar.Stats) uint64 { return s.HKRespVerified }},
		b{"status", func(s *ar.Stats) uint64 { return s.HKRespStatus }},
		b{"resent", func(s *ar.Stats) uint64 { return s.HKRespResent }})
	c.add("fhkey_ar_hkreq_resend_limited_total", "Retransmitted Handover Key Requests left unanswered (RETRANS_RATE).", "",
		b{"", func(s *ar.Stats) uint64 { return s.HKRespRateLimited }})
	c.add("fhkey_ar_hkreq_keys_stored_total", "Handover keys stored from the Handover Key Server.", "",
		b{"", func(s *ar.Stats) uint64 { return s.AAAKeysStored }})
	c.add("fhkey_ar_hkreq_answers_dropped_total", "Asynchronous Handover Key Responses dropped because the answer queue was full.", "",
		b{"", func(s *ar.Stats) uint64 { return s.AnswersDropped }})
}

// RegisterAAA registers what an access router with [aaa] adds: the
// exchanges waiting for the HKS and the buffered answers (gauges read from
// exchanges, ar.Router.Exchanges) and the RADIUS client's counters (read
// from stats, radius.Client.Stats), at each scrape.
func RegisterAAA(reg prometheus.Registerer, exchanges func() (pending, buffered int), stats func() radius.ClientStats) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fhkey_ar_hkreq_pending", Help: "Handover Key Requests waiting for the Handover Key Server."},
			func() float64 { p, _ := exchanges(); return float64(p) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fhkey_ar_hkreq_buffered", Help: "Answers buffered for retransmitted Handover Key Requests (HKEY_REQ_TOUT)."},
			func() float64 { _, b := exchanges(); return float64(b) }))
	type b = by[radius.ClientStats]
	c := &statsCollector[radius.ClientStats]{stats: stats}
	c.add("fhkey_radius_client_requests_total", "Key requests to the RADIUS client (one per HKReq relayed).", "",
		b{"", func(s *radius.ClientStats) uint64 { return s.Requests }})
	c.add("fhkey_radius_client_transmissions_total", "Access-Requests sent, retransmissions included.", "",
		b{"", func(s *radius.ClientStats) uint64 { return s.Transmissions }})
	c.add("fhkey_radius_client_retransmissions_total", "Access-Requests sent again (same packet, RFC 5080 §2.2.1).", "",
		b{"", func(s *radius.ClientStats) uint64 { return s.Retransmissions }})
	c.add("fhkey_radius_client_failovers_total", "Moves to the next home server of a realm.", "",
		b{"", func(s *radius.ClientStats) uint64 { return s.Failovers }})
	c.add("fhkey_radius_client_replies_total", "Authenticated replies taken, by code: accept, reject.", "code",
		b{"accept", func(s *radius.ClientStats) uint64 { return s.Accepts }},
		b{"reject", func(s *radius.ClientStats) uint64 { return s.Rejects }})
	c.add("fhkey_radius_client_failures_total", "Key requests that failed, by reason: timeout (no answer from any server), invalid_reply (attributes wrong), unknown_realm, too_many_pending, send_error.", "reason",
		b{"timeout", func(s *radius.ClientStats) uint64 { return s.Timeouts }},
		b{"invalid_reply", func(s *radius.ClientStats) uint64 { return s.InvalidReplies }},
		b{"unknown_realm", func(s *radius.ClientStats) uint64 { return s.UnknownRealm }},
		b{"too_many_pending", func(s *radius.ClientStats) uint64 { return s.TooManyPending }},
		b{"send_error", func(s *radius.ClientStats) uint64 { return s.SendErrors }})
	c.add("fhkey_radius_client_dropped_replies_total", "Replies dropped, by reason: malformed, identifier (none pending), authenticator (Response Authenticator), message_authenticator, duplicate (already answered).", "reason",
		b{"malformed", func(s *radius.ClientStats) uint64 { return s.DroppedMalformed }},
		b{"identifier", func(s *radius.ClientStats) uint64 { return s.DroppedIdentifier }},
		b{"authenticator", func(s *radius.ClientStats) uint64 { return s.DroppedAuth }},
		b{"message_authenticator", func(s *radius.ClientStats) uint64 { return s.DroppedMessageAuth }},
		b{"duplicate", func(s *radius.ClientStats) uint64 { return s.DroppedDuplicate }})
	reg.MustRegister(c)
}
