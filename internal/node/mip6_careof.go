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
// the node is attached there).
func careOfAddress(cfg *config.MIP6Config) netip.Addr {
	if cfg.CareOf.IsValid() {
		return cfg.CareOf
	}
	if len(cfg.Interfaces) == 0 {
		return globalAddress(cfg.Interface)
	}
	for _, name := range cfg.Interfaces {
		ifi, err := net.InterfaceByName(name)
		if err != nil || ifi.Flags&(net.FlagUp|net.FlagRunning) != net.FlagUp|net.FlagRunning {
			continue
		}
		if a := globalAddress(name); a.IsValid() {
			return a
		}
	}
	return netip.Addr{}
}
