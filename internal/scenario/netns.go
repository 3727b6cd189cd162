package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/node"
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

// StartRouter opens the router's sockets, forwarder and key store inside its
// namespace and serves until Stop.
func StartRouter(ctx context.Context, tb *testbed.Testbed, cfg RouterConfig) (*node.Router, error) {
	if cfg.Node != testbed.PAR && cfg.Node != testbed.NAR {
		return nil, fmt.Errorf("scenario: router node %q is not an access router", cfg.Node)
	}
	return node.OpenRouter(ctx, node.RouterSpec{
		Enter:     func(fn func() error) error { return tb.Do(cfg.Node, fn) },
		Interface: testbed.IfaceAccess,
		Address:   cfg.Credentials.CGA.Address, Parameters: cfg.Credentials.CGA.Parameters, Signer: cfg.Credentials.Key,
		Path: cfg.Credentials.Path, Anchors: cfg.Anchors, StorePath: cfg.StorePath, Store: cfg.Store,
		Forwarding: cfg.Forwarding, Neighbors: cfg.Neighbors, Limits: cfg.Limits, ForwardingLifetime: cfg.ForwardingLifetime,
		Trace: cfg.Trace, Workers: cfg.Workers, WrapICMP: cfg.WrapICMP,
	})
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

// Mobile is a mobile node (node.Mobile) on the testbed, which it can move
// between the PAR's and the NAR's links.
type Mobile struct {
	*node.Mobile
	tb *testbed.Testbed
}

// StartMobile opens the mobile node's sockets and decapsulator in the MN's
// namespace. The node starts on the PAR's link.
func StartMobile(ctx context.Context, tb *testbed.Testbed, cfg MobileConfig) (*Mobile, error) {
	m, err := node.OpenMobile(ctx, node.MobileSpec{
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
	return &Mobile{Mobile: m, tb: tb}, nil
}

// Move attaches the MN to the NAR's link (testbed.Move) and keeps the
// previous CoA on the decapsulator's device, where tunnelled packets for
// it are delivered (docs/forwarding.md).
func (m *Mobile) Move(ctx context.Context) error {
	if m.Decapsulator == nil {
		return errors.New("scenario: Move needs a mobile node with decapsulation")
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
	if m.Decapsulator == nil {
		return errors.New("scenario: Return needs a mobile node with decapsulation")
	}
	if _, err := m.tb.IP(ctx, testbed.MN, "-6", "addr", "del", netip.PrefixFrom(m.PCoA.Address, 128).String(), "dev", m.Decapsulator.Name()); err != nil {
		var ce *testbed.CommandError
		if !errors.As(err, &ce) {
			return err
		}
	}
	return m.tb.Attach(ctx, testbed.PAR)
}
