package rolemetrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/daemon"
)

// arSteps are the steps the access router traces.
var arSteps = []string{"send-verify", "key-created", "key-reused", "key-encrypt", "prrtadv-sign", "fbu-verify"}

// BenchmarkTraceFBU is what the FBU path pays for metrics: the trace of
// one fbu-verify step into the latency histogram.
func BenchmarkTraceFBU(b *testing.B) {
	trace := RegisterAR(prometheus.NewRegistry(), func() ar.Stats { return ar.Stats{} }, nil)
	t := ar.Trace{Step: "fbu-verify", Took: 40 * time.Microsecond}
	trace(t)
	b.ReportAllocs()
	for b.Loop() {
		trace(t)
	}
}

// BenchmarkScrapeAR is one /metrics scrape of an access router's registry
// with every step observed: "runtime" is the daemon's registry with the Go
// and process collectors (NewRegistry), "role" the router's metrics alone.
func BenchmarkScrapeAR(b *testing.B) {
	for _, bc := range []struct {
		name   string
		newReg func() *prometheus.Registry
	}{{"runtime", daemon.NewRegistry}, {"role", prometheus.NewRegistry}} {
		b.Run(bc.name, func(b *testing.B) {
			reg := bc.newReg()
			st := ar.Stats{RtSolPrReceived: 1000, FBUReceived: 500, FBUAccepted: 490, KeysCreated: 300}
			trace := RegisterAR(reg, func() ar.Stats { return st }, func() int { return 300 })
			for _, s := range arSteps {
				trace(ar.Trace{Step: s, Took: 300 * time.Microsecond})
			}
			h := daemon.Handler(reg, func() (any, bool) { return nil, true }, func() (bool, string) { return true, "serving" })
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
