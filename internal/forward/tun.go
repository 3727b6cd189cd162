package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// packetDevice is a TUN device without packet information: each Read
// returns one IPv6 packet routed to it, each Write injects one packet into
// the local stack. *os.File on a non-blocking TUN descriptor is one.
type packetDevice interface {
	Read(b []byte) (int, error)
	Write(b []byte) (int, error)
	SetReadDeadline(t time.Time) error
	Close() error
}

// tunnelSender sends complete tunnel packets (header included).
type tunnelSender interface {
	send(pkt []byte, exit netip.Addr) error
	Close() error
}

// tunnelConn receives the payload of IPv6 packets with Next Header 41
// addressed to this node, that is the original packets, together with the
// tunnel header's source address.
type tunnelConn interface {
	readFrom(b []byte) (int, netip.Addr, error)
	SetReadDeadline(t time.Time) error
	Close() error
}

// routerCloser is a router holding a resource.
type routerCloser interface {
	router
	io.Closer
}

// maxPacket is the largest IPv6 packet without jumbograms.
const maxPacket = HeaderLen + MaxPayloadLength

// DefaultTunnelMTU is the MTU given to the forwarder's TUN device unless
// configured otherwise: an Ethernet path (1500) minus the tunnel header, so
// that the kernel answers larger original packets with ICMPv6 Packet Too
// Big on the PAR instead of the tunnel packet being too large for the path
// (RFC 2473 §7; RFC 8201).
const DefaultTunnelMTU = 1500 - HeaderLen

// minMTU is the IPv6 minimum link MTU (RFC 8200 §5).
const minMTU = 1280

// TUNConfig configures OpenTUN.
type TUNConfig struct {
	// Name is the TUN device to create; empty means "fhkfw%d" (the
	// kernel picks the number). At most 15 octets.
	Name string
	// Source is the tunnel header's source address: the PAR's global
	// address on the interface to which the MN was attached (RFC 5568 §4).
	// Required.
	Source netip.Addr
	// HopLimit of the tunnel header; zero means DefaultHopLimit.
	HopLimit uint8
	// MTU of the TUN device, 1280..65535; zero means DefaultTunnelMTU.
	MTU int
	// Options holds OnExpire and the clock.
	Options
}

func (c *TUNConfig) check() error {
	if !c.Source.Is6() || c.Source.Is4In6() || !c.Source.IsGlobalUnicast() {
		return fmt.Errorf("%w: tunnel source %v is not a global unicast IPv6 address (RFC 5568 §4)", ErrInvalid, c.Source)
	}
	c.Source = c.Source.WithZone("")
	if c.HopLimit == 0 {
		c.HopLimit = DefaultHopLimit
	}
	if c.MTU == 0 {
		c.MTU = DefaultTunnelMTU
	}
	if c.MTU < minMTU || c.MTU > MaxPayloadLength {
		return fmt.Errorf("%w: TUN MTU %d outside %d..%d", ErrInvalid, c.MTU, minMTU, MaxPayloadLength)
	}
	if c.Name == "" {
		c.Name = "fhkfw%d"
	}
	if len(c.Name) > 15 {
		return fmt.Errorf("%w: interface name %q longer than 15 octets", ErrInvalid, c.Name)
	}
	return nil
}

// TUN is the Linux user-space Forwarder of a PAR. The kernel routes the
// packets for every bound previous CoA into a TUN device through a host
// route (PCoA/128); Serve reads them, tunnels them to the new CoA
// (RFC 2473 §3.1) and sends the tunnel packets through a raw IPv6 socket
// that carries our header (IPPROTO_RAW, which implies IPV6_HDRINCL).
// When a binding ends, its route is removed and the kernel delivers the
// PCoA's packets as before.
type TUN struct {
	t        *table
	dev      packetDevice
	name     string
	routes   routerCloser
	sender   tunnelSender
	source   netip.Addr
	hopLimit uint8

	closeOnce sync.Once
	closeErr  error
}

var _ Forwarder = (*TUN)(nil)

// OpenTUN creates the TUN device, brings it up and opens the route and raw
// sockets, all in the network namespace of the calling thread: callers
// that switch namespaces must lock the OS thread around OpenTUN. Later
// calls may come from any thread. It needs CAP_NET_ADMIN and CAP_NET_RAW.
func OpenTUN(cfg TUNConfig) (*TUN, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	dev, name, routes, sender, err := openTUN(&cfg)
	if err != nil {
		return nil, err
	}
	return newTUN(&cfg, dev, name, routes, sender), nil
}

