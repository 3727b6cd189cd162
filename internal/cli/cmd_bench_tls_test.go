package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchTLSJSON runs `bench tls --json` small: stdout is one JSON
// object whose first keys are the issue's, in its order, with sane
// values; the progress goes to stderr.
func TestBenchTLSJSON(t *testing.T) {
	code, out, stderr := runCLI("bench", "tls", "--clients", "2", "--batch", "4", "--batches", "2",
		"--packets", "100", "--data-batches", "2", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if !strings.HasPrefix(out, `{"hac_bootstraps_per_s":`) || !strings.Contains(out, `,"tls13_handshakes_per_s":`) ||
		!strings.Contains(stderr, "bench tls:") {
		t.Fatalf("stdout does not start with the issue's keys:\n%s\nstderr:\n%s", out, stderr)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"hac_bootstraps_per_s", "tls13_handshakes_per_s", "bootstrap_ratio", "protected_mbit_s", "plain_mbit_s", "per_packet_ratio_to_limit"} {
		if v, ok := res[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v", k, res[k])
		}
	}
	if res["bootstraps"] != 8.0 || res["data_packets"] != 200.0 || res["cipher"] != "AES_128_CBC_SHA" {
		t.Errorf("result %s", out)
	}
}

// TestBenchTLSUsage: a non-positive count is a usage error (exit 2).
func TestBenchTLSUsage(t *testing.T) {
	for _, args := range [][]string{{"--clients", "0"}, {"--packet-size", "20"}, {"extra"}} {
		if code, _, stderr := runCLI(append([]string{"bench", "tls"}, args...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
}
