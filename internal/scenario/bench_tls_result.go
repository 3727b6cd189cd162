package scenario

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fhkey/fhkey/internal/hac"
)

// TLSBenchResult is what BenchTLS measured; the first six fields are the
// issue's figures, in its order. Rates and ratios are medians over the
// batches; a ratio is the median of the per-batch ratios, not the ratio of
// the medians.
type TLSBenchResult struct {
	HACBootstrapsPerS     float64 `json:"hac_bootstraps_per_s"`
	TLS13HandshakesPerS   float64 `json:"tls13_handshakes_per_s"`
	BootstrapRatio        float64 `json:"bootstrap_ratio"`
	ProtectedMbitS        float64 `json:"protected_mbit_s"`
	PlainMbitS            float64 `json:"plain_mbit_s"`
	PerPacketRatioToLimit float64 `json:"per_packet_ratio_to_limit"`

	BootstrapRatioMin float64 `json:"bootstrap_ratio_min"`
	BootstrapRatioMax float64 `json:"bootstrap_ratio_max"`
	// ProtectedToPlain is the median per-batch ratio of the protected
	// throughput to the plain one.
	ProtectedToPlain     float64 `json:"protected_to_plain"`
	ProtectedUSPerPacket float64 `json:"protected_us_per_packet"`
	PlainUSPerPacket     float64 `json:"plain_us_per_packet"`
	SealOpenNSPerPacket  float64 `json:"seal_open_ns_per_packet"`
	LimitNSPerPacket     float64 `json:"limit_ns_per_packet"`
	ProtectedLost        uint64  `json:"protected_lost"`
	PlainLost            uint64  `json:"plain_lost"`

	Clients     int    `json:"clients"`
	Batch       int    `json:"batch"`
	Bootstraps  int    `json:"bootstraps"`
	DataPackets int    `json:"data_packets"`
	PacketSize  int    `json:"packet_octets"`
	Cipher      string `json:"cipher"`
	Path        string `json:"path"`
	// Stats are the HAC role's counters at the end (warm-up included).
	Stats hac.Stats `json:"hac_counters"`
}

func (r *TLSBenchResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HAC bootstraps (TLS 1.3 + PSK, SA to the HA): %.0f/s\n", r.HACBootstrapsPerS)
	fmt.Fprintf(&b, "bare TLS 1.3 handshakes, same certificate:    %.0f/s\n", r.TLS13HandshakesPerS)
	fmt.Fprintf(&b, "bootstrap ratio: %.2f (batches %.2f–%.2f; target >= 0.8), %d clients, %d bootstraps\n",
		r.BootstrapRatio, r.BootstrapRatioMin, r.BootstrapRatioMax, r.Clients, r.Bootstraps)
	fmt.Fprintf(&b, "MN→HA data plane (%s, %d-octet packets, %s): protected %.0f Mbit/s, plain UDP %.0f Mbit/s (ratio %.2f; lost %d/%d)\n",
		r.Cipher, r.PacketSize, r.Path, r.ProtectedMbitS, r.PlainMbitS, r.ProtectedToPlain, r.ProtectedLost, r.PlainLost)
	fmt.Fprintf(&b, "per packet: seal+open %.0f ns, AES-CBC + HMAC-SHA1 limit %.0f ns: ratio %.2f\n",
		r.SealOpenNSPerPacket, r.LimitNSPerPacket, r.PerPacketRatioToLimit)
	return b.String()
}

// median of xs (0 when empty); xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return slices.Min(xs)
}

func maxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return slices.Max(xs)
}
