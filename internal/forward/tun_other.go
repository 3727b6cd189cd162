//go:build !linux

package forward

import "fmt"

func openTUN(*TUNConfig) (packetDevice, string, routerCloser, tunnelSender, error) {
	return nil, "", nil, nil, fmt.Errorf("forward: TUN forwarder: %w", ErrUnsupported)
}

func openDecapsulator(*DecapsulatorConfig) (packetDevice, string, tunnelConn, error) {
	return nil, "", nil, fmt.Errorf("forward: decapsulator: %w", ErrUnsupported)
}
