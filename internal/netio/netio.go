package netio

import (
	"context"
	"errors"
	"net/netip"
)

// ErrClosed is returned by operations on a closed Conn.
var ErrClosed = errors.New("netio: connection closed")

// Packet is one upper-layer message with the IPv6 fields the roles need.
type Packet struct {
	Src, Dst netip.Addr
	// HopLimit is the IPv6 Hop Limit: ND requires 255 on send and checks
	// it on receipt (RFC 4861 §6.1.1, RFC 3971).
	HopLimit uint8
	// NextHeader is the upper-layer protocol: 58 (ICMPv6) or 135 (MH).
	NextHeader uint8
	// HomeAddress, when valid, is carried in a Home Address destination
	// option (RFC 6275 §6.3); FMIPv6 puts the previous CoA there when the
	// FBU is sent from the new link (RFC 5568 §6.2.3, RFC 5269 §3.4).
	HomeAddress netip.Addr
	// Payload is the upper-layer message with its checksum filled in.
	Payload []byte
}

// Conn is one node's attachment to a link.
type Conn interface {
	// ReadPacket blocks until a packet for this node arrives, ctx ends or
	// the Conn is closed. The returned Payload is owned by the caller.
	ReadPacket(ctx context.Context) (Packet, error)
	// WritePacket sends p. The Payload is copied before WritePacket returns.
	WritePacket(ctx context.Context, p Packet) error
	// Addrs returns the unicast addresses this node answers to.
	Addrs() []netip.Addr
	Close() error
}
