// Package rolemetrics exports the counters and timings of the protocol
// roles (internal/ar, internal/mn, internal/hks and its RADIUS server) as Prometheus metrics in a
// client_golang registry: the figures issue 5 asks /metrics to show —
// keys issued, RtSolPr rejected by reason, FBUs accepted and rejected by
// reason, rate-limited packets, latency histograms. docs/deployment.md
// lists every name.
//
// The router's counters are read from its Stats at each scrape by one
// collector, so the protocol paths touch no metrics code for them; only the
// step timings (ar.Config.Trace, mn.Config.Trace) feed histograms as they
// happen, without allocating.
package rolemetrics
