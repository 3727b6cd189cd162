package rolemetrics

import (
	"time"

	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/metrics"
)

// RegisterAR registers the access router's metrics, read from stats (the
// Router's Stats method) at each scrape, and keysHeld (the key store's
// Len; nil to leave the gauge out). It returns the function to install as
// ar.Config.Trace, which feeds the latency histograms.
func RegisterAR(reg *metrics.Registry, stats func() ar.Stats, keysHeld func() int) func(ar.Trace) {
	u := func(f func(s *ar.Stats) uint64) func() float64 {
		return func() float64 { s := stats(); return float64(f(&s)) }
	}
	reg.CounterFunc("fhkey_ar_rtsolpr_received_total", "Router Solicitations for Proxy Advertisement handled (RFC 5269 §3.2).",
		u(func(s *ar.Stats) uint64 { return s.RtSolPrReceived }))
	rej := reg.CounterVec("fhkey_ar_rtsolpr_rejected_total", "RtSolPr refused, by reason: malformed, cga (CGA option missing or not matching the source), send (signature, timestamp, nonce), bad_key_request (unusable Handover Key Request).", "reason")
	rej.Func(u(func(s *ar.Stats) uint64 { return s.RtSolPrMalformed }), "malformed")
	rej.Func(u(func(s *ar.Stats) uint64 { return s.RtSolPrCGAFailed }), "cga")
	rej.Func(u(func(s *ar.Stats) uint64 { return s.RtSolPrSENDFailed }), "send")
	rej.Func(u(func(s *ar.Stats) uint64 { return s.BadKeyRequest }), "bad_key_request")
	rl := reg.CounterVec("fhkey_ar_rate_limited_total", "RtSolPr dropped by a rate limit, by bucket: source, key (CGA public key), total.", "bucket")
	rl.Func(u(func(s *ar.Stats) uint64 { return s.RateLimitedSource }), "source")
	rl.Func(u(func(s *ar.Stats) uint64 { return s.RateLimitedKey }), "key")
	rl.Func(u(func(s *ar.Stats) uint64 { return s.RateLimitedTotal }), "total")
	reg.CounterFunc("fhkey_ar_unsecured_replies_suppressed_total", "Failed RtSolPr left unanswered because the unsecured reply budget was spent.",
		u(func(s *ar.Stats) uint64 { return s.UnsecuredSuppressed }))
	issued := reg.CounterVec("fhkey_ar_keys_issued_total", "Handover keys delivered, by kind: created (fresh key) or reused (existing key of a known CGA, RFC 5269 §3.2).", "kind")
	issued.Func(u(func(s *ar.Stats) uint64 { return s.KeysCreated }), "created")
	issued.Func(u(func(s *ar.Stats) uint64 { return s.KeysReused }), "reused")
	removed := reg.CounterVec("fhkey_ar_keys_removed_total", "Handover keys discarded (RFC 5269 §3.6), by reason: expired (HK-LIFETIME) or forwarding_ended.", "reason")
	removed.Func(u(func(s *ar.Stats) uint64 { return s.KeysExpired }), "expired")
	removed.Func(u(func(s *ar.Stats) uint64 { return s.KeysDiscarded }), "forwarding_ended")
	adv := reg.CounterVec("fhkey_ar_prrtadv_sent_total", "Proxy Router Advertisements sent, by whether they carried a Handover Key Reply.", "with_key")
	adv.Func(u(func(s *ar.Stats) uint64 { return s.PrRtAdvSent - min(s.PrRtAdvWithoutKey, s.PrRtAdvSent) }), "true")
	adv.Func(u(func(s *ar.Stats) uint64 { return s.PrRtAdvWithoutKey }), "false")
	reg.CounterFunc("fhkey_ar_fbu_received_total", "Fast Binding Updates received (RFC 5568 §6.2.2).",
		u(func(s *ar.Stats) uint64 { return s.FBUReceived }))
	reg.CounterFunc("fhkey_ar_fbu_accepted_total", "Fast Binding Updates authenticated and applied.",
		u(func(s *ar.Stats) uint64 { return s.FBUAccepted }))
	fr := reg.CounterVec("fhkey_ar_fbu_rejected_total", "Fast Binding Updates rejected, by reason: malformed, unknown_key, expired_key, bad_auth (wrong SPI, length or MAC), stale (replayed sequence number), binding_failed.", "reason")
	fr.Func(u(func(s *ar.Stats) uint64 { return s.FBUMalformed }), "malformed")
	fr.Func(u(func(s *ar.Stats) uint64 { return s.FBUUnknownKey }), "unknown_key")
	fr.Func(u(func(s *ar.Stats) uint64 { return s.FBUExpiredKey }), "expired_key")
	fr.Func(u(func(s *ar.Stats) uint64 { return s.FBUBadAuth }), "bad_auth")
	fr.Func(u(func(s *ar.Stats) uint64 { return s.FBUStale }), "stale")
	fr.Func(u(func(s *ar.Stats) uint64 { return s.FBUBindingFailed }), "binding_failed")
	reg.CounterFunc("fhkey_ar_fback_sent_total", "Fast Binding Acknowledgments sent.",
		u(func(s *ar.Stats) uint64 { return s.FBackSent }))
	reg.CounterFunc("fhkey_ar_internal_errors_total", "Key store, random number generator or signing failures.",
		u(func(s *ar.Stats) uint64 { return s.InternalErrors }))
	if keysHeld != nil {
		reg.GaugeFunc("fhkey_ar_keys_held", "Handover key records in the key store (expired ones not yet removed included).",
			func() float64 { return float64(keysHeld()) })
	}
	steps := newSteps(reg, "fhkey_ar")
	return func(t ar.Trace) { steps.record(t.Step, t.Took, t.Err) }
}

// RegisterMN registers the mobile node's metrics: keysHeld (nil to leave
// it out) and the step timings. It returns the function to install as
// mn.Config.Trace.
func RegisterMN(reg *metrics.Registry, keysHeld func() int) func(step string, took time.Duration, err error) {
	if keysHeld != nil {
		reg.GaugeFunc("fhkey_mn_keys_held", "Handover keys held by the mobile node.", func() float64 { return float64(keysHeld()) })
	}
	return newSteps(reg, "fhkey_mn").record
}

// steps are the per-step latency histogram and error counter of a role.
type steps struct {
	duration *metrics.HistogramVec
	errors   *metrics.CounterVec
}

func newSteps(reg *metrics.Registry, prefix string) *steps {
	return &steps{
		duration: reg.HistogramVec(prefix+"_step_duration_seconds", "Wall time of each protocol processing step (RSA verify, encrypt, sign, FBU verify, ...), by step.", metrics.LatencyBuckets, "step"),
		errors:   reg.CounterVec(prefix+"_step_errors_total", "Protocol processing steps that failed, by step.", "step"),
	}
}

// record feeds one step. A zero duration means "not timed" and is not
// observed.
func (s *steps) record(step string, took time.Duration, err error) {
	if took > 0 {
		s.duration.With(step).ObserveDuration(took)
	}
	if err != nil {
		s.errors.With(step).Inc()
	}
}
