package node

import (
	"context"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/mn"
)

// provision keeps a key from every router of the current link for the
// care-of CGA there: at start, after each handover, and whenever
// RefreshDue names it (RFC 5269 §3.3: "Prior to HK-LIFETIME expiring, the
// MN MUST request a new key"). A router that does not answer is asked
// again after a doubling wait (1 s to 30 s).
func (n *mnNode) provision(ctx context.Context) {
	wait := mnRetryMin
	for {
		link := n.current.Load()
		failed := false
		for _, r := range n.needKeys(link) {
			var ev mn.Event
			var err error
			if n.aaa {
				ev, err = n.requestHandoverKey(ctx, link, r)
			} else {
				ev, err = n.m.RequestKeyOn(ctx, link, r)
			}
			if ctx.Err() != nil {
				return
			}
			n.mu.Lock()
			if err != nil {
				n.lastErr = err.Error()
			} else {
				n.lastErr = ""
			}
			n.mu.Unlock()
			switch {
			case err != nil:
				failed = true
				n.log.Warn("handover key request failed: retrying", "router", r.String(), "err", err, "retry_in", wait.String())
			case ev.Kind != mn.KeyProvisioned && ev.Kind != mn.HandoverKeyEstablished && ev.Kind != mn.HandoverKeyVerified:
				failed = true
				n.log.Warn("router answered without a handover key: retrying", "router", ev.Router.String(), "retry_in", wait.String())
			default:
				n.log.Info("handover key provisioned", "router", ev.Router.String(), "care_of", ev.Record.MN.String(),
					"at", ev.Record.AT, "spi", ev.Record.SPI, "expires", ev.Record.Expires.UTC())
			}
		}
		next := mnRefreshCheck
		if failed {
			next, wait = wait, min(2*wait, mnRetryMax)
		} else {
			wait = mnRetryMin
		}
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
			wait = mnRetryMin
		case <-time.After(next):
		}
	}
}

// needKeys returns the routers to ask now for link's care-of CGA: those
// without a key for it and those whose key is due for refresh. With
// All-Routers, a request is due while no router's key is held or any is
// due.
func (n *mnNode) needKeys(link int32) []netip.Addr {
	l := n.links[link]
	held := map[netip.Addr]bool{}
	for _, r := range n.m.Role.Keys() {
		if r.MN == l.coa {
			held[r.AR] = true
		}
	}
	for _, r := range n.m.Role.RefreshDue() {
		if r.MN == l.coa {
			held[r.AR] = false
		}
	}
	routers := l.routers
	if len(routers) == 0 && n.aaa {
		return nil // HKReqs go to unicast routers only
	}
	if len(routers) == 0 {
		routers = []netip.Addr{config.AllRouters}
	}
	var out []netip.Addr
	for _, r := range routers {
		if r == config.AllRouters {
			due := len(held) == 0
			for _, ok := range held {
				due = due || !ok
			}
			if due {
				out = append(out, r)
			}
			continue
		}
		if !held[r] {
			out = append(out, r)
		}
	}
	return out
}

// requestHandoverKey gets a shared-key mode key from router for link's
// care-of address (docs/aaa.md, The mobile node). A key of router due for
// refresh is dropped first, so that the router asks the HKS for a new one
// (§6.2.1 "before the expiry"): the V flag would only confirm the old key.
// The role sets the V flag when it holds a key of router for another
// care-of address.
func (n *mnNode) requestHandoverKey(ctx context.Context, link int32, router netip.Addr) (mn.Event, error) {
	for _, k := range n.m.Role.KeyRefreshDue() {
		if k.Router == router {
			_ = n.m.Role.Store().Delete(k.Router, k.CareOf)
		}
	}
	return n.m.RequestHandoverKeyOn(ctx, link, router)
}
