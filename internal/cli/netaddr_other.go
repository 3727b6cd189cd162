//go:build !linux

package cli

import (
	"errors"
	"net/netip"
)

// addAddress is Linux-only.
func addAddress(string, netip.Addr) error {
	return errors.New("adding addresses is supported on Linux only")
}
