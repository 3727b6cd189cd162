package metrics

import (
	"bytes"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWriteToExactOutput(t *testing.T) {
	r := NewRegistry()
	// Registered out of order: the output is sorted by name.
	rej := r.CounterVec("fhkey_rtsolpr_rejected_total", "RtSolPr rejected, by reason.", "reason")
	keys := r.Counter("fhkey_keys_issued_total", "Handover keys issued.")
	r.GaugeFunc("fhkey_keys_held", "Handover keys held.", func() float64 { return 7 })
	lat := r.Histogram("fhkey_fbu_verify_seconds", "FBU verification time.", []float64{0.001, 0.01})
	fbu := r.CounterVec("fhkey_fbu_total", "FBUs by result and reason.", "result", "reason")
	esc := r.CounterVec("fhkey_escape_total", "Help with \\ and\nnewline.", "v")
	r.CounterFunc("fhkey_func_total", "From a function.", func() float64 { return 3 })
	g := r.Gauge("fhkey_temperature", "A gauge.")

	keys.Add(2)
	rej.With("bad_signature").Inc()
	rej.With("bad_signature").Inc()
	rej.With("bad_cga").Inc()
	rej.Func(func() float64 { return 5 }, "rate_limited")
	fbu.With("rejected", "bad_mac").Inc()
	fbu.With("accepted", "").Add(4)
	esc.With("a\"b\\c\nd").Inc()
	lat.Observe(0.0005) // bucket 0.001
	lat.Observe(0.001)  // bucket 0.001: le is inclusive
	lat.Observe(0.005)  // bucket 0.01
	lat.Observe(2)      // +Inf only
	g.Set(-1.5)

	var b bytes.Buffer
	n, err := r.WriteTo(&b)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		`# HELP fhkey_escape_total Help with \\ and\nnewline.`,
		`# TYPE fhkey_escape_total counter`,
		`fhkey_escape_total{v="a\"b\\c\nd"} 1`,
		`# HELP fhkey_fbu_total FBUs by result and reason.`,
		`# TYPE fhkey_fbu_total counter`,
		`fhkey_fbu_total{result="accepted",reason=""} 4`,
		`fhkey_fbu_total{result="rejected",reason="bad_mac"} 1`,
		`# HELP fhkey_fbu_verify_seconds FBU verification time.`,
		`# TYPE fhkey_fbu_verify_seconds histogram`,
		`fhkey_fbu_verify_seconds_bucket{le="0.001"} 2`,
		`fhkey_fbu_verify_seconds_bucket{le="0.01"} 3`,
		`fhkey_fbu_verify_seconds_bucket{le="+Inf"} 4`,
		`fhkey_fbu_verify_seconds_sum 2.0065`,
		`fhkey_fbu_verify_seconds_count 4`,
		`# HELP fhkey_func_total From a function.`,
		`# TYPE fhkey_func_total counter`,
		`fhkey_func_total 3`,
		`# HELP fhkey_keys_held Handover keys held.`,
		`# TYPE fhkey_keys_held gauge`,
		`fhkey_keys_held 7`,
		`# HELP fhkey_keys_issued_total Handover keys issued.`,
		`# TYPE fhkey_keys_issued_total counter`,
		`fhkey_keys_issued_total 2`,
		`# HELP fhkey_rtsolpr_rejected_total RtSolPr rejected, by reason.`,
		`# TYPE fhkey_rtsolpr_rejected_total counter`,
		`fhkey_rtsolpr_rejected_total{reason="bad_cga"} 1`,
		`fhkey_rtsolpr_rejected_total{reason="bad_signature"} 2`,
		`fhkey_rtsolpr_rejected_total{reason="rate_limited"} 5`,
		`# HELP fhkey_temperature A gauge.`,
		`# TYPE fhkey_temperature gauge`,
		`fhkey_temperature -1.5`,
		``,
	}, "\n")
	if got := b.String(); got != want {
		t.Errorf("WriteTo:\n%s\nwant:\n%s", got, want)
	}
	if n != int64(b.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d", n, b.Len())
	}
}

func TestHistogramVec(t *testing.T) {
	r := NewRegistry()
	h := r.HistogramVec("fhkey_step_seconds", "Step latency.", []float64{1}, "step")
	h.With("fbu-verify").ObserveDuration(500 * time.Millisecond)
	h.With("fbu-verify").ObserveDuration(3 * time.Second)
	var b bytes.Buffer
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := "# HELP fhkey_step_seconds Step latency.\n" +
		"# TYPE fhkey_step_seconds histogram\n" +
		"fhkey_step_seconds_bucket{step=\"fbu-verify\",le=\"1\"} 1\n" +
		"fhkey_step_seconds_bucket{step=\"fbu-verify\",le=\"+Inf\"} 2\n" +
		"fhkey_step_seconds_sum{step=\"fbu-verify\"} 3.5\n" +
		"fhkey_step_seconds_count{step=\"fbu-verify\"} 2\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if c := h.With("fbu-verify").Count(); c != 2 {
		t.Errorf("Count = %d, want 2", c)
	}
}

