package rolemetrics

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/metrics"
)

func TestRegisterAR(t *testing.T) {
	reg := metrics.NewRegistry()
	st := ar.Stats{RtSolPrReceived: 10, RtSolPrSENDFailed: 3, RateLimitedSource: 4, KeysCreated: 2, KeysReused: 1,
		PrRtAdvSent: 6, PrRtAdvWithoutKey: 3, FBUAccepted: 5, FBUBadAuth: 7}
	trace := RegisterAR(reg, func() ar.Stats { return st }, func() int { return 42 })
	trace(ar.Trace{Step: "fbu-verify", Took: 20 * time.Microsecond})
	trace(ar.Trace{Step: "send-verify", Err: errors.New("bad signature")})
	st.FBUAccepted++ // read at scrape time

	var b bytes.Buffer
	if _, err := reg.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"fhkey_ar_rtsolpr_received_total 10\n",
		"fhkey_ar_rtsolpr_rejected_total{reason=\"send\"} 3\n",
		"fhkey_ar_rtsolpr_rejected_total{reason=\"cga\"} 0\n",
		"fhkey_ar_rate_limited_total{bucket=\"source\"} 4\n",
		"fhkey_ar_keys_issued_total{kind=\"created\"} 2\n",
		"fhkey_ar_keys_issued_total{kind=\"reused\"} 1\n",
		"fhkey_ar_prrtadv_sent_total{with_key=\"true\"} 3\n",
		"fhkey_ar_fbu_accepted_total 6\n",
		"fhkey_ar_fbu_rejected_total{reason=\"bad_auth\"} 7\n",
		"fhkey_ar_keys_held 42\n",
		"fhkey_ar_step_duration_seconds_bucket{step=\"fbu-verify\",le=\"5e-05\"} 1\n",
		"fhkey_ar_step_duration_seconds_count{step=\"fbu-verify\"} 1\n",
		"fhkey_ar_step_errors_total{step=\"send-verify\"} 1\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(b.String(), `step="send-verify",le=`) {
		t.Error("an untimed step was observed")
	}
}

func TestRegisterMN(t *testing.T) {
	reg := metrics.NewRegistry()
	trace := RegisterMN(reg, func() int { return 2 })
	trace("key-decrypt", 3*time.Millisecond, nil)
	var b bytes.Buffer
	reg.WriteTo(&b)
	for _, want := range []string{
		"fhkey_mn_keys_held 2\n",
		"fhkey_mn_step_duration_seconds_bucket{step=\"key-decrypt\",le=\"0.0025\"} 0\n",
		"fhkey_mn_step_duration_seconds_bucket{step=\"key-decrypt\",le=\"0.005\"} 1\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
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
