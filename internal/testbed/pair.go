package testbed

import (
	"context"
	"errors"
	"net/netip"
)

// Pair is two network namespaces joined by one veth link with nothing in
// between (no bridge, so link-local group addresses such as the 802.1X
// PAE group reach the other end): an authenticator or router end "a" and
// a host end "h". Tests of link-layer protocols (EAPOL) and of neighbor
// entries use it.
type Pair struct {
	prefix string
}

// Interface names and addresses of a Pair.
const (
	PairIfaceA = "a0" // the router's end
	PairIfaceH = "h0" // the host's end
)

// Addresses of a Pair's two ends (on PrefixPARLink).
var (
	PairAddrA = netip.MustParseAddr("2001:db8:1::1")
	PairAddrH = netip.MustParseAddr("2001:db8:1::2")
)

// UpPair builds a Pair under prefix ("fhk-<tag>-", as Config.Prefix),
// removing first one left with the same prefix; on failure it removes
// what it built. The links are up with their addresses (no DAD).
func UpPair(ctx context.Context, prefix string) (*Pair, error) {
	p, err := Config{Prefix: prefix}.prefix()
	if err != nil {
		return nil, err
	}
	pr := &Pair{prefix: p}
	if err := pr.Down(ctx); err != nil {
		return nil, err
	}
	if err := pr.build(ctx); err != nil {
		return nil, errors.Join(err, pr.Down(context.WithoutCancel(ctx)))
	}
	return pr, nil
}

// A returns the router end's namespace name, H the host end's.
func (p *Pair) A() string { return p.prefix + "a" }

// H returns the host end's namespace name.
func (p *Pair) H() string { return p.prefix + "h" }

func (p *Pair) build(ctx context.Context) error {
	for _, ns := range []string{p.A(), p.H()} {
		if _, err := runIP(ctx, "netns", "add", ns); err != nil {
			return err
		}
		if err := Do(ns, func() error {
			if err := writeSysctl("net/ipv6/conf/all/accept_dad", "0"); err != nil {
				return err
			}
			return writeSysctl("net/ipv6/conf/default/accept_dad", "0")
		}); err != nil {
			return err
		}
	}
	if _, err := runIP(ctx, "link", "add", PairIfaceA, "netns", p.A(), "type", "veth", "peer", "name", PairIfaceH, "netns", p.H()); err != nil {
		return err
	}
	for _, e := range []struct {
		ns, iface string
		addr      netip.Addr
	}{{p.A(), PairIfaceA, PairAddrA}, {p.H(), PairIfaceH, PairAddrH}} {
		if _, err := runIP(ctx, "-n", e.ns, "addr", "add", e.addr.String()+"/64", "dev", e.iface, "nodad"); err != nil {
			return err
		}
		if _, err := runIP(ctx, "-n", e.ns, "link", "set", e.iface, "up"); err != nil {
			return err
		}
	}
	return nil
}

// Down removes both namespaces and the link; it is idempotent.
func (p *Pair) Down(ctx context.Context) error {
	var errs []error
	for _, ns := range []string{p.A(), p.H()} {
		if !namespaceExists(ns) {
			continue
		}
		if _, err := runIP(ctx, "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// IP runs `ip -n netns args...` (netns: A() or H()) and returns its
// stdout.
func (p *Pair) IP(ctx context.Context, netns string, args ...string) (string, error) {
	return runIP(ctx, append([]string{"-n", netns}, args...)...)
}