func TestFormatFloat(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{1e-05, "1e-05"},
		{0.25, "0.25"},
		{1e21, "1e+21"},
		{math.Inf(1), "+Inf"},
		{math.Inf(-1), "-Inf"},
		{math.NaN(), "NaN"},
	} {
		if got := formatFloat(tc.in); got != tc.want {
			t.Errorf("formatFloat(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRegisterPanics(t *testing.T) {
	for name, f := range map[string]func(r *Registry){
		"bad metric name":   func(r *Registry) { r.Counter("9bad", "") },
		"empty name":        func(r *Registry) { r.Counter("", "") },
		"bad label":         func(r *Registry) { r.CounterVec("a_total", "", "bad-label") },
		"reserved label":    func(r *Registry) { r.CounterVec("a_total", "", "__x") },
		"three labels":      func(r *Registry) { r.CounterVec("a_total", "", "a", "b", "c") },
		"duplicate label":   func(r *Registry) { r.CounterVec("a_total", "", "a", "a") },
		"no label":          func(r *Registry) { r.CounterVec("a_total", "") },
		"le on histogram":   func(r *Registry) { r.HistogramVec("h", "", []float64{1}, "le") },
		"no buckets":        func(r *Registry) { r.Histogram("h", "", nil) },
		"unsorted buckets":  func(r *Registry) { r.Histogram("h", "", []float64{2, 1}) },
		"infinite bucket":   func(r *Registry) { r.Histogram("h", "", []float64{math.Inf(1)}) },
		"duplicate":         func(r *Registry) { r.Counter("a_total", ""); r.Gauge("a_total", "") },
		"histogram clash":   func(r *Registry) { r.Counter("h_count", ""); r.Histogram("h", "", []float64{1}) },
		"wrong value count": func(r *Registry) { r.CounterVec("a_total", "", "a", "b").With("x") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(NewRegistry())
		})
	}
}

// TestConcurrentUpdates runs updates and WriteTo together (meaningful
// under -race) and checks that no increment is lost.
func TestConcurrentUpdates(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("c_total", "")
	v := r.CounterVec("v_total", "", "k")
	g := r.Gauge("g", "")
	h := r.Histogram("h", "", LatencyBuckets)
	const workers, per = 8, 2000
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				c.Inc()
				v.With([]string{"a", "b"}[i%2]).Inc()
				g.Add(1)
				h.Observe(0.001)
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			var b bytes.Buffer
			if _, err := r.WriteTo(&b); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	<-done
	if c.Value() != workers*per || v.With("a").Value()+v.With("b").Value() != workers*per ||
		g.Value() != workers*per || h.Count() != workers*per {
		t.Errorf("lost updates: counter %d, vec %d+%d, gauge %v, histogram %d",
			c.Value(), v.With("a").Value(), v.With("b").Value(), g.Value(), h.Count())
	}
	if math.Abs(h.sum.Value()-workers*per*0.001) > 1e-6 {
		t.Errorf("histogram sum %v", h.sum.Value())
	}
}

func BenchmarkCounterInc(b *testing.B) {
	c := NewRegistry().Counter("c_total", "")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

func BenchmarkCounterIncSerial(b *testing.B) {
	c := NewRegistry().Counter("c_total", "")
	b.ReportAllocs()
	for b.Loop() {
		c.Inc()
	}
}

func BenchmarkCounterVecWith(b *testing.B) {
	v := NewRegistry().CounterVec("c_total", "", "reason")
	b.ReportAllocs()
	for b.Loop() {
		v.With("bad_signature").Inc()
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	h := NewRegistry().Histogram("h", "", LatencyBuckets)
	b.ReportAllocs()
	for b.Loop() {
		h.Observe(0.0007)
	}
}

func BenchmarkWriteTo(b *testing.B) {
	r := NewRegistry()
	v := r.CounterVec("c_total", "", "reason")
	for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		v.With(s).Inc()
	}
	h := r.HistogramVec("h", "", LatencyBuckets, "step")
	h.With("x").Observe(1)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		r.WriteTo(&buf)
	}
}
