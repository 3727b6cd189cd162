package hacclient_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
)

// startBareTLS serves bare TLS 1.3 handshakes with the HAC's certificate:
// accept, handshake, close; the client reads until the close, so that a
// handshake counts only once both sides are done, as a bootstrap does.
func startBareTLS(b *testing.B, p *pki) string {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{p.hacServer.TLS()}, MinVersion: tls.VersionTLS13})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	b.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// A goroutine per connection, as the HAC test server has:
			// handshakes in the accept loop ran one at a time and
			// held the baseline down.
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkBootstrap measures, in the same run, the throughput of full HAC
// bootstraps (TLS 1.3 + PSK, the SA provisioned to a test HA over the
// mutual-TLS channel) and of bare TLS 1.3 handshakes with the same
// certificate: each with benchWorkers clients at once, alternating in
// chunks of benchChunk so that both see the same machine load. It reports
// both rates and their ratio; the issue asks for a ratio of at least 0.8.
func BenchmarkBootstrap(b *testing.B) {
	p := newPKI(b)
	ha := startHA(b, p)
	h := startHAC(b, p, hac.Config{Subscribers: pskStore(b), Provisioner: channelClient(p, ha.addr)}, tls.VersionTLS13)
	bare := startBareTLS(b, p)
	cfg := hacclient.Config{Identity: "mn1@example.com", PSK: mnPSK, TLS: clientTLS(p, tls.VersionTLS13)}
	handshake := func() error {
		// The bootstrap's transport (hacclient.Dial), as in fhkey bench tls.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := hacclient.Dial(ctx, bare, clientTLS(p, tls.VersionTLS13))
		if err != nil {
			return err
		}
		// Until the server has finished its side too and closed: a
		// bootstrap also waits for the HAC.
		_, err = io.Copy(io.Discard, c)
		return errors.Join(err, c.Close())
	}
	bootstrap := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err := hacclient.Bootstrap(ctx, h.addr, cfg)
		if err == nil {
			r.SA.Zero()
		}
		return err
	}
	var bootT, hsT time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += benchChunk {
		n := min(benchChunk, b.N-done)
		hsT += runParallel(b, n, handshake)
		bootT += runParallel(b, n, bootstrap)
	}
	b.StopTimer()
	boots, hs := float64(b.N)/bootT.Seconds(), float64(b.N)/hsT.Seconds()
	b.ReportMetric(boots, "bootstraps/s")
	b.ReportMetric(hs, "handshakes/s")
	b.ReportMetric(boots/hs, "ratio")
}

const (
	benchWorkers = 8
	benchChunk   = 40
)

// runParallel runs op n times on benchWorkers goroutines and returns the
// time it took.
func runParallel(b *testing.B, n int, op func() error) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	errs := make(chan error, benchWorkers)
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if err := op(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	return d
}
