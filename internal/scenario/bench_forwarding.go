package scenario

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/internal/testbed"
)

// ForwardingRun is one of the two runs of Forwarding.
type ForwardingRun struct {
	Forwarding      bool        `json:"fmipv6_forwarding"`
	Stream          StreamStats `json:"stream"`
	BeforeMove      StreamStats `json:"before_move"`
	AfterHandover   StreamStats `json:"after_handover"`
	HandoverMS      float64     `json:"handover_ms"`
	InterruptionMS  float64     `json:"interruption_ms"`
	DelayAddedP50MS float64     `json:"delay_added_median_ms"`
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
		from, to, err := cn.Stream(ctx, netip.AddrPortFrom(m.PCoA.Address, 5999), n, spacing, func(i int) {
			if i != moveAt {
				return
			}
			go func() {
				start := time.Now()
				err := m.Move(ctx)
				if err == nil && fwd {
					_, err = m.FastHandover(ctx, par.Address())
				}
				took = time.Since(start)
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
		if run.AfterHandover.Received > 0 {
			run.DelayAddedP50MS = run.AfterHandover.DelayP50 - run.BeforeMove.DelayP50
		}
		res.Runs = append(res.Runs, run)
	}
	return res, nil
}
