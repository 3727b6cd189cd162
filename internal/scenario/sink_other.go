//go:build !linux

package scenario

import (
	"errors"

	"github.com/fhkey/fhkey/internal/testbed"
)

// ListenTunnel is only supported on Linux.
func ListenTunnel(tb *testbed.Testbed, node testbed.Node) (*TunnelSink, error) {
	return nil, sinkError("listen", errors.ErrUnsupported)
}

// Close does nothing outside Linux.
func (t *TunnelSink) Close() error { return nil }
