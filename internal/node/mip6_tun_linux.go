package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/fhkey/fhkey/internal/forward"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// MIP6RouteTable is the routing table (and the priority of its rule) in
// which 'fhkey mip6' routes what the home address sends into its TUN:
// "ip -6 rule add from HOA lookup 6618 priority 6618" and "ip -6 route
// replace default dev TUN table 6618". Only packets from the home address
// take the tunnel; the node's own UDP packets to the home agent (from the
// care-of address) keep the main table, so they cannot loop into it.
const MIP6RouteTable = 6618

// homeTUN is the mobile node's home-address TUN device: the home address
// on it (/128, no DAD), the source rule and the default route of
// MIP6RouteTable through it.
type homeTUN struct {
	dev  *forward.Device
	h    *netlink.Handle
	rule *netlink.Rule
}

// openHomeTUN creates the TUN device name with MTU mtu and the home
// address hoa, in the network namespace of the calling thread (root).
func openHomeTUN(name string, mtu int, hoa netip.Addr) (_ *homeTUN, err error) {
	dev, err := forward.OpenDevice(name, mtu)
	if err != nil {
		return nil, err
	}
	t := &homeTUN{dev: dev}
	defer func() {
		if err != nil {
			_ = t.Close()
		}
	}()
	if t.h, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
		return nil, fmt.Errorf("node: mip6: rtnetlink: %w", err)
	}
	link, err := t.h.LinkByName(dev.Name())
	if err != nil {
		return nil, fmt.Errorf("node: mip6: %s: %w", dev.Name(), err)
	}
	host := &net.IPNet{IP: hoa.AsSlice(), Mask: net.CIDRMask(128, 128)}
	if err := t.h.AddrReplace(link, &netlink.Addr{IPNet: host, Flags: unix.IFA_F_NODAD}); err != nil {
		return nil, fmt.Errorf("node: mip6: address %v/128 on %s: %w", hoa, dev.Name(), err)
	}
	rule := netlink.NewRule()
	rule.Family, rule.Src, rule.Table, rule.Priority = unix.AF_INET6, host, MIP6RouteTable, MIP6RouteTable
	if err := t.h.RuleAdd(rule); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("node: mip6: rule from %v lookup %d: %w", hoa, MIP6RouteTable, err)
	}
	t.rule = rule
	def := &netlink.Route{LinkIndex: link.Attrs().Index, Table: MIP6RouteTable, Family: unix.AF_INET6,
		Dst: &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}, Protocol: unix.RTPROT_STATIC}
	if err := t.h.RouteReplace(def); err != nil {
		return nil, fmt.Errorf("node: mip6: default route dev %s table %d: %w", dev.Name(), MIP6RouteTable, err)
	}
	return t, nil
}

// Deliver injects a packet the home agent tunnelled to the home address.
func (t *homeTUN) Deliver(p []byte) error {
	_, err := t.dev.Write(p)
	return err
}

// serve hands each packet the home address sends to send (the node's
// Send: sealed to the home agent) until ctx ends.
func (t *homeTUN) serve(ctx context.Context, send func([]byte) error, log *slog.Logger) error {
	stop := context.AfterFunc(ctx, func() { _ = t.dev.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 65536)
	for {
		n, err := t.dev.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return fmt.Errorf("node: mip6: %s: %w", t.dev.Name(), err)
		}
		if err := send(buf[:n]); err != nil {
			log.Debug("home address packet not tunnelled", "err", err)
		}
	}
}

// Close removes the rule and the device (its address and routes go with
// it).
func (t *homeTUN) Close() error {
	var errs []error
	if t.h != nil {
		if t.rule != nil {
			if err := t.h.RuleDel(t.rule); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, err)
			}
		}
		t.h.Close()
	}
	errs = append(errs, t.dev.Close())
	return errors.Join(errs...)
}
