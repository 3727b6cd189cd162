package scenario

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Median  float64 `json:"median"`
	P99     float64 `json:"p99"`
	Samples int     `json:"samples"`
}

func latencyOf(d []time.Duration) Latency {
	q := quantilesOf(d)
	return Latency{Median: q.P50MS, P99: q.P99MS, Samples: q.Samples}
}

// HKSBenchResult is the outcome of BenchHKS. The first two fields are
// the figures, in its order.
//
// FreeRADIUS is measured on two kinds of PAP exchange. The signed one is
// the baseline of the target: Message-Authenticator in the request and in
// the Access-Accept, as FreeRADIUS 3.2 has exchanged every Access-Request
// since 3.2.5 (libfreeradius's code2ma, its BlastRADIUS mitigation,
// radclient's requests included) and as every key request and answer
// carries one. The unsigned one is what the installed 3.2.1 does by
// default: no Message-Authenticator either way (docs/aaa.md).
type HKSBenchResult struct {
	// HKSPerS and FreeRADIUSPAPPerS (signed PAP) are the medians of Runs.
	HKSPerS           float64 `json:"hks_per_s"`
	FreeRADIUSPAPPerS float64 `json:"freeradius_pap_per_s"`
	// Ratio is HKSPerS / FreeRADIUSPAPPerS, both measured in this run;
	// the target is at least 1. HKSPerS is the rate of key requests with
	// the draft's algorithms (PRF 1 and MAC 1, HMAC-SHA1);
	// HKSSHA256PerS and RatioSHA256 the same with fhkey's HMAC-SHA256
	// extension (PRF 2, MAC 2).
	Ratio         float64 `json:"ratio"`
	HKSSHA256PerS float64 `json:"hks_sha256_per_s"`
	RatioSHA256   float64 `json:"ratio_sha256"`
	// FreeRADIUSUnsignedPAPPerS is the median rate of PAP without
	// Message-Authenticator, RatioUnsigned HKSPerS over it.
	FreeRADIUSUnsignedPAPPerS float64 `json:"freeradius_pap_unsigned_per_s"`
	RatioUnsigned             float64 `json:"ratio_unsigned"`
	// The same medians over radclient's whole runs (HKSBenchRun.PerSWall),
	// its reading of the request file before the first request included.
	HKSPerSWall           float64 `json:"hks_per_s_wall"`
	FreeRADIUSPAPPerSWall float64 `json:"freeradius_pap_per_s_wall"`
	RatioWall             float64 `json:"ratio_wall"`
	// Runs are the measured runs in the order they ran, warm-ups left
	// out.
	Runs []HKSBenchRun `json:"runs"`
	// ProxyLatency is the AR's round trip per HKReq through FreeRADIUS
	// (radius.Client → FreeRADIUS realm proxy → HKS and back), one
	// request at a time; DirectLatency the same without FreeRADIUS.
	ProxyLatency  Latency `json:"proxy_latency_ms"`
	DirectLatency Latency `json:"direct_latency_ms"`
	// AddedByProxy is the median the proxy adds (ProxyLatency.Median -
	// DirectLatency.Median).
	AddedByProxyMS float64 `json:"added_by_proxy_median_ms"`
	Requests       int     `json:"requests"`
	Parallel       int     `json:"parallel"`
	Subscribers    int     `json:"subscribers"`
	// What radclient counted in the run of the median rate (every
	// request must be accepted in every run).
	HKS         RadclientSummary `json:"hks_radclient"`
	PAP         RadclientSummary `json:"freeradius_radclient"`
	UnsignedPAP RadclientSummary `json:"freeradius_unsigned_radclient"`
	MeetsGoal   bool             `json:"meets_target"`
	Freeradius  string           `json:"freeradius_version"`
}

// String is the summary's figures for the text report.
func (s RadclientSummary) String() string {
	return fmt.Sprintf("%d accepted, %d rejected, %d lost, %.3f s under load of %.3f s; CPU: server %.1f µs/request, radclient %.2f s",
		s.Accepted, s.Rejected, s.Lost, s.LoadSeconds, s.Seconds, s.ServerCPUMicros, s.RadclientCPUSeconds)
}

