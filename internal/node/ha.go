package node

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/forward"
	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/internal/hastate"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// HomeLink is where the home agent puts the mobile nodes' reverse-tunneled
// packets and reads the packets for their home addresses: a TUN device
// (forward.Device) on a daemon, a fake in tests. Routes make the kernel
// send a bound home address's packets into it.
type HomeLink interface {
	Read(b []byte) (int, error)
	Write(b []byte) (int, error)
	SetReadDeadline(t time.Time) error
	AddRoute(netip.Addr) error
	DeleteRoute(netip.Addr) error
	Close() error
}

// HACChannel serves the HAC→HA channel on ln with the HA's mutual-TLS
// configuration, handing each SA to install: internal/hac/hachannel's
// Server (ha_channel.go). Tests may replace it; with it nil, OpenHA refuses
// a spec that asks for a channel.
var HACChannel = serveHACChannel

// HASpec is what OpenHA builds a home agent from.
type HASpec struct {
	// Listen is the UDP address of the Mobile IPv6 service port (port 0:
	// any free port, see HA.Addr).
	Listen netip.AddrPort
	// Role configures the role; its Store is set by OpenHA when StateFile
	// is given.
	Role ha.Config
	// StateFile is the bbolt file of SAs and bindings; empty keeps state
	// in memory only.
	StateFile string
	// TUN and MTU name the home link's TUN device (Linux, root); HomeLink,
	// when set, is used instead (tests).
	TUN      string
	MTU      int
	HomeLink HomeLink
	// ChannelListen and ChannelTLS are the HAC→HA channel's listener
	// address and mutual-TLS configuration (nothing when ChannelListen is
	// invalid).
	ChannelListen netip.AddrPort
	ChannelTLS    *tls.Config
	// Now is the clock (nil: time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// HA is a running home agent: the role behind the UDP service socket, the
// home link and the state file. Serve runs it; Close releases everything.
type HA struct {
	Role *ha.HomeAgent

	conn    *net.UDPConn
	link    HomeLink
	store   *hastate.Bolt
	channel net.Listener
	// channelTLS is the HAC channel's mutual-TLS configuration.
	channelTLS *tls.Config
	now        func() time.Time
	log        *slog.Logger

	mu     sync.Mutex
	routed map[netip.Addr]bool
	// routeDue are the routes still to add (true) or delete (false).
	routeDue map[netip.Addr]bool

	// held are the datagrams beyond their SA's inbound lease, waiting for
	// serveLeases to write it (heldDue wakes it), and behind them, in
	// order, the later datagrams of the same SPIs (heldSPIs); holding
	// counts them for the receive loop's fast path.
	heldMu   sync.Mutex
	held     []heldDatagram
	heldSPIs map[mip6udp.SPI]int
	holding  atomic.Int32
	heldDue  chan struct{}
}

// heldDatagram is a received datagram waiting for its lease.
type heldDatagram struct {
	from    netip.AddrPort
	payload []byte
	spi     mip6udp.SPI
}

// OpenHA opens the state file and restores the role from it (dropping what
// expired), opens the UDP socket, the home link (routing every restored
// binding into it) and the channel's listener. Nothing is served before
// Serve.
func OpenHA(spec HASpec) (h *HA, err error) {
	h = &HA{now: spec.Now, log: spec.Logger, routed: map[netip.Addr]bool{}, routeDue: map[netip.Addr]bool{}, channelTLS: spec.ChannelTLS, heldDue: make(chan struct{}, 1),
		heldSPIs: map[mip6udp.SPI]int{}}
	opened := h
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			_ = opened.Close()
		}
	}()
	if spec.ChannelListen.IsValid() && HACChannel == nil {
		return nil, fmt.Errorf("node: HAC channel: no HACChannel server")
	}
	var sas []ha.SARecord
	var bindings []ha.Binding
	if spec.StateFile != "" {
		if h.store, err = hastate.Open(spec.StateFile); err != nil {
			return nil, err
		}
		if sas, bindings, err = h.store.Load(); err != nil {
			return nil, err
		}
		spec.Role.Store = h.store
	}
	// Packets beyond their lease wait in the node, so that one write
	// covers all of those that arrive meanwhile (serveLeases).
	spec.Role.HoldBeyondLease = true
	h.Role = ha.New(spec.Role)
	if err := h.Role.Restore(h.now(), sas, bindings); err != nil {
		return nil, err
	}
	for i := range sas {
		sas[i].SA.Zero()
	}
	if h.conn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(spec.Listen)); err != nil {
		return nil, fmt.Errorf("node: Mobile IPv6 service port: %w", err)
	}
	h.link = spec.HomeLink
	if h.link == nil {
		dev, err := forward.OpenDevice(spec.TUN, spec.MTU)
		if err != nil {
			return nil, err
		}
		h.link = dev
	}
	if err := h.syncRoutes(); err != nil {
		return nil, err
	}
	if spec.ChannelListen.IsValid() {
		if h.channel, err = net.Listen("tcp", spec.ChannelListen.String()); err != nil {
			return nil, fmt.Errorf("node: HAC channel: %w", err)
		}
	}
	return h, nil
}

// Addr is the bound address of the service socket.
func (h *HA) Addr() netip.AddrPort {
	ap := h.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// ChannelAddr is the bound address of the HAC channel (invalid if none).
func (h *HA) ChannelAddr() netip.AddrPort {
	if h.channel == nil {
		return netip.AddrPort{}
	}
	return h.channel.Addr().(*net.TCPAddr).AddrPort()
}

// InstallSA is the entry point of the HAC→HA channel: it installs an SA
// the HAC created (RFC 6618 §4.3) and persists it.
func (h *HA) InstallSA(sa mip6tls.SecurityAssociation, bs mip6tls.Bootstrap) error {
	if err := h.Role.InstallSA(h.now(), sa, bs); err != nil {
		return err
	}
	h.log.Info("security association installed", "spi", uint32(sa.SPI), "suite", sa.CipherSuite.String(),
		"home_address", bs.HomeAddress6.String(), "valid_until", sa.ValidityEnd.UTC().Format(time.RFC3339))
	return h.syncRoutes()
}

// syncRoutes makes the home link's routes follow the bindings created or
// removed since the last call (ha.HomeAgent.BindingChanges); a route that
// could not be added or deleted is tried again at the next call.
func (h *HA) syncRoutes() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for hoa, bound := range h.Role.BindingChanges() {
		h.routeDue[hoa] = bound
	}
	var errs []error
	for hoa, bound := range h.routeDue {
		var err error
		switch {
		case bound && !h.routed[hoa]:
			if err = h.link.AddRoute(hoa); err == nil {
				h.routed[hoa] = true
			}
		case !bound && h.routed[hoa]:
			if err = h.link.DeleteRoute(hoa); err == nil {
				delete(h.routed, hoa)
			}
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		delete(h.routeDue, hoa)
	}
	return errors.Join(errs...)
}

// Close checkpoints the role (the clean stop: each inbound lease narrowed
// to the highest Sequence Number received, so a restart accepts the next
// one), closes the sockets and the home link, and closes the state file.
// Serve must have returned.
func (h *HA) Close() error {
	var errs []error
	if h.Role != nil {
		errs = append(errs, h.Role.Checkpoint())
	}
	var closers []io.Closer
	if h.conn != nil {
		closers = append(closers, h.conn)
	}
	if h.link != nil {
		closers = append(closers, h.link)
	}
	if h.channel != nil {
		closers = append(closers, h.channel)
	}
	if h.store != nil {
		closers = append(closers, h.store)
	}
	for _, c := range closers {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