func newTUN(cfg *TUNConfig, dev packetDevice, name string, routes routerCloser, sender tunnelSender) *TUN {
	return &TUN{
		t:   newTable(cfg.Options, routes),
		dev: dev, name: name, routes: routes, sender: sender,
		source: cfg.Source, hopLimit: cfg.HopLimit,
	}
}

// Name returns the TUN device's name.
func (f *TUN) Name() string { return f.name }

// Add implements Forwarder; a new binding installs PCoA/128 on the device.
func (f *TUN) Add(ctx context.Context, b Binding) error { return f.t.add(ctx, b) }

// Remove implements Forwarder and removes the host route.
func (f *TUN) Remove(pcoa netip.Addr) error { return f.t.remove(pcoa) }

// Bindings implements Forwarder.
func (f *TUN) Bindings() []Entry { return f.t.bindings() }

// Counters implements Forwarder.
func (f *TUN) Counters() Counters { return f.t.counters() }

// Close implements Forwarder: it removes the routes, closes the sockets and
// deletes the TUN device. A running Serve returns ErrClosed.
func (f *TUN) Close() error {
	f.closeOnce.Do(func() {
		var errs []error
		for _, pcoa := range f.t.close() {
			errs = append(errs, f.routes.delRoute(pcoa))
		}
		errs = append(errs, f.dev.Close(), f.sender.Close(), f.routes.Close())
		f.closeErr = errors.Join(errs...)
	})
	return f.closeErr
}

// Serve tunnels the packets the kernel routes into the device until ctx
// ends (it then returns ctx.Err()) or the forwarder is closed (ErrClosed).
// Run one Serve at a time.
func (f *TUN) Serve(ctx context.Context) error {
	buf := make([]byte, maxPacket)
	out := make([]byte, 0, HeaderLen+maxPacket)
	return serve(ctx, f.dev, func() error {
		n, err := f.dev.Read(buf)
		if err != nil {
			return err
		}
		f.handle(out[:0], buf[:n])
		return nil
	})
}

// handle tunnels one packet read from the device.
func (f *TUN) handle(out, pkt []byte) {
	out, exit, err := f.t.encapsulate(out, f.source, f.hopLimit, pkt)
	if err == nil {
		err = f.sender.send(out, exit)
	}
	f.t.account(pkt, err)
}

// serve runs step until it fails; a deadline set when ctx ends interrupts
// a blocked read.
func serve(ctx context.Context, dl interface{ SetReadDeadline(time.Time) error }, step func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := dl.SetReadDeadline(time.Time{}); err != nil {
		return closedOr(err)
	}
	stop := context.AfterFunc(ctx, func() { _ = dl.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for {
		if err := step(); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return closedOr(err)
		}
	}
}

func closedOr(err error) error {
	if errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("forward: serve: %w", ErrClosed)
	}
	return fmt.Errorf("forward: serve: %w", err)
}

// DecapsulatorConfig configures OpenDecapsulator.
type DecapsulatorConfig struct {
	// Name is the TUN device into which the original packets are
	// written; empty means "fhkdc%d". At most 15 octets.
	Name string
	// Allowed lists the tunnel entry points (the PARs' addresses) whose
	// tunnel packets are decapsulated; packets from any other source are
	// rejected. Required: a node never decapsulates from arbitrary
	// sources. It is a filter on the source address only; ingress
	// filtering on the path must keep others from spoofing it.
	Allowed []netip.Addr
	// Local, when valid, restricts reception to tunnel packets addressed
	// to it (the NCoA).
	Local netip.Addr
	// Destinations, when not empty, restricts the original packets to
	// those whose destination lies in one of the prefixes (the PCoAs).
	Destinations []netip.Prefix
	// MTU of the TUN device, 1280..65535; zero means 1500.
	MTU int
}

func (c *DecapsulatorConfig) check() error {
	if len(c.Allowed) == 0 {
		return fmt.Errorf("%w: decapsulator: no allowed tunnel entry point", ErrInvalid)
	}
	for i, a := range c.Allowed {
		if !a.Is6() || a.Is4In6() || a.IsUnspecified() || a.IsMulticast() {
			return fmt.Errorf("%w: decapsulator: allowed[%d] %v is not a unicast IPv6 address", ErrInvalid, i, a)
		}
		c.Allowed[i] = a.WithZone("")
	}
	if c.Local.IsValid() && (!c.Local.Is6() || c.Local.Is4In6()) {
		return fmt.Errorf("%w: decapsulator: local address %v is not IPv6", ErrInvalid, c.Local)
	}
	for i, p := range c.Destinations {
		if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() {
			return fmt.Errorf("%w: decapsulator: destinations[%d] %v is not an IPv6 prefix", ErrInvalid, i, p)
		}
	}
	if c.MTU == 0 {
		c.MTU = 1500
	}
	if c.MTU < minMTU || c.MTU > MaxPayloadLength {
		return fmt.Errorf("%w: TUN MTU %d outside %d..%d", ErrInvalid, c.MTU, minMTU, MaxPayloadLength)
	}
	if c.Name == "" {
		c.Name = "fhkdc%d"
	}
	if len(c.Name) > 15 {
		return fmt.Errorf("%w: interface name %q longer than 15 octets", ErrInvalid, c.Name)
	}
	return nil
}

