//go:build linux

package netio

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/fhkey/fhkey/internal/inet"
)

// icmp6Filter is ICMP6_FILTER (linux/icmpv6.h ICMPV6_FILTER), at level
// IPPROTO_ICMPV6.
const icmp6Filter = 1

// ICMPConn is a raw ICMPv6 socket bound to one interface: a Conn for the
// ND, SEND and FMIPv6 messages of the roles.
//
// Sends go out with hop limit 255, unicast and multicast alike
// (IPV6_UNICAST_HOPS, IPV6_MULTICAST_HOPS), as RFC 4861 §6.1.1 and §7.1.1
// require of every ND message and RFC 5568 §6.1 of RtSolPr/PrRtAdv; a
// Packet.HopLimit other than zero overrides it for one packet. The source
// address is chosen with IPV6_PKTINFO (RFC 3542 §6.1) when Packet.Src is
// set, otherwise by the kernel.
//
// The ICMPv6 checksum (offset 2) is always computed by the kernel on send
// and verified by the kernel on receipt: Linux fixes IPV6_CHECKSUM at
// offset 2 for raw ICMPv6 sockets and refuses to change it (EINVAL, as
// RFC 3542 §3.1 requires), and raw recvmsg silently discards a datagram
// whose checksum is wrong. The checksum field of a written payload is
// ignored; a read payload carries the verified checksum as received.
//
// Each received packet carries its hop limit (IPV6_RECVHOPLIMIT) and
// destination address (IPV6_RECVPKTINFO), so the roles can enforce hop
// limit 255 and tell unicast from multicast. The kernel passes only the
// configured ICMPv6 types (ICMP6_FILTER).
type ICMPConn struct {
	*rawConn
	sock *rawSocket
}

var _ Conn = (*ICMPConn)(nil)

// ListenICMP opens a raw ICMPv6 socket on cfg.Interface, in the network
// namespace of the calling thread (see testbed.Do for another namespace).
func ListenICMP(cfg ICMPConfig) (*ICMPConn, error) {
	rc, err := newRawConn(cfg.Interface, false, cfg.Queue)
	if err != nil {
		return nil, err
	}
	s, err := newRawSocket(unix.IPPROTO_ICMPV6, cfg.Interface)
	if err != nil {
		rc.close()
		return nil, err
	}
	rc.sockets = append(rc.sockets, s)
	c := &ICMPConn{rawConn: rc, sock: s}
	if err := c.configure(cfg); err != nil {
		c.Close()
		return nil, err
	}
	rc.start(s, c.parse)
	return c, nil
}

func (c *ICMPConn) configure(cfg ICMPConfig) error {
	s := c.sock
	loop := 0
	if cfg.MulticastLoopback {
		loop = 1
	}
	for _, o := range []struct {
		opt, v int
		name   string
	}{
		{unix.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO"},
		{unix.IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT"},
		{unix.IPV6_UNICAST_HOPS, 255, "IPV6_UNICAST_HOPS"},
		{unix.IPV6_MULTICAST_HOPS, 255, "IPV6_MULTICAST_HOPS"},
		{unix.IPV6_MULTICAST_IF, c.ifindex, "IPV6_MULTICAST_IF"},
		{unix.IPV6_MULTICAST_LOOP, loop, "IPV6_MULTICAST_LOOP"},
	} {
		if err := s.setInt(unix.IPPROTO_IPV6, o.opt, o.v, o.name); err != nil {
			return err
		}
	}
	types := cfg.Types
	if len(types) == 0 {
		types = FMIPv6ICMPTypes
	}
	// Linux ICMP6_FILTER: a set bit blocks the type.
	var f unix.ICMPv6Filter
	for i := range f.Data {
		f.Data[i] = ^uint32(0)
	}
	for _, t := range types {
		f.Data[t>>5] &^= 1 << (t & 31)
	}
	if err := s.control("ICMP6_FILTER", func(fd int) error {
		return unix.SetsockoptICMPv6Filter(fd, unix.IPPROTO_ICMPV6, icmp6Filter, &f)
	}); err != nil {
		return err
	}
	for _, g := range cfg.Groups {
		if err := c.JoinGroup(g); err != nil {
			return err
		}
	}
	return nil
}

// JoinGroup joins the multicast group g on the interface (IPV6_JOIN_GROUP).
func (c *ICMPConn) JoinGroup(g netip.Addr) error {
	return c.group(unix.IPV6_JOIN_GROUP, g, "IPV6_JOIN_GROUP")
}

// LeaveGroup leaves the multicast group g (IPV6_LEAVE_GROUP).
func (c *ICMPConn) LeaveGroup(g netip.Addr) error {
	return c.group(unix.IPV6_LEAVE_GROUP, g, "IPV6_LEAVE_GROUP")
}

func (c *ICMPConn) group(opt int, g netip.Addr, name string) error {
	if !g.Is6() || !g.IsMulticast() {
		return fmt.Errorf("netio: %s: %v is not an IPv6 multicast address", name, g)
	}
	m := unix.IPv6Mreq{Multiaddr: g.As16(), Interface: uint32(c.ifindex)}
	return c.sock.control(name+" "+g.String(), func(fd int) error {
		return unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, opt, &m)
	})
}

func (c *ICMPConn) parse(b []byte, from netip.Addr, ctl control) (Packet, bool) {
	if len(b) < 4 {
		c.dropped.Add(1)
		return Packet{}, false
	}
	return Packet{
		Src:        from,
		Dst:        ctl.dst,
		HopLimit:   uint8(ctl.hopLimit),
		NextHeader: inet.ProtocolICMPv6,
		Payload:    slices.Clone(b),
	}, true
}

// ReadPacket returns the next ICMPv6 message of a type passed by the
// filter, with the checksum already verified by the kernel. Src and Dst
// carry no zone: the Conn is bound to one interface.
func (c *ICMPConn) ReadPacket(ctx context.Context) (Packet, error) { return c.readPacket(ctx) }

// WritePacket sends p.Payload as an ICMPv6 message to p.Dst. The kernel
// computes the checksum. p.HomeAddress must be invalid: a Home Address
// option would change the checksum's pseudo-header (RFC 6275 §11.3.1),
// which a raw ICMPv6 socket cannot do.
func (c *ICMPConn) WritePacket(ctx context.Context, p Packet) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	var oobBuf [sendOOB]byte
	oob, err := c.prepare(&p, oobBuf[:0])
	if err != nil {
		return err
	}
	if err := c.sock.send(p.Payload, oob, c.destination(p.Dst)); err != nil {
		return c.sendError(&p, err)
	}
	return nil
}

// prepare checks p and appends its ancillary data to oob.
func (c *ICMPConn) prepare(p *Packet, oob []byte) ([]byte, error) {
	if err := checkWrite(*p, inet.ProtocolICMPv6, 4); err != nil {
		return nil, err
	}
	if p.HomeAddress.IsValid() {
		return nil, fmt.Errorf("netio: write: ICMPv6 with a home address option is not supported")
	}
	return c.appendPacketControl(oob, p.Src, p.HopLimit), nil
}

func (c *ICMPConn) sendError(p *Packet, err error) error {
	return fmt.Errorf("netio: %s: send ICMPv6 type %d to %v: %w", c.label(), p.Payload[0], p.Dst, err)
}

// Close closes the socket; pending and later reads return ErrClosed.
func (c *ICMPConn) Close() error { return c.close() }
