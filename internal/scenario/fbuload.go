package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
)

// FBUFlow is one mobile node of an FBU load: its previous CoA, which the
// FBUs carry in the Home Address option (RFC 5568 §6.2.3), and the
// handover key the access router holds for it (RFC 5269 §3.4).
type FBUFlow struct {
	PreviousCoA netip.Addr
	Key         *hokey.Key
}

// FBULoadConfig describes a load of valid Fast Binding Updates.
type FBULoadConfig struct {
	// Router is the access router's address (the FBUs' destination and
	// the correspondent in the BADF Mobility Data, RFC 5568 §6.4.5).
	Router netip.Addr
	// NewCoA is the source of every FBU.
	NewCoA netip.Addr
	// Flows are cycled through, FBU i going to Flows[i % len(Flows)] with
	// Sequence Number i / len(Flows) + 1, rising per flow so that the
	// router accepts every one (RFC 6275 §9.5.1).
	Flows []FBUFlow
	// Count is the number of FBUs built before the run; the run ends when
	// they are all sent. At most 32767 per flow (the Sequence Number
	// comparison is modulo 2^16).
	Count int
	// Window is the number of FBUs sent and not yet answered (default 256).
	Window int
	// Duration ends the run early; zero means until Count are sent.
	Duration time.Duration
	// Single, when true, sends and receives one packet per call
	// (WritePacket, ReadPacket) even on a netio.BatchConn.
	Single bool
}

// FBULoad is a load of FBUs built in advance, so that a run measures the
// router and the transport, not the HMAC of the generator.
type FBULoad struct {
	cfg       FBULoadConfig
	payloads  []byte // Count FBUs of size octets, back to back
	size      int
	BuildTime time.Duration // wall time spent building (not part of a run)
}

