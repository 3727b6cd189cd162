package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/daemon/rolemetrics"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/send"
)

// Timing of the mobile node daemon. RFC 5269 leaves the schedule to the
// implementation; these bound the load on the router and the reaction time.
const (
	mnPollInterval  = 100 * time.Millisecond // handover detection: interface state polled
	mnRefreshCheck  = time.Second            // RefreshDue consulted
	mnRetryMin      = time.Second            // first wait after RequestKey found no answer
	mnRetryMax      = 30 * time.Second       // longest wait between attempts
	mnHandoverLimit = 10 * time.Second       // one FastHandover (its own retransmissions included)
	mnSendRetry     = 20 * time.Millisecond  // FBU not sendable yet (no route on the new link): try again
)

func runMN(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "mn", "-c FILE [--check]", `
Run the mobile node daemon: obtain handover keys from the configured access
routers for the current care-of CGA (RFC 5269 §3.1, §3.3) at start and again
before HK-LIFETIME runs out; when the new care-of CGA ([handover] new_cga)
becomes usable on the new link, send the Fast Binding Update authenticated
with the key to the previous access router (RFC 5568 §6.2.3, RFC 5269 §3.4)
and decapsulate its tunnel when [decapsulation] is enabled.
Needs CAP_NET_RAW (and CAP_NET_ADMIN for decapsulation). SIGTERM/SIGINT stop,
SIGHUP reloads (log.level applies at once; other changes at the next
restart). With --check: validate FILE and the files it names, print every
problem, exit 0 or 1.
Configuration keys, permissions, metrics, systemd: docs/deployment.md;
sample: examples/mn.toml.`)
	file := fs.String("c", "", "configuration `FILE` (TOML, required)")
	check := fs.Bool("check", false, "validate the configuration and the files it names, then exit")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *file == "" {
		return fmt.Errorf("%w: -c FILE is required", errUsage)
	}
	if *check {
		return reportCheck(env.Stdout, *file, config.CheckMN(*file))
	}
	return daemon.Run(ctx, mnOptions(*file, env.Stderr))
}

// mnNode is the running mobile node with what /status reports.
type mnNode struct {
	m        *scenario.Mobile
	cfg      *config.MNConfig
	log      *slog.Logger
	mu       sync.Mutex
	handover *mnHandover
	lastErr  string
}

// mnHandover is the outcome of the fast handover.
type mnHandover struct {
	PreviousRouter string    `json:"previous_router"`
	PreviousCoA    string    `json:"previous_coa"`
	NewCoA         string    `json:"new_coa"`
	Status         int       `json:"status"`
	Lifetime       float64   `json:"lifetime_seconds"`
	At             time.Time `json:"at"`
	Error          string    `json:"error,omitempty"`
}

// mnKey is one handover key in /status (never its octets).
type mnKey struct {
	Router  string    `json:"router"`
	CareOf  string    `json:"care_of"`
	AT      uint8     `json:"at"`
	Expires time.Time `json:"expires"`
}

// mnStatus is the "role" document of the mobile node's /status.
type mnStatus struct {
	Interface      string      `json:"interface"`
	CareOf         string      `json:"care_of"`
	NewCareOf      string      `json:"new_care_of,omitempty"`
	Keys           []mnKey     `json:"keys"`
	Handover       *mnHandover `json:"handover,omitempty"`
	LastRequestErr string      `json:"last_request_error,omitempty"`
}

