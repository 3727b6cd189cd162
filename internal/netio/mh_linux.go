//go:build linux

package netio

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/fhkey/fhkey/internal/inet"
)

// mhChecksumOffset is the offset of the Checksum field in the Mobility
// Header (RFC 6275 §6.1.1: Payload Proto, Header Len, MH Type, Reserved,
// Checksum).
const mhChecksumOffset = 4

// MHConn is a raw Mobility Header (protocol 135, RFC 6275 §6.1) transport
// bound to one interface, for FBU/FBack and the other FMIPv6 mobility
// messages. It uses three sockets:
//
//   - a protocol-135 socket with IPV6_CHECKSUM at offset 4: the kernel
//     computes the MH checksum on send and verifies it on receipt
//     (recvmsg drops a datagram whose checksum is wrong). Packets without
//     a Home Address option are sent and received here.
//   - a protocol-135 socket with the kernel checksum off and a drop-all
//     receive filter, used only to send packets with a Home Address
//     option: RFC 6275 §6.1.1 says "If a mobility message has a Home
//     Address destination option, then the checksum calculation uses the
//     home address in this option as the value of the IPv6 Source Address
//     field", while the kernel would use the real source (the care-of
//     address). The checksum is computed here with inet.Checksum and the
//     option is passed to sendmsg as IPV6_DSTOPTS ancillary data (the
//     kernel places that header after any routing header and before a
//     fragment header, as RFC 6275 §6.3 requires).
//   - a protocol-60 (Destination Options) socket to receive packets with a
//     Home Address option. A kernel without CONFIG_IPV6_MIP6 treats option
//     type 201 as unknown with action 11 and discards the packet (sending
//     an ICMPv6 Parameter Problem, code 2, to the source); a kernel with
//     it discards the packet unless an XFRM state for the address pair
//     exists. In both cases raw sockets of the Destination Options
//     protocol get a copy first (ip6_protocol_deliver_rcu delivers to raw
//     sockets before the header's own handler runs). The transport parses
//     the option (ParseDestinationOptions) and verifies the MH checksum
//     with the home address in the pseudo-header; packets that fail are
//     counted in Dropped and not returned.
//
// A received packet with a Home Address option has Src set to the IPv6
// source address (the care-of address) and HomeAddress to the option's
// address. Packets that reach the protocol-135 socket still carrying a
// Home Address option (only on a CONFIG_IPV6_MIP6 kernel with XFRM state)
// are ignored there, since the protocol-60 socket already returned them.
type MHConn struct {
	*rawConn
	sock    *rawSocket // protocol 135, kernel checksum
	haoSock *rawSocket // protocol 135, no kernel checksum, send only
	dstSock *rawSocket // protocol 60, receive only
}

var _ Conn = (*MHConn)(nil)

// ListenMH opens the Mobility Header sockets on cfg.Interface, or on all
// interfaces when it is empty (a PAR receives FBUs sent from the NAR's
// link on its interface towards the NAR), in the network namespace of the
// calling thread.
func ListenMH(cfg MHConfig) (*MHConn, error) {
	if cfg.HopLimit < 0 || cfg.HopLimit > 255 {
		return nil, fmt.Errorf("netio: hop limit %d out of range", cfg.HopLimit)
	}
	if len(cfg.Types) > 64 {
		return nil, fmt.Errorf("netio: %d MH types to filter, at most 64", len(cfg.Types))
	}
	rc, err := newRawConn(cfg.Interface, true, cfg.Queue)
	if err != nil {
		return nil, err
	}
	c := &MHConn{rawConn: rc}
	if err := c.open(cfg); err != nil {
		c.Close()
		return nil, err
	}
	rc.start(c.sock, c.parseMH)
	rc.start(c.dstSock, c.parseDestinationOptions)
	return c, nil
}

