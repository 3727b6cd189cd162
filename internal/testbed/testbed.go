package testbed

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Node is one network namespace of the testbed.
type Node string

// The nodes of the testbed (see the package documentation).
const (
	MN       Node = "mn"  // mobile node
	PAR      Node = "par" // previous access router (RFC 5568 §2)
	NAR      Node = "nar" // new access router
	CN       Node = "cn"  // correspondent node
	Attacker Node = "atk" // optional attacker on the NAR's link
)

// allNodes lists every node Down removes, the attacker included.
var allNodes = append([]Node{MN, PAR, NAR, CN, Attacker}, homeNodes...)

// Interface names inside the namespaces.
const (
	IfaceAccess   = "acc0" // PAR's and NAR's bridge on their access link
	IfaceMNToPAR  = "par0" // MN on the PAR's link
	IfaceMNToNAR  = "nar0" // MN on the NAR's link
	IfacePARToNAR = "nar0" // PAR on the PAR–NAR link
	IfaceNARToPAR = "par0" // NAR on the PAR–NAR link
	IfacePARToCN  = "cn0"  // PAR on the CN's link
	IfaceCNToPAR  = "par0" // CN on its link
	IfaceAttacker = "nar0" // attacker on the NAR's link
)

// Prefixes and addresses of the topology.
var (
	PrefixPARLink    = netip.MustParsePrefix("2001:db8:1::/64")
	PrefixNARLink    = netip.MustParsePrefix("2001:db8:2::/64")
	PrefixRouterLink = netip.MustParsePrefix("2001:db8:12::/64")
	PrefixCNLink     = netip.MustParsePrefix("2001:db8:c::/64")

	AddrPAR         = netip.MustParseAddr("2001:db8:1::1")  // PAR on its access link
	AddrNAR         = netip.MustParseAddr("2001:db8:2::1")  // NAR on its access link
	AddrMNPrevious  = netip.MustParseAddr("2001:db8:1::2")  // MN's previous care-of address
	AddrMNNew       = netip.MustParseAddr("2001:db8:2::2")  // MN's new care-of address
	AddrPARToNAR    = netip.MustParseAddr("2001:db8:12::1") // PAR on the PAR–NAR link
	AddrNARToPAR    = netip.MustParseAddr("2001:db8:12::2") // NAR on the PAR–NAR link
	AddrPARToCN     = netip.MustParseAddr("2001:db8:c::1")  // PAR on the CN's link
	AddrCN          = netip.MustParseAddr("2001:db8:c::2")  // correspondent node
	AddrAttacker    = netip.MustParseAddr("2001:db8:2::66") // attacker on the NAR's link
	prefixLenOnLink = 64
)

// DefaultPrefix is the namespace prefix of `fhkey testbed up`.
const DefaultPrefix = "fhk-"

// validPrefix keeps every name the testbed creates under "fhk-".
var validPrefix = regexp.MustCompile(`^fhk-([a-z0-9]+-)?$`)

// ErrPrefix is returned for a namespace prefix that is not "fhk-" or
// "fhk-<letters and digits>-".
var ErrPrefix = errors.New("testbed: prefix must be \"fhk-\" or \"fhk-<[a-z0-9]+>-\"")

// ErrNotUp is returned by Open when the testbed's namespaces do not exist.
var ErrNotUp = errors.New("testbed: not up")

// Config selects the testbed to build.
type Config struct {
	// Prefix of the namespace names; empty means DefaultPrefix. Tests use
	// a per-run prefix such as "fhk-t1234-" so that several can run at
	// once.
	Prefix string
	// Attacker adds the ATK namespace on the NAR's link.
	Attacker bool
	// Home adds the RFC 6618 home network: the HA, HAC and AAA
	// namespaces, each on a link to the PAR (home.go).
	Home bool
}

func (c Config) prefix() (string, error) {
	p := c.Prefix
	if p == "" {
		p = DefaultPrefix
	}
	if !validPrefix.MatchString(p) {
		return "", fmt.Errorf("%w: %q", ErrPrefix, p)
	}
	return p, nil
}

