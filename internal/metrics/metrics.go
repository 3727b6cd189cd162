package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ContentType is the media type of WriteTo's output, the text exposition
// format version 0.0.4.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// kind is a metric family's TYPE.
type kind uint8

const (
	kindCounter kind = iota
	kindGauge
	kindHistogram
)

func (k kind) String() string {
	switch k {
	case kindCounter:
		return "counter"
	case kindGauge:
		return "gauge"
	}
	return "histogram"
}

// Registry holds metric families. The zero value is not usable; call
// NewRegistry. It is safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	families map[string]*family
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{families: make(map[string]*family)}
}

// family is one metric name with its HELP, TYPE and children (one per set
// of label values).
type family struct {
	name    string
	help    string
	kind    kind
	labels  []string
	buckets []float64 // histograms only

	mu       sync.RWMutex
	children map[string]*child // key: label values joined by 0xff
}

// child is one time series (or, for a histogram, one set of series).
type child struct {
	values []string // label values, in family.labels order
	// Exactly one of the following is used.
	counter   *Counter
	gauge     *Gauge
	fn        func() float64
	histogram *Histogram
}

func (r *Registry) register(name, help string, k kind, labels []string, buckets []float64) *family {
	if !validMetricName(name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	if len(labels) > 2 {
		panic(fmt.Sprintf("metrics: %s: at most two labels", name))
	}
	for i, l := range labels {
		if !validLabelName(l) || (k == kindHistogram && l == "le") || slices.Contains(labels[:i], l) {
			panic(fmt.Sprintf("metrics: %s: invalid label name %q", name, l))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range familyNames(name, k) {
		if _, dup := r.families[n]; dup {
			panic(fmt.Sprintf("metrics: %s registered twice", name))
		}
	}
	f := &family{name: name, help: help, kind: k, labels: slices.Clone(labels), buckets: buckets, children: make(map[string]*child)}
	r.families[name] = f
	return f
}

// familyNames are the names a family occupies: a histogram also writes the
// _bucket, _sum and _count series.
func familyNames(name string, k kind) []string {
	if k == kindHistogram {
		return []string{name, name + "_bucket", name + "_sum", name + "_count"}
	}
	return []string{name}
}

// get returns the child of values, creating it with mk when absent.
func (f *family) get(values []string, mk func() *child) *child {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s: %d label values for %d labels", f.name, len(values), len(f.labels)))
	}
	key := strings.Join(values, "\xff")
	f.mu.RLock()
	c := f.children[key]
	f.mu.RUnlock()
	if c != nil {
		return c
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c = f.children[key]; c == nil {
		c = mk()
		c.values = slices.Clone(values)
		f.children[key] = c
	}
	return c
}

// set installs c for values, replacing any child there.
func (f *family) set(values []string, c *child) {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s: %d label values for %d labels", f.name, len(values), len(f.labels)))
	}
	c.values = slices.Clone(values)
	f.mu.Lock()
	f.children[strings.Join(values, "\xff")] = c
	f.mu.Unlock()
}

// Counter is a monotonically increasing count. Its methods are single
// atomic operations.
type Counter struct{ v atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Value returns the count.
func (c *Counter) Value() uint64 { return c.v.Load() }

// Counter registers and returns an unlabelled counter. Prometheus
// convention: the name ends in _total.
func (r *Registry) Counter(name, help string) *Counter {
	f := r.register(name, help, kindCounter, nil, nil)
	return f.get(nil, func() *child { return &child{counter: new(Counter)} }).counter
}

// CounterFunc registers a counter whose value is read from fn at each
// WriteTo (for counters kept elsewhere, such as a role's Stats).
func (r *Registry) CounterFunc(name, help string, fn func() float64) {
	f := r.register(name, help, kindCounter, nil, nil)
	f.set(nil, &child{fn: fn})
}

// CounterVec is a counter family with one or two labels.
type CounterVec struct{ f *family }

// CounterVec registers a counter family labelled by labels (one or two).
func (r *Registry) CounterVec(name, help string, labels ...string) *CounterVec {
	if len(labels) == 0 {
		panic(fmt.Sprintf("metrics: %s: CounterVec needs a label", name))
	}
	return &CounterVec{r.register(name, help, kindCounter, labels, nil)}
}

// With returns the counter of the label values, in the order the labels
// were registered, creating it at zero on first use. Keep the returned
// pointer on hot paths: With takes a read lock and builds a map key.
func (v *CounterVec) With(values ...string) *Counter {
	return v.f.get(values, func() *child { return &child{counter: new(Counter)} }).counter
}

// Func makes the series of the label values read its value from fn.
func (v *CounterVec) Func(fn func() float64, values ...string) {
	v.f.set(values, &child{fn: fn})
}

// Gauge is a value that goes up and down, stored as float64 bits.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the gauge to x.
func (g *Gauge) Set(x float64) { g.bits.Store(math.Float64bits(x)) }

// Add adds x (which may be negative).
func (g *Gauge) Add(x float64) {
	for {
		old := g.bits.Load()
		if g.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+x)) {
			return
		}
	}
}

// Value returns the gauge's value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

// Gauge registers and returns an unlabelled gauge.
func (r *Registry) Gauge(name, help string) *Gauge {
	f := r.register(name, help, kindGauge, nil, nil)
	return f.get(nil, func() *child { return &child{gauge: new(Gauge)} }).gauge
}

// GaugeFunc registers a gauge whose value is read from fn at each WriteTo.
func (r *Registry) GaugeFunc(name, help string, fn func() float64) {
	f := r.register(name, help, kindGauge, nil, nil)
	f.set(nil, &child{fn: fn})
}

// GaugeVec is a gauge family with one or two labels.
type GaugeVec struct{ f *family }

// GaugeVec registers a gauge family labelled by labels (one or two).
func (r *Registry) GaugeVec(name, help string, labels ...string) *GaugeVec {
	if len(labels) == 0 {
		panic(fmt.Sprintf("metrics: %s: GaugeVec needs a label", name))
	}
	return &GaugeVec{r.register(name, help, kindGauge, labels, nil)}
}

// With returns the gauge of the label values, creating it at zero.
func (v *GaugeVec) With(values ...string) *Gauge {
	return v.f.get(values, func() *child { return &child{gauge: new(Gauge)} }).gauge
}

// Func makes the series of the label values read its value from fn.
func (v *GaugeVec) Func(fn func() float64, values ...string) {
	v.f.set(values, &child{fn: fn})
}

// LatencyBuckets are bucket upper bounds in seconds for protocol
// processing latencies, from 50 µs (an FBU verification) to 1 s (an RSA
// provisioning under load).
var LatencyBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// Histogram counts observations in fixed buckets. Each bucket count is its
// own atomic counter; the cumulative counts, _count (the +Inf bucket) and
// _sum are derived at WriteTo, so _count always equals the +Inf bucket.
type Histogram struct {
	upper  []float64       // ascending, without +Inf
	counts []atomic.Uint64 // len(upper)+1; the last is the +Inf bucket
	sum    Gauge
}

func newHistogram(upper []float64) *Histogram {
	return &Histogram{upper: upper, counts: make([]atomic.Uint64, len(upper)+1)}
}

// Observe records x.
func (h *Histogram) Observe(x float64) {
	i := sort.SearchFloat64s(h.upper, x) // first bound >= x: le is inclusive
	h.counts[i].Add(1)
	h.sum.Add(x)
}

// ObserveDuration records d in seconds.
func (h *Histogram) ObserveDuration(d time.Duration) { h.Observe(d.Seconds()) }

// Count returns the number of observations.
func (h *Histogram) Count() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// checkBuckets validates and copies bucket bounds: finite, strictly
// increasing, at least one.
func checkBuckets(name string, buckets []float64) []float64 {
	if len(buckets) == 0 {
		panic(fmt.Sprintf("metrics: %s: no buckets", name))
	}
	for i, b := range buckets {
		if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= buckets[i-1]) {
			panic(fmt.Sprintf("metrics: %s: buckets must be finite and increasing", name))
		}
	}
	return slices.Clone(buckets)
}

