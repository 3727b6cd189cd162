package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/mip6mn"
	"golang.org/x/net/ipv6"
)

// MIP6Spec is what OpenMIP6 builds an RFC 6618 mobile node from.
type MIP6Spec struct {
	// Role configures the role; OpenMIP6 supplies Now, Send and
	// Bootstrapper.
	Role mip6mn.Config
	// Bootstrapper provisions the SAs (the TLS exchange with the HAC);
	// required.
	Bootstrapper mip6mn.Bootstrapper
	// Local is the UDP address to send from and receive on ("[::]:0" when
	// invalid: any address, a port the kernel picks; RFC 6618 §6.1: "any
	// ephemeral port number as the UDP source port").
	Local netip.AddrPort
	// CareOf is the first care-of address (invalid: none until Move).
	CareOf netip.Addr
	// Deliver receives each inner IPv6 packet the home agent tunnels to
	// the home address (the TUN device); nil drops them.
	Deliver func(ipPacket []byte) error
	// SourceIsCareOf sends every packet from the care-of address
	// (IPV6_PKTINFO) instead of letting the kernel choose: the daemon,
	// whose care-of addresses are its own. An unbound socket whose route
	// to the home agent is gone (between two links) would otherwise get
	// the home address as source (RFC 6724 rule 8, the longest prefix
	// shared with the home agent), and the home address's rule routes it
	// into the TUN: the node would seal its own tunnel packets again,
	// round and round (docs/mip6mn.md, "Never tunnel the tunnel").
	SourceIsCareOf bool
	Logger         *slog.Logger
}

// MIP6 is a running RFC 6618 mobile node: the role, its UDP socket to the
// home agent, and its timer.
type MIP6 struct {
	Role *mip6mn.MobileNode
	conn *net.UDPConn
	spec MIP6Spec
	log  *slog.Logger
	wake chan struct{}

	mu     sync.Mutex
	source netip.Addr // the care-of address to send from (SourceIsCareOf)

	closeOnce sync.Once
}

// OpenMIP6 bootstraps the first SA (the Bootstrapper), opens the UDP
// socket and builds the role; registration starts at once when spec has a
// care-of address. Serve runs it.
func OpenMIP6(ctx context.Context, spec MIP6Spec) (*MIP6, error) {
	if spec.Bootstrapper == nil {
		return nil, errors.New("node: mip6: no bootstrap client (Bootstrapper) to reach the HAC")
	}
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sa, bs, err := spec.Bootstrapper.Bootstrap(ctx)
	if err != nil {
		return nil, fmt.Errorf("node: mip6: bootstrap: %w", err)
	}
	local := spec.Local
	if !local.IsValid() {
		local = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(local))
	if err != nil {
		sa.Zero()
		return nil, fmt.Errorf("node: mip6: %w", err)
	}
	n := &MIP6{conn: conn, spec: spec, log: log, wake: make(chan struct{}, 1)}
	rc := spec.Role
	if rc.Now == nil {
		rc.Now = time.Now
	}
	rc.Send = n.send
	rc.Bootstrapper = spec.Bootstrapper
	if n.Role, err = mip6mn.New(rc, sa, bs); err != nil {
		conn.Close()
		return nil, err
	}
	if spec.CareOf.IsValid() {
		if err := n.Move(spec.CareOf); err != nil {
			log.Warn("first binding update", "err", err)
		}
	}
	return n, nil
}

func (n *MIP6) send(to netip.AddrPort, p []byte) error {
	n.mu.Lock()
	src := n.source
	n.mu.Unlock()
	if !src.IsValid() || !to.Addr().Is6() || to.Addr().Is4In6() {
		_, err := n.conn.WriteToUDPAddrPort(p, to)
		return err
	}
	// RFC 6618 §6.1: the outer source is the care-of address; with it
	// fixed, a node without a route from it fails (ENETUNREACH) instead
	// of sending from the home address.
	oob := (&ipv6.ControlMessage{Src: src.AsSlice()}).Marshal()
	_, _, err := n.conn.WriteMsgUDPAddrPort(p, oob, to)
	return err
}

// Move registers a new care-of address at once (RFC 6275 §11.7.1).
func (n *MIP6) Move(coa netip.Addr) error {
	if n.spec.SourceIsCareOf && coa.Is6() && !coa.Is4In6() {
		n.mu.Lock()
		n.source = coa
		n.mu.Unlock()
	}
	err := n.Role.SetCareOfAddress(coa)
	n.poke()
	return err
}

// Send tunnels one IPv6 packet from the home address to the home agent.
func (n *MIP6) Send(ipPacket []byte) error { return n.Role.SendData(ipPacket) }

func (n *MIP6) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Serve receives from the home agent and runs the role's timers until ctx
// ends or the socket fails.
func (n *MIP6) Serve(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- n.receive() }()
	go func() { errc <- n.timers(ctx) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	n.Close()
	<-errc
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// receive hands each datagram to the role and delivers user data.
func (n *MIP6) receive() error {
	buf := make([]byte, 65535)
	for {
		k, from, err := n.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		inner, err := n.Role.HandlePacket(from, buf[:k])
		n.poke() // a BA moves the next deadline
		if err != nil {
			n.log.Debug("dropped a packet from the home agent side", "from", from.String(), "err", err)
			continue
		}
		if inner != nil && n.spec.Deliver != nil {
			if err := n.spec.Deliver(inner); err != nil {
				n.log.Debug("delivering to the home address", "err", err)
			}
		}
	}
}

// timers runs Tick at the role's next deadline, or sooner when poked.
func (n *MIP6) timers(ctx context.Context) error {
	for {
		d := time.Until(n.Role.NextDeadline())
		t := time.NewTimer(max(d, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-n.wake:
			t.Stop()
			continue
		case <-t.C:
		}
		if err := n.Role.Tick(ctx); err != nil {
			n.log.Warn("mip6", "err", err)
		}
	}
}

// Close closes the socket; Serve returns.
func (n *MIP6) Close() error {
	var err error
	n.closeOnce.Do(func() { err = n.conn.Close() })
	return err
}