// Testbed is a testbed that is up.
type Testbed struct {
	prefix   string
	attacker bool
	home     bool

	mu       sync.Mutex
	attached Node // PAR or NAR: the MN's current link
}

// Namespace returns the network namespace name of node n.
func (tb *Testbed) Namespace(n Node) string { return tb.prefix + string(n) }

// Prefix returns the namespace prefix.
func (tb *Testbed) Prefix() string { return tb.prefix }

// Nodes returns the testbed's nodes.
func (tb *Testbed) Nodes() []Node {
	nodes := []Node{MN, PAR, NAR, CN}
	if tb.attacker {
		nodes = append(nodes, Attacker)
	}
	if tb.home {
		nodes = append(nodes, homeNodes...)
	}
	return nodes
}

// Do runs fn inside node n's network namespace (see the function Do).
func (tb *Testbed) Do(n Node, fn func() error) error { return Do(tb.Namespace(n), fn) }

// IP runs `ip -n <namespace of n> args...` and returns its stdout.
func (tb *Testbed) IP(ctx context.Context, n Node, args ...string) (string, error) {
	return runIP(ctx, append([]string{"-n", tb.Namespace(n)}, args...)...)
}

// AttachedTo returns the router whose link the MN is attached to.
func (tb *Testbed) AttachedTo() Node {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.attached
}

// veth is one point-to-point link between two nodes.
type veth struct {
	a     Node
	aName string
	b     Node
	bName string
}

// Up builds the testbed, removing first any testbed left with the same
// prefix (by a crash, say). On failure it removes what it built.
func Up(ctx context.Context, cfg Config) (*Testbed, error) {
	prefix, err := cfg.prefix()
	if err != nil {
		return nil, err
	}
	if err := Down(ctx, prefix); err != nil {
		return nil, err
	}
	tb := &Testbed{prefix: prefix, attacker: cfg.Attacker, home: cfg.Home, attached: PAR}
	if err := tb.build(ctx); err != nil {
		return nil, errors.Join(err, Down(context.WithoutCancel(ctx), prefix))
	}
	return tb, nil
}

// Open returns the testbed with cfg's prefix that an earlier Up (possibly
// of another process) built, or ErrNotUp. The MN is taken to be on the
// link whose interface is up.
func Open(ctx context.Context, cfg Config) (*Testbed, error) {
	prefix, err := cfg.prefix()
	if err != nil {
		return nil, err
	}
	tb := &Testbed{prefix: prefix, attacker: cfg.Attacker, home: cfg.Home, attached: PAR}
	for _, n := range tb.Nodes() {
		if !namespaceExists(tb.Namespace(n)) {
			return nil, fmt.Errorf("%w: namespace %s missing", ErrNotUp, tb.Namespace(n))
		}
	}
	out, err := tb.IP(ctx, MN, "-o", "link", "show", "up")
	if err != nil {
		return nil, err
	}
	if regexp.MustCompile(`\b` + IfaceMNToNAR + `@`).MatchString(out) {
		tb.attached = NAR
	}
	return tb, nil
}