// Histogram registers an unlabelled histogram with the given bucket upper
// bounds (the +Inf bucket is implicit).
func (r *Registry) Histogram(name, help string, buckets []float64) *Histogram {
	b := checkBuckets(name, buckets)
	f := r.register(name, help, kindHistogram, nil, b)
	return f.get(nil, func() *child { return &child{histogram: newHistogram(b)} }).histogram
}

// HistogramVec is a histogram family with one or two labels.
type HistogramVec struct{ f *family }

// HistogramVec registers a histogram family labelled by labels (one or
// two; "le" is reserved).
func (r *Registry) HistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	if len(labels) == 0 {
		panic(fmt.Sprintf("metrics: %s: HistogramVec needs a label", name))
	}
	b := checkBuckets(name, buckets)
	return &HistogramVec{r.register(name, help, kindHistogram, labels, b)}
}

// With returns the histogram of the label values, creating it empty.
func (v *HistogramVec) With(values ...string) *Histogram {
	return v.f.get(values, func() *child { return &child{histogram: newHistogram(v.f.buckets)} }).histogram
}

// WriteTo writes every family in the text exposition format 0.0.4: families
// sorted by name, each with its HELP and TYPE lines, series sorted by label
// values. It implements io.WriterTo.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	fams := make([]*family, 0, len(r.families))
	for _, f := range r.families {
		fams = append(fams, f)
	}
	r.mu.Unlock()
	sort.Slice(fams, func(i, j int) bool { return fams[i].name < fams[j].name })

	cw := &countingWriter{w: w}
	bw := bufio.NewWriter(cw)
	for _, f := range fams {
		f.write(bw)
	}
	err := bw.Flush()
	return cw.n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (f *family) write(w *bufio.Writer) {
	f.mu.RLock()
	cs := make([]*child, 0, len(f.children))
	for _, c := range f.children {
		cs = append(cs, c)
	}
	f.mu.RUnlock()
	sort.Slice(cs, func(i, j int) bool { return slices.Compare(cs[i].values, cs[j].values) < 0 })

	w.WriteString("# HELP ")
	w.WriteString(f.name)
	w.WriteByte(' ')
	w.WriteString(escapeHelp(f.help))
	w.WriteString("\n# TYPE ")
	w.WriteString(f.name)
	w.WriteByte(' ')
	w.WriteString(f.kind.String())
	w.WriteByte('\n')
	for _, c := range cs {
		switch {
		case c.histogram != nil:
			h := c.histogram
			var cum uint64
			for i := range h.counts {
				cum += h.counts[i].Load()
				le := "+Inf"
				if i < len(h.upper) {
					le = formatFloat(h.upper[i])
				}
				f.writeSample(w, "_bucket", c.values, "le", le, strconv.FormatUint(cum, 10))
			}
			f.writeSample(w, "_sum", c.values, "", "", formatFloat(h.sum.Value()))
			f.writeSample(w, "_count", c.values, "", "", strconv.FormatUint(cum, 10))
		case c.counter != nil:
			f.writeSample(w, "", c.values, "", "", strconv.FormatUint(c.counter.Value(), 10))
		case c.gauge != nil:
			f.writeSample(w, "", c.values, "", "", formatFloat(c.gauge.Value()))
		default:
			f.writeSample(w, "", c.values, "", "", formatFloat(c.fn()))
		}
	}
}

