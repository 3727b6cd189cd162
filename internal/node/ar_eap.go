package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/pae"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/keystore"
)

// mskExpireInterval is how often the router drops expired MSKs from its
// bbolt table (lookups already ignore them).
const mskExpireInterval = 10 * time.Second

// ErrEAPKeyStore is returned by OpenRouter for the MSK mode (RouterSpec.EAP,
// the [eap] section) without a bbolt key store (RouterSpec.StorePath or a
// *keystore.Bolt Store): the MSKs are kept in its table (docs/msk.md).
var ErrEAPKeyStore = errors.New(`node: key_store.type: the MSK mode ([eap]) keeps its MSKs in the bbolt key store (type = "bolt")`)

// RouterEAP is the MSK mode of a router (RouterSpec.EAP, docs/msk.md):
// the IEEE 802.1X authenticator on Interfaces relaying to Relay, the MSKs
// in the router's bbolt key store, the FBUs of the MSK mode verified with
// them.
type RouterEAP struct {
	// Interfaces carry EAPOL (netio.ListenEAPOL); one authenticator each,
	// all storing into the one MSK table.
	Interfaces []string
	// Relay is the RADIUS side; the router owns it from then on (Stop
	// closes it, also when OpenRouter fails).
	Relay *radius.EAPRelay
	// PAE configures each authenticator; its Backend and Store are set by
	// OpenRouter.
	PAE pae.Config
	// Algorithms are the ATs accepted in the FBU (ar.MSKConfig).
	Algorithms []hokey.AlgorithmType
}

// routerEAP is a running router's MSK mode.
type routerEAP struct {
	msks      *keystore.MSKs
	auths     []*pae.Authenticator
	conns     []*netio.EAPOLConn
	neighbors *netio.NeighborTable
	relay     *radius.EAPRelay
}

// openEAP opens, inside enter, the EAPOL sockets of spec.EAP and the
// neighbor table of the access interface; store must be a bbolt store
// (its MSK table). It returns the role's MSK configuration.
func (r *Router) openEAP(spec *RouterSpec, enter func(func() error) error) (*ar.MSKConfig, error) {
	e := spec.EAP
	bolt, ok := r.Store.(*keystore.Bolt)
	if !ok {
		return nil, ErrEAPKeyStore
	}
	msks, err := bolt.MSKs()
	if err != nil {
		return nil, err
	}
	r.EAP.msks = msks
	if err := enter(func() error {
		for _, ifname := range e.Interfaces {
			c, err := netio.ListenEAPOL(ifname)
			if err != nil {
				return err
			}
			r.EAP.conns = append(r.EAP.conns, c)
		}
		r.EAP.neighbors, err = netio.NewNeighborTable(spec.Interface)
		return err
	}); err != nil {
		return nil, err
	}
	pc := e.PAE
	pc.Backend, pc.Store = pae.RADIUS(e.Relay), msks
	if pc.Logger == nil {
		pc.Logger = spec.Logger
	}
	now := time.Now
	if pc.Now != nil {
		now = pc.Now
	}
	holders := msks.Holders(now())
	for i := range r.EAP.conns {
		pc.Port = e.Interfaces[i]
		a, err := pae.New(pc)
		if err != nil {
			return nil, err
		}
		// The re-authentication timers of the supplicants authenticated
		// before a restart, rebuilt from the MSK table (docs/eap.md,
		// Re-authentication after a restart).
		if n := a.Restore(pae.Authorizations(holders, pc.Port), now()); n > 0 && pc.Logger != nil {
			pc.Logger.Info("pae: re-authentication timers restored", "interface", pc.Port, "supplicants", n)
		}
		r.EAP.auths = append(r.EAP.auths, a)
	}
	return &ar.MSKConfig{Source: msks, Neighbors: r.EAP.neighbors, Algorithms: e.Algorithms}, nil
}

// serveEAP starts the authenticators and the MSK expiry.
func (r *Router) serveEAP(ctx context.Context, log *slog.Logger) {
	for i, a := range r.EAP.auths {
		c := r.EAP.conns[i]
		r.wg.Go(func() { r.fail("eapol", ctx, a.Serve(ctx, c, 0)) })
	}
	r.wg.Go(func() {
		t := time.NewTicker(mskExpireInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if _, err := r.EAP.msks.Expire(now); err != nil && log != nil {
					log.Warn("expiring MSKs", "err", err)
				}
			}
		}
	})
}

