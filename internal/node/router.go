package node

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/certdisc"
	"github.com/fhkey/fhkey/internal/forward"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/send"
)

// Router is a running access router: the role (internal/ar) on its ICMPv6
// and Mobility Header sockets, with its key store, certification path
// responder and, with forwarding, the FMIPv6 forwarder. The `fhkey ar`
// daemon (AROptions) and the network-namespace scenarios both run it.
type Router struct {
	Role      *ar.Router
	Store     keystore.Store
	Forwarder *forward.TUN        // nil without forwarding
	Responder *certdisc.Responder // nil without SEND
	ICMP      *netio.ICMPConn     // nil without SEND
	MH        *netio.MHConn
	// RADIUS is the shared-key mode's key server (RouterSpec.RADIUS),
	// closed by Stop; nil without it.
	RADIUS *radius.Client
	// EAP is the MSK mode (RouterSpec.EAP); nil without it.
	EAP *routerEAP

	ownStore bool
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	once     sync.Once
	stopErr  error
	failOnce sync.Once
	failed   chan struct{}
	failErr  error
}

// RouterSpec is everything an access router is built from, independent of
// where it runs: OpenRouter builds a running router from it. The `fhkey ar`
// daemon (AROptions) and scenario.StartRouter (the testbed) both use it, so
// the two share one construction path.
type RouterSpec struct {
	// Enter runs fn where the sockets and the TUN device must be opened
	// (testbed.Do for a namespace); nil runs it in the calling thread's
	// namespace.
	Enter func(fn func() error) error
	// Interface is the access link: RtSolPr in, PrRtAdv out (RFC 5269
	// §3.2). The Mobility Header socket listens on every interface: an
	// FBU sent from the new link (RFC 5568 §6.2.3) arrives on another one.
	Interface string
	// Address and Parameters are the router's CGA; Signer is the key its
	// certificate certifies; Path is the certification path in
	// Certification Path Advertisement order (RFC 3971 §6.4.2: towards the
	// anchor first, the router's certificate last) and Anchors the trust
	// anchors it chains to.
	Address    netip.Addr
	Parameters *cga.Parameters
	Signer     crypto.Signer
	Path       [][]byte
	Anchors    []*certpath.TrustAnchor
	// StorePath is the bbolt key store file; empty means an in-memory
	// store. Store, when set, is used instead and not closed by Stop.
	StorePath string
	Store     keystore.Store
	// Forwarding opens the user-space FMIPv6 forwarder (RFC 5568 §4) with
	// TUN (its Source defaults to Address, its OnExpire is set here).
	Forwarding bool
	TUN        forward.TUNConfig
	// Router settings passed to ar.Config.
	Algorithms         []hokey.AlgorithmType
	KeyLifetime        time.Duration
	ForwardingLifetime time.Duration
	Neighbors          []ar.Neighbor
	Limits             *ar.Limits
	Verifier           *send.Verifier
	Trace              func(ar.Trace)
	Logger             *slog.Logger
	// MaxCPARate is MAX_CPA_RATE of the certification path responder
	// (RFC 3971 §10.1); zero means its default.
	MaxCPARate int
	// Workers serve the Mobility Header socket; zero means GOMAXPROCS.
	Workers int
	// WrapICMP, when set, wraps the router's ICMPv6 Conn (fault
	// injection in tests).
	WrapICMP func(netio.Conn) netio.Conn
	// AAA enables the shared-key mode (docs/aaa.md) with its KeyServer;
	// RADIUS, when set, is that KeyServer's client, which the router owns
	// from then on (Stop closes it, also when OpenRouter fails). Without
	// Signer and Parameters the router serves the shared-key mode only:
	// no ICMPv6 socket, no certification path responder.
	AAA    *ar.AAAConfig
	RADIUS *radius.Client
	// EAP enables the MSK mode (docs/msk.md): the 802.1X authenticator,
	// the MSKs in the bbolt store (StorePath), the neighbor table of
	// Interface for the PCoA check. Without Signer and Parameters the
	// router serves it (and AAA, if set) only.
	EAP *RouterEAP
}

