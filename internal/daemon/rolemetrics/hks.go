package rolemetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/hks"
	"github.com/fhkey/fhkey/internal/radius"
)

type (
	hksBy    = by[hks.Stats]
	serverBy = by[radius.ServerStats]
)

// RegisterHKS registers the Handover Key Server's metrics, read at each
// scrape from role (hks.Server.Stats: the draft §6.4 outcomes) and from
// server (radius.Server.Stats: the RADIUS transport).
func RegisterHKS(reg prometheus.Registerer, role func() hks.Stats, server func() radius.ServerStats) {
	c := &statsCollector[hks.Stats]{stats: role}
	c.add("fhkey_hks_requests_total", "Key requests handled by the Handover Key Server (draft-vidya-mipshop-handover-keys-aaa-04 §6.4).", "",
		hksBy{"", func(s *hks.Stats) uint64 { return s.Requests }})
	c.add("fhkey_hks_keys_issued_total", "Handover keys derived and granted (Status 0).", "",
		hksBy{"", func(s *hks.Stats) uint64 { return s.Accepted }})
	c.add("fhkey_hks_refused_total", "Requests refused with an error HKResp, by status: administratively_prohibited (131), timestamp_required (135), invalid_prf_alg (136), invalid_mac_alg (137), invalid_timestamp (138, replays included).", "status",
		hksBy{"administratively_prohibited", func(s *hks.Stats) uint64 { return s.AdministrativelyProhibited }},
		hksBy{"timestamp_required", func(s *hks.Stats) uint64 { return s.TimestampRequired }},
		hksBy{"invalid_prf_alg", func(s *hks.Stats) uint64 { return s.InvalidPRF }},
		hksBy{"invalid_mac_alg", func(s *hks.Stats) uint64 { return s.InvalidMAC }},
		hksBy{"invalid_timestamp", func(s *hks.Stats) uint64 { return s.InvalidTimestamp }})
	c.add("fhkey_hks_replays_total", "INVALID_TIMESTAMP answers to a Timestamp not later than the subscriber's last accepted one.", "",
		hksBy{"", func(s *hks.Stats) uint64 { return s.Replayed }})
	c.add("fhkey_hks_discarded_total", "Requests silently discarded, by reason: bad_mac (MN-HKS MAC does not verify), unknown_subscriber, malformed.", "reason",
		hksBy{"bad_mac", func(s *hks.Stats) uint64 { return s.BadMAC }},
		hksBy{"unknown_subscriber", func(s *hks.Stats) uint64 { return s.UnknownSubscriber }},
		hksBy{"malformed", func(s *hks.Stats) uint64 { return s.Malformed }})
	c.add("fhkey_hks_store_errors_total", "Subscriber store failures (or corrupt records): the request was left unanswered.", "",
		hksBy{"", func(s *hks.Stats) uint64 { return s.StoreErrors }})

	r := &statsCollector[radius.ServerStats]{stats: server}
	r.add("fhkey_radius_server_received_total", "RADIUS datagrams received.", "",
		serverBy{"", func(s *radius.ServerStats) uint64 { return s.Received }})
	r.add("fhkey_radius_server_responses_total", "Answers to Access-Requests, by code: access_accept, access_reject (refusals and discards).", "code",
		serverBy{"access_accept", func(s *radius.ServerStats) uint64 { return s.Accepts }},
		serverBy{"access_reject", func(s *radius.ServerStats) uint64 { return s.Rejects }})
	r.add("fhkey_radius_server_discards_total", "Access-Rejects without fhkey attributes: requests the Handover Key Server discarded.", "",
		serverBy{"", func(s *radius.ServerStats) uint64 { return s.Discards }})
	r.add("fhkey_radius_server_status_server_total", "Status-Server requests answered (RFC 5997).", "",
		serverBy{"", func(s *radius.ServerStats) uint64 { return s.StatusServer }})
	r.add("fhkey_radius_server_duplicates_total", "Duplicate Access-Requests (RFC 5080 §2.2.2), by outcome: answered (from the cache), in_progress (dropped).", "outcome",
		serverBy{"answered", func(s *radius.ServerStats) uint64 { return s.DuplicatesAnswered }},
		serverBy{"in_progress", func(s *radius.ServerStats) uint64 { return s.DuplicatesInProgress }})
	r.add("fhkey_radius_server_dropped_total", "Requests dropped unanswered, by reason: unknown_client, malformed, message_authenticator (missing or wrong), invalid_request (attributes), overload (too many in flight).", "reason",
		serverBy{"unknown_client", func(s *radius.ServerStats) uint64 { return s.DroppedUnknownClient }},
		serverBy{"malformed", func(s *radius.ServerStats) uint64 { return s.DroppedMalformed }},
		serverBy{"message_authenticator", func(s *radius.ServerStats) uint64 { return s.DroppedMessageAuth }},
		serverBy{"invalid_request", func(s *radius.ServerStats) uint64 { return s.DroppedInvalidRequest }},
		serverBy{"overload", func(s *radius.ServerStats) uint64 { return s.DroppedOverload }})
	r.add("fhkey_radius_server_errors_total", "Requests left unanswered by an error, by kind: handler (key server failure, e.g. the store), encode, send.", "kind",
		serverBy{"handler", func(s *radius.ServerStats) uint64 { return s.HandlerErrors }},
		serverBy{"encode", func(s *radius.ServerStats) uint64 { return s.EncodeErrors }},
		serverBy{"send", func(s *radius.ServerStats) uint64 { return s.SendErrors }})
	reg.MustRegister(c, r)
}
