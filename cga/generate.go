package cga

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrCollisions is returned by Generate when duplicate address detection
// reported a collision for collision counts 0, 1 and 2: RFC 3972 §4 step 8,
// "after three collisions, stop and report the error".
var ErrCollisions = errors.New("cga: address collision detected three times")

// ErrSubnetPrefixLength reports a Generate prefix that is not an IPv6 /64:
// a CGA's subnet prefix is its leftmost 64 bits (RFC 3972 §2).
var ErrSubnetPrefixLength = errors.New("cga: subnet prefix must be an IPv6 /64")

// errSearchLimit ends a search that reached its attempt limit.
var errSearchLimit = errors.New("cga: attempt limit reached")

// DefaultProgressInterval is how often Generate reports progress when
// GenerateOptions.ProgressInterval is zero.
const DefaultProgressInterval = 250 * time.Millisecond

// chunkAttempts is the number of consecutive modifiers a worker tries
// before it takes the next block and looks at the stop flag: about a
// millisecond of work, 16 blocks for the expected Sec=1 search.
const chunkAttempts = 1 << 12

// GenerateOptions are the optional inputs of Generate. The zero value (or a
// nil pointer) means: no extension fields, a random initial modifier, one
// worker per GOMAXPROCS, no progress reports, no duplicate address detection.
type GenerateOptions struct {
	// Extensions are appended to the CGA Parameters and covered by both
	// hashes (RFC 3972 §3, RFC 4581).
	Extensions []Extension
	// Modifier, if set, is the initial modifier instead of a random one
	// (RFC 3972 §4 step 1). A modifier found earlier for the same public
	// key and extensions can be reused for a new subnet prefix (§4: "the
	// old modifier value MAY be reused"): it is tried first, alone, so the
	// search stops at once and the result is deterministic.
	Modifier *[16]byte
	// Workers is the number of goroutines searching for the modifier;
	// zero means runtime.GOMAXPROCS(0).
	Workers int
	// Progress, if set, is called every ProgressInterval during the Hash2
	// search, from the goroutine that called Generate, never concurrently.
	Progress func(Progress)
	// ProgressInterval defaults to DefaultProgressInterval.
	ProgressInterval time.Duration
	// DuplicateAddress, if set, performs duplicate address detection on a
	// candidate address and reports whether it is already in use (RFC 3972
	// §4 step 8). An error from it stops Generate and is wrapped in the
	// returned error.
	DuplicateAddress func(netip.Addr) (bool, error)
}

// Progress is a snapshot of the modifier search (RFC 3972 §4 steps 2–3).
type Progress struct {
	// Attempts is the number of Hash2 values computed so far.
	Attempts uint64
	// Elapsed is the time since the search started.
	Elapsed time.Duration
	// Rate is Attempts per second of Elapsed.
	Rate float64
	// ExpectedAttempts is 2^(16·Sec), the mean number of attempts.
	ExpectedAttempts float64
	// ExpectedRemaining is the expected time still needed at Rate. The
	// search is memoryless (each attempt succeeds with probability
	// 2^-(16·Sec)), so this is ExpectedAttempts/Rate however long the
	// search has already run.
	ExpectedRemaining time.Duration
}

// Generated is the output of Generate: the CGA and its CGA Parameters
// (RFC 3972 §4 step 9).
type Generated struct {
	Address    netip.Addr
	Parameters *Parameters
	Sec        uint8
	// Attempts is the number of Hash2 values computed (0 for Sec=0).
	Attempts uint64
	// Elapsed is the wall time of the whole generation.
	Elapsed time.Duration
}

// Generate creates a CGA for the /64 prefix and the DER SubjectPublicKeyInfo
// publicKey with security parameter sec, following RFC 3972 §4. The Hash2
// search (steps 2–3) runs on opts.Workers goroutines, each trying its own
// blocks of consecutive modifiers; it is skipped for Sec=0. Cancelling ctx
// stops the search and returns an error wrapping ctx.Err(). Steps 4–8 then
// form the address, consulting opts.DuplicateAddress for each collision
// count; after three collisions Generate returns ErrCollisions.
//
// The public key must pass ParsePublicKey, so that the output passes
// Verify (§4: "the CGA verification procedure defined in Section 5 MUST
// succeed when invoked on the output"); its errors wrap ErrVerify.
func Generate(ctx context.Context, prefix netip.Prefix, publicKey []byte, sec uint8, opts *GenerateOptions) (*Generated, error) {
	start := time.Now()
	if opts == nil {
		opts = &GenerateOptions{}
	}
	if sec > MaxSec {
		return nil, fmt.Errorf("cga: generate: %w: %d", ErrSec, sec)
	}
	if !prefix.IsValid() || !prefix.Addr().Is6() || prefix.Addr().Is4In6() || prefix.Bits() != 64 {
		return nil, fmt.Errorf("cga: generate: %w: %s", ErrSubnetPrefixLength, prefix)
	}
	if _, err := ParsePublicKey(publicKey); err != nil {
		return nil, fmt.Errorf("cga: generate: %w", err)
	}
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("cga: generate: %w", err)
	}
	p := &Parameters{PublicKey: slices.Clone(publicKey)}
	for _, e := range opts.Extensions {
		p.Extensions = append(p.Extensions, Extension{Type: e.Type, Data: slices.Clone(e.Data)})
	}
	a := prefix.Masked().Addr().As16()
	copy(p.SubnetPrefix[:], a[:8])

	// Step 1.
	if opts.Modifier != nil {
		p.Modifier = *opts.Modifier
	} else {
		rand.Read(p.Modifier[:])
	}
	// Steps 2–3 over the Hash2 input: modifier, nine zero octets, key,
	// extensions (the parameters with prefix and collision count zeroed).
	input, err := p.Marshal()
	if err != nil {
		return nil, fmt.Errorf("cga: generate: %w", err)
	}
	clear(input[16:fixedLen])
	var attempts uint64
	if sec > 0 {
		p.Modifier, attempts, err = searchModifier(ctx, input, sec, opts, 0)
		if err != nil {
			return nil, err
		}
	}
	// Steps 4–8.
	for cc := range uint8(3) {
		p.CollisionCount = cc
		addr, err := p.Address(sec)
		if err != nil {
			return nil, fmt.Errorf("cga: generate: %w", err)
		}
		if opts.DuplicateAddress != nil {
			dup, err := opts.DuplicateAddress(addr)
			if err != nil {
				return nil, fmt.Errorf("cga: generate: duplicate address detection for %s: %w", addr, err)
			}
			if dup {
				continue
			}
		}
		// Step 9: p is the final CGA Parameters data structure.
		return &Generated{Address: addr, Parameters: p, Sec: sec, Attempts: attempts, Elapsed: time.Since(start)}, nil
	}
	return nil, fmt.Errorf("%w: collision counts 0, 1 and 2 for prefix %s", ErrCollisions, prefix)
}

