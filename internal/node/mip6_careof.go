package node

import (
	"net"
	"net/netip"

	"github.com/fhkey/fhkey/internal/config"
)

// careOfAddress is the care-of address cfg names now: care_of; the
// global address of interface; or, with interfaces, the global address of
// the first of them that is up and running (the others may keep their
// addresses while down, keep_addr_on_down: an address alone does not say
// the node is attached there). When homeAgent is known, an interface's
// address counts only once the kernel routes from it to homeAgent out of
// that interface (routesVia): up is not yet usable.
func careOfAddress(cfg *config.MIP6Config, homeAgent netip.Addr) netip.Addr {
	if cfg.CareOf.IsValid() {
		return cfg.CareOf
	}
	usable := func(name string, a netip.Addr) bool {
		return a.IsValid() && (!homeAgent.IsValid() || routesVia(name, a, homeAgent))
	}
	if len(cfg.Interfaces) == 0 {
		if a := globalAddress(cfg.Interface); usable(cfg.Interface, a) {
			return a
		}
		return netip.Addr{}
	}
	for _, name := range cfg.Interfaces {
		ifi, err := net.InterfaceByName(name)
		if err != nil || ifi.Flags&(net.FlagUp|net.FlagRunning) != net.FlagUp|net.FlagRunning {
			continue
		}
		if a := globalAddress(name); usable(name, a) {
			return a
		}
	}
	return netip.Addr{}
}
