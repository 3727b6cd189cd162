package scenario

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/fhkey/fhkey/internal/handoverplot"
	"github.com/fhkey/fhkey/internal/testbed"
)

// ForwardingRun is one of the two runs of Forwarding. The times of its
// events are in milliseconds since the stream's first datagram was sent.
type ForwardingRun struct {
	Forwarding      bool        `json:"fmipv6_forwarding"`
	Stream          StreamStats `json:"stream"`
	BeforeMove      StreamStats `json:"before_move"`
	AfterHandover   StreamStats `json:"after_handover"`
	HandoverMS      float64     `json:"handover_ms"`
	InterruptionMS  float64     `json:"interruption_ms"`
	DelayAddedP50MS float64     `json:"delay_added_median_ms"`
	// MoveStartMS and MoveEndMS bound the link change (Mobile.Move).
	MoveStartMS float64 `json:"move_start_ms"`
	MoveEndMS   float64 `json:"move_end_ms"`
	// FBUSentMS is when the FBU exchange started (the FBU is built and
	// sent within microseconds), FBackMS when the authenticated FBack had
	// been processed; with forwarding only.
	FBUSentMS float64 `json:"fbu_sent_ms,omitempty"`
	FBackMS   float64 `json:"fback_received_ms,omitempty"`
	// Arrivals is every datagram of the stream that arrived, in order of
	// arrival: for the plot (ForwardingResult.Figure), not in the JSON
	// summary.
	Arrivals []StreamArrival `json:"-"`
}

// StreamArrival is one datagram received: its index in the stream (0 for
// the first one sent) and when it arrived, in milliseconds since the
// stream's first datagram was sent.
type StreamArrival struct {
	Index int
	AtMS  float64
}

// ForwardingResult is the outcome of Forwarding.
type ForwardingResult struct {
	Benchmark string          `json:"benchmark"`
	SpacingMS float64         `json:"spacing_ms"`
	Runs      []ForwardingRun `json:"runs"`
}

func (r ForwardingResult) String() string {
	s := fmt.Sprintf("CN stream to the previous CoA across the move (%d datagrams, one every %.3f ms)\n", r.Runs[0].Stream.Sent, r.SpacingMS)
	for _, run := range r.Runs {
		name := "move without FMIPv6 forwarding"
		if run.Forwarding {
			name = "move + FBU, PAR tunnels PCoA -> NCoA"
		}
		s += fmt.Sprintf("  %-38s received %5d  lost %5d (%.0f ms of traffic)  move%s took %.1f ms  delay median %.3f ms (+%.3f ms)\n",
			name, run.Stream.Received, run.Stream.Lost, run.InterruptionMS, map[bool]string{true: "+FBU", false: ""}[run.Forwarding],
			run.HandoverMS, run.AfterHandover.DelayP50, run.DelayAddedP50MS)
	}
	return s[:len(s)-1]
}

