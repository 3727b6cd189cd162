// Package rolemetrics exports the counters and timings of the protocol
// roles (internal/ar, internal/mn) as Prometheus metrics in an
// internal/metrics Registry: the figures issue 5 asks /metrics to show —
// keys issued, RtSolPr rejected by reason, FBUs accepted and rejected by
// reason, rate-limited packets, latency histograms. docs/deployment.md
// lists every name.
package rolemetrics