func mnOptions(file string, stderr io.Writer) daemon.Options[*config.MNConfig] {
	var cur atomic.Pointer[mnNode]
	var logger atomic.Pointer[slog.Logger]
	return daemon.Options[*config.MNConfig]{
		Name: "mn", ConfigFile: file, Stderr: stderr,
		Load:     config.LoadMN,
		Settings: daemon.MNSettings,
		Start: func(ctx context.Context, rt *daemon.Runtime[*config.MNConfig]) (err error) {
			logger.Store(rt.Logger)
			cfg := rt.Config()
			cr, err := cfg.Open()
			if err != nil {
				return err
			}
			var store keystore.Store
			if cfg.KeyStore.Type == config.KeyStoreBolt {
				if store, err = keystore.OpenBolt(cfg.KeyStore.Path); err != nil {
					return err
				}
			} else {
				store = keystore.NewMemory()
			}
			defer func() {
				if err != nil {
					store.Close()
				}
			}()
			trace := rolemetrics.RegisterMN(rt.Metrics, store.Len)
			spec := scenario.MobileSpec{
				PreviousInterface: cfg.Interface, NewInterface: cfg.Handover.NewInterface,
				Key: cr.Key, PCoA: mn.CareOf{Address: cr.CGA.Address, Parameters: cr.CGA.Parameters},
				Anchors: cr.Anchors, Decapsulate: cfg.Decapsulation.Enabled, DecapsulatorName: cfg.Decapsulation.TUN,
				DecapsulatorMTU: cfg.Decapsulation.MTU, Allowed: cfg.Decapsulation.Allowed,
				PreferredAT: cfg.PreferredAlgorithm, Supported: slices.Clone(cfg.Algorithms), HKEPKLifetime: cfg.HKEPKLifetime,
				HKEPKHandovers: cfg.HKEPKHandovers, RefreshBefore: cfg.RefreshBefore, Store: store,
				Verifier: sendVerifier(send.AuthorizeTrustAnchor, cfg.SEND), Logger: rt.Logger, Trace: trace,
			}
			if cr.NewCGA != nil {
				spec.NCoA = mn.CareOf{Address: cr.NewCGA.Address, Parameters: cr.NewCGA.Parameters}
			}
			m, err := scenario.OpenMobile(ctx, spec)
			if err != nil {
				return err
			}
			n := &mnNode{m: m, cfg: cfg, log: rt.Logger}
			cur.Store(n)
			rt.Logger.Info("mobile node started", "interface", cfg.Interface, "care_of", cr.CGA.Address.String(),
				"new_care_of", spec.NCoA.Address.String(), "decapsulation", cfg.Decapsulation.Enabled)
			moved := make(chan struct{})
			rt.Go("provision", func(ctx context.Context) error { n.provision(ctx, moved); return nil })
			if spec.NCoA.Address.IsValid() {
				rt.Go("handover", func(ctx context.Context) error { return n.watch(ctx, moved) })
			}
			rt.Go("close", func(ctx context.Context) error {
				<-ctx.Done()
				m.Close()
				return store.Close()
			})
			return nil
		},
		Reload: func(_ context.Context, old, new *config.MNConfig) error {
			if ch := restartOnly(old, new); len(ch) > 0 {
				if l := logger.Load(); l != nil {
					l.Warn("changed settings take effect at the next restart", "settings", ch)
				}
			}
			return nil
		},
		Status: func() any {
			n := cur.Load()
			if n == nil {
				return nil
			}
			return n.status()
		},
	}
}

func (n *mnNode) status() mnStatus {
	s := mnStatus{Interface: n.cfg.Interface, CareOf: n.m.PCoA.Address.String(), Keys: []mnKey{}}
	if n.m.NCoA.Address.IsValid() {
		s.NewCareOf = n.m.NCoA.Address.String()
	}
	for _, r := range n.m.Role.Keys() {
		s.Keys = append(s.Keys, mnKey{Router: r.AR.String(), CareOf: r.MN.String(), AT: r.AT, Expires: r.Expires.UTC()})
	}
	n.mu.Lock()
	s.Handover, s.LastRequestErr = n.handover, n.lastErr
	n.mu.Unlock()
	return s
}

// routers are the access routers asked for keys: the configured ones, or
// All-Routers (RFC 5269 §3.3).
func (n *mnNode) routers() []netip.Addr {
	if len(n.cfg.AccessRouters) > 0 {
		return n.cfg.AccessRouters
	}
	return []netip.Addr{config.AllRouters}
}

// provision keeps a key from every router for the current care-of CGA: at
// start, then whenever RefreshDue names it (RFC 5269 §3.3: "Prior to
// HK-LIFETIME expiring, the MN MUST request a new key"). A router that does
// not answer is asked again after a doubling wait (1 s to 30 s). It stops
// after the handover: the previous link is gone.
func (n *mnNode) provision(ctx context.Context, moved <-chan struct{}) {
	wait := mnRetryMin
	for {
		failed := false
		for _, r := range n.needKeys() {
			ev, err := n.m.RequestKey(ctx, r)
			if ctx.Err() != nil {
				return
			}
			n.mu.Lock()
			if err != nil {
				n.lastErr = err.Error()
			} else {
				n.lastErr = ""
			}
			n.mu.Unlock()
			switch {
			case err != nil:
				failed = true
				n.log.Warn("handover key request failed: retrying", "router", r.String(), "err", err, "retry_in", wait.String())
			case ev.Kind != mn.KeyProvisioned:
				failed = true
				n.log.Warn("router answered without a handover key: retrying", "router", ev.Router.String(), "retry_in", wait.String())
			default:
				n.log.Info("handover key provisioned", "router", ev.Router.String(), "care_of", ev.Record.MN.String(),
					"at", ev.Record.AT, "expires", ev.Record.Expires.UTC())
			}
		}
		next := mnRefreshCheck
		if failed {
			next, wait = wait, min(2*wait, mnRetryMax)
		} else {
			wait = mnRetryMin
		}
		select {
		case <-ctx.Done():
			return
		case <-moved:
			return
		case <-time.After(next):
		}
	}
}

