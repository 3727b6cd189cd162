package rolemetrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/ar"
)

// LatencyBuckets are bucket upper bounds in seconds for protocol
// processing latencies, from 50 µs (an FBU verification) to 1 s (an RSA
// provisioning under load).
var LatencyBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// RegisterAR registers the access router's metrics, read from stats (the
// Router's Stats method) once per scrape, and keysHeld (the key store's
// Len; nil to leave the gauge out). It returns the function to install as
// ar.Config.Trace, which feeds the latency histograms.
func RegisterAR(reg prometheus.Registerer, stats func() ar.Stats, keysHeld func() int) func(ar.Trace) {
	c := &statsCollector[ar.Stats]{stats: stats}
	c.add("fhkey_ar_rtsolpr_received_total", "Router Solicitations for Proxy Advertisement handled (RFC 5269 §3.2).", "",
		by[ar.Stats]{"", func(s *ar.Stats) uint64 { return s.RtSolPrReceived }})
	c.add("fhkey_ar_rtsolpr_rejected_total", "RtSolPr refused, by reason: malformed, cga (CGA option missing or not matching the source), send (signature, timestamp, nonce), bad_key_request (unusable Handover Key Request).", "reason",
		by[ar.Stats]{"malformed", func(s *ar.Stats) uint64 { return s.RtSolPrMalformed }},
		by[ar.Stats]{"cga", func(s *ar.Stats) uint64 { return s.RtSolPrCGAFailed }},
		by[ar.Stats]{"send", func(s *ar.Stats) uint64 { return s.RtSolPrSENDFailed }},
		by[ar.Stats]{"bad_key_request", func(s *ar.Stats) uint64 { return s.BadKeyRequest }})
	c.add("fhkey_ar_rate_limited_total", "RtSolPr dropped by a rate limit, by bucket: source, key (CGA public key), total.", "bucket",
		by[ar.Stats]{"source", func(s *ar.Stats) uint64 { return s.RateLimitedSource }},
		by[ar.Stats]{"key", func(s *ar.Stats) uint64 { return s.RateLimitedKey }},
		by[ar.Stats]{"total", func(s *ar.Stats) uint64 { return s.RateLimitedTotal }})
	c.add("fhkey_ar_unsecured_replies_suppressed_total", "Failed RtSolPr left unanswered because the unsecured reply budget was spent.", "",
		by[ar.Stats]{"", func(s *ar.Stats) uint64 { return s.UnsecuredSuppressed }})
	c.add("fhkey_ar_keys_issued_total", "Handover keys delivered, by kind: created (fresh key) or reused (existing key of a known CGA, RFC 5269 §3.2).", "kind",
		by[ar.Stats]{"created", func(s *ar.Stats) uint64 { return s.KeysCreated }},
		by[ar.Stats]{"reused", func(s *ar.Stats) uint64 { return s.KeysReused }})
	c.add("fhkey_ar_keys_removed_total", "Handover keys discarded (RFC 5269 §3.6), by reason: expired (HK-LIFETIME) or forwarding_ended.", "reason",
		by[ar.Stats]{"expired", func(s *ar.Stats) uint64 { return s.KeysExpired }},
		by[ar.Stats]{"forwarding_ended", func(s *ar.Stats) uint64 { return s.KeysDiscarded }})
	c.add("fhkey_ar_prrtadv_sent_total", "Proxy Router Advertisements sent, by whether they carried a Handover Key Reply.", "with_key",
		by[ar.Stats]{"true", func(s *ar.Stats) uint64 { return s.PrRtAdvSent - min(s.PrRtAdvWithoutKey, s.PrRtAdvSent) }},
		by[ar.Stats]{"false", func(s *ar.Stats) uint64 { return s.PrRtAdvWithoutKey }})
	c.add("fhkey_ar_fbu_received_total", "Fast Binding Updates received (RFC 5568 §6.2.2).", "",
		by[ar.Stats]{"", func(s *ar.Stats) uint64 { return s.FBUReceived }})
	c.add("fhkey_ar_fbu_accepted_total", "Fast Binding Updates authenticated and applied.", "",
		by[ar.Stats]{"", func(s *ar.Stats) uint64 { return s.FBUAccepted }})
	c.add("fhkey_ar_fbu_rejected_total", "Fast Binding Updates rejected, by reason: malformed, unknown_key, expired_key, bad_auth (wrong SPI, length or MAC), stale (replayed sequence number), binding_failed.", "reason",
		by[ar.Stats]{"malformed", func(s *ar.Stats) uint64 { return s.FBUMalformed }},
		by[ar.Stats]{"unknown_key", func(s *ar.Stats) uint64 { return s.FBUUnknownKey }},
		by[ar.Stats]{"expired_key", func(s *ar.Stats) uint64 { return s.FBUExpiredKey }},
		by[ar.Stats]{"bad_auth", func(s *ar.Stats) uint64 { return s.FBUBadAuth }},
		by[ar.Stats]{"stale", func(s *ar.Stats) uint64 { return s.FBUStale }},
		by[ar.Stats]{"binding_failed", func(s *ar.Stats) uint64 { return s.FBUBindingFailed }})
	c.add("fhkey_ar_fbu_msk_total", "Fast Binding Updates of the MSK mode (docs/msk.md), by outcome: accepted, unknown_nai (no usable MSK), bad_auth (SPI or MAC), not_owner (the PCoA's neighbor entry is not the NAI's MAC: FBack 129).", "outcome",
		by[ar.Stats]{"accepted", func(s *ar.Stats) uint64 { return s.FBUAcceptedMSK }},
		by[ar.Stats]{"unknown_nai", func(s *ar.Stats) uint64 { return s.FBUMSKUnknownNAI }},
		by[ar.Stats]{"bad_auth", func(s *ar.Stats) uint64 { return s.FBUMSKBadAuth }},
		by[ar.Stats]{"not_owner", func(s *ar.Stats) uint64 { return s.FBUMSKNotOwner }})
	c.add("fhkey_ar_fback_sent_total", "Fast Binding Acknowledgments sent.", "",
		by[ar.Stats]{"", func(s *ar.Stats) uint64 { return s.FBackSent }})
	c.add("fhkey_ar_internal_errors_total", "Key store, random number generator or signing failures.", "",
		by[ar.Stats]{"", func(s *ar.Stats) uint64 { return s.InternalErrors }})
	addHKReq(c)
	reg.MustRegister(c)
	registerKeysHeld(reg, "fhkey_ar_keys_held", "Handover key records in the key store (expired ones not yet removed included).", keysHeld)
	steps := newSteps(reg, "fhkey_ar")
	return func(t ar.Trace) { steps.record(t.Step, t.Took, t.Err) }
}

