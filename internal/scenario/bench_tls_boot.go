package scenario

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/coalesce"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
)

// bareTLSServer is the baseline of the bootstrap figure: a plain
// crypto/tls server with the HAC's own configuration (node.HACTLSConfig of
// the HAC's spec: the same certificate chain and key, curves, cipher
// suites, versions and session tickets) that accepts, completes the
// handshake and closes, over the HAC's transport (a coalesce.Conn).
type bareTLSServer struct {
	ln     net.Listener
	config *tls.Config
	wg     sync.WaitGroup
}

func startBareTLS(config *tls.Config) (*bareTLSServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &bareTLSServer{ln: ln, config: config}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				// The HAC's transport: a coalescing connection under
				// TLS (node.HAC.Serve).
				tc := tls.Server(coalesce.New(c), s.config)
				_ = tc.SetDeadline(time.Now().Add(20 * time.Second))
				_ = tc.Handshake()
				tc.Close()
			}()
		}
	}()
	return s, nil
}

func (s *bareTLSServer) close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

// handshake is one bare TLS 1.3 handshake with the client configuration
// of the bootstraps; it returns once the server has closed, as a
// bootstrap ends when the HAC closes.
func (b *tlsBench) handshake(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// The MN's transport (hacclient.Bootstrap dials with it too).
	c, err := hacclient.Dial(ctx, b.bare.ln.Addr().String(), b.client.TLS)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, c)
	return errors.Join(err, c.Close())
}

// bootstraps runs cfg.Batches rounds, each a batch of bare handshakes and
// a batch of bootstraps (the order alternating between rounds), and fills
// res with the medians of the per-batch rates and ratios.
func (b *tlsBench) bootstraps(ctx context.Context, res *TLSBenchResult) error {
	boot := func(ctx context.Context) error {
		r, err := b.bootstrap(ctx)
		if err == nil {
			r.SA.Zero()
		}
		return err
	}
	// A warm-up batch of each: connections to the HA, goroutine stacks.
	for _, op := range []func(context.Context) error{b.handshake, boot} {
		if _, err := runConcurrently(ctx, b.cfg.Clients, b.cfg.Clients, op); err != nil {
			return err
		}
	}
	var boots, shakes, ratios []float64
	for i := range b.cfg.Batches {
		first, second := b.handshake, boot
		if i%2 == 1 {
			first, second = boot, b.handshake
		}
		t1, err := runConcurrently(ctx, b.cfg.Clients, b.cfg.Batch, first)
		if err != nil {
			return err
		}
		t2, err := runConcurrently(ctx, b.cfg.Clients, b.cfg.Batch, second)
		if err != nil {
			return err
		}
		tHS, tBoot := t1, t2
		if i%2 == 1 {
			tHS, tBoot = t2, t1
		}
		n := float64(b.cfg.Batch)
		boots, shakes = append(boots, n/tBoot.Seconds()), append(shakes, n/tHS.Seconds())
		ratios = append(ratios, tHS.Seconds()/tBoot.Seconds())
	}
	res.HACBootstrapsPerS, res.TLS13HandshakesPerS = median(boots), median(shakes)
	res.BootstrapRatio, res.BootstrapRatioMin, res.BootstrapRatioMax = median(ratios), minOf(ratios), maxOf(ratios)
	res.Bootstraps = b.cfg.Batches * b.cfg.Batch
	return nil
}

// runConcurrently runs op n times on workers goroutines and returns the
// wall time; the first error stops the batch.
func runConcurrently(ctx context.Context, workers, n int, op func(context.Context) error) (time.Duration, error) {
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	start := time.Now()
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if ctx.Err() != nil {
					return
				}
				if err := op(ctx); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return d, err
	}
	return d, nil
}
