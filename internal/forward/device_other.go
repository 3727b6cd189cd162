//go:build !linux

package forward

import "fmt"

// OpenDevice is Linux only.
func OpenDevice(string, int) (*Device, error) {
	return nil, fmt.Errorf("forward: TUN device: %w", ErrUnsupported)
}