// DecapsulatorCounters are cumulative. Packets and Bytes count original
// packets written to the device. Rejected counts tunnel packets from a
// source not allowed or whose original packet's destination is not
// allowed, Malformed those whose payload is not one complete IPv6 packet,
// Dropped those the device refused.
type DecapsulatorCounters struct {
	Packets   uint64
	Bytes     uint64
	Rejected  uint64
	Malformed uint64
	Dropped   uint64
}

// Decapsulator is the tunnel exit point (RFC 2473 §3.3) on the MN, or on
// the NAR on its behalf: it receives the packets with Next Header 41 sent
// to this node through a raw IPv6 socket, which hands over the payload
// after the tunnel header and its extension headers, checks the tunnel
// source against the allow-list and writes the original packet, unchanged,
// into a TUN device. The kernel then handles it as received on that
// device: delivered locally when its destination is a local address (the
// MN keeps its PCoA, for instance on the TUN device itself), forwarded
// otherwise (a NAR with a host route for the PCoA, RFC 5568 §4).
type Decapsulator struct {
	dev          packetDevice
	name         string
	conn         tunnelConn
	allowed      []netip.Addr
	destinations []netip.Prefix

	packets, bytes, rejected, malformed, dropped atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

// OpenDecapsulator creates the TUN device and the raw socket in the
// network namespace of the calling thread (see OpenTUN).
func OpenDecapsulator(cfg DecapsulatorConfig) (*Decapsulator, error) {
	cfg.Allowed = slices.Clone(cfg.Allowed)
	if err := cfg.check(); err != nil {
		return nil, err
	}
	dev, name, conn, err := openDecapsulator(&cfg)
	if err != nil {
		return nil, err
	}
	return newDecapsulator(&cfg, dev, name, conn), nil
}

func newDecapsulator(cfg *DecapsulatorConfig, dev packetDevice, name string, conn tunnelConn) *Decapsulator {
	return &Decapsulator{
		dev: dev, name: name, conn: conn,
		allowed:      cfg.Allowed,
		destinations: slices.Clone(cfg.Destinations),
	}
}

// Name returns the TUN device's name.
func (d *Decapsulator) Name() string { return d.name }

// Counters returns a snapshot of the counters.
func (d *Decapsulator) Counters() DecapsulatorCounters {
	return DecapsulatorCounters{
		Packets:   d.packets.Load(),
		Bytes:     d.bytes.Load(),
		Rejected:  d.rejected.Load(),
		Malformed: d.malformed.Load(),
		Dropped:   d.dropped.Load(),
	}
}

// Close closes the socket and deletes the TUN device; a running Serve
// returns ErrClosed.
func (d *Decapsulator) Close() error {
	d.closeOnce.Do(func() { d.closeErr = errors.Join(d.conn.Close(), d.dev.Close()) })
	return d.closeErr
}

// Serve decapsulates until ctx ends (returning ctx.Err()) or the
// decapsulator is closed (ErrClosed). Run one Serve at a time.
func (d *Decapsulator) Serve(ctx context.Context) error {
	buf := make([]byte, maxPacket)
	return serve(ctx, d.conn, func() error {
		n, src, err := d.conn.readFrom(buf)
		if err != nil {
			return err
		}
		d.handle(src, buf[:n])
		return nil
	})
}

// handle decapsulates the original packet inner received in a tunnel
// packet from src.
func (d *Decapsulator) handle(src netip.Addr, inner []byte) {
	if !slices.Contains(d.allowed, src.WithZone("")) {
		d.rejected.Add(1)
		return
	}
	h, err := ParsePacket(inner)
	if err != nil {
		d.malformed.Add(1)
		return
	}
	if len(d.destinations) > 0 && !slices.ContainsFunc(d.destinations, func(p netip.Prefix) bool { return p.Contains(h.Destination) }) {
		d.rejected.Add(1)
		return
	}
	if _, err := d.dev.Write(inner); err != nil {
		d.dropped.Add(1)
		return
	}
	d.packets.Add(1)
	d.bytes.Add(uint64(len(inner)))
}