// sendless reports whether spec is a router of the AAA or MSK mode only.
func (spec *RouterSpec) sendless() bool {
	return (spec.AAA != nil || spec.EAP != nil) && spec.Signer == nil
}

// OpenRouter opens the key store, the sockets and the forwarder of spec
// (inside spec.Enter) and serves until Stop, or until a serving task fails
// (Done is closed, Err tells why).
func OpenRouter(ctx context.Context, spec RouterSpec) (_ *Router, err error) {
	r := &Router{Store: spec.Store, RADIUS: spec.RADIUS, failed: make(chan struct{})}
	if spec.EAP != nil {
		r.EAP = &routerEAP{relay: spec.EAP.Relay}
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, r.close())
		}
	}()
	if r.Store == nil {
		if spec.StorePath != "" {
			if r.Store, err = keystore.OpenBolt(spec.StorePath); err != nil {
				return nil, err
			}
		} else {
			r.Store = keystore.NewMemory()
		}
		r.ownStore = true
	}
	// Before any socket: the MSK mode's table lives in the bbolt file
	// (config.ARConfig refuses [eap] with key_store.type = "memory" too).
	if _, ok := r.Store.(*keystore.Bolt); spec.EAP != nil && !ok {
		return nil, fmt.Errorf("%w (the key store is %T)", ErrEAPKeyStore, r.Store)
	}
	addr := spec.Address
	enter := spec.Enter
	if enter == nil {
		enter = func(fn func() error) error { return fn() }
	}
	var bindings ar.Bindings
	// Only FBUs reach the role (RFC 5568 §6.2.2), and HKReqs in the
	// shared-key mode; the queue and the kernel buffer absorb bursts
	// (docs/testbed.md, fbu-throughput).
	types := []uint8{mh.TypeFastBindingUpdate}
	if spec.AAA != nil {
		t := spec.AAA.Codepoints.HandoverKeyRequest
		if t == 0 {
			t = mh.DefaultHandoverKeyRequestType
		}
		types = append(types, t)
	}
	if err := enter(func() error {
		var err error
		if !spec.sendless() {
			if r.ICMP, err = netio.ListenICMP(netio.ICMPConfig{Interface: spec.Interface, Groups: []netip.Addr{ar.AllRoutersMulticast}}); err != nil {
				return err
			}
		}
		if r.MH, err = netio.ListenMH(netio.MHConfig{Queue: 4096, ReceiveBuffer: 4 << 20, Types: types}); err != nil {
			return err
		}
		if spec.Forwarding {
			tc := spec.TUN
			if !tc.Source.IsValid() {
				tc.Source = addr
			}
			tc.OnExpire = func(p netip.Addr) {
				if r.Role != nil {
					r.Role.ForwardingTimedOut(p)
				}
			}
			r.Forwarder, err = forward.OpenTUN(tc)
		}
		return err
	}); err != nil {
		return nil, err
	}
	if r.Forwarder != nil {
		bindings = ar.NewForwarderBindings(r.Forwarder, nil)
	}
	var msk *ar.MSKConfig
	if spec.EAP != nil {
		if msk, err = r.openEAP(&spec, enter); err != nil {
			return nil, err
		}
	}
	var icmp netio.Conn
	var other func(context.Context, netio.Packet)
	if r.ICMP != nil {
		icmp = r.ICMP
		if spec.WrapICMP != nil {
			icmp = spec.WrapICMP(icmp)
		}
		// RFC 5269 §3.2: the router must "support SEND certificate discovery".
		if r.Responder, err = certdisc.NewResponder(icmp, certdisc.ResponderConfig{
			Paths: []certdisc.Path{{Certificates: spec.Path, Anchors: spec.Anchors}}, MaxCPARate: spec.MaxCPARate, Logger: spec.Logger}); err != nil {
			return nil, err
		}
		other = func(ctx context.Context, p netio.Packet) { _ = r.Responder.HandlePacket(ctx, p) }
	}
	if r.Role, err = ar.New(ar.Config{Address: addr, Parameters: spec.Parameters, Signer: spec.Signer,
		Store: r.Store, Bindings: bindings, Neighbors: spec.Neighbors, Limits: spec.Limits, ForwardingLifetime: spec.ForwardingLifetime,
		Algorithms: spec.Algorithms, KeyLifetime: spec.KeyLifetime, Verifier: spec.Verifier, Logger: spec.Logger,
		Trace: spec.Trace, Other: other, AAA: spec.AAA, MSK: msk}); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	if icmp != nil {
		// The HKResps go out on the Mobility Header socket only.
		r.wg.Go(func() { r.fail("icmp", sctx, r.Role.ServeNoAnswers(sctx, icmp, 1)) })
		// The role hands CPSs to HandlePacket; the All-Nodes answers it
		// defers (RFC 3971 §6.4.5) go out from here.
		r.wg.Go(func() { r.fail("cps", sctx, r.Responder.Serve(sctx, nil)) })
	}
	r.wg.Go(func() { r.fail("mh", sctx, r.Role.Serve(sctx, r.MH, spec.Workers)) })
	if r.Forwarder != nil {
		r.wg.Go(func() { r.fail("forwarder", sctx, r.Forwarder.Serve(sctx)) })
	}
	if r.EAP != nil {
		r.serveEAP(sctx, spec.Logger)
	}
	return r, nil
}

