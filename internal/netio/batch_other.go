//go:build !linux

package netio

import "context"

var (
	_ BatchConn = (*MHConn)(nil)
	_ BatchConn = (*ICMPConn)(nil)
)

// ReadBatch returns ErrUnsupportedPlatform outside Linux.
func (c *MHConn) ReadBatch(context.Context, []Packet) (int, error) { return 0, ErrUnsupportedPlatform }

// WriteBatch returns ErrUnsupportedPlatform outside Linux.
func (c *MHConn) WriteBatch(context.Context, []Packet) (int, error) { return 0, ErrUnsupportedPlatform }

// ReadBatch returns ErrUnsupportedPlatform outside Linux.
func (c *ICMPConn) ReadBatch(context.Context, []Packet) (int, error) {
	return 0, ErrUnsupportedPlatform
}

// WriteBatch returns ErrUnsupportedPlatform outside Linux.
func (c *ICMPConn) WriteBatch(context.Context, []Packet) (int, error) {
	return 0, ErrUnsupportedPlatform
}