// Forwarding streams n datagrams from the CN to the PCoA and moves the MN
// at a third of the stream, first without an FBU, then with one.
func (b *Bench) Forwarding(ctx context.Context, n int, spacing time.Duration) (ForwardingResult, error) {
	res := ForwardingResult{Benchmark: "forwarding", SpacingMS: float64(spacing.Microseconds()) / 1e3}
	if n < 30 {
		return res, fmt.Errorf("scenario: forwarding needs at least 30 datagrams, not %d", n)
	}
	par, m, stop, err := b.startPair(ctx)
	if err != nil {
		return res, err
	}
	defer stop()
	if _, err := m.RequestKey(ctx, par.Address()); err != nil {
		return res, err
	}
	recv, err := ListenUDP(b.tb, testbed.MN, netip.AddrPortFrom(m.PCoA.Address, 5999))
	if err != nil {
		return res, err
	}
	defer recv.Close()
	cn, err := NewSender(b.tb, testbed.CN, testbed.AddrCN)
	if err != nil {
		return res, err
	}
	defer cn.Close()
	for _, fwd := range []bool{false, true} {
		if fwd {
			if err := m.Return(ctx); err != nil {
				return res, err
			}
		}
		run := ForwardingRun{Forwarding: fwd}
		moveAt := n / 3
		done := make(chan error, 1)
		var took time.Duration
		// The moments of the run; the goroutine's are read after done.
		var streamStart, moveStart, moveEnd, fbuSent, fback time.Time
		recv.Reserve(n)
		from, to, err := cn.Stream(ctx, netip.AddrPortFrom(m.PCoA.Address, 5999), n, spacing, func(i int) {
			if i == 0 {
				streamStart = time.Now()
			}
			if i != moveAt {
				return
			}
			go func() {
				moveStart = time.Now()
				err := m.Move(ctx)
				moveEnd = time.Now()
				if err == nil && fwd {
					fbuSent = moveEnd
					_, err = m.FastHandover(ctx, par.Address())
					fback = time.Now()
				}
				took = time.Since(moveStart)
				done <- err
			}()
		})
		if err != nil {
			return res, err
		}
		if err := <-done; err != nil {
			return res, err
		}
		recv.WaitQuiet(300*time.Millisecond, 5*time.Second)
		run.HandoverMS = float64(took.Microseconds()) / 1e3
		run.Stream = recv.Stats(from, to)
		run.BeforeMove = recv.Stats(from, from+uint64(moveAt))
		// "After the handover": the datagrams sent once the move (and FBU)
		// was surely over.
		after := from + uint64(moveAt) + uint64(took/spacing) + 10
		if after < to {
			run.AfterHandover = recv.Stats(after, to)
		}
		run.InterruptionMS = float64(run.Stream.Lost) * res.SpacingMS
		since := func(t time.Time) float64 { return msSince(streamStart, t) }
		run.MoveStartMS, run.MoveEndMS = since(moveStart), since(moveEnd)
		if fwd {
			run.FBUSentMS, run.FBackMS = since(fbuSent), since(fback)
		}
		for _, a := range recv.Arrivals(from, to) {
			run.Arrivals = append(run.Arrivals, StreamArrival{Index: int(a.Seq - from), AtMS: since(a.At)})
		}
		if run.AfterHandover.Received > 0 {
			run.DelayAddedP50MS = run.AfterHandover.DelayP50 - run.BeforeMove.DelayP50
		}
		res.Runs = append(res.Runs, run)
	}
	return res, nil
}

func msSince(start, t time.Time) float64 { return float64(t.Sub(start).Nanoseconds()) / 1e6 }

// Figure is the plot of the two runs (internal/handoverplot): each run's
// datagrams by arrival time, from the start of its move, and the moments
// of the run with forwarding — the link change, FBU sent, FBack received.
func (r ForwardingResult) Figure() handoverplot.Figure {
	f := handoverplot.Figure{}
	if len(r.Runs) == 0 {
		return f
	}
	f.Title = fmt.Sprintf("CN stream to the previous CoA across the move (%d datagrams, %s ms apart)",
		r.Runs[0].Stream.Sent, strconv.FormatFloat(r.SpacingMS, 'f', -1, 64))
	for _, run := range r.Runs {
		s := handoverplot.Series{Label: fmt.Sprintf("without FMIPv6 forwarding: %d lost", run.Stream.Lost)}
		if run.Forwarding {
			s.Label = fmt.Sprintf("with FMIPv6 forwarding (move + FBU): %d lost", run.Stream.Lost)
		}
		s.Points = make([]handoverplot.Point, len(run.Arrivals))
		for i, a := range run.Arrivals {
			s.Points[i] = handoverplot.Point{X: a.AtMS - run.MoveStartMS, Y: float64(a.Index)}
		}
		f.Series = append(f.Series, s)
		if run.Forwarding {
			f.Events = []handoverplot.Event{
				{Label: "link change starts (0 ms)", AtMS: 0},
				{Label: fmt.Sprintf("on the new link, FBU sent (+%.2f ms)", run.FBUSentMS-run.MoveStartMS), AtMS: run.FBUSentMS - run.MoveStartMS},
				{Label: fmt.Sprintf("FBack received (+%.2f ms)", run.FBackMS-run.MoveStartMS), AtMS: run.FBackMS - run.MoveStartMS},
			}
		}
	}
	return f
}