// BuildFBULoad signs cfg.Count FBUs (Acknowledge, Home Registration, a
// Lifetime of 10 s, a BADF option, the checksum over the previous CoA as
// RFC 6275 §6.1.1 requires with a Home Address option), on GOMAXPROCS
// goroutines.
func BuildFBULoad(cfg FBULoadConfig) (*FBULoad, error) {
	if len(cfg.Flows) == 0 || cfg.Count < 1 || cfg.Count > 32767*len(cfg.Flows) {
		return nil, fmt.Errorf("scenario: FBU load of %d for %d flows: between 1 and 32767 per flow", cfg.Count, len(cfg.Flows))
	}
	if cfg.Window <= 0 {
		cfg.Window = 256
	}
	build := func(i int) ([]byte, error) {
		f := &cfg.Flows[i%len(cfg.Flows)]
		at := f.Key.Algorithm()
		fbu := mh.FastBindingUpdate{Sequence: uint16(i/len(cfg.Flows) + 1), Acknowledge: true, HomeRegistration: true, Lifetime: 10 * time.Second,
			Options: []mh.Option{mh.BindingAuthorizationDataForFMIPv6{SPI: 0, Authenticator: make([]byte, at.AuthenticatorLen())}}}
		return hokey.SignBADF(fbu, f.Key, cfg.NewCoA, cfg.Router, f.PreviousCoA, cfg.Router)
	}
	first, err := build(0)
	if err != nil {
		return nil, err
	}
	for _, f := range cfg.Flows[1:] {
		if f.Key.Algorithm() != cfg.Flows[0].Key.Algorithm() {
			return nil, errors.New("scenario: FBU load: every flow's key must be of one algorithm type (one FBU size)")
		}
	}
	start := time.Now()
	l := &FBULoad{cfg: cfg, size: len(first), payloads: make([]byte, cfg.Count*len(first))}
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < cfg.Count; i += workers {
				b, err := build(i)
				if err != nil || len(b) != l.size {
					errs[w] = errors.Join(err, fmt.Errorf("scenario: FBU %d: %d octets, not %d", i, len(b), l.size))
					return
				}
				copy(l.payloads[i*l.size:], b)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	l.BuildTime = time.Since(start)
	return l, nil
}

// packet returns FBU i, its payload a slice of the load (WritePacket and
// WriteBatch do not modify it).
func (l *FBULoad) packet(i int) netio.Packet {
	return netio.Packet{Src: l.cfg.NewCoA, Dst: l.cfg.Router, HopLimit: 64, NextHeader: inet.ProtocolMobility,
		HomeAddress: l.cfg.Flows[i%len(l.cfg.Flows)].PreviousCoA, Payload: l.payloads[i*l.size : (i+1)*l.size : (i+1)*l.size]}
}

// FBULoadResult is what a run counted.
type FBULoadResult struct {
	Sent     uint64        // FBUs handed to the transport
	Accepted uint64        // FBacks with Status 0 (RFC 5568 §6.2.3)
	Rejected uint64        // FBacks with another status
	Lost     uint64        // window slots given up after 20 ms without an answer
	Elapsed  time.Duration // from the first send to the last answer counted
}

// Run sends the load on conn, keeping at most Window FBUs unanswered, and
// counts the FBacks read from conn; conn should pass only FBacks
// (netio.MHConfig.Types) so that it does not read its own FBUs. It
// returns when the load is sent and answered (or given up), when
// Duration has passed, or when ctx ends.
func (l *FBULoad) Run(ctx context.Context, conn netio.Conn) (FBULoadResult, error) {
	var res FBULoadResult
	bc, batch := conn.(netio.BatchConn)
	batch = batch && !l.cfg.Single
	var accepted, rejected atomic.Uint64
	answered := make(chan struct{}, 1)
	rctx, rstop := context.WithCancel(ctx)
	defer rstop()
	var wg sync.WaitGroup
	var rerr error
	var last atomic.Int64
	count := func(p *netio.Packet) {
		msg, err := mh.ParseMessage(p.Payload)
		if a, ok := msg.(mh.FastBindingAcknowledgment); err == nil && ok {
			if a.Status == mh.FastStatusAccepted {
				accepted.Add(1)
			} else {
				rejected.Add(1)
			}
		}
	}
	wg.Go(func() {
		in := make([]netio.Packet, netio.MaxBatch)
		for {
			n := 1
			var err error
			if batch {
				n, err = bc.ReadBatch(rctx, in)
			} else {
				in[0], err = conn.ReadPacket(rctx)
			}
			if err != nil {
				if rctx.Err() == nil {
					rerr = err
				}
				return
			}
			for i := range in[:n] {
				count(&in[i])
				in[i] = netio.Packet{}
			}
			last.Store(time.Now().UnixNano())
			select {
			case answered <- struct{}{}:
			default:
			}
		}
	})
	window := uint64(l.cfg.Window)
	out := make([]netio.Packet, 0, netio.MaxBatch)
	total := len(l.payloads) / l.size
	var sent, lost uint64
	start := time.Now()
	var end time.Time
	if l.cfg.Duration > 0 {
		end = start.Add(l.cfg.Duration)
	}
	inflight := func() uint64 { return sent - min(sent, accepted.Load()+rejected.Load()+lost) }
	for int(sent) < total && (end.IsZero() || time.Now().Before(end)) && ctx.Err() == nil {
		free := window - min(window, inflight())
		if free == 0 {
			select {
			case <-answered:
			case <-time.After(20 * time.Millisecond):
				if inflight() >= window {
					lost++ // give the slot up; a late answer still counts
				}
			case <-ctx.Done():
			}
			continue
		}
		k := min(int(free), netio.MaxBatch, total-int(sent))
		if !batch {
			if err := conn.WritePacket(ctx, l.packet(int(sent))); err != nil {
				return res, err
			}
			sent++
			continue
		}
		out = out[:k]
		for j := range out {
			out[j] = l.packet(int(sent) + j)
		}
		n, err := bc.WriteBatch(ctx, out)
		sent += uint64(n)
		if err != nil {
			return res, err
		}
	}
	// The last answers: wait until every FBU is answered or nothing has
	// come for 100 ms.
	for wait := time.Now(); inflight() > 0 && time.Since(wait) < time.Second; {
		if time.Since(time.Unix(0, last.Load())) > 100*time.Millisecond && time.Since(wait) > 100*time.Millisecond {
			break
		}
		time.Sleep(time.Millisecond)
	}
	rstop()
	wg.Wait()
	res.Sent, res.Accepted, res.Rejected, res.Lost = sent, accepted.Load(), rejected.Load(), sent-min(sent, accepted.Load()+rejected.Load())
	res.Elapsed = time.Unix(0, last.Load()).Sub(start)
	if res.Elapsed <= 0 {
		res.Elapsed = time.Since(start)
	}
	return res, rerr
}
