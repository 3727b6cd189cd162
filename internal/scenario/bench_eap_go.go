package scenario

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
	"github.com/fhkey/fhkey/internal/radius"
)

// goDirectSide is the bench's reference for the AR's own cost: the Go
// EAP-TLS peer of the supplicants (internal/eap/tlspeer) straight to
// FreeRADIUS through radius.EAPRelay in this process, cfg.Parallel at
// once, cfg.PerSupplicant each: the through-AR side without EAPOL, the
// veth pair, the authenticator's sessions and the MSK store.
type goDirectSide struct {
	cfg   EAPBenchConfig
	relay *radius.EAPRelay
	peers []tlspeer.Config
}

func newGoDirectSide(cfg EAPBenchConfig, pki *benchPKI, server netip.AddrPort, secret string) (*goDirectSide, error) {
	relay, err := radius.NewEAPRelay(radius.EAPRelayConfig{Servers: []radius.HomeServer{{Addr: server, Secret: []byte(secret)}},
		NAS: radius.NAS{Identifier: "fhkey-bench-go"}, FramedMTU: 1400, Timeout: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	s := &goDirectSide{cfg: cfg, relay: relay}
	for i := range cfg.Parallel {
		s.peers = append(s.peers, tlspeer.Config{Identity: benchNAI(i), TLS: pki.clientTLS(cfg.TLSVersion)})
	}
	return s, nil
}

// run authenticates every peer cfg.PerSupplicant times and returns the
// authentications completed and this process's CPU time meanwhile.
func (s *goDirectSide) run(ctx context.Context) (int, time.Duration, error) {
	return runSupplicants(s.cfg, func(i int) error { return s.once(ctx, s.peers[i]) })
}

// once is one authentication: the Identity Response, then the peer's
// answers to the server's Requests until the Access-Accept, whose MSK
// must be the peer's.
func (s *goDirectSide) once(ctx context.Context, cfg tlspeer.Config) error {
	p, err := tlspeer.New(cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	req, err := eap.Packet{Code: eap.CodeRequest, Identifier: 1, Type: eap.TypeIdentity}.Marshal()
	if err != nil {
		return err
	}
	sess := s.relay.NewSession(cfg.Identity)
	for {
		resp, err := p.Handle(req)
		if err != nil {
			return fmt.Errorf("%w: Go peer: %w", errEAPBench, err)
		}
		res, err := sess.Send(ctx, resp)
		if err != nil {
			return fmt.Errorf("%w: relay: %w", errEAPBench, err)
		}
		if res.Outcome == radius.EAPContinue {
			req = res.EAP
			continue
		}
		if _, err := p.Handle(res.EAP); err != nil || res.Outcome != radius.EAPAccept {
			return fmt.Errorf("%w: Go peer: outcome %d: %v", errEAPBench, res.Outcome, err)
		}
		msk, _, ok := p.Keys()
		defer msk.Wipe()
		defer res.MSK.Wipe()
		if !ok || !res.HaveMSK || !msk.Equal(&res.MSK) {
			return fmt.Errorf("%w: Go peer: the MSK differs from the Access-Accept's", errEAPBench)
		}
		return nil
	}
}

func (s *goDirectSide) close() { s.relay.Close() }

// runSupplicants runs auth(i) cfg.PerSupplicant times for each of
// cfg.Parallel supplicants at once, each stopping at its first error, and
// returns the authentications completed, this process's CPU time
// meanwhile and the first error.
func runSupplicants(cfg EAPBenchConfig, auth func(i int) error) (int, time.Duration, error) {
	u0, s0, _ := ProcessCPU()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		first error
	)
	for i := range cfg.Parallel {
		wg.Go(func() {
			for range cfg.PerSupplicant {
				err := auth(i)
				mu.Lock()
				if err == nil {
					total++
				} else if first == nil {
					first = fmt.Errorf("supplicant %d: %w", i, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	u1, s1, _ := ProcessCPU()
	return total, u1 + s1 - u0 - s0, first
}
