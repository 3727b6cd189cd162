package rolemetrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/pae"
)

// scrape returns what a ready daemon serves on /metrics for reg, in the
// default (text 0.0.4) format.
func scrape(t testing.TB, reg prometheus.Gatherer) string {
	t.Helper()
	w := httptest.NewRecorder()
	ready := func() (bool, string) { return true, "serving" }
	daemon.Handler(reg, func() (any, bool) { return nil, true }, ready).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", w.Code, w.Body)
	}
	return w.Body.String()
}

func TestRegisterAR(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	st := ar.Stats{RtSolPrReceived: 10, RtSolPrSENDFailed: 3, RateLimitedSource: 4, KeysCreated: 2, KeysReused: 1,
		PrRtAdvSent: 6, PrRtAdvWithoutKey: 3, FBUAccepted: 5, FBUBadAuth: 7, FBUMSKNotOwner: 2}
	trace := RegisterAR(reg, func() ar.Stats { return st }, func() int { return 42 })
	trace(ar.Trace{Step: "fbu-verify", Took: 20 * time.Microsecond})
	trace(ar.Trace{Step: "send-verify", Err: errors.New("bad signature")})
	st.FBUAccepted++ // read at scrape time

	text := scrape(t, reg)
	st.FBUAccepted++ // each scrape reads the router again
	text2 := scrape(t, reg)
	for _, want := range []string{
		"# HELP fhkey_ar_rtsolpr_received_total Router Solicitations for Proxy Advertisement handled (RFC 5269 §3.2).\n" +
			"# TYPE fhkey_ar_rtsolpr_received_total counter\nfhkey_ar_rtsolpr_received_total 10\n",
		"fhkey_ar_rtsolpr_rejected_total{reason=\"send\"} 3\n",
		"fhkey_ar_rtsolpr_rejected_total{reason=\"cga\"} 0\n",
		"fhkey_ar_rate_limited_total{bucket=\"source\"} 4\n",
		"fhkey_ar_keys_issued_total{kind=\"created\"} 2\n",
		"fhkey_ar_keys_issued_total{kind=\"reused\"} 1\n",
		"fhkey_ar_prrtadv_sent_total{with_key=\"true\"} 3\n",
		"fhkey_ar_fbu_accepted_total 6\n",
		"fhkey_ar_fbu_rejected_total{reason=\"bad_auth\"} 7\n",
		"fhkey_ar_fbu_msk_total{outcome=\"not_owner\"} 2\n",
		"fhkey_ar_keys_held 42\n",
		"fhkey_ar_step_duration_seconds_bucket{step=\"fbu-verify\",le=\"5e-05\"} 1\n",
		"fhkey_ar_step_duration_seconds_count{step=\"fbu-verify\"} 1\n",
		"fhkey_ar_step_errors_total{step=\"send-verify\"} 1\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, `step="send-verify",le=`) {
		t.Error("an untimed step was observed")
	}
	if !strings.Contains(text2, "fhkey_ar_fbu_accepted_total 7\n") {
		t.Errorf("second scrape did not read the router again:\n%s", text2)
	}
}

func TestRegisterMN(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	trace := RegisterMN(reg, func() int { return 2 })
	trace("key-decrypt", 3*time.Millisecond, nil)
	text := scrape(t, reg)
	for _, want := range []string{
		"fhkey_mn_keys_held 2\n",
		"fhkey_mn_step_duration_seconds_bucket{step=\"key-decrypt\",le=\"0.0025\"} 0\n",
		"fhkey_mn_step_duration_seconds_bucket{step=\"key-decrypt\",le=\"0.005\"} 1\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
}

// TestTraceDoesNotAllocate: the FBU path's one contact with metrics, the
// trace of its fbu-verify step, allocates nothing once the step's series
// exist (and neither does a failed step's counter).
func TestTraceDoesNotAllocate(t *testing.T) {
	trace := RegisterAR(prometheus.NewRegistry(), func() ar.Stats { return ar.Stats{} }, nil)
	ok := ar.Trace{Step: "fbu-verify", Took: 40 * time.Microsecond}
	bad := ar.Trace{Step: "fbu-verify", Took: 40 * time.Microsecond, Err: ar.ErrFBU}
	trace(ok)
	trace(bad)
	if n := testing.AllocsPerRun(1000, func() { trace(ok); trace(bad) }); n != 0 {
		t.Errorf("trace allocates %v times per FBU", n)
	}
	mn := RegisterMN(prometheus.NewRegistry(), nil)
	mn("fbu-build", time.Microsecond, nil)
	if n := testing.AllocsPerRun(1000, func() { mn("fbu-build", time.Microsecond, nil) }); n != 0 {
		t.Errorf("mobile node trace allocates %v times per FBU", n)
	}
}

// TestDefaultLimitsMatch keeps the configuration's documented defaults equal
// to the router's own.
func TestDefaultLimitsMatch(t *testing.T) {
	c, a := config.DefaultLimits, ar.DefaultLimits
	for i, p := range [][2]config.Rate{{c.PerSource, rate(a.PerSource)}, {c.PerKey, rate(a.PerKey)}, {c.Total, rate(a.Total)}, {c.UnsecuredReplies, rate(a.UnsecuredReplies)}} {
		if p[0] != p[1] {
			t.Errorf("rate %d: config %+v, ar %+v", i, p[0], p[1])
		}
	}
	if c.MaxTracked != a.MaxTracked {
		t.Errorf("MaxTracked: config %d, ar %d", c.MaxTracked, a.MaxTracked)
	}
}

func rate(r ar.Rate) config.Rate { return config.Rate{PerSecond: r.PerSecond, Burst: r.Burst} }

// TestRegisterPAE: the authenticator's counters and gauges, read at
// scrape time.
func TestRegisterPAE(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	st := pae.Stats{Sessions: 3, Authorized: 2, Started: 9, Accepted: 2, Rejected: 1, Evicted: 4, RateLimited: 100, Malformed: 5, Quiet: 7, QuietMACs: 6, QuietEvicted: 8, QuietRestarts: 3}
	RegisterPAE(reg, func() pae.Stats { return st })
	st.Accepted++
	text := scrape(t, reg)
	for _, want := range []string{
		"# TYPE fhkey_pae_sessions gauge\nfhkey_pae_sessions 3\n",
		"fhkey_pae_authorized 2\n",
		"fhkey_pae_sessions_started_total 9\n",
		"fhkey_pae_outcomes_total{outcome=\"accepted\"} 3\n",
		"fhkey_pae_outcomes_total{outcome=\"rejected\"} 1\n",
		"fhkey_pae_sessions_evicted_total 4\n",
		"fhkey_pae_dropped_total{reason=\"rate_limited\"} 100\n",
		"fhkey_pae_dropped_total{reason=\"malformed\"} 5\n",
		"fhkey_pae_dropped_total{reason=\"quiet\"} 7\n",
		"fhkey_pae_quiet 6\n",
		"fhkey_pae_quiet_evicted_total 8\n",
		"fhkey_pae_quiet_restarts_total 3\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
}
