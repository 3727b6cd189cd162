package scenario

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/fhkey/fhkey/internal/peer"
	"github.com/fhkey/fhkey/internal/radius"
)

// writeRequests writes n radclient requests, each by write, to file.
func writeRequests(file string, n int, write func(w *bufio.Writer, i int) error) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		if err := write(w, i); err != nil {
			f.Close()
			return err
		}
	}
	return errors.Join(w.Flush(), f.Close())
}

var radclientSummary = regexp.MustCompile(`(?m)^\s*(Accepted|Rejected|Lost)\s*:\s*(\d+)`)

// runRadclient sends file's requests to addr with radclient -p and times
// it, with the CPU time serverCPU reports spent meanwhile; the summary
// must show every request answered.
func runRadclient(ctx context.Context, radclient string, cfg HKSBenchConfig, file string, addr netip.AddrPort, secret string,
	serverCPU func() (time.Duration, error)) (RadclientSummary, error) {
	var s RadclientSummary
	dict := filepath.Join(cfg.Dir, "radclient")
	if err := os.MkdirAll(dict, 0o700); err != nil {
		return s, err
	}
	if err := peer.DictionaryDir(dict, radius.FreeRADIUSDictionary()); err != nil {
		return s, err
	}
	cmd := exec.CommandContext(ctx, radclient, "-p", strconv.Itoa(cfg.Parallel), "-q", "-s", "-r", "3", "-t", "2",
		"-d", dict, "-f", file, addr.String(), "auth", secret)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	in0, drop0 := udpCounters()
	cpu0, cerr := serverCPU()
	load := watchLoad(in0, 2*int64(cfg.Requests))
	start := time.Now()
	err := cmd.Run()
	s.Seconds = time.Since(start).Seconds()
	s.LoadSeconds = load.seconds()
	cpu1, cerr1 := serverCPU()
	in1, drop1 := udpCounters()
	s.UDPInDatagrams, s.UDPRcvbufErrors = in1-in0, drop1-drop0
	if cerr == nil && cerr1 == nil {
		s.ServerCPUSeconds = (cpu1 - cpu0).Seconds()
		s.ServerCPUMicros = s.ServerCPUSeconds * 1e6 / float64(cfg.Requests)
	}
	if ps := cmd.ProcessState; ps != nil {
		s.RadclientCPUSeconds = (ps.UserTime() + ps.SystemTime()).Seconds()
		s.RadclientBusy = s.RadclientCPUSeconds / s.Seconds
	}
	for _, m := range radclientSummary.FindAllStringSubmatch(out.String(), -1) {
		n, _ := strconv.Atoi(m[2])
		switch m[1] {
		case "Accepted":
			s.Accepted = n
		case "Rejected":
			s.Rejected = n
		case "Lost":
			s.Lost = n
		}
	}
	if s.Accepted != cfg.Requests {
		return s, fmt.Errorf("scenario: radclient: %d of %d accepted (%d rejected, %d lost), exit %v:\n%s",
			s.Accepted, cfg.Requests, s.Rejected, s.Lost, err, tailOf(out.String()))
	}
	return s, nil
}

// loadSampling is how often watchLoad reads the UDP counters.
const loadSampling = time.Millisecond

// loadWindow times the load a radclient run puts on its server (see
// watchLoad).
type loadWindow struct {
	in0, total int64
	stop, done chan struct{}
	start, end time.Time
}

// watchLoad samples the network namespace's UDP InDatagrams every
// loadSampling until seconds is called, and times the load of a run that
// starts from in0 and moves total datagrams (its requests and answers):
// from the first sample counting some of them to the first counting all.
// That leaves out what radclient does before its first request (it reads
// and parses its whole request file: 20,000 requests of 400 characters of
// text for key requests, 60 for PAP) and after its last answer (freeing
// them), during which the server is idle (docs/aaa.md).
func watchLoad(in0, total int64) *loadWindow {
	w := &loadWindow{in0: in0, total: total, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(loadSampling)
		defer tick.Stop()
		var snmp snmpReader
		defer snmp.close()
		for {
			in, _ := snmp.read()
			if w.observe(in, time.Now()) {
				return
			}
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// observe takes one sample, InDatagrams in at now, and reports whether
// the load has been seen whole. The start is the first sample counting
// some of the run's datagrams (8: a few requests and answers, more than
// stray traffic between two samples usually brings), the end the first
// counting all of them. Both can fall on one sample when the sampler is
// not scheduled during the whole run (a loaded machine) or other traffic
// in the namespace fills the count: seconds then reports 0, not timed.
func (w *loadWindow) observe(in int64, now time.Time) bool {
	if w.start.IsZero() && in-w.in0 >= 8 {
		w.start = now
	}
	if in-w.in0 >= w.total {
		w.end = now
		return true
	}
	return false
}

// seconds stops the sampling and returns the load's duration, 0 if it was
// not timed: counters unreadable, or its start and end seen in one sample
// (see observe; the run's rate is then its wall-time rate, benchRun).
func (w *loadWindow) seconds() float64 {
	close(w.stop)
	<-w.done
	if w.start.IsZero() || w.end.IsZero() || !w.end.After(w.start) {
		return 0
	}
	return w.end.Sub(w.start).Seconds()
}

// udpCounters returns the network namespace's UDP InDatagrams and
// RcvbufErrors (/proc/net/snmp; zeros where it cannot be read).
func udpCounters() (in, rcvbufErrors int64) {
	var r snmpReader
	defer r.close()
	return r.read()
}

// snmpReader reads /proc/net/snmp's UDP counters again and again through
// one open file and one buffer: a few microseconds a read, so that
// watchLoad's sampling takes little from the processes it times.
type snmpReader struct {
	f   *os.File
	buf [8192]byte
}

// read returns UDP InDatagrams and RcvbufErrors (zeros where they cannot
// be read).
func (r *snmpReader) read() (in, rcvbufErrors int64) {
	if r.f == nil {
		f, err := os.Open("/proc/net/snmp")
		if err != nil {
			return 0, 0
		}
		r.f = f
	}
	n, err := r.f.ReadAt(r.buf[:], 0)
	if n == 0 && err != nil {
		return 0, 0
	}
	// Two "Udp:" lines: the names, then the values.
	b := r.buf[:n]
	i := bytes.Index(b, []byte("\nUdp: "))
	if i < 0 {
		return 0, 0
	}
	b = b[i+1:]
	names, rest, _ := bytes.Cut(b, []byte("\n"))
	values, _, _ := bytes.Cut(rest, []byte("\n"))
	nf, vf := bytes.Fields(names), bytes.Fields(values)
	for k := 1; k < len(nf) && k < len(vf); k++ {
		switch string(nf[k]) {
		case "InDatagrams":
			in, _ = strconv.ParseInt(string(vf[k]), 10, 64)
		case "RcvbufErrors":
			rcvbufErrors, _ = strconv.ParseInt(string(vf[k]), 10, 64)
		}
	}
	return in, rcvbufErrors
}

func (r *snmpReader) close() {
	if r.f != nil {
		r.f.Close()
	}
}