func (e *routerEAP) close() error {
	var errs []error
	for _, c := range e.conns {
		errs = append(errs, c.Close())
	}
	if e.neighbors != nil {
		errs = append(errs, e.neighbors.Close())
	}
	return errors.Join(errs...)
}

// PAEStats sums the counters of the router's authenticators.
func (r *Router) PAEStats() pae.Stats {
	var sum pae.Stats
	if r.EAP == nil {
		return sum
	}
	sv := reflect.ValueOf(&sum).Elem()
	for _, a := range r.EAP.auths {
		st := a.Stats()
		v := reflect.ValueOf(st)
		for i := range v.NumField() {
			switch f := sv.Field(i); f.Kind() {
			case reflect.Int:
				f.SetInt(f.Int() + v.Field(i).Int())
			case reflect.Uint64:
				f.SetUint(f.Uint() + v.Field(i).Uint())
			}
		}
	}
	return sum
}

// AREAPStatus is the MSK mode's part of the access router's /status: the
// NAIs holding an MSK (never the MSK), the authenticator's and the
// RADIUS relay's counters.
type AREAPStatus struct {
	Authenticated []AREAPHolder      `json:"authenticated"`
	Authenticator pae.Stats          `json:"authenticator"`
	RADIUS        radius.ClientStats `json:"radius"`
}

// AREAPHolder is an NAI whose MSK the router holds: the MAC address of the
// supplicant that authenticated as it, and when the MSK expires.
type AREAPHolder struct {
	NAI     string    `json:"nai"`
	MAC     string    `json:"mac"`
	Expires time.Time `json:"expires"`
}

// eapStatus is the /status part of the MSK mode; nil without it.
func (r *Router) eapStatus(now time.Time) *AREAPStatus {
	if r.EAP == nil {
		return nil
	}
	s := &AREAPStatus{Authenticated: []AREAPHolder{}, Authenticator: r.PAEStats()}
	if r.EAP.relay != nil {
		s.RADIUS = r.EAP.relay.Stats()
	}
	for _, h := range r.EAP.msks.Holders(now) {
		s.Authenticated = append(s.Authenticated, AREAPHolder{NAI: h.NAI, MAC: net.HardwareAddr(h.MAC[:]).String(), Expires: h.Expires.UTC()})
	}
	return s
}

// arEAP maps [eap] and its secrets to the router's MSK mode: the RADIUS
// relay (servers in the configured order, the router named by its
// address or eap.nas_identifier) and the authenticator's settings. It
// copies the secrets of cr.
func arEAP(cfg *config.ARConfig, cr *config.ARCredentials, log *slog.Logger) (*RouterEAP, error) {
	e := cfg.EAP
	rc := radius.EAPRelayConfig{NAS: radius.NAS{Address: cfg.RouterAddress(cr)}, FramedMTU: uint32(e.FramedMTU),
		Timeout: e.Timeout, Tries: e.Tries, MaxPending: e.MaxPending, Logger: log}
	if e.NASIdentifier != "" {
		rc.NAS = radius.NAS{Identifier: e.NASIdentifier}
	}
	for _, s := range e.Servers {
		rc.Servers = append(rc.Servers, radius.HomeServer{Addr: s.Address, Secret: cr.EAPSecrets[s.Address]})
	}
	relay, err := radius.NewEAPRelay(rc)
	if err != nil {
		return nil, fmt.Errorf("node: RADIUS EAP relay: %w", err)
	}
	return &RouterEAP{Interfaces: e.Interfaces, Relay: relay, Algorithms: e.Algorithms, PAE: pae.Config{
		MaxSessions: e.MaxSessions, RetransmitInterval: e.RetransmitInterval, MaxRetransmissions: e.MaxRetransmissions,
		SessionTimeout: e.SessionTimeout, MSKLifetime: e.MSKLifetime, Logger: log,
		DisableReauth: !e.Reauth, ReauthFraction: e.ReauthFraction, MinReauthPeriod: e.MinReauthPeriod,
		QuietPeriod: paeQuietPeriod(e.QuietPeriod)}}, nil
}

// paeQuietPeriod maps eap.quiet_period to pae.Config.QuietPeriod: 0 (no
// quiet period) is negative there, where zero takes the default.
func paeQuietPeriod(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