// searchModifier finds a modifier, starting from the one in input[:16],
// whose Hash2 has 16·sec leading zero bits (RFC 3972 §4 steps 2–3). input
// is the Hash2 input; it is not modified. It returns the modifier and the
// number of Hash2 values computed. A non-zero limit (benchmarks) stops the
// search with errSearchLimit once about limit attempts have been made.
func searchModifier(ctx context.Context, input []byte, sec uint8, opts *GenerateOptions, limit uint64) ([16]byte, uint64, error) {
	start := time.Now()
	var first [16]byte
	copy(first[:], input[:16])
	// The initial modifier alone first: a reused modifier is found at once.
	if h := sha1.Sum(input); hash2Zero(&h, sec) {
		return first, 1, nil
	}
	base := addModifier(first, 1)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	interval := opts.ProgressInterval
	if interval <= 0 {
		interval = DefaultProgressInterval
	}

	var (
		next     atomic.Uint64 // index of the next block of modifiers
		attempts atomic.Uint64
		stop     atomic.Bool
		once     sync.Once
		found    [16]byte
		done     = make(chan struct{})
		wg       sync.WaitGroup
	)
	attempts.Store(1)
	for range workers {
		wg.Go(func() {
			buf := make([]byte, len(input))
			copy(buf, input)
			m := (*[16]byte)(buf)
			for !stop.Load() {
				off := (next.Add(1) - 1) * chunkAttempts
				if limit > 0 && off >= limit {
					return
				}
				*m = addModifier(base, off)
				n, ok := searchBlock(buf, chunkAttempts, sec)
				attempts.Add(n)
				if ok {
					once.Do(func() {
						found = *m
						stop.Store(true)
						close(done)
					})
					return
				}
			}
		})
	}
	go func() { // all workers gone without a find: limit reached or stopped
		wg.Wait()
		once.Do(func() { close(done) })
	}()

	var tick <-chan time.Time
	if opts.Progress != nil {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-done:
			wg.Wait()
			if !stop.Load() {
				return [16]byte{}, attempts.Load(), errSearchLimit
			}
			return found, attempts.Load(), nil
		case <-ctx.Done():
			stop.Store(true)
			wg.Wait()
			return [16]byte{}, attempts.Load(), fmt.Errorf("cga: generate: modifier search stopped after %d attempts: %w", attempts.Load(), context.Cause(ctx))
		case <-tick:
			opts.Progress(progressOf(attempts.Load(), time.Since(start), sec))
		}
	}
}

// searchBlock tries up to n consecutive modifiers, starting with the one in
// buf[:16] and incrementing it in place. It returns the number of Hash2
// values computed and whether the last one had 16·sec leading zero bits; if
// so, buf[:16] holds that modifier. sec is 1 to 7.
func searchBlock(buf []byte, n uint64, sec uint8) (uint64, bool) {
	m := (*[16]byte)(buf)
	for i := range n {
		h := sha1.Sum(buf)
		if h[0]|h[1] == 0 && hash2Zero(&h, sec) {
			return i + 1, true
		}
		incrementModifier(m)
	}
	return n, false
}

func progressOf(attempts uint64, elapsed time.Duration, sec uint8) Progress {
	p := Progress{Attempts: attempts, Elapsed: elapsed, ExpectedAttempts: ExpectedAttempts(sec)}
	if s := elapsed.Seconds(); s > 0 {
		p.Rate = float64(attempts) / s
	}
	if p.Rate > 0 {
		if r := p.ExpectedAttempts / p.Rate; r < float64(1<<62)/float64(time.Second) {
			p.ExpectedRemaining = time.Duration(r * float64(time.Second))
		} else {
			p.ExpectedRemaining = time.Duration(1<<63 - 1)
		}
	}
	return p
}