func (c *MHConn) open(cfg MHConfig) error {
	var err error
	if c.sock, err = newRawSocket(inet.ProtocolMobility, cfg.Interface); err != nil {
		return err
	}
	c.sockets = append(c.sockets, c.sock)
	if c.haoSock, err = newRawSocket(inet.ProtocolMobility, cfg.Interface); err != nil {
		return err
	}
	c.sockets = append(c.sockets, c.haoSock)
	if c.dstSock, err = newRawSocket(inet.ProtocolDstOpts, cfg.Interface); err != nil {
		return err
	}
	c.sockets = append(c.sockets, c.dstSock)

	type opt struct {
		opt, v int
		name   string
	}
	common := []opt{{unix.IPV6_MULTICAST_IF, c.ifindex, "IPV6_MULTICAST_IF"}}
	if cfg.HopLimit != 0 {
		common = append(common, opt{unix.IPV6_UNICAST_HOPS, cfg.HopLimit, "IPV6_UNICAST_HOPS"}, opt{unix.IPV6_MULTICAST_HOPS, cfg.HopLimit, "IPV6_MULTICAST_HOPS"})
	}
	recv := []opt{{unix.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO"}, {unix.IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT"}}
	for _, set := range []struct {
		s    *rawSocket
		opts []opt
	}{
		// Linux already defaults to offset 4 for protocol 135; set it
		// explicitly so the behaviour does not rest on that default.
		{c.sock, slices.Concat(common, recv, []opt{{unix.IPV6_CHECKSUM, mhChecksumOffset, "IPV6_CHECKSUM"}, {unix.IPV6_RECVDSTOPTS, 1, "IPV6_RECVDSTOPTS"}})},
		{c.haoSock, slices.Concat(common, []opt{{unix.IPV6_CHECKSUM, -1, "IPV6_CHECKSUM off"}})},
		{c.dstSock, recv},
	} {
		for _, o := range set.opts {
			if err := set.s.setInt(unix.IPPROTO_IPV6, o.opt, o.v, o.name); err != nil {
				return err
			}
		}
	}
	if err := c.haoSock.dropAll(); err != nil {
		return err
	}
	if cfg.ReceiveBuffer > 0 {
		for _, s := range []*rawSocket{c.sock, c.dstSock} {
			if err := s.setInt(unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, cfg.ReceiveBuffer, "SO_RCVBUFFORCE"); err != nil {
				if err := s.setInt(unix.SOL_SOCKET, unix.SO_RCVBUF, cfg.ReceiveBuffer, "SO_RCVBUF"); err != nil {
					return err
				}
			}
		}
	}
	if len(cfg.Types) > 0 {
		if err := c.sock.attachFilter(mhTypeFilter(nil, 0, cfg.Types), "SO_ATTACH_FILTER (MH types)"); err != nil {
			return err
		}
	}
	return c.dstSock.attachFilter(destinationOptionsFilter(cfg.Types), "SO_ATTACH_FILTER (next header 135)")
}

// Classic BPF programs for the receiving sockets. A raw socket's filter
// sees the datagram from the header of the socket's protocol on, so the
// MH Type is octet 2 on the protocol-135 socket (RFC 6275 §6.1.1: Payload
// Proto, Header Len, MH Type) and octet (Hdr Ext Len + 1) * 8 + 2 on the
// protocol-60 socket (RFC 8200 §4.6). A load past the end of the datagram
// ends the program with 0: the datagram is dropped.
var (
	bpfAccept = unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: 0xffffffff}
	bpfDrop   = unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: 0}
)

// mhTypeFilter appends to prog a program that loads the MH Type at X + k
// (k alone when indirect is false: prog is empty) and accepts the types
// listed; every jump of prog whose Jf is 0xff is pointed at the drop.
func mhTypeFilter(prog []unix.SockFilter, k uint32, types []uint8) []unix.SockFilter {
	load := unix.BPF_LD | unix.BPF_B | unix.BPF_ABS
	if len(prog) > 0 {
		load = unix.BPF_LD | unix.BPF_B | unix.BPF_IND
	}
	prog = append(prog, unix.SockFilter{Code: uint16(load), K: k + 2})
	for i, t := range types {
		// Jump over the remaining comparisons and the drop to the accept.
		prog = append(prog, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: uint32(t), Jt: uint8(len(types) - i)})
	}
	drop := len(prog)
	prog = append(prog, bpfDrop, bpfAccept)
	for i := range prog[:drop] {
		if prog[i].Code == unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K && prog[i].Jf == 0xff {
			prog[i].Jf = uint8(drop - i - 1)
		}
	}
	return prog
}

// destinationOptionsFilter wakes the protocol-60 reader only for
// Destination Options headers followed by a Mobility Header (the first
// octet is the Next Header) and, when types is not empty, of those types.
func destinationOptionsFilter(types []uint8) []unix.SockFilter {
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 0},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: inet.ProtocolMobility, Jf: 0xff},
	}
	if len(types) == 0 {
		return append(prog[:1], unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: inet.ProtocolMobility, Jt: 0, Jf: 1}, bpfAccept, bpfDrop)
	}
	prog = append(prog,
		unix.SockFilter{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 1}, // Hdr Ext Len
		unix.SockFilter{Code: unix.BPF_ALU | unix.BPF_ADD | unix.BPF_K, K: 1},
		unix.SockFilter{Code: unix.BPF_ALU | unix.BPF_LSH | unix.BPF_K, K: 3},
		unix.SockFilter{Code: unix.BPF_MISC | unix.BPF_TAX},
	)
	return mhTypeFilter(prog, 0, types)
}

