//go:build !linux

package node

import (
	"errors"
	"net/netip"
)

// addAddress is Linux-only.
func addAddress(string, netip.Addr) error {
	return errors.New("adding addresses is supported on Linux only")
}

// deleteAddress is Linux-only.
func deleteAddress(string, netip.Addr) error {
	return errors.New("deleting addresses is supported on Linux only")
}

// routeVia cannot check the route outside Linux: it reports true and the
// send itself finds out.
func routeVia(string, netip.Addr) bool { return true }
