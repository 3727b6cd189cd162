package node

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/mn"
)

// keyJob is one key request of the provisioning loop: a key from router
// for the care-of address of link, sent from the care-of address of via
// (the current link). via != link is the shared-key mode's indirect
// exchange (draft-vidya-mipshop-handover-keys-aaa-04 §6.5).
type keyJob struct {
	link, via int32
	router    netip.Addr
}

// provision keeps a key from every router of the current link for the
// care-of CGA there: at start, after each handover, and whenever
// RefreshDue names it (RFC 5269 §3.3: "Prior to HK-LIFETIME expiring, the
// MN MUST request a new key"). In the shared-key mode it also refreshes,
// through the current link, the key of a router of another link that
// forwards that link's care-of address for the node (indirectDue). A
// router that does not answer is asked again after a doubling wait (1 s
// to 30 s).
func (n *mnNode) provision(ctx context.Context) {
	wait := mnRetryMin
	for {
		link := n.current.Load()
		failed := false
		var jobs []keyJob
		for _, r := range n.needKeys(link) {
			jobs = append(jobs, keyJob{link: link, via: link, router: r})
		}
		if n.aaa {
			jobs = append(jobs, n.indirectDue(link)...)
		}
		pass, abandon := context.WithCancel(ctx)
		n.mu.Lock()
		n.abandon = abandon
		n.mu.Unlock()
		if link != n.current.Load() {
			abandon() // a handover since the link was read
		}
		for _, j := range jobs {
			var ev mn.Event
			var err error
			switch {
			case !n.aaa:
				ev, err = n.m.RequestKeyOn(pass, j.link, j.router)
			case j.via != j.link:
				ev, err = n.m.RefreshHandoverKeyOn(pass, j.link, j.via, j.router)
			default:
				ev, err = n.requestHandoverKey(pass, j.link, j.router)
			}
			if ctx.Err() != nil {
				abandon()
				return
			}
			if pass.Err() != nil {
				// A handover: the answers would go to the link left. The
				// next pass, on the new link, starts at once (wake).
				n.log.Debug("handover key requests abandoned: the node changed links", "router", j.router.String())
				break
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
				n.log.Warn("handover key request failed: retrying", "router", j.router.String(), "indirect", j.via != j.link, "err", err, "retry_in", wait.String())
			case ev.Kind != mn.KeyProvisioned && ev.Kind != mn.HandoverKeyEstablished && ev.Kind != mn.HandoverKeyVerified:
				failed = true
				n.log.Warn("router answered without a handover key: retrying", "router", ev.Router.String(), "retry_in", wait.String())
			case j.via != j.link:
				n.log.Info("handover key refreshed through the current link", "router", ev.Router.String(), "care_of", ev.Record.MN.String(),
					"from", n.links[j.via].coa.String(), "spi", ev.Record.SPI, "expires", ev.Record.Expires.UTC())
			default:
				n.log.Info("handover key provisioned", "router", ev.Router.String(), "care_of", ev.Record.MN.String(),
					"at", ev.Record.AT, "spi", ev.Record.SPI, "expires", ev.Record.Expires.UTC())
			}
		}
		n.mu.Lock()
		n.abandon = nil
		n.mu.Unlock()
		abandon()
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

// abandonKeyRequests ends the key requests in progress (handoverTo, after
// the link changed): sent from the previous link's address, or through it,
// their answers cannot arrive, and a request waits up to N_HO_KEYTRIES ×
// HKEY_REQ_TOUT (9 s) before failing, which would hold up the requests on
// the new link.
func (n *mnNode) abandonKeyRequests() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.abandon != nil {
		n.abandon()
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
// refresh is refreshed without the V flag, so that the router asks the HKS
// for a new one (§6.2.1 "before the expiry": the V flag would only confirm
// the old key), which stays usable until the new one replaces it. Otherwise
// the role sets the V flag when it holds a key of router for another
// care-of address.
func (n *mnNode) requestHandoverKey(ctx context.Context, link int32, router netip.Addr) (mn.Event, error) {
	if slices.ContainsFunc(n.m.Role.KeyRefreshDue(), func(k mn.KeyDue) bool { return k.Router == router }) {
		return n.m.RefreshHandoverKeyOn(ctx, link, link, router)
	}
	return n.m.RequestHandoverKeyOn(ctx, link, router)
}

// indirectDue returns the indirect refreshes due now from the current link
// (draft-vidya-mipshop-handover-keys-aaa-04 §6.5: the MN "using FMIPv6
// service with pAR as its anchor ... and its handover key with the pAR is
// about to expire ... may need to refresh the key via the nAR it is
// attached to"); see selectIndirect.
func (n *mnNode) indirectDue(current int32) []keyJob {
	n.mu.Lock()
	bound := make(map[int32]mnBinding, len(n.bound))
	for l, b := range n.bound {
		bound[l] = b
	}
	n.mu.Unlock()
	return selectIndirect(time.Now(), n.m.Role.KeyRefreshDue(), n.links, current, bound)
}

// selectIndirect picks, among the shared-mode keys due for refresh, those
// to refresh through the current link: the key of another link's care-of
// address, not yet expired, from the router that forwards that address
// for the node (its FBU was accepted) until after the key would expire.
// That router is the PAR of §6.5, the node's anchor: the key authenticates
// the FBU that ends its forwarding when the node comes back (RFC 5568
// §5.6), and the PAR keeps it while it forwards (RFC 5269 §3.6). Any other
// key of another link is left to expire: the PAR discards it when its
// forwarding times out (RFC 5269 §3.6: "The PAR MUST discard the key after
// FMIPv6 forwarding for the previous Care-of Address times out"), and the
// node drops it and asks again when it returns to that link (handoverTo),
// so a refresh would cost an HKS round trip for a key nobody uses. An
// expired key cannot be refreshed this way: the router ties the NAI to a
// CoA only through a live key (§6.5, docs/aaa.md).
func selectIndirect(now time.Time, due []mn.KeyDue, links []mnLink, current int32, bound map[int32]mnBinding) []keyJob {
	var out []keyJob
	for _, k := range due {
		if k.Remaining <= 0 {
			continue
		}
		for l := range links {
			b, ok := bound[int32(l)]
			if int32(l) == current || links[l].coa != k.CareOf || !ok || b.router != k.Router || !b.expires.After(now.Add(k.Remaining)) {
				continue
			}
			out = append(out, keyJob{link: int32(l), via: current, router: k.Router})
		}
	}
	return out
}