func (c *MHConn) parseMH(b []byte, from netip.Addr, ctl control) (Packet, bool) {
	if ctl.dstOpts != nil {
		if d, err := ParseDestinationOptions(ctl.dstOpts); err != nil || d.HomeAddress.IsValid() {
			return Packet{}, false // returned (or dropped) by the protocol-60 reader
		}
	}
	if len(b) < mhChecksumOffset+2 {
		c.dropped.Add(1)
		return Packet{}, false
	}
	return Packet{Src: from, Dst: ctl.dst, HopLimit: uint8(ctl.hopLimit), NextHeader: inet.ProtocolMobility, Payload: slices.Clone(b)}, true
}

func (c *MHConn) parseDestinationOptions(b []byte, from netip.Addr, ctl control) (Packet, bool) {
	d, err := ParseDestinationOptions(b)
	if err != nil {
		c.dropped.Add(1) // the kernel discards it too (RFC 8200 §4.2)
		return Packet{}, false
	}
	if d.NextHeader != inet.ProtocolMobility || !d.HomeAddress.IsValid() {
		return Packet{}, false // the protocol-135 socket gets it
	}
	mh := b[d.Len:]
	// RFC 6275 §6.1.1: with a Home Address option the home address is the
	// pseudo-header's source; a correct checksum sums to zero.
	if len(mh) < mhChecksumOffset+2 || inet.Checksum(d.HomeAddress, ctl.dst, inet.ProtocolMobility, mh) != 0 {
		c.dropped.Add(1)
		return Packet{}, false
	}
	return Packet{Src: from, Dst: ctl.dst, HopLimit: uint8(ctl.hopLimit), NextHeader: inet.ProtocolMobility, HomeAddress: d.HomeAddress, Payload: slices.Clone(mh)}, true
}

// ReadPacket returns the next Mobility Header message whose checksum was
// verified, by the kernel or, for packets with a Home Address option, by
// the transport against the home address.
func (c *MHConn) ReadPacket(ctx context.Context) (Packet, error) { return c.readPacket(ctx) }

// WritePacket sends p.Payload, a Mobility Header message, to p.Dst. The
// checksum field of the payload is ignored and recomputed: by the kernel,
// or, when p.HomeAddress is valid, here with the home address as the
// pseudo-header source (RFC 6275 §6.1.1), the packet then carrying a Home
// Address destination option (RFC 6275 §6.3; RFC 5568 §6.2.3 requires
// one in every FBU).
func (c *MHConn) WritePacket(ctx context.Context, p Packet) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	var oobBuf [sendOOB]byte
	s, payload, oob, err := c.prepare(&p, oobBuf[:0], slices.Clone)
	if err != nil {
		return err
	}
	if err := s.send(payload, oob, c.destination(p.Dst)); err != nil {
		return c.sendError(&p, err)
	}
	return nil
}

// prepare checks p and returns the socket to send it on, the payload to
// send and its ancillary data (appended to oob). With a Home Address
// option the payload is a copy (made by clone) carrying the checksum
// computed over the home address (RFC 6275 §6.1.1).
func (c *MHConn) prepare(p *Packet, oob []byte, clone func([]byte) []byte) (*rawSocket, []byte, []byte, error) {
	if err := checkWrite(*p, inet.ProtocolMobility, mhChecksumOffset+2); err != nil {
		return nil, nil, nil, err
	}
	oob = c.appendPacketControl(oob, p.Src, p.HopLimit)
	if !p.HomeAddress.IsValid() {
		return c.sock, p.Payload, oob, nil
	}
	var hdr [HomeAddressHeaderLen]byte
	h, err := AppendHomeAddressHeader(hdr[:0], inet.ProtocolMobility, p.HomeAddress)
	if err != nil {
		return nil, nil, nil, err
	}
	oob = appendCmsg(oob, unix.IPPROTO_IPV6, unix.IPV6_DSTOPTS, h)
	payload := clone(p.Payload)
	payload[mhChecksumOffset], payload[mhChecksumOffset+1] = 0, 0
	binary.BigEndian.PutUint16(payload[mhChecksumOffset:], inet.Checksum(p.HomeAddress, p.Dst, inet.ProtocolMobility, payload))
	return c.haoSock, payload, oob, nil
}

func (c *MHConn) sendError(p *Packet, err error) error {
	return fmt.Errorf("netio: %s: send mobility header type %d to %v: %w", c.label(), p.Payload[2], p.Dst, err)
}

// Close closes the sockets; pending and later reads return ErrClosed.
func (c *MHConn) Close() error { return c.close() }
