package scenario

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fhkey/fhkey/internal/eap/supplicant"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/pae"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/keystore"
)

// throughARSide is the bench's side through the AR: the fhkey
// authenticator (pae.Authenticator.Serve on netio.EAPOLConn, the router
// end of a veth pair between two network namespaces), relaying to
// FreeRADIUS with radius.EAPRelay and storing each MSK in a bbolt file
// (fsynced, as the daemon does); cfg.Parallel Go supplicants
// (internal/eap/supplicant) at once, each on its own macvlan of the host
// end (its own MAC address and AF_PACKET socket), each authenticating
// cfg.PerSupplicant times in a row with a new TLS handshake.
//
// The authenticator's rate limits (pae.DefaultNewSessions,
// DefaultPerSupplicant) are flood protection, far below what one
// supplicant re-authenticating in a loop sends: they are lifted here, so
// that the bench measures the relay, not the limiter.
type throughARSide struct {
	cfg    EAPBenchConfig
	pair   *testbed.Pair
	store  *keystore.Bolt
	relay  *radius.EAPRelay
	auth   *pae.Authenticator
	conns  []*netio.EAPOLConn // [0]: the authenticator's
	supps  []*supplicant.Supplicant
	stop   context.CancelFunc
	served chan error
}

// benchUnlimited is a token bucket that never runs dry in a bench.
var benchUnlimited = pae.Rate{PerSecond: 1e9, Burst: 1 << 30}

func newThroughARSide(ctx context.Context, cfg EAPBenchConfig, pki *benchPKI, server netip.AddrPort, secret string) (s *throughARSide, err error) {
	s = &throughARSide{cfg: cfg}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.pair, err = testbed.UpPair(ctx, cfg.Prefix); err != nil {
		return nil, err
	}
	for i := range cfg.Parallel {
		name := "s" + strconv.Itoa(i)
		mac := fmt.Sprintf("02:fb:00:00:%02x:%02x", i>>8, i&0xff)
		if _, err := s.pair.IP(ctx, s.pair.H(), "link", "add", name, "link", testbed.PairIfaceH, "address", mac, "type", "macvlan", "mode", "private"); err != nil {
			return nil, err
		}
		if _, err := s.pair.IP(ctx, s.pair.H(), "link", "set", name, "up"); err != nil {
			return nil, err
		}
	}
	if s.store, err = keystore.OpenBolt(filepath.Join(cfg.Dir, "keys.db")); err != nil {
		return nil, err
	}
	msks, err := s.store.MSKs()
	if err != nil {
		return nil, err
	}
	if s.relay, err = radius.NewEAPRelay(radius.EAPRelayConfig{Servers: []radius.HomeServer{{Addr: server, Secret: []byte(secret)}},
		NAS: radius.NAS{Identifier: "fhkey-bench-ar"}, FramedMTU: 1400, Timeout: 2 * time.Second}); err != nil {
		return nil, err
	}
	if s.auth, err = pae.New(pae.Config{Backend: pae.RADIUS(s.relay), Store: msks, MaxSessions: 4 * cfg.Parallel,
		NewSessions: benchUnlimited, PerSupplicant: benchUnlimited}); err != nil {
		return nil, err
	}
	var c *netio.EAPOLConn
	if err := testbed.Do(s.pair.A(), func() (err error) { c, err = netio.ListenEAPOL(testbed.PairIfaceA); return err }); err != nil {
		return nil, err
	}
	s.conns = append(s.conns, c)
	for i := range cfg.Parallel {
		if err := testbed.Do(s.pair.H(), func() (err error) { c, err = netio.ListenEAPOL("s" + strconv.Itoa(i)); return err }); err != nil {
			return nil, err
		}
		s.conns = append(s.conns, c)
		sp, err := supplicant.New(supplicant.Config{Peer: tlspeer.Config{Identity: benchNAI(i), TLS: pki.clientTLS(cfg.TLSVersion)}})
		if err != nil {
			return nil, err
		}
		s.supps = append(s.supps, sp)
	}
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop, s.served = stop, make(chan error, 1)
	go func() { s.served <- s.auth.Serve(sctx, s.conns[0], 100*time.Millisecond) }()
	return s, nil
}

// run authenticates every supplicant cfg.PerSupplicant times and returns
// the authentications completed and this process's CPU time meanwhile.
func (s *throughARSide) run(ctx context.Context) (int, time.Duration, error) {
	return runSupplicants(s.cfg, func(i int) error {
		res, err := s.supps[i].Authenticate(ctx, s.conns[i+1])
		res.MSK.Wipe()
		if err != nil {
			return fmt.Errorf("%w: %w", errEAPBench, err)
		}
		return nil
	})
}

// close stops the authenticator and removes the namespaces.
func (s *throughARSide) close() {
	if s.stop != nil {
		s.stop()
		<-s.served
	}
	for _, c := range s.conns {
		c.Close()
	}
	if s.relay != nil {
		s.relay.Close()
	}
	if s.store != nil {
		s.store.Close()
	}
	if s.pair != nil {
		s.pair.Down(context.Background())
	}
}