// RadclientSummary is radclient -s's packet summary, the wall time, and
// the CPU time radclient and the server spent (user + system).
type RadclientSummary struct {
	Accepted, Rejected, Lost int
	// Seconds is radclient's wall time, LoadSeconds the part of it during
	// which its requests and answers moved (0 if not measured; see
	// watchLoad).
	Seconds             float64 `json:"seconds"`
	LoadSeconds         float64 `json:"load_seconds"`
	RadclientCPUSeconds float64 `json:"radclient_cpu_seconds"`
	// RadclientBusy is RadclientCPUSeconds / Seconds: near 1, the
	// generator is the bottleneck.
	RadclientBusy    float64 `json:"radclient_busy"`
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
	// ServerCPUMicros is the server's CPU time per request.
	ServerCPUMicros float64 `json:"server_cpu_us_per_request"`
	// UDPInDatagrams is how many UDP datagrams the network namespace
	// received during the run (/proc/net/snmp; two per request without
	// retransmissions: the request and its answer), UDPRcvbufErrors how
	// many it dropped for a full socket buffer.
	UDPInDatagrams  int64 `json:"udp_in_datagrams"`
	UDPRcvbufErrors int64 `json:"udp_rcvbuf_errors"`
}

// HKSBenchRun is one measured run of one server.
type HKSBenchRun struct {
	Server string `json:"server"` // "freeradius" (signed PAP), "freeradius-unsigned", "hks" (HMAC-SHA1) or "hks-sha256"
	// PerS is the rate under load (Accepted / LoadSeconds), PerSWall over
	// radclient's whole run (Accepted / Seconds).
	PerS     float64 `json:"per_s"`
	PerSWall float64 `json:"per_s_wall"`
	RadclientSummary
}

func (r HKSBenchResult) String() string {
	return fmt.Sprintf("%d requests per server, radclient -p %d, %d subscribers (%s)\n"+
		"  (medians of %d interleaved runs each; signed: Message-Authenticator both ways, as every key request)\n"+
		"  FreeRADIUS, PAP, signed:    %9.0f/s  (%s)\n"+
		"  fhkey hks, key requests:    %9.0f/s  (%s)  [draft's HMAC-SHA1]\n"+
		"  ratio hks / FreeRADIUS:     %9.2f    target >= 1: %s\n"+
		"  with HMAC-SHA256 (PRF 2, MAC 2, fhkey's extension): %.0f/s, ratio %.2f\n"+
		"  FreeRADIUS, PAP, unsigned:  %9.0f/s  (%s)\n"+
		"  ratio hks / unsigned PAP:   %9.2f\n"+
		"  over radclient's whole runs: hks %.0f/s, signed PAP %.0f/s, ratio %.2f\n"+
		"  AR round trip per HKReq through FreeRADIUS: median %.3f ms, p99 %.3f ms (%d sequential)\n"+
		"                              directly to the HKS: median %.3f ms, p99 %.3f ms; added by the proxy: %.3f ms",
		r.Requests, r.Parallel, r.Subscribers, r.Freeradius, len(r.Runs)/4,
		r.FreeRADIUSPAPPerS, r.PAP, r.HKSPerS, r.HKS,
		r.Ratio, map[bool]string{true: "met", false: "MISSED"}[r.MeetsGoal],
		r.HKSSHA256PerS, r.RatioSHA256,
		r.FreeRADIUSUnsignedPAPPerS, r.UnsignedPAP, r.RatioUnsigned,
		r.HKSPerSWall, r.FreeRADIUSPAPPerSWall, r.RatioWall,
		r.ProxyLatency.Median, r.ProxyLatency.P99, r.ProxyLatency.Samples,
		r.DirectLatency.Median, r.DirectLatency.P99, r.AddedByProxyMS)
}

func benchRun(server string, s RadclientSummary) HKSBenchRun {
	r := HKSBenchRun{Server: server, PerSWall: float64(s.Accepted) / s.Seconds, RadclientSummary: s}
	r.PerS = r.PerSWall
	if s.LoadSeconds > 0 {
		r.PerS = float64(s.Accepted) / s.LoadSeconds
	}
	return r
}

// medianWall returns the median of the runs' PerSWall.
func medianWall(runs []HKSBenchRun) float64 {
	w := make([]HKSBenchRun, len(runs))
	for i, r := range runs {
		w[i].PerS = r.PerSWall
	}
	return medianRun(w).PerS
}

// medianRun returns the run of the median rate (the lower middle one of an
// even count).
func medianRun(runs []HKSBenchRun) HKSBenchRun {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b HKSBenchRun) int { return cmp.Compare(a.PerS, b.PerS) })
	return s[(len(s)-1)/2]
}
