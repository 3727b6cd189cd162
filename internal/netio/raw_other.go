//go:build !linux

package netio

import (
	"context"
	"net/netip"
)

// ICMPConn is the raw ICMPv6 transport; on this platform it cannot be
// opened (ListenICMP returns ErrUnsupportedPlatform).
type ICMPConn struct{}

// MHConn is the raw Mobility Header transport; on this platform it cannot
// be opened (ListenMH returns ErrUnsupportedPlatform).
type MHConn struct{}

var (
	_ Conn = (*ICMPConn)(nil)
	_ Conn = (*MHConn)(nil)
)

// ListenICMP returns ErrUnsupportedPlatform outside Linux.
func ListenICMP(cfg ICMPConfig) (*ICMPConn, error) { return nil, ErrUnsupportedPlatform }

// ListenMH returns ErrUnsupportedPlatform outside Linux.
func ListenMH(cfg MHConfig) (*MHConn, error) { return nil, ErrUnsupportedPlatform }

func (c *ICMPConn) ReadPacket(context.Context) (Packet, error) {
	return Packet{}, ErrUnsupportedPlatform
}
func (c *ICMPConn) WritePacket(context.Context, Packet) error { return ErrUnsupportedPlatform }
func (c *ICMPConn) Addrs() []netip.Addr                       { return nil }
func (c *ICMPConn) Close() error                              { return nil }
func (c *ICMPConn) JoinGroup(netip.Addr) error                { return ErrUnsupportedPlatform }
func (c *ICMPConn) LeaveGroup(netip.Addr) error               { return ErrUnsupportedPlatform }
func (c *ICMPConn) Index() int                                { return 0 }
func (c *ICMPConn) Dropped() uint64                           { return 0 }

func (c *MHConn) ReadPacket(context.Context) (Packet, error) { return Packet{}, ErrUnsupportedPlatform }
func (c *MHConn) WritePacket(context.Context, Packet) error  { return ErrUnsupportedPlatform }
func (c *MHConn) Addrs() []netip.Addr                        { return nil }
func (c *MHConn) Close() error                               { return nil }
func (c *MHConn) Index() int                                 { return 0 }
func (c *MHConn) Dropped() uint64                            { return 0 }
