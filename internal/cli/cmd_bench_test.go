package cli

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/testenv"
)

// TestBenchForwardingPlot runs `bench forwarding --json --plot`, short:
// stdout is the JSON summary with the event times, the SVG is written.
func TestBenchForwardingPlot(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	file := filepath.Join(t.TempDir(), "handover.svg")
	code, out, stderr := runCLI("bench", "forwarding", "--n", "60", "--json", "--plot", file, "--prefix", fmt.Sprintf("fhk-p%d-", os.Getpid()))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	var res struct {
		Runs []struct {
			Forwarding  bool               `json:"fmipv6_forwarding"`
			MoveStartMS float64            `json:"move_start_ms"`
			FBackMS     float64            `json:"fback_received_ms"`
			Arrivals    []any              `json:"arrivals"`
			Stream      map[string]float64 `json:"stream"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Runs) != 2 {
		t.Fatalf("stdout is not the JSON summary (%v):\n%s", err, out)
	}
	if r := res.Runs[1]; !r.Forwarding || r.MoveStartMS <= 0 || r.FBackMS <= r.MoveStartMS || r.Arrivals != nil || r.Stream["received"] == 0 {
		t.Errorf("run with forwarding: %+v", r)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, new(struct{})); err != nil || !strings.Contains(string(b), "FBack received") {
		t.Errorf("%s: not the plot (%v): %.200s", file, err, b)
	}
}

// TestBenchHKSJSON runs `bench hks --json` small: stdout is one JSON
// object whose first two keys are the issue's, in its order.
func TestBenchHKSJSON(t *testing.T) {
	testenv.RequireTool(t, "freeradius")
	testenv.RequireTool(t, "radclient")
	code, out, stderr := runCLI("bench", "hks", "--requests", "300", "--parallel", "16", "--latency-samples", "10", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if !strings.HasPrefix(out, `{"hks_per_s":`) || !strings.Contains(out, `,"freeradius_pap_per_s":`) {
		t.Fatalf("stdout does not start with the issue's keys:\n%s", out)
	}
	var res struct {
		HKS, PAP float64
		Ratio    float64 `json:"ratio"`
		Proxy    struct {
			Median, P99 float64
		} `json:"proxy_latency_ms"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Ratio <= 0 || res.Proxy.Median <= 0 || res.Proxy.P99 < res.Proxy.Median {
		t.Errorf("%+v, %v:\n%s", res, err, out)
	}
}

// TestBenchEAPJSON runs `bench eap --json` small: stdout is one JSON
// object whose first three keys are the issue's, in its order, with
// positive rates.
func TestBenchEAPJSON(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	testenv.RequireTool(t, "freeradius")
	testenv.RequireTool(t, "eapol_test")
	code, out, stderr := runCLI("bench", "eap", "--parallel", "2", "--per-supplicant", "2", "--runs", "1", "--tls", "1.3",
		"--prefix", fmt.Sprintf("fhk-e%d-", os.Getpid()), "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if !strings.HasPrefix(out, `{"through_ar_per_s":`) || !strings.Contains(out, `,"eapol_test_direct_per_s":`) || !strings.Contains(out, `,"ratio":`) {
		t.Fatalf("stdout does not start with the issue's keys:\n%s", out)
	}
	var res struct {
		AR     float64 `json:"through_ar_per_s"`
		Direct float64 `json:"eapol_test_direct_per_s"`
		Ratio  float64 `json:"ratio"`
		TLS    string  `json:"tls_version"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.AR <= 0 || res.Direct <= 0 || res.Ratio <= 0 || res.TLS != "TLS 1.3" {
		t.Errorf("%+v, %v:\n%s", res, err, out)
	}
}
