package node

import (
	"context"
	"crypto/rsa"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/certdisc"
	"github.com/fhkey/fhkey/internal/forward"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/send"
)

// Mobile is a running mobile node: the role (internal/mn) on its ICMPv6
// sockets (one per link) and Mobility Header socket, with its
// certification path solicitors and, with decapsulation, the tunnel
// decapsulator. The `fhkey mn` daemon (MNOptions) and the
// network-namespace scenarios both run it.
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

	// In the shared-key mode the Mobility Header socket carries two
	// exchanges that may overlap (a key request and a handover): fbuConn
	// gets its FBacks, keyConn its HKResps. Without it fbuConn is MH.
	fbuConn netio.Conn
	keyConn *queueConn

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
// it runs: OpenMobile builds it. The `fhkey mn` daemon (MNOptions) and
// scenario.StartMobile (the testbed) share this construction path.
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
	// AAA enables the shared-key mode (docs/aaa.md); without Key the node
	// has no SEND: no ICMPv6 sockets, no certification path solicitors,
	// and PCoA and NCoA are plain addresses (no Parameters).
	AAA *mn.AAAConfig
	// MSK enables the MSK mode (docs/msk.md), without SEND as AAA.
	MSK *mn.MSKConfig
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
	types := []uint8{mh.TypeFastBindingAcknowledgment}
	var hkresp uint8
	if spec.AAA != nil {
		if hkresp = spec.AAA.Codepoints.HandoverKeyResponse; hkresp == 0 {
			hkresp = mh.DefaultHandoverKeyResponseType
		}
		types = append(types, hkresp)
	}
	withSEND := spec.Key != nil
	if err := enter(func() error {
		var err error
		if withSEND {
			if m.icmpPAR, err = netio.ListenICMP(netio.ICMPConfig{Interface: spec.PreviousInterface}); err != nil {
				return err
			}
			if spec.NewInterface != "" && spec.NewInterface != spec.PreviousInterface {
				if m.icmpNAR, err = netio.ListenICMP(netio.ICMPConfig{Interface: spec.NewInterface}); err != nil {
					return err
				}
			}
		}
		if m.MH, err = netio.ListenMH(netio.MHConfig{Types: types}); err != nil {
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
	m.fbuConn = m.MH
	if spec.AAA != nil {
		m.splitKeyConn(sctx, m.MH, hkresp)
	}
	if !withSEND {
		if m.Role, err = mn.New(mn.Config{PreferredAT: spec.PreferredAT, Supported: spec.Supported, RefreshBefore: spec.RefreshBefore,
			Store: spec.Store, Logger: spec.Logger, Trace: spec.Trace, AAA: spec.AAA, MSK: spec.MSK}); err != nil {
			return nil, err
		}
		return m, nil
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
		RefreshBefore: spec.RefreshBefore, Store: spec.Store, Verifier: spec.Verifier, Logger: spec.Logger, Trace: spec.Trace,
		AAA: spec.AAA}); err != nil {
		return nil, err
	}
	return m, nil
}

// splitKeyConn divides conn, the Mobility Header socket, between the two
// exchanges of the shared-key mode, which may overlap: the HKResps (MH
// type hkresp) go to keyConn, everything else to fbuConn.
func (m *Mobile) splitKeyConn(ctx context.Context, conn netio.Conn, hkresp uint8) {
	m.keyConn = &queueConn{in: make(chan netio.Packet, 64), out: conn, done: ctx.Done()}
	m.fbuConn = mn.SplitConn(ctx, conn, func(p netio.Packet) bool {
		if len(p.Payload) < 3 || p.Payload[2] != hkresp {
			return false
		}
		select {
		case m.keyConn.in <- p:
		default: // full, as a socket buffer would drop
		}
		return true
	})
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

// RequestHandoverKeyOn obtains a shared-key mode handover key (docs/aaa.md)
// from router for the care-of address of link, sent from that address over
// the Mobility Header socket: a new key, or the V flag when the node holds
// one from router. Calls must not overlap.
func (m *Mobile) RequestHandoverKeyOn(ctx context.Context, link int32, router netip.Addr) (mn.Event, error) {
	if m.keyConn == nil {
		return mn.Event{}, errors.New("node: the shared-key mode is not configured")
	}
	coa := m.CareOf(link).Address
	return m.Role.RequestHandoverKey(ctx, m.keyConn, router, coa, coa)
}

// RefreshHandoverKeyOn obtains a new shared-key mode key (no V flag:
// mn.MobileNode.RequestNewHandoverKey) from router for the care-of address
// of link, sent from the care-of address of via over the Mobility Header
// socket. With via == link the request is direct; otherwise it is the
// indirect exchange of draft-vidya-mipshop-handover-keys-aaa-04 §6.5: Key
// Care of Address ::, routed to router through via's link. Calls must not
// overlap with RequestHandoverKeyOn.
func (m *Mobile) RefreshHandoverKeyOn(ctx context.Context, link, via int32, router netip.Addr) (mn.Event, error) {
	if m.keyConn == nil {
		return mn.Event{}, errors.New("node: the shared-key mode is not configured")
	}
	return m.Role.RequestNewHandoverKey(ctx, m.keyConn, router, m.CareOf(link).Address, m.CareOf(via).Address)
}

// RequestKey provisions a handover key from the PAR for the previous care-of
// CGA over the PAR's link (RFC 5269 §3.1–§3.3).
func (m *Mobile) RequestKey(ctx context.Context, router netip.Addr) (mn.Event, error) {
	return m.RequestKeyOn(ctx, LinkPrevious, router)
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
	return m.Role.FastHandover(ctx, m.fbuConn, par, m.CareOf(from).Address, m.CareOf(1-from).Address, false)
}

// EndForwarding tells par, the router of link back where the node has
// returned, to stop tunnelling back's care-of address to the other one:
// an FBU with Lifetime 0 from that address (RFC 5568 §5.6).
func (m *Mobile) EndForwarding(ctx context.Context, par netip.Addr, back int32) (mn.Event, error) {
	return m.Role.EndForwarding(ctx, m.fbuConn, par, m.CareOf(back).Address, m.CareOf(1-back).Address)
}

// Close stops the node's goroutines and closes its sockets and decapsulator.
func (m *Mobile) Close() {
	m.once.Do(func() {
		if m.cancel != nil {
			m.cancel()
		}
		var split netio.Conn
		if m.keyConn != nil {
			split = m.fbuConn
		}
		for _, c := range []interface{ Close() error }{m.split, m.splitN, split, m.icmpPAR, m.icmpNAR, m.MH, m.Decapsulator} {
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

// queueConn is a netio.Conn reading the packets another reader puts into
// in (until done) and writing to out.
type queueConn struct {
	in   chan netio.Packet
	out  netio.Conn
	done <-chan struct{}
}

func (q *queueConn) ReadPacket(ctx context.Context) (netio.Packet, error) {
	select {
	case p := <-q.in:
		return p, nil
	case <-q.done:
		return netio.Packet{}, netio.ErrClosed
	case <-ctx.Done():
		return netio.Packet{}, ctx.Err()
	}
}

func (q *queueConn) WritePacket(ctx context.Context, p netio.Packet) error {
	return q.out.WritePacket(ctx, p)
}
func (q *queueConn) Addrs() []netip.Addr { return q.out.Addrs() }
func (q *queueConn) Close() error        { return nil }