func (tb *Testbed) build(ctx context.Context) error {
	nodes := tb.Nodes()
	for _, n := range nodes {
		if _, err := runIP(ctx, "netns", "add", tb.Namespace(n)); err != nil {
			return err
		}
		router := n == PAR || n == NAR || n == HA
		if err := tb.Do(n, func() error {
			for _, s := range []struct{ path, v string }{
				{"net/ipv6/conf/all/accept_dad", "0"},
				{"net/ipv6/conf/default/accept_dad", "0"},
				{"net/ipv6/conf/all/keep_addr_on_down", "1"},
				{"net/ipv6/conf/default/keep_addr_on_down", "1"},
				{"net/ipv6/conf/all/forwarding", map[bool]string{true: "1", false: "0"}[router]},
			} {
				if err := writeSysctl(s.path, s.v); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if _, err := tb.IP(ctx, n, "link", "set", "lo", "up"); err != nil {
			return err
		}
	}
	links := []veth{
		{PAR, "mn0", MN, IfaceMNToPAR},
		{NAR, "mn0", MN, IfaceMNToNAR},
		{PAR, IfacePARToNAR, NAR, IfaceNARToPAR},
		{PAR, IfacePARToCN, CN, IfaceCNToPAR},
	}
	if tb.attacker {
		links = append(links, veth{NAR, "atk0", Attacker, IfaceAttacker})
	}
	for _, l := range links {
		if _, err := runIP(ctx, "link", "add", l.aName, "netns", tb.Namespace(l.a), "type", "veth", "peer", "name", l.bName, "netns", tb.Namespace(l.b)); err != nil {
			return err
		}
	}
	// The access links are bridges so that the attacker can share the
	// NAR's link with the MN; MLD snooping off so every multicast
	// reaches every port. Bit 3 of group_fwd_mask passes the IEEE 802.1X
	// PAE group address 01:80:c2:00:00:03, which a bridge otherwise keeps
	// from its ports and from the bridge device itself: the access
	// router's authenticator reads EAPOL on acc0 (docs/msk.md).
	ports := map[Node][]string{PAR: {"mn0"}, NAR: {"mn0"}}
	if tb.attacker {
		ports[NAR] = append(ports[NAR], "atk0")
	}
	for _, r := range []Node{PAR, NAR} {
		if _, err := tb.IP(ctx, r, "link", "add", IfaceAccess, "type", "bridge", "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0", "group_fwd_mask", "8"); err != nil {
			return err
		}
		for _, p := range ports[r] {
			if _, err := tb.IP(ctx, r, "link", "set", p, "master", IfaceAccess, "up"); err != nil {
				return err
			}
		}
	}
	type addr struct {
		n     Node
		iface string
		a     netip.Addr
	}
	addrs := []addr{
		{PAR, IfaceAccess, AddrPAR}, {PAR, IfacePARToNAR, AddrPARToNAR}, {PAR, IfacePARToCN, AddrPARToCN},
		{NAR, IfaceAccess, AddrNAR}, {NAR, IfaceNARToPAR, AddrNARToPAR},
		{MN, IfaceMNToPAR, AddrMNPrevious}, {MN, IfaceMNToNAR, AddrMNNew},
		{CN, IfaceCNToPAR, AddrCN},
	}
	if tb.attacker {
		addrs = append(addrs, addr{Attacker, IfaceAttacker, AddrAttacker})
	}
	for _, a := range addrs {
		if _, err := tb.IP(ctx, a.n, "addr", "add", netip.PrefixFrom(a.a, prefixLenOnLink).String(), "dev", a.iface, "nodad"); err != nil {
			return err
		}
	}
	up := map[Node][]string{
		PAR: {IfaceAccess, IfacePARToNAR, IfacePARToCN},
		NAR: {IfaceAccess, IfaceNARToPAR},
		MN:  {IfaceMNToPAR}, // the MN starts on the PAR's link
		CN:  {IfaceCNToPAR},
	}
	if tb.attacker {
		up[Attacker] = []string{IfaceAttacker}
	}
	for n, ifs := range up {
		for _, i := range ifs {
			if _, err := tb.IP(ctx, n, "link", "set", i, "up"); err != nil {
				return err
			}
		}
	}
	// Link-local addresses appear once a link has carrier (a bridge: once
	// a port forwards); wait for them so that a role started next finds
	// its addresses.
	ready := map[Node][]string{
		PAR: {IfaceAccess, IfacePARToNAR, IfacePARToCN},
		NAR: {IfaceNARToPAR},
		MN:  {IfaceMNToPAR},
		CN:  {IfaceCNToPAR},
	}
	if tb.attacker {
		ready[NAR] = append(ready[NAR], IfaceAccess)
		ready[Attacker] = []string{IfaceAttacker}
	}
	for n, ifs := range ready {
		for _, i := range ifs {
			if err := tb.waitLinkLocal(ctx, n, i); err != nil {
				return err
			}
		}
	}
	routes := [][]string{
		{string(MN), "default", "via", AddrPAR.String(), "dev", IfaceMNToPAR},
		{string(PAR), PrefixNARLink.String(), "via", AddrNARToPAR.String(), "dev", IfacePARToNAR},
		{string(NAR), "default", "via", AddrPARToNAR.String(), "dev", IfaceNARToPAR},
		{string(CN), "default", "via", AddrPARToCN.String(), "dev", IfaceCNToPAR},
	}
	if tb.attacker {
		routes = append(routes, []string{string(Attacker), "default", "via", AddrNAR.String(), "dev", IfaceAttacker})
	}
	for _, r := range routes {
		if _, err := tb.IP(ctx, Node(r[0]), append([]string{"-6", "route", "replace"}, r[1:]...)...); err != nil {
			return err
		}
	}
	if tb.home {
		return tb.buildHome(ctx)
	}
	return nil
}

// Move moves the MN from the PAR's link to the NAR's link (Attach(NAR)).
func (tb *Testbed) Move(ctx context.Context) error { return tb.Attach(ctx, NAR) }

// Attach attaches the MN to router's link (PAR or NAR): the MN's
// interface on the other link goes down, the one on router's link comes
// up, and the MN's default route points at router. The MN keeps both
// care-of addresses configured (keep_addr_on_down), as a real MN keeps
// its previous CoA until its binding is updated; only the one on the up
// link is reachable.
func (tb *Testbed) Attach(ctx context.Context, router Node) error {
	var from, to string
	var gw netip.Addr
	switch router {
	case PAR:
		from, to, gw = IfaceMNToNAR, IfaceMNToPAR, AddrPAR
	case NAR:
		from, to, gw = IfaceMNToPAR, IfaceMNToNAR, AddrNAR
	default:
		return fmt.Errorf("testbed: attach: %q is not an access router", router)
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, args := range [][]string{
		{"link", "set", from, "down"},
		{"link", "set", to, "up"},
		{"-6", "route", "replace", "default", "via", gw.String(), "dev", to},
	} {
		if _, err := tb.IP(ctx, MN, args...); err != nil {
			return err
		}
	}
	if err := tb.waitLinkLocal(ctx, MN, to); err != nil {
		return err
	}
	if err := tb.waitLinkLocal(ctx, router, IfaceAccess); err != nil {
		return err
	}
	// The bridge may be up through another port (the attacker's).
	if err := tb.waitOperUp(ctx, router, "mn0"); err != nil {
		return err
	}
	tb.attached = router
	return nil
}

// waitLinkLocal waits until iface of node n is operationally up and has a
// usable (not tentative) link-local address, for at most 5 s. An address
// kept over "link set down" (keep_addr_on_down) is there before the link
// works: until the kernel's link watcher has run (up to a second after
// "link set up", longer on a loaded host), the link drops what it is
// given, and a Neighbor Solicitation dropped then holds the packets
// behind it for a second.
func (tb *Testbed) waitLinkLocal(ctx context.Context, n Node, iface string) error {
	return tb.waitLink(ctx, n, iface, true)
}

// waitOperUp waits until iface of node n is operationally up, for at most
// 5 s (see waitLinkLocal).
func (tb *Testbed) waitOperUp(ctx context.Context, n Node, iface string) error {
	return tb.waitLink(ctx, n, iface, false)
}

func (tb *Testbed) waitLink(ctx context.Context, n Node, iface string, linkLocal bool) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		last, err := tb.IP(ctx, n, "-o", "link", "show", "dev", iface)
		if err == nil && strings.Contains(last, "state UP") {
			if !linkLocal {
				return nil
			}
			out, err := tb.IP(ctx, n, "-6", "-o", "addr", "show", "dev", iface, "scope", "link", "-tentative")
			if err == nil && strings.Contains(out, "inet6 fe80:") {
				return nil
			}
			last = "up, no usable link-local address"
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testbed: %s %s: not ready (%s): %w", tb.Namespace(n), iface, strings.TrimSpace(last), ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Down removes the testbed (Down with its prefix).
func (tb *Testbed) Down(ctx context.Context) error { return Down(ctx, tb.prefix) }

// Down removes every namespace the testbed with this prefix may have
// created (the attacker's included) and with them all their links. It is
// idempotent and works after a crash; it removes nothing else.
func Down(ctx context.Context, prefix string) error {
	p, err := Config{Prefix: prefix}.prefix()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range allNodes {
		name := p + string(n)
		if !namespaceExists(name) {
			continue
		}
		if _, err := runIP(ctx, "netns", "del", name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