// needKeys returns the routers to ask now: those without a key for the
// care-of CGA and those whose key is due for refresh. With All-Routers, a
// request is due while no router's key is held or any is due.
func (n *mnNode) needKeys() []netip.Addr {
	pcoa := n.m.PCoA.Address
	held := map[netip.Addr]bool{}
	for _, r := range n.m.Role.Keys() {
		if r.MN == pcoa {
			held[r.AR] = true
		}
	}
	for _, r := range n.m.Role.RefreshDue() {
		if r.MN == pcoa {
			held[r.AR] = false
		}
	}
	var out []netip.Addr
	for _, r := range n.routers() {
		if r == config.AllRouters {
			due := len(held) == 0
			for _, ok := range held {
				due = due || !ok
			}
			if due {
				out = append(out, r)
			}
			continue
		}
		if !held[r] {
			out = append(out, r)
		}
	}
	return out
}

// watch polls the interfaces until the new care-of address is usable on the
// new link, then performs the fast handover once.
func (n *mnNode) watch(ctx context.Context, moved chan<- struct{}) error {
	t := time.NewTicker(mnPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !attachedToNewLink(n.cfg.Interface, n.cfg.Handover.NewInterface, n.m.NCoA.Address) {
			continue
		}
		close(moved)
		n.log.Info("handover detected", "new_interface", n.cfg.Handover.NewInterface, "new_care_of", n.m.NCoA.Address.String())
		n.handoverOnce(ctx)
		return nil
	}
}

// attachedToNewLink reports whether ncoa is configured on newIface and that
// interface is up and running, and, when the node has two interfaces, the
// previous one is down (RFC 5568 §6.2.3: the MN sends the FBU from the new
// link once it has attached there).
func attachedToNewLink(prevIface, newIface string, ncoa netip.Addr) bool {
	ifi, err := net.InterfaceByName(newIface)
	if err != nil || ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagRunning == 0 {
		return false
	}
	if prevIface != newIface {
		if p, err := net.InterfaceByName(prevIface); err == nil && p.Flags&net.FlagUp != 0 {
			return false
		}
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap() == ncoa {
				return true
			}
		}
	}
	return false
}

// handoverOnce sends the FBU to the router whose key covers the previous
// care-of address (RFC 5269 §3.5: the PAR finds the key by the PCoA) and
// records the FBack. With decapsulation, the previous CoA is first moved to
// the decapsulator's device, where the tunnelled packets are delivered.
func (n *mnNode) handoverOnce(ctx context.Context) {
	h := &mnHandover{PreviousCoA: n.m.PCoA.Address.String(), NewCoA: n.m.NCoA.Address.String(), At: time.Now().UTC()}
	defer func() {
		n.mu.Lock()
		n.handover = h
		n.mu.Unlock()
	}()
	var par netip.Addr
	for _, r := range n.m.Role.Keys() {
		if r.MN == n.m.PCoA.Address {
			par = r.AR
			break
		}
	}
	if !par.IsValid() {
		h.Error = "no handover key for the previous care-of address: FBU not sent"
		n.log.Error("fast handover impossible", "err", h.Error)
		return
	}
	h.PreviousRouter = par.String()
	if n.m.Decapsulator != nil {
		if err := addAddress(n.m.Decapsulator.Name(), n.m.PCoA.Address); err != nil {
			n.log.Warn("previous care-of address not moved to the decapsulator", "device", n.m.Decapsulator.Name(), "err", err)
		}
	}
	hctx, cancel := context.WithTimeout(ctx, mnHandoverLimit)
	defer cancel()
	ev, err := n.m.FastHandover(hctx, par)
	for err != nil && notRoutable(err) && hctx.Err() == nil {
		// Attached, but the route to the PAR is not installed yet (the
		// default route follows the Router Advertisement): send as soon
		// as it is.
		n.log.Debug("FBU not sendable yet: retrying", "router", par.String(), "err", err)
		select {
		case <-hctx.Done():
		case <-time.After(mnSendRetry):
			ev, err = n.m.FastHandover(hctx, par)
		}
	}
	if err != nil {
		h.Error = err.Error()
		if errors.Is(err, mn.ErrNoAnswer) {
			n.log.Error("fast handover: no FBack", "router", par.String(), "err", err)
		} else {
			n.log.Error("fast handover failed", "router", par.String(), "err", err)
		}
		return
	}
	h.Status, h.Lifetime = int(ev.Status), ev.Lifetime.Seconds()
	n.log.Info("fast binding acknowledged", "router", par.String(), "status", ev.Status, "lifetime", ev.Lifetime.String())
}

// notRoutable reports a send failure that lasts only until the new link's
// routes are in place.
func notRoutable(err error) bool {
	return errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL)
}
