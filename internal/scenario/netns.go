package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/certpath"
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

// Router is an access router running on the testbed.
type Router struct {
	Role      *ar.Router
	Store     keystore.Store
	Forwarder *forward.TUN // nil without RouterConfig.Forwarding
	Responder *certdisc.Responder
	ICMP      *netio.ICMPConn
	MH        *netio.MHConn

	ownStore bool
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	once     sync.Once
	stopErr  error
}

// StartRouter opens the router's sockets, forwarder and key store inside its
// namespace and serves until Stop.
func StartRouter(ctx context.Context, tb *testbed.Testbed, cfg RouterConfig) (_ *Router, err error) {
	if cfg.Node != testbed.PAR && cfg.Node != testbed.NAR {
		return nil, fmt.Errorf("scenario: router node %q is not an access router", cfg.Node)
	}
	r := &Router{Store: cfg.Store}
	defer func() {
		if err != nil {
			err = errors.Join(err, r.close())
		}
	}()
	if r.Store == nil {
		if cfg.StorePath != "" {
			if r.Store, err = keystore.OpenBolt(cfg.StorePath); err != nil {
				return nil, err
			}
		} else {
			r.Store = keystore.NewMemory()
		}
		r.ownStore = true
	}
	addr := cfg.Credentials.CGA.Address
	var bindings ar.Bindings
	if err := tb.Do(cfg.Node, func() error {
		var err error
		if r.ICMP, err = netio.ListenICMP(netio.ICMPConfig{Interface: testbed.IfaceAccess, Groups: []netip.Addr{ar.AllRoutersMulticast}}); err != nil {
			return err
		}
		if r.MH, err = netio.ListenMH(netio.MHConfig{}); err != nil {
			return err
		}
		if cfg.Forwarding {
			r.Forwarder, err = forward.OpenTUN(forward.TUNConfig{Source: addr, Options: forward.Options{OnExpire: func(p netip.Addr) {
				if r.Role != nil {
					r.Role.ForwardingTimedOut(p)
				}
			}}})
		}
		return err
	}); err != nil {
		return nil, err
	}
	if r.Forwarder != nil {
		bindings = ar.NewForwarderBindings(r.Forwarder, nil)
	}
	var icmp netio.Conn = r.ICMP
	if cfg.WrapICMP != nil {
		icmp = cfg.WrapICMP(icmp)
	}
	// RFC 5269 §3.2: the router must "support SEND certificate discovery".
	if r.Responder, err = certdisc.NewResponder(icmp, certdisc.ResponderConfig{
		Paths: []certdisc.Path{{Certificates: cfg.Credentials.Path, Anchors: cfg.Anchors}}}); err != nil {
		return nil, err
	}
	if r.Role, err = ar.New(ar.Config{Address: addr, Parameters: cfg.Credentials.CGA.Parameters, Signer: cfg.Credentials.Key,
		Store: r.Store, Bindings: bindings, Neighbors: cfg.Neighbors, Limits: cfg.Limits, ForwardingLifetime: cfg.ForwardingLifetime,
		Trace: cfg.Trace, Other: func(ctx context.Context, p netio.Packet) { _ = r.Responder.HandlePacket(ctx, p) }}); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	r.wg.Go(func() { _ = r.Role.Serve(sctx, icmp, 1) })
	r.wg.Go(func() { _ = r.Role.Serve(sctx, r.MH, cfg.Workers) })
	if r.Forwarder != nil {
		r.wg.Go(func() { _ = r.Forwarder.Serve(sctx) })
	}
	return r, nil
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

// Mobile is the mobile node running on the testbed.
type Mobile struct {
	Role         *mn.MobileNode
	Solicitor    *certdisc.Solicitor
	Decapsulator *forward.Decapsulator
	MH           *netio.MHConn
	PCoA, NCoA   mn.CareOf

	cfg     MobileConfig
	tb      *testbed.Testbed
	icmpPAR *netio.ICMPConn
	icmpNAR *netio.ICMPConn
	split   netio.Conn // icmpPAR with CPAs diverted to the solicitor
	splitN  netio.Conn
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
}

// StartMobile opens the mobile node's sockets and decapsulator in the MN's
// namespace. The node starts on the PAR's link.
func StartMobile(ctx context.Context, tb *testbed.Testbed, cfg MobileConfig) (_ *Mobile, err error) {
	m := &Mobile{cfg: cfg, tb: tb,
		PCoA: mn.CareOf{Address: cfg.Credentials.PCoA.Address, Parameters: cfg.Credentials.PCoA.Parameters},
		NCoA: mn.CareOf{Address: cfg.Credentials.NCoA.Address, Parameters: cfg.Credentials.NCoA.Parameters}}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if err := tb.Do(testbed.MN, func() error {
		var err error
		if m.icmpPAR, err = netio.ListenICMP(netio.ICMPConfig{Interface: testbed.IfaceMNToPAR}); err != nil {
			return err
		}
		if m.icmpNAR, err = netio.ListenICMP(netio.ICMPConfig{Interface: testbed.IfaceMNToNAR}); err != nil {
			return err
		}
		if m.MH, err = netio.ListenMH(netio.MHConfig{}); err != nil {
			return err
		}
		m.Decapsulator, err = forward.OpenDecapsulator(forward.DecapsulatorConfig{Allowed: []netip.Addr{cfg.PAR},
			Local: m.NCoA.Address, Destinations: []netip.Prefix{netip.PrefixFrom(m.PCoA.Address, 128)}})
		return err
	}); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	m.wg.Go(func() { _ = m.Decapsulator.Serve(sctx) })
	cache := certpath.NewCache(8)
	if m.Solicitor, err = certdisc.NewSolicitor(m.icmpPAR, certdisc.SolicitorConfig{Anchors: cfg.Anchors, Cache: cache,
		Retry: 200 * time.Millisecond, RetryMax: 3 * time.Second}); err != nil {
		return nil, err
	}
	divert := func(p netio.Packet) bool {
		if p.NextHeader == inet.ProtocolICMPv6 && len(p.Payload) > 0 && p.Payload[0] == 149 { // CPA, RFC 3971 §6.4.2
			_ = m.Solicitor.HandlePacket(p)
			return true
		}
		return false
	}
	m.split = mn.SplitConn(sctx, m.icmpPAR, divert)
	m.splitN = mn.SplitConn(sctx, m.icmpNAR, divert)
	trace := cfg.Trace
	if trace == nil {
		trace = func(string, time.Duration, error) {}
	}
	fetch := func(ctx context.Context, router netip.Addr, kh certpath.KeyHash) (*certpath.Authorization, error) {
		start := time.Now()
		a, err := m.Solicitor.FetchKey(ctx, router, kh, nil)
		trace("cps-fetch", time.Since(start), err)
		return a, err
	}
	if m.Role, err = mn.New(mn.Config{Key: cfg.Credentials.Key, Authorizer: &mn.CertCache{Cache: cache, Fetch: fetch},
		PreferredAT: cfg.PreferredAT, Trace: cfg.Trace}); err != nil {
		return nil, err
	}
	return m, nil
}

// RequestKey provisions a handover key from the PAR for the previous care-of
// CGA over the PAR's link (RFC 5269 §3.1–§3.3).
func (m *Mobile) RequestKey(ctx context.Context, router netip.Addr) (mn.Event, error) {
	return m.Role.RequestKey(ctx, m.split, router, m.PCoA)
}

// RequestKeyNAR provisions a key from the NAR for the new care-of CGA over
// the NAR's link, for the next handover (RFC 5269 §3.3: keys from several
// routers are kept). The CPS/CPA exchange, when needed, goes over the
// PAR's link's solicitor, so the NAR's path must be cached or fetched there.
func (m *Mobile) RequestKeyNAR(ctx context.Context, router netip.Addr) (mn.Event, error) {
	return m.Role.RequestKey(ctx, m.splitN, router, m.NCoA)
}

// Move attaches the MN to the NAR's link (testbed.Move) and keeps the
// previous CoA on the decapsulator's device, where tunnelled packets for
// it are delivered (docs/forwarding.md).
func (m *Mobile) Move(ctx context.Context) error {
	if err := m.tb.Move(ctx); err != nil {
		return err
	}
	_, err := m.tb.IP(ctx, testbed.MN, "-6", "addr", "replace", netip.PrefixFrom(m.PCoA.Address, 128).String(), "dev", m.Decapsulator.Name(), "nodad")
	return err
}

// Return attaches the MN to the PAR's link again and removes the previous
// CoA from the decapsulator's device.
func (m *Mobile) Return(ctx context.Context) error {
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
	return m.Role.FastHandover(ctx, m.MH, par, m.PCoA.Address, m.NCoA.Address, false)
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
