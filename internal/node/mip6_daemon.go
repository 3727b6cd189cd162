package node

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/daemon/rolemetrics"
	"github.com/fhkey/fhkey/internal/mip6mn"
)

// MIP6BootstrapperFunc makes the bootstrap client of 'fhkey mip6' from its
// configuration and secrets: a TLS client of the HAC (RFC 6618 §5) with
// the [mip6tls] settings; keyLog, when not nil, receives the TLS secrets.
type MIP6BootstrapperFunc func(cfg *config.MIP6Config, secrets *config.MIP6Secrets, keyLog io.Writer) (mip6mn.Bootstrapper, error)

// ErrNoBootstrapClient: this build has no HAC client wired into
// 'fhkey mip6' (MIP6Options was given no MIP6BootstrapperFunc).
var ErrNoBootstrapClient = errors.New("node: mip6: no HAC bootstrap client in this build")

// mip6PollInterval is how often the care-of interface is examined when
// netlink notifications are unavailable.
const mip6PollInterval = 2 * time.Second

// MIP6Options builds the daemon options of 'fhkey mip6': bootstrap with
// the HAC through newBootstrapper, register the care-of address (care_of,
// or the global address of interface, watched), serve the UDP tunnel.
// /status shows the SA (no key), the binding and the counters. keyLogFile,
// when set, overrides [mip6tls] keylog: the TLS secrets of the HAC
// connections are appended to it (mode 0600, SSLKEYLOGFILE format).
func MIP6Options(file string, stderr io.Writer, keyLogFile string, newBootstrapper MIP6BootstrapperFunc) daemon.Options[*config.MIP6Config] {
	var cur atomic.Pointer[MIP6]
	return daemon.Options[*config.MIP6Config]{
		Name: "mip6", ConfigFile: file, Stderr: stderr,
		Load:     config.LoadMIP6,
		Settings: func(c *config.MIP6Config) daemon.Settings { return daemon.Settings{Log: c.Log, HTTP: c.HTTP} },
		Start: func(ctx context.Context, rt *daemon.Runtime[*config.MIP6Config]) error {
			cfg := rt.Config()
			if newBootstrapper == nil {
				return ErrNoBootstrapClient
			}
			rt.Starting("reading secrets")
			secrets, err := cfg.Open()
			if err != nil {
				return err
			}
			defer clear(secrets.PSK)
			if keyLogFile == "" {
				keyLogFile = cfg.MIP6TLS.KeyLogFile
			}
			var keyLog io.Writer
			if keyLogFile != "" {
				f, err := os.OpenFile(keyLogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
				if err != nil {
					return err
				}
				rt.Go("mip6-keylog", func(ctx context.Context) error { <-ctx.Done(); return f.Close() })
				keyLog = f
			}
			boot, err := newBootstrapper(cfg, secrets, keyLog)
			if err != nil {
				return err
			}
			coa := careOfAddress(cfg, cfg.HomeAgent.Addr())
			rolemetrics.RegisterMIP6(rt.Metrics, func() mip6mn.Counters {
				if n := cur.Load(); n != nil {
					return n.Role.Counters()
				}
				return mip6mn.Counters{}
			})
			rt.Starting("bootstrapping with the HAC")
			var tun atomic.Pointer[homeTUN]
			n, err := OpenMIP6(ctx, MIP6Spec{
				Role: mip6mn.Config{HomeAddress: cfg.HomeAddress, HomeAgent: cfg.HomeAgent, Lifetime: cfg.Lifetime,
					RebootstrapMargin: cfg.RebootstrapMargin, AllowPlaintextData: cfg.AllowPlaintextData},
				Bootstrapper: boot, CareOf: coa, Logger: rt.Logger, SourceIsCareOf: !cfg.CareOf.IsValid() || isLocalAddress(cfg.CareOf),
				Deliver: func(p []byte) error {
					if t := tun.Load(); t != nil {
						return t.Deliver(p)
					}
					return nil
				},
			})
			if err != nil {
				return err
			}
			cur.Store(n)
			st := n.Role.Status()
			if cfg.TUN != "" {
				// The home address is known once bootstrapped (mip6-ip6-hoa
				// or home_address).
				t, err := openHomeTUN(cfg.TUN, cfg.TUNMTU, st.HomeAddress)
				if err != nil {
					n.Close()
					return err
				}
				tun.Store(t)
				rt.Go("mip6-tun", func(ctx context.Context) error {
					err := t.serve(ctx, n.Send, rt.Logger)
					return errors.Join(err, t.Close())
				})
			}
			rt.Logger.Info("mobile node bootstrapped", "spi", st.SA.SPI, "suite", st.SA.Suite,
				"home_address", st.HomeAddress.String(), "home_agent", st.HomeAgent.String(), "care_of", coa.String())
			rt.Go("mip6", n.Serve)
			if !cfg.CareOf.IsValid() {
				rt.Go("mip6-watch", func(ctx context.Context) error { return watchCareOf(ctx, n, cfg, coa) })
			}
			return nil
		},
		Status: func() any {
			if n := cur.Load(); n != nil {
				return n.Role.Status()
			}
			return nil
		},
	}
}

// watchCareOf re-registers whenever the care-of address changes
// (careOfAddress; netlink notifications through netio.WatchLinks, polling
// without them).
func watchCareOf(ctx context.Context, n *MIP6, cfg *config.MIP6Config, was netip.Addr) error {
	return onLinkEvents(ctx, n.log, mip6PollInterval, 10*mip6PollInterval, func() {
		if now := careOfAddress(cfg, n.Role.Status().HomeAgent.Addr()); now.IsValid() && now != was {
			n.log.Info("care-of address changed", "from", was.String(), "to", now.String())
			if err := n.Move(now); err != nil {
				n.log.Warn("binding update", "err", err)
			}
			was = now
		}
	})
}

// isLocalAddress reports whether a is configured on one of the node's
// interfaces (a care_of behind a NAT or a test's made-up one is not: the
// kernel chooses the source then).
func isLocalAddress(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range addrs {
		if p, err := netip.ParsePrefix(ia.String()); err == nil && p.Addr() == a {
			return true
		}
	}
	return false
}

// globalAddress is the first global unicast IPv6 address of iface, or
// the zero Addr.
func globalAddress(iface string) netip.Addr {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return netip.Addr{}
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			if ad := p.Addr(); ad.Is6() && !ad.Is4In6() && ad.IsGlobalUnicast() {
				return ad
			}
		}
	}
	return netip.Addr{}
}
