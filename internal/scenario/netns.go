package scenario

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/certdisc"
	"github.com/fhkey/fhkey/internal/forward"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/send"
)

// AssignCGAs configures the credentials' CGAs (RFC 3972) on the testbed's
// interfaces, next to the testbed's fixed addresses: the PAR's and NAR's on
// their access bridges, the MN's previous care-of CGA on its interface to the
// PAR's link and its new care-of CGA on the one to the NAR's link. The lab
// credentials are made for the testbed's prefixes (lab.PARPrefix is
// testbed.PrefixPARLink, lab.NARPrefix is testbed.PrefixNARLink). Duplicate
// address detection is off (nodad), as everywhere on the testbed.
func AssignCGAs(ctx context.Context, tb *testbed.Testbed, creds *lab.Credentials) error {
	if lab.PARPrefix != testbed.PrefixPARLink || lab.NARPrefix != testbed.PrefixNARLink {
		return fmt.Errorf("scenario: lab prefixes %v, %v differ from the testbed's %v, %v",
			lab.PARPrefix, lab.NARPrefix, testbed.PrefixPARLink, testbed.PrefixNARLink)
	}
	for _, a := range []struct {
		node  testbed.Node
		iface string
		addr  netip.Addr
	}{
		{testbed.PAR, testbed.IfaceAccess, creds.PAR.CGA.Address},
		{testbed.NAR, testbed.IfaceAccess, creds.NAR.CGA.Address},
		{testbed.MN, testbed.IfaceMNToPAR, creds.MN.PCoA.Address},
		{testbed.MN, testbed.IfaceMNToNAR, creds.MN.NCoA.Address},
	} {
		if _, err := tb.IP(ctx, a.node, "-6", "addr", "replace", netip.PrefixFrom(a.addr, 64).String(), "dev", a.iface, "nodad"); err != nil {
			return err
		}
	}
	return nil
}

// RouterConfig is one access router's configuration on the testbed.
type RouterConfig struct {
	// Node is testbed.PAR or testbed.NAR; the router listens for ICMPv6
	// on its access bridge and for Mobility Header messages on every
	// interface (an FBU from the NAR's link arrives on the PAR–NAR link).
	Node testbed.Node
	// Credentials are the router's key, CGA and certification path.
	Credentials lab.Router
	// Anchors are the trust anchors its path chains to.
	Anchors []*certpath.TrustAnchor
	// StorePath is the bbolt key store file; empty means an in-memory
	// store. Store, when set, is used instead and not closed by Stop.
	StorePath string
	Store     keystore.Store
	// Forwarding opens the user-space FMIPv6 forwarder (a TUN device) so
	// that an accepted FBU redirects the previous CoA's traffic (RFC 5568
	// §4); without it accepted FBUs go to an in-memory binding table.
	Forwarding bool
	// Neighbors are advertised in PrRtAdvs (RFC 5568 §6.1.2).
	Neighbors []ar.Neighbor
	// Limits, ForwardingLifetime and Trace are passed to ar.Config.
	Limits             *ar.Limits
	ForwardingLifetime time.Duration
	Trace              func(ar.Trace)
	// Workers serve the Mobility Header socket; zero means GOMAXPROCS.
	Workers int
	// WrapICMP, when set, wraps the router's ICMPv6 Conn (fault
	// injection in tests).
	WrapICMP func(netio.Conn) netio.Conn
}

// Router is an access router running on the testbed or in the `fhkey ar`
// daemon.
type Router struct {
	Role      *ar.Router
	Store     keystore.Store
	Forwarder *forward.TUN // nil without forwarding
	Responder *certdisc.Responder
	ICMP      *netio.ICMPConn
	MH        *netio.MHConn

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
// where it runs: OpenRouter builds a running router from it. StartRouter
// (the testbed) and the `fhkey ar` daemon (internal/cli) both use it, so the
// two share one construction path.
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
}