// writeSample writes one line: name+suffix, the labels (plus extra=extraValue
// when extra is set) and the value.
func (f *family) writeSample(w *bufio.Writer, suffix string, values []string, extra, extraValue, value string) {
	w.WriteString(f.name)
	w.WriteString(suffix)
	if len(values) > 0 || extra != "" {
		w.WriteByte('{')
		for i, v := range values {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(f.labels[i])
			w.WriteString(`="`)
			w.WriteString(escapeLabelValue(v))
			w.WriteByte('"')
		}
		if extra != "" {
			if len(values) > 0 {
				w.WriteByte(',')
			}
			w.WriteString(extra)
			w.WriteString(`="`)
			w.WriteString(extraValue)
			w.WriteByte('"')
		}
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(value)
	w.WriteByte('\n')
}

// formatFloat writes a sample value as the exposition format wants it:
// Go float syntax, with +Inf, -Inf and NaN spelled so.
func formatFloat(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "+Inf"
	case math.IsInf(x, -1):
		return "-Inf"
	case math.IsNaN(x):
		return "NaN"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// escapeHelp escapes a HELP text: backslash and line feed.
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }

// escapeLabelValue escapes a label value: backslash, double quote and line
// feed.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabelValue(s string) string { return labelEscaper.Replace(s) }

// validMetricName reports whether s matches [a-zA-Z_:][a-zA-Z0-9_:]*.
func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		ok := c == '_' || c == ':' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (i > 0 && '0' <= c && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// validLabelName reports whether s matches [a-zA-Z_][a-zA-Z0-9_]* and does
// not start with the reserved "__".
func validLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") {
		return false
	}
	for i, c := range []byte(s) {
		ok := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (i > 0 && '0' <= c && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}
