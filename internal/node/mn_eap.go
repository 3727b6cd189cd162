package node

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/eap/supplicant"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
)

// EAPOLLink is what the MSK mode needs of an interface's EAPOL transport.
type EAPOLLink interface {
	supplicant.Link
	Close() error
}

// ListenEAPOL opens the EAPOL transport of the MSK mode on an interface:
// netio.ListenEAPOL (AF_PACKET, EtherType 0x888E); tests point it at an
// in-memory link.
var ListenEAPOL = func(ifname string) (EAPOLLink, error) { return netio.ListenEAPOL(ifname) }

// mnEAPLimit bounds one authentication on a link (its own timers
// included).
const mnEAPLimit = 30 * time.Second

// mnEAP is the MSK mode of the mobile node (docs/msk.md): one supplicant,
// the MSK of each link's access router, and the mn.MSKSource the role
// derives its FHKs from.
type mnEAP struct {
	sup     *supplicant.Supplicant
	nai     string
	routers []netip.Addr // per link: the authenticator, the PAR on leaving

	mu   sync.Mutex
	msks map[netip.Addr]eap.MSK
}

// newMNEAP builds the supplicant from [eap] and its credentials.
func newMNEAP(e *config.MNEAP, cr *config.EAPCredentials) (*mnEAP, error) {
	sup, err := supplicant.New(supplicant.Config{Peer: tlspeer.Config{Identity: e.Identity, TLS: &tls.Config{
		Certificates: []tls.Certificate{cr.Certificate}, RootCAs: cr.Roots, ServerName: e.ServerName,
		MinVersion: e.TLSMinVersion, MaxVersion: e.TLSMaxVersion,
	}}})
	if err != nil {
		return nil, err
	}
	routers := []netip.Addr{e.Router}
	if e.NewRouter.IsValid() {
		routers = append(routers, e.NewRouter)
	}
	return &mnEAP{sup: sup, nai: e.Identity, routers: routers, msks: map[netip.Addr]eap.MSK{}}, nil
}

// MSK implements mn.MSKSource: the MSK of the last authentication with
// par.
func (e *mnEAP) MSK(par netip.Addr) ([hokey.MSKLen]byte, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k, ok := e.msks[par]
	return k, ok
}

var _ mn.MSKSource = (*mnEAP)(nil)

// authenticate runs EAP-TLS over EAPOL on iface, the interface of link,
// and keeps the MSK for that link's router. A failure drops the MSK the
// router had: the node must not sign with a key the router may have
// forgotten.
func (e *mnEAP) authenticate(ctx context.Context, link int32, iface string) (supplicant.Result, error) {
	router := e.routers[link]
	conn, err := ListenEAPOL(iface)
	if err != nil {
		return supplicant.Result{}, fmt.Errorf("eapol on %s: %w", iface, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, mnEAPLimit)
	defer cancel()
	res, err := e.sup.Authenticate(ctx, conn)
	e.mu.Lock()
	defer e.mu.Unlock()
	if old, ok := e.msks[router]; ok {
		old.Wipe()
		delete(e.msks, router)
	}
	if err != nil {
		return res, err
	}
	e.msks[router] = res.MSK
	return res, nil
}

// logoff sends EAPOL-Logoff on iface and forgets every MSK (the node
// closes).
func (e *mnEAP) logoff(iface string) error {
	e.mu.Lock()
	for r, k := range e.msks {
		k.Wipe()
		delete(e.msks, r)
	}
	e.mu.Unlock()
	conn, err := ListenEAPOL(iface)
	if err != nil {
		return err
	}
	defer conn.Close()
	return e.sup.Logoff(conn)
}

// authenticateLink is the node's step on entering link (at start and on
// each handover, before anything else is sent there): authenticate, and
// record the outcome for /status.
func (n *mnNode) authenticateLink(ctx context.Context, link int32) error {
	l := n.links[link]
	res, err := n.eap.authenticate(ctx, link, l.iface)
	if err != nil {
		n.log.Error("EAP authentication failed", "interface", l.iface, "router", n.eap.routers[link].String(), "err", err)
		return err
	}
	n.log.Info("EAP authentication succeeded", "interface", l.iface, "router", n.eap.routers[link].String(),
		"authenticator", res.Authenticator.String(), "tls", tls.VersionName(res.TLSVersion))
	return nil
}

// authenticateLinks keeps the current link authenticated in the MSK mode
// (the provision task of the other modes): at start, and again after a
// failure, waiting 1 s doubling to 30 s, or at once after a handover
// that did not authenticate.
func (n *mnNode) authenticateLinks(ctx context.Context) {
	wait := mnRetryMin
	for {
		link := n.current.Load()
		next := time.Duration(-1)
		if _, ok := n.eap.MSK(n.eap.routers[link]); !ok {
			if err := n.authenticateLink(ctx, link); err != nil && ctx.Err() == nil {
				next, wait = wait, min(2*wait, mnRetryMax)
			} else {
				wait = mnRetryMin
			}
		}
		var retry <-chan time.Time
		if next >= 0 {
			retry = time.After(next)
		}
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
			wait = mnRetryMin
		case <-retry:
		}
	}
}
