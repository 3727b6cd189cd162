package scenario

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBenchTLS runs `fhkey bench tls` small on loopback (no root, no
// external tools), so that the bench path cannot rot: every bootstrap goes
// through the HAC node and provisions the HA node, the MIP6 node registers
// and its data reaches the HA's home link, and the figures are sane
// (positive, ratios finite). It asserts no timings.
func TestBenchTLS(t *testing.T) {
	var log strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := BenchTLS(ctx, TLSBenchConfig{Clients: 4, Batch: 8, Batches: 3, Packets: 200, DataBatches: 3, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for name, v := range map[string]float64{"hac_bootstraps_per_s": res.HACBootstrapsPerS, "tls13_handshakes_per_s": res.TLS13HandshakesPerS,
		"bootstrap_ratio": res.BootstrapRatio, "protected_mbit_s": res.ProtectedMbitS, "plain_mbit_s": res.PlainMbitS,
		"per_packet_ratio_to_limit": res.PerPacketRatioToLimit, "seal_open_ns_per_packet": res.SealOpenNSPerPacket,
		"limit_ns_per_packet": res.LimitNSPerPacket} {
		if !(v > 0 && v < 1e12) {
			t.Errorf("%s = %v", name, v)
		}
	}
	if res.BootstrapRatioMin > res.BootstrapRatio || res.BootstrapRatio > res.BootstrapRatioMax {
		t.Errorf("median ratio %v outside its batches [%v, %v]", res.BootstrapRatio, res.BootstrapRatioMin, res.BootstrapRatioMax)
	}
	// 4 warm-up bootstraps, 3×8 measured, 1 for the MIP6 node, 1 for the
	// per-packet SA: all succeeded with psk.
	if got := res.Stats.Bootstraps["psk"]["ok"]; got != 4+24+2 || res.Bootstraps != 24 || res.DataPackets != 600 {
		t.Errorf("psk successes %d (counters %+v), bootstraps %d, data packets %d", got, res.Stats, res.Bootstraps, res.DataPackets)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"hac_bootstraps_per_s":`
	for _, k := range []string{"tls13_handshakes_per_s", "bootstrap_ratio", "protected_mbit_s", "plain_mbit_s", "per_packet_ratio_to_limit"} {
		want += `[^,]*,"` + k + `":`
	}
	if !regexp.MustCompile("^" + want).Match(b) {
		t.Errorf("JSON does not start with the issue's keys in order:\n%s", b)
	}
	t.Log(res)
}