// RegisterMN registers the mobile node's metrics: keysHeld (nil to leave
// it out) and the step timings. It returns the function to install as
// mn.Config.Trace.
func RegisterMN(reg prometheus.Registerer, keysHeld func() int) func(step string, took time.Duration, err error) {
	registerKeysHeld(reg, "fhkey_mn_keys_held", "Handover keys held by the mobile node.", keysHeld)
	return newSteps(reg, "fhkey_mn").record
}

// registerKeysHeld registers a gauge read from keysHeld at each scrape;
// nil registers nothing.
func registerKeysHeld(reg prometheus.Registerer, name, help string, keysHeld func() int) {
	if keysHeld != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return float64(keysHeld()) }))
	}
}

// by is one series of a counter family read from a stats struct S
// (ar.Stats, radius.ClientStats): its label value ("" in an unlabelled
// family) and how to read it.
type by[S any] struct {
	label string
	value func(*S) uint64
}

// arBy is a series read from ar.Stats.
type arBy = by[ar.Stats]

// statsSeries is one counter series of statsCollector.
type statsSeries[S any] struct {
	desc  *prometheus.Desc
	label []string // nil in an unlabelled family
	value func(*S) uint64
}

// statsCollector is a prometheus.Collector of counters read from one
// stats snapshot per scrape, so that the series of a scrape agree with
// each other and the role pays nothing between scrapes.
type statsCollector[S any] struct {
	stats  func() S
	descs  []*prometheus.Desc
	series []statsSeries[S]
}

// add adds a counter family with one series per vs, labelled by label
// (or unlabelled when label is "").
func (c *statsCollector[S]) add(name, help, label string, vs ...by[S]) {
	var labels []string
	if label != "" {
		labels = []string{label}
	}
	d := prometheus.NewDesc(name, help, labels, nil)
	c.descs = append(c.descs, d)
	for _, v := range vs {
		s := statsSeries[S]{desc: d, value: v.value}
		if label != "" {
			s.label = []string{v.label}
		}
		c.series = append(c.series, s)
	}
}

// Describe implements prometheus.Collector.
func (c *statsCollector[S]) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *statsCollector[S]) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	for _, s := range c.series {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.CounterValue, float64(s.value(&st)), s.label...)
	}
}

// steps are the per-step latency histogram and error counter of a role.
// The series of each step are looked up once and kept, so that recording
// (on the FBU path among others) does not allocate.
type steps struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec

	mu        sync.RWMutex
	durations map[string]prometheus.Observer
	failures  map[string]prometheus.Counter
}

func newSteps(reg prometheus.Registerer, prefix string) *steps {
	s := &steps{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: prefix + "_step_duration_seconds", Help: "Wall time of each protocol processing step (RSA verify, encrypt, sign, FBU verify, ...), by step.",
			Buckets: LatencyBuckets,
		}, []string{"step"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prefix + "_step_errors_total", Help: "Protocol processing steps that failed, by step.",
		}, []string{"step"}),
		durations: make(map[string]prometheus.Observer),
		failures:  make(map[string]prometheus.Counter),
	}
	reg.MustRegister(s.duration, s.errors)
	return s
}

// record feeds one step. A zero duration means "not timed" and is not
// observed.
func (s *steps) record(step string, took time.Duration, err error) {
	if took > 0 {
		series(s, s.durations, s.duration.WithLabelValues, step).Observe(took.Seconds())
	}
	if err != nil {
		series(s, s.failures, s.errors.WithLabelValues, step).Inc()
	}
}

// series returns m[step], creating it with mk on first use.
func series[T any](s *steps, m map[string]T, mk func(...string) T, step string) T {
	s.mu.RLock()
	v, ok := m[step]
	s.mu.RUnlock()
	if ok {
		return v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok = m[step]; !ok {
		v = mk(step)
		m[step] = v
	}
	return v
}
