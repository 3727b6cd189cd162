package testbed

import (
	"context"
	"net/netip"
)

// The nodes of the RFC 6618 home network (Config.Home): each in its own
// namespace, each on its own link to the PAR, which routes between them,
// the access links and the CN (docs/testbed.md, "The home network").
const (
	HA  Node = "ha"  // home agent (RFC 6618 §6): `fhkey ha`, its TUN carries the home prefix
	HAC Node = "hac" // home agent controller (RFC 6618 §5): `fhkey hac`
	AAA Node = "aaa" // the AAA server the HAC relays EAP to (FreeRADIUS)
)

// Interface names of the home network.
const (
	IfaceCore     = "core0" // HA, HAC and AAA on their link to the PAR
	IfacePARToHA  = "ha0"   // PAR on the HA's link
	IfacePARToHAC = "hac0"  // PAR on the HAC's link
	IfacePARToAAA = "aaa0"  // PAR on the AAA server's link
)

// Prefixes and addresses of the home network.
var (
	// PrefixHome is the home link's prefix: the HA owns it (an
	// unreachable route for the prefix, a /128 into its TUN per bound
	// home address) and the PAR routes it to the HA.
	PrefixHome    = netip.MustParsePrefix("2001:db8:8::/64")
	PrefixHALink  = netip.MustParsePrefix("2001:db8:a::/64")
	PrefixHACLink = netip.MustParsePrefix("2001:db8:b::/64")
	PrefixAAALink = netip.MustParsePrefix("2001:db8:d::/64")

	AddrPARToHA  = netip.MustParseAddr("2001:db8:a::1")
	AddrHACore   = netip.MustParseAddr("2001:db8:a::2") // the HA on its link to the PAR (HAC→HA channel)
	AddrPARToHAC = netip.MustParseAddr("2001:db8:b::1")
	AddrHAC      = netip.MustParseAddr("2001:db8:b::2") // the HAC (TLS server, RADIUS client)
	AddrPARToAAA = netip.MustParseAddr("2001:db8:d::1")
	AddrAAA      = netip.MustParseAddr("2001:db8:d::2")   // the AAA server
	AddrHA       = netip.MustParseAddr("2001:db8:8::1")   // the HA's home address (mip6-haa-ip6; on its lo)
	AddrMNHome   = netip.MustParseAddr("2001:db8:8::100") // the MN's home address (mip6-ip6-hoa)
)

// homeNodes are the namespaces Config.Home adds.
var homeNodes = []Node{HA, HAC, AAA}

// buildHome adds the home network to a testbed whose other nodes are up.
func (tb *Testbed) buildHome(ctx context.Context) error {
	type leg struct {
		n            Node
		parIface     string
		parAddr, occ netip.Addr
	}
	legs := []leg{
		{HA, IfacePARToHA, AddrPARToHA, AddrHACore},
		{HAC, IfacePARToHAC, AddrPARToHAC, AddrHAC},
		{AAA, IfacePARToAAA, AddrPARToAAA, AddrAAA},
	}
	for _, l := range legs {
		if _, err := runIP(ctx, "link", "add", l.parIface, "netns", tb.Namespace(PAR), "type", "veth", "peer", "name", IfaceCore, "netns", tb.Namespace(l.n)); err != nil {
			return err
		}
		for _, a := range []struct {
			n     Node
			iface string
			a     netip.Addr
		}{{PAR, l.parIface, l.parAddr}, {l.n, IfaceCore, l.occ}} {
			if _, err := tb.IP(ctx, a.n, "addr", "add", netip.PrefixFrom(a.a, prefixLenOnLink).String(), "dev", a.iface, "nodad"); err != nil {
				return err
			}
			if _, err := tb.IP(ctx, a.n, "link", "set", a.iface, "up"); err != nil {
				return err
			}
		}
	}
	for _, l := range legs {
		for _, w := range []struct {
			n     Node
			iface string
		}{{PAR, l.parIface}, {l.n, IfaceCore}} {
			if err := tb.waitLinkLocal(ctx, w.n, w.iface); err != nil {
				return err
			}
		}
		if _, err := tb.IP(ctx, l.n, "-6", "route", "replace", "default", "via", l.parAddr.String(), "dev", IfaceCore); err != nil {
			return err
		}
	}
	for _, args := range [][]string{
		{string(PAR), "-6", "route", "replace", PrefixHome.String(), "via", AddrHACore.String(), "dev", IfacePARToHA},
		{string(HA), "addr", "add", AddrHA.String() + "/128", "dev", "lo", "nodad"},
		// Home addresses without a binding go nowhere (RFC 6275 §10.4.1
		// would have the HA intercept them; with no binding there is no
		// one to tunnel to); a bound one has its /128 into the TUN.
		{string(HA), "-6", "route", "replace", "unreachable", PrefixHome.String()},
	} {
		if _, err := tb.IP(ctx, Node(args[0]), args[1:]...); err != nil {
			return err
		}
	}
	return nil
}
