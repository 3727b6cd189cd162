//go:build !linux

package netio

import "net/netip"

// AddAddress returns ErrUnsupportedPlatform outside Linux.
func AddAddress(string, netip.Addr) error { return ErrUnsupportedPlatform }

// DeleteAddress returns ErrUnsupportedPlatform outside Linux.
func DeleteAddress(string, netip.Addr) error { return ErrUnsupportedPlatform }

// RouteVia cannot check the route outside Linux: it reports true and the
// send itself finds out.
func RouteVia(string, netip.Addr) bool { return true }
