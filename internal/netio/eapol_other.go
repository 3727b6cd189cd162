//go:build !linux

package netio

import (
	"net"
	"time"
)

// EAPOLConn is the EAPOL transport; on this platform it cannot be opened
// (ListenEAPOL returns ErrUnsupportedPlatform).
type EAPOLConn struct{}

// ListenEAPOL returns ErrUnsupportedPlatform outside Linux.
func ListenEAPOL(ifname string) (*EAPOLConn, error) { return nil, ErrUnsupportedPlatform }

// ReadFrom returns ErrUnsupportedPlatform.
func (c *EAPOLConn) ReadFrom(b []byte) (int, net.HardwareAddr, error) {
	return 0, nil, ErrUnsupportedPlatform
}

// WriteTo returns ErrUnsupportedPlatform.
func (c *EAPOLConn) WriteTo(pdu []byte, dst net.HardwareAddr) error { return ErrUnsupportedPlatform }

// HardwareAddr returns nil.
func (c *EAPOLConn) HardwareAddr() net.HardwareAddr { return nil }

// SetReadDeadline returns ErrUnsupportedPlatform.
func (c *EAPOLConn) SetReadDeadline(t time.Time) error { return ErrUnsupportedPlatform }

// Close does nothing.
func (c *EAPOLConn) Close() error { return nil }