// StartRouter opens the router's sockets, forwarder and key store inside its
// namespace and serves until Stop.
func StartRouter(ctx context.Context, tb *testbed.Testbed, cfg RouterConfig) (*Router, error) {
	if cfg.Node != testbed.PAR && cfg.Node != testbed.NAR {
		return nil, fmt.Errorf("scenario: router node %q is not an access router", cfg.Node)
	}
	return OpenRouter(ctx, RouterSpec{
		Enter:     func(fn func() error) error { return tb.Do(cfg.Node, fn) },
		Interface: testbed.IfaceAccess,
		Address:   cfg.Credentials.CGA.Address, Parameters: cfg.Credentials.CGA.Parameters, Signer: cfg.Credentials.Key,
		Path: cfg.Credentials.Path, Anchors: cfg.Anchors, StorePath: cfg.StorePath, Store: cfg.Store,
		Forwarding: cfg.Forwarding, Neighbors: cfg.Neighbors, Limits: cfg.Limits, ForwardingLifetime: cfg.ForwardingLifetime,
		Trace: cfg.Trace, Workers: cfg.Workers, WrapICMP: cfg.WrapICMP,
	})
}

// OpenRouter opens the key store, the sockets and the forwarder of spec
// (inside spec.Enter) and serves until Stop, or until a serving task fails
// (Done is closed, Err tells why).
func OpenRouter(ctx context.Context, spec RouterSpec) (_ *Router, err error) {
	r := &Router{Store: spec.Store, failed: make(chan struct{})}
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
	addr := spec.Address
	enter := spec.Enter
	if enter == nil {
		enter = func(fn func() error) error { return fn() }
	}
	var bindings ar.Bindings
	if err := enter(func() error {
		var err error
		if r.ICMP, err = netio.ListenICMP(netio.ICMPConfig{Interface: spec.Interface, Groups: []netip.Addr{ar.AllRoutersMulticast}}); err != nil {
			return err
		}
		// Only FBUs reach the role (RFC 5568 §6.2.2); the queue and the
		// kernel buffer absorb bursts (docs/testbed.md, fbu-throughput).
		if r.MH, err = netio.ListenMH(netio.MHConfig{Queue: 4096, ReceiveBuffer: 4 << 20,
			Types: []uint8{mh.TypeFastBindingUpdate}}); err != nil {
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
	var icmp netio.Conn = r.ICMP
	if spec.WrapICMP != nil {
		icmp = spec.WrapICMP(icmp)
	}
	// RFC 5269 §3.2: the router must "support SEND certificate discovery".
	if r.Responder, err = certdisc.NewResponder(icmp, certdisc.ResponderConfig{
		Paths: []certdisc.Path{{Certificates: spec.Path, Anchors: spec.Anchors}}, MaxCPARate: spec.MaxCPARate, Logger: spec.Logger}); err != nil {
		return nil, err
	}
	if r.Role, err = ar.New(ar.Config{Address: addr, Parameters: spec.Parameters, Signer: spec.Signer,
		Store: r.Store, Bindings: bindings, Neighbors: spec.Neighbors, Limits: spec.Limits, ForwardingLifetime: spec.ForwardingLifetime,
		Algorithms: spec.Algorithms, KeyLifetime: spec.KeyLifetime, Verifier: spec.Verifier, Logger: spec.Logger,
		Trace: spec.Trace, Other: func(ctx context.Context, p netio.Packet) { _ = r.Responder.HandlePacket(ctx, p) }}); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	r.wg.Go(func() { r.fail("icmp", sctx, r.Role.Serve(sctx, icmp, 1)) })
	r.wg.Go(func() { r.fail("mh", sctx, r.Role.Serve(sctx, r.MH, spec.Workers)) })
	if r.Forwarder != nil {
		r.wg.Go(func() { r.fail("forwarder", sctx, r.Forwarder.Serve(sctx)) })
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
		r.failErr = fmt.Errorf("scenario: router %s: %w", task, err)
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

// Address returns the router's CGA.
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
	if r.ownStore && r.Store != nil {
		errs = append(errs, r.Store.Close())
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

// MobileConfig is the mobile node's configuration on the testbed.
type MobileConfig struct {
	// Credentials are the node's key and care-of CGAs.
	Credentials lab.MobileNode
	// Anchors are the trust anchors routers must be certified under.
	Anchors []*certpath.TrustAnchor
	// PAR is the address of the previous access router, the only source
	// from which tunnelled packets are decapsulated.
	PAR netip.Addr
	// PreferredAT is the algorithm type requested (RFC 5269 §3.1).
	PreferredAT hokey.AlgorithmType
	// Trace is passed to mn.Config; CPS/CPA fetches are reported as
	// "cps-fetch".
	Trace func(step string, took time.Duration, err error)
}

// Mobile is the mobile node running on the testbed or in the `fhkey mn`
// daemon.
type Mobile struct {
	Role *mn.MobileNode
	// Solicitor fetches certification paths (RFC 3971 §6.4) on the
	// previous link; SolicitorNew on the new link (nil when both links
	// are one interface, where Solicitor serves both).
	Solicitor    *certdisc.Solicitor
	SolicitorNew *certdisc.Solicitor
	Decapsulator *forward.Decapsulator // nil without decapsulation
	MH           *netio.MHConn
	PCoA, NCoA   mn.CareOf

	tb      *testbed.Testbed
	icmpPAR *netio.ICMPConn
	icmpNAR *netio.ICMPConn // nil when both links are one interface
	split   netio.Conn      // icmpPAR with CPAs diverted to the solicitor
	splitN  netio.Conn
	active  atomic.Int32 // the link (LinkPrevious, LinkNew) whose solicitor fetches paths
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
}

// MobileSpec is everything a mobile node is built from, independent of where
// it runs: OpenMobile builds it. StartMobile (the testbed) and the `fhkey mn`
// daemon (internal/cli) share this construction path.
type MobileSpec struct {
	// Enter runs fn where the sockets and the TUN device must be opened;
	// nil runs it in the calling thread's namespace.
	Enter func(fn func() error) error
	// PreviousInterface is the interface on the previous access router's
	// link; NewInterface the one on the new router's link (empty or equal:
	// the same interface).
	PreviousInterface, NewInterface string
	// Key is the CGA key; PCoA the care-of CGA on the previous link, NCoA
	// the one on the new link (the zero value when no handover is set
	// up).
	Key        *rsa.PrivateKey
	PCoA, NCoA mn.CareOf
	// Anchors are the trust anchors routers must be certified under.
	Anchors []*certpath.TrustAnchor
	// Decapsulate opens the tunnel decapsulator (a TUN device named
	// DecapsulatorName, MTU DecapsulatorMTU) accepting tunnelled packets
	// from Allowed only whose inner destination is one of the node's
	// care-of addresses: the PCoA after a handover to the new link, the
	// NCoA after a handover back.
	Decapsulate      bool
	DecapsulatorName string
	DecapsulatorMTU  int
	Allowed          []netip.Addr
	// Node settings passed to mn.Config.
	PreferredAT    hokey.AlgorithmType
	Supported      []hokey.AlgorithmType
	HKEPKLifetime  time.Duration
	HKEPKHandovers int
	RefreshBefore  time.Duration
	Store          keystore.Store
	Verifier       *send.Verifier
	Logger         *slog.Logger
	// Trace is passed to mn.Config; CPS/CPA fetches are reported as
	// "cps-fetch".
	Trace func(step string, took time.Duration, err error)
}

// StartMobile opens the mobile node's sockets and decapsulator in the MN's
// namespace. The node starts on the PAR's link.
func StartMobile(ctx context.Context, tb *testbed.Testbed, cfg MobileConfig) (*Mobile, error) {
	m, err := OpenMobile(ctx, MobileSpec{
		Enter:             func(fn func() error) error { return tb.Do(testbed.MN, fn) },
		PreviousInterface: testbed.IfaceMNToPAR, NewInterface: testbed.IfaceMNToNAR,
		Key:     cfg.Credentials.Key,
		PCoA:    mn.CareOf{Address: cfg.Credentials.PCoA.Address, Parameters: cfg.Credentials.PCoA.Parameters},
		NCoA:    mn.CareOf{Address: cfg.Credentials.NCoA.Address, Parameters: cfg.Credentials.NCoA.Parameters},
		Anchors: cfg.Anchors, Decapsulate: true, Allowed: []netip.Addr{cfg.PAR},
		PreferredAT: cfg.PreferredAT, Trace: cfg.Trace,
	})
	if err != nil {
		return nil, err
	}
	m.tb = tb
	return m, nil
}

// OpenMobile opens the node's sockets and decapsulator (inside spec.Enter)
// and builds the role with its certification path solicitor.
func OpenMobile(ctx context.Context, spec MobileSpec) (_ *Mobile, err error) {
	m := &Mobile{PCoA: spec.PCoA, NCoA: spec.NCoA}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	enter := spec.Enter
	if enter == nil {
		enter = func(fn func() error) error { return fn() }
	}
	if err := enter(func() error {
		var err error
		if m.icmpPAR, err = netio.ListenICMP(netio.ICMPConfig{Interface: spec.PreviousInterface}); err != nil {
			return err
		}
		if spec.NewInterface != "" && spec.NewInterface != spec.PreviousInterface {
			if m.icmpNAR, err = netio.ListenICMP(netio.ICMPConfig{Interface: spec.NewInterface}); err != nil {
				return err
			}
		}
		if m.MH, err = netio.ListenMH(netio.MHConfig{Types: []uint8{mh.TypeFastBindingAcknowledgment}}); err != nil {
			return err
		}
		if spec.Decapsulate {
			dsts := []netip.Prefix{netip.PrefixFrom(m.PCoA.Address, 128)}
			if m.NCoA.Address.IsValid() {
				dsts = append(dsts, netip.PrefixFrom(m.NCoA.Address, 128))
			}
			m.Decapsulator, err = forward.OpenDecapsulator(forward.DecapsulatorConfig{Name: spec.DecapsulatorName, MTU: spec.DecapsulatorMTU,
				Allowed: spec.Allowed, Destinations: dsts})
		}
		return err
	}); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	if m.Decapsulator != nil {
		m.wg.Go(func() { _ = m.Decapsulator.Serve(sctx) })
	}
	cache := certpath.NewCache(8)
	solicitor := func(c netio.Conn) (*certdisc.Solicitor, error) {
		return certdisc.NewSolicitor(c, certdisc.SolicitorConfig{Anchors: spec.Anchors, Cache: cache,
			Retry: 200 * time.Millisecond, RetryMax: 3 * time.Second, Logger: spec.Logger})
	}
	divert := func(s *certdisc.Solicitor) func(netio.Packet) bool {
		return func(p netio.Packet) bool {
			if p.NextHeader == inet.ProtocolICMPv6 && len(p.Payload) > 0 && p.Payload[0] == 149 { // CPA, RFC 3971 §6.4.2
				_ = s.HandlePacket(p)
				return true
			}
			return false
		}
	}
	if m.Solicitor, err = solicitor(m.icmpPAR); err != nil {
		return nil, err
	}
	m.split = mn.SplitConn(sctx, m.icmpPAR, divert(m.Solicitor))
	if m.icmpNAR != nil {
		if m.SolicitorNew, err = solicitor(m.icmpNAR); err != nil {
			return nil, err
		}
		m.splitN = mn.SplitConn(sctx, m.icmpNAR, divert(m.SolicitorNew))
	}
	trace := spec.Trace
	if trace == nil {
		trace = func(string, time.Duration, error) {}
	}
	fetch := func(ctx context.Context, router netip.Addr, kh certpath.KeyHash) (*certpath.Authorization, error) {
		start := time.Now()
		s := m.Solicitor
		if m.active.Load() == LinkNew && m.SolicitorNew != nil {
			s = m.SolicitorNew
		}
		a, err := s.FetchKey(ctx, router, kh, nil)
		trace("cps-fetch", time.Since(start), err)
		return a, err
	}
	if m.Role, err = mn.New(mn.Config{Key: spec.Key, Authorizer: &mn.CertCache{Cache: cache, Fetch: fetch},
		PreferredAT: spec.PreferredAT, Supported: spec.Supported, HKEPKLifetime: spec.HKEPKLifetime, HKEPKHandovers: spec.HKEPKHandovers,
		RefreshBefore: spec.RefreshBefore, Store: spec.Store, Verifier: spec.Verifier, Logger: spec.Logger, Trace: spec.Trace}); err != nil {
		return nil, err
	}
	return m, nil
}

// The node's two links: the previous access router's, where PCoA is its
// care-of CGA, and the new one's, where NCoA is.
const (
	LinkPrevious int32 = 0
	LinkNew      int32 = 1
)

// CareOf is the node's care-of CGA on link (LinkPrevious or LinkNew).
func (m *Mobile) CareOf(link int32) mn.CareOf {
	if link == LinkNew {
		return m.NCoA
	}
	return m.PCoA
}

// RequestKeyOn provisions a handover key from router for the care-of CGA of
// link, over that link (RFC 5269 §3.1–§3.3), fetching the router's
// certification path there when needed. Calls must not overlap: the link
// selects the solicitor for the whole exchange.
func (m *Mobile) RequestKeyOn(ctx context.Context, link int32, router netip.Addr) (mn.Event, error) {
	m.active.Store(link)
	conn := m.split
	if link == LinkNew && m.splitN != nil {
		conn = m.splitN
	}
	return m.Role.RequestKey(ctx, conn, router, m.CareOf(link))
}

// RequestKey provisions a handover key from the PAR for the previous care-of
// CGA over the PAR's link (RFC 5269 §3.1–§3.3).
func (m *Mobile) RequestKey(ctx context.Context, router netip.Addr) (mn.Event, error) {
	return m.RequestKeyOn(ctx, LinkPrevious, router)
}

// RequestKeyNAR provisions a key from the NAR for the new care-of CGA over
// the NAR's link, for the next handover (RFC 5269 §3.3: keys from several
// routers are kept).
func (m *Mobile) RequestKeyNAR(ctx context.Context, router netip.Addr) (mn.Event, error) {
	return m.RequestKeyOn(ctx, LinkNew, router)
}

// Move attaches the MN to the NAR's link (testbed.Move) and keeps the
// previous CoA on the decapsulator's device, where tunnelled packets for
// it are delivered (docs/forwarding.md).
func (m *Mobile) Move(ctx context.Context) error {
	if m.tb == nil || m.Decapsulator == nil {
		return errors.New("scenario: Move needs a testbed mobile node (StartMobile)")
	}
	if err := m.tb.Move(ctx); err != nil {
		return err
	}
	_, err := m.tb.IP(ctx, testbed.MN, "-6", "addr", "replace", netip.PrefixFrom(m.PCoA.Address, 128).String(), "dev", m.Decapsulator.Name(), "nodad")
	return err
}

// Return attaches the MN to the PAR's link again and removes the previous
// CoA from the decapsulator's device.
func (m *Mobile) Return(ctx context.Context) error {
	if m.tb == nil || m.Decapsulator == nil {
		return errors.New("scenario: Return needs a testbed mobile node (StartMobile)")
	}
	if _, err := m.tb.IP(ctx, testbed.MN, "-6", "addr", "del", netip.PrefixFrom(m.PCoA.Address, 128).String(), "dev", m.Decapsulator.Name()); err != nil {
		var ce *testbed.CommandError
		if !errors.As(err, &ce) {
			return err
		}
	}
	return m.tb.Attach(ctx, testbed.PAR)
}

// FastHandover sends the FBU from the new link with the Home Address option
// (RFC 5568 §6.2.3, RFC 5269 §3.4) and waits for the authenticated FBack.
func (m *Mobile) FastHandover(ctx context.Context, par netip.Addr) (mn.Event, error) {
	return m.FastHandoverFrom(ctx, par, LinkPrevious)
}

// FastHandoverFrom sends the FBU for the care-of address of link from to
// the router that gave its key (the previous access router of this
// handover), from the other link's care-of address with the Home Address
// option, and waits for the authenticated FBack.
func (m *Mobile) FastHandoverFrom(ctx context.Context, par netip.Addr, from int32) (mn.Event, error) {
	return m.Role.FastHandover(ctx, m.MH, par, m.CareOf(from).Address, m.CareOf(1-from).Address, false)
}

// EndForwarding tells par, the router of link back where the node has
// returned, to stop tunnelling back's care-of address to the other one:
// an FBU with Lifetime 0 from that address (RFC 5568 §5.6).
func (m *Mobile) EndForwarding(ctx context.Context, par netip.Addr, back int32) (mn.Event, error) {
	return m.Role.EndForwarding(ctx, m.MH, par, m.CareOf(back).Address, m.CareOf(1-back).Address)
}

// Close stops the node's goroutines and closes its sockets and decapsulator.
func (m *Mobile) Close() {
	m.once.Do(func() {
		if m.cancel != nil {
			m.cancel()
		}
		for _, c := range []interface{ Close() error }{m.split, m.splitN, m.icmpPAR, m.icmpNAR, m.MH, m.Decapsulator} {
			if c != nil && !isNil(c) {
				_ = c.Close()
			}
		}
		m.wg.Wait()
	})
}

// isNil reports whether c holds a nil pointer of the types Close closes.
func isNil(c interface{ Close() error }) bool {
	switch v := c.(type) {
	case *netio.ICMPConn:
		return v == nil
	case *netio.MHConn:
		return v == nil
	case *forward.Decapsulator:
		return v == nil
	}
	return false
}
