package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
)

// Step is one printed step.
type Step struct {
	Step        string  `json:"step"`
	Description string  `json:"description"`
	DurationMS  float64 `json:"duration_ms"`
	OK          bool    `json:"ok"`
}

// Outcome is the machine-readable summary (--json).
type Outcome struct {
	KeyProvisioned     bool `json:"key_provisioned"`
	GenuineFBUAccepted bool `json:"genuine_fbu_accepted"`
	ForgedFBURejected  bool `json:"forged_fbu_rejected"`
	BindingUnchanged   bool `json:"binding_unchanged"`
}

// Summary is the outcome of Run (--json).
type Summary struct {
	OK        bool              `json:"ok"`
	Outcome   Outcome           `json:"outcome"`
	Steps     []Step            `json:"steps"`
	Addresses map[string]string `json:"addresses"`
	Pcap      string            `json:"pcap,omitempty"`
	Packets   int               `json:"packets"`
	CacheDir  string            `json:"cache_dir"`
	Error     string            `json:"error,omitempty"`
}

// Demo is the walk-through `fhkey demo` runs: Run in process on the
// in-memory network, RunNetns on the testbed. Each step is recorded in the
// summary and, when out is set, printed as it happens.
type Demo struct {
	out     io.Writer // nil: steps recorded only (--json)
	width   int       // of the step name column
	sum     Summary
	mu      sync.Mutex
	traces  []ar.Trace
	pcap    *capture.Writer
	pcapErr error
	badSum  int
	keys    []keystore.Record // the routers' handover keys at the end

	// The AAA walk-through (RunAAA).
	aaa           AAAOutcome
	radiusPackets int
	counters      func() map[string]uint64

	// The RFC 6618 walk-through (RunTLS).
	tls *tlsRun
}

// New returns a walk-through printing its steps to out (nil: none) and
// writing the in-memory run's packets to pcap (nil: none).
func New(out io.Writer, pcap *capture.Writer) *Demo {
	return &Demo{out: out, pcap: pcap, width: 12, sum: Summary{Addresses: map[string]string{}}}
}

// Run plays the in-memory walk-through with credentials from cacheDir and
// the MN requesting at. An error is a failure to run at all; protocol
// failures show in the outcome (Finish).
func (d *Demo) Run(ctx context.Context, cacheDir string, at hokey.AlgorithmType) error {
	d.sum.CacheDir = cacheDir
	return d.run(ctx, cacheDir, at)
}

// Keys returns the routers' handover keys at the end of Run (copies the
// caller must Zero).
func (d *Demo) Keys() []keystore.Record { return d.keys }

// Finish returns Run's summary: OK only if Run succeeded, the key was
// provisioned, the genuine FBU accepted, the forged one rejected, every
// packet had a correct checksum and the pcap file (pcapName, closed with
// closeErr) was written.
func (d *Demo) Finish(runErr error, pcapName string, closeErr error) Summary {
	o := d.sum.Outcome
	d.settle(runErr, pcapName, closeErr, o.KeyProvisioned && o.GenuineFBUAccepted && o.ForgedFBURejected)
	return d.sum
}

// FinishAAA returns RunAAA's summary: OK only if RunAAA succeeded, the key
// was provisioned, the FBU accepted, both forgeries rejected, every packet
// had a correct checksum and the pcap file was written (as Finish).
func (d *Demo) FinishAAA(runErr error, pcapName string, closeErr error) AAASummary {
	o := d.aaa
	d.settle(runErr, pcapName, closeErr, o.KeyProvisioned && o.FBUAccepted && o.ForgedRejected)
	s := AAASummary{OK: d.sum.OK, Mode: "aaa", Outcome: o, Steps: d.sum.Steps, Addresses: d.sum.Addresses, Counters: map[string]uint64{},
		Pcap: d.sum.Pcap, Packets: d.sum.Packets, RADIUSPackets: d.radiusPackets, CacheDir: d.sum.CacheDir, Error: d.sum.Error}
	if d.counters != nil {
		s.Counters = d.counters()
	}
	return s
}

// settle sets OK and Error of the summary from the run's error, the
// pcap's, the checksums and whether the outcome was reached.
func (d *Demo) settle(runErr error, pcapName string, closeErr error, reached bool) {
	if closeErr != nil && d.pcapErr == nil {
		d.pcapErr = closeErr
	}
	d.sum.Pcap = pcapName
	d.sum.OK = runErr == nil && reached && d.pcapErr == nil && d.badSum == 0
	switch {
	case runErr != nil:
		d.sum.Error = runErr.Error()
	case d.pcapErr != nil:
		d.sum.Error = "pcap: " + d.pcapErr.Error()
	case d.badSum != 0:
		d.sum.Error = fmt.Sprintf("%d packets with a wrong checksum", d.badSum)
	case !d.sum.OK:
		d.sum.Error = "the demo did not reach its expected outcome"
	}
}

func (d *Demo) step(name string, took time.Duration, ok bool, format string, args ...any) {
	desc := fmt.Sprintf(format, args...)
	d.sum.Steps = append(d.sum.Steps, Step{Step: name, Description: desc, DurationMS: float64(took.Microseconds()) / 1000, OK: ok})
	if d.out == nil {
		return
	}
	mark := "ok"
	if !ok {
		mark = "FAILED"
	}
	lines := strings.Split(desc, "\n")
	fmt.Fprintf(d.out, "%2d. %-*s %9s %-6s %s\n", len(d.sum.Steps), d.width, name, FormatDuration(took), mark, lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(d.out, "%*s%s\n", d.width+22, "", l)
	}
}

// FormatDuration prints a step duration: µs below a millisecond, "-" for none.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1e3)
	}
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1e3)
}

// trace collects the routers' step timings.
func (d *Demo) trace(t ar.Trace) {
	d.mu.Lock()
	d.traces = append(d.traces, t)
	d.mu.Unlock()
}

// mnTrace collects the mobile node's step timings under "mn:" names.
func (d *Demo) mnTrace(step string, took time.Duration, err error) {
	d.trace(ar.Trace{Step: "mn:" + step, Took: took, Err: err})
}

// takeTraces returns and clears the collected traces.
func (d *Demo) takeTraces() map[string]ar.Trace {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := map[string]ar.Trace{}
	for _, t := range d.traces {
		m[t.Step] = t
	}
	d.traces = nil
	return m
}

// capture writes one packet of the in-memory network to the pcap file.
func (d *Demo) capture(p netio.Packet) {
	pkt := &capture.Packet{HopLimit: p.HopLimit, Source: p.Src, Destination: p.Dst, Protocol: p.NextHeader, Payload: p.Payload}
	if p.HomeAddress.IsValid() {
		pkt.ExtensionHeaders = []capture.ExtensionHeader{capture.HomeAddressHeader(p.HomeAddress)}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sum.Packets++
	if pkt.VerifyChecksum() != nil {
		d.badSum++
	}
	if d.pcap == nil || d.pcapErr != nil {
		return
	}
	b, err := pkt.Marshal()
	if err == nil {
		err = d.pcap.WritePacket(time.Now(), b)
	}
	d.pcapErr = err
}