// fail records the first error of a serving task that was not asked to
// stop.
func (r *Router) fail(task string, ctx context.Context, err error) {
	if err == nil || ctx.Err() != nil {
		return
	}
	r.failOnce.Do(func() {
		r.failErr = fmt.Errorf("node: router %s: %w", task, err)
		close(r.failed)
	})
}

// Done is closed when a serving task fails; Err then returns its error.
func (r *Router) Done() <-chan struct{} { return r.failed }

// Err returns the error of the first serving task that failed, or nil.
func (r *Router) Err() error {
	select {
	case <-r.failed:
		return r.failErr
	default:
		return nil
	}
}

// Address returns the router's address: its CGA, or the configured address
// of an AAA-only router (the AR ID).
func (r *Router) Address() netip.Addr { return r.Role.Address() }

// Stop stops serving and releases the sockets, the forwarder (its routes go)
// and the key store StartRouter opened. It is idempotent.
func (r *Router) Stop() error {
	r.once.Do(func() {
		if r.cancel != nil {
			r.cancel()
		}
		r.stopErr = r.close()
		r.wg.Wait()
	})
	return r.stopErr
}

func (r *Router) close() error {
	var errs []error
	if r.ICMP != nil {
		errs = append(errs, r.ICMP.Close())
	}
	if r.MH != nil {
		errs = append(errs, r.MH.Close())
	}
	if r.Forwarder != nil {
		errs = append(errs, r.Forwarder.Close())
	}
	if r.EAP != nil {
		errs = append(errs, r.EAP.close())
	}
	if r.ownStore && r.Store != nil {
		errs = append(errs, r.Store.Close())
	}
	if r.RADIUS != nil {
		errs = append(errs, r.RADIUS.Close())
	}
	if r.EAP != nil && r.EAP.relay != nil {
		errs = append(errs, r.EAP.relay.Close())
	}
	return errors.Join(errs...)
}

// Binding returns the forwarder's entry for pcoa.
func (r *Router) Binding(pcoa netip.Addr) (forward.Entry, bool) {
	if r.Forwarder == nil {
		return forward.Entry{}, false
	}
	for _, e := range r.Forwarder.Bindings() {
		if e.PreviousCoA == pcoa {
			return e, true
		}
	}
	return forward.Entry{}, false
}
