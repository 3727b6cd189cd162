//go:build !linux

package node

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
)

// MIP6RouteTable is the routing table of the home address (Linux only).
const MIP6RouteTable = 6618

type homeTUN struct{}

func openHomeTUN(string, int, netip.Addr) (*homeTUN, error) {
	return nil, errors.New("node: mip6: a home-address TUN needs Linux")
}

func (*homeTUN) Deliver([]byte) error                                          { return nil }
func (*homeTUN) serve(context.Context, func([]byte) error, *slog.Logger) error { return nil }
func (*homeTUN) Close() error                                                  { return nil }
