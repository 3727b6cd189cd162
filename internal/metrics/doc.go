// Package metrics is a small registry of Prometheus metrics written in the
// text exposition format, version 0.0.4, without any dependency: counters
// (plain, labelled with one or two labels, or read from a function), gauges
// (set directly or read from a function) and histograms with fixed buckets.
//
// The fhkey daemons export it on /metrics (issue 5: keys issued, RtSolPr
// rejected by reason, FBUs accepted and rejected by reason, rate-limited
// packets, latency histograms); docs/deployment.md lists the names. Updates
// are single atomic operations, so the protocol paths pay nothing noticeable
// for them, and WriteTo may run concurrently with updates.
//
// Registering a metric with an invalid or duplicate name, or using the wrong
// number of label values, is a programmer error and panics.
package metrics
