package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
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

	// reader answers the re-authentications of the current link's
	// authenticator (reauthenticate); stopReader ends it and waits.
	readerMu   sync.Mutex
	stopReader func()
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
//
// On success the EAPOL transport stays open: a reader answers the
// authenticator's re-authentications (IEEE 802.1X-2004 §8.2.4) until the
// next authenticate (the node changed links), logoff, or ctx's end.
func (e *mnEAP) authenticate(ctx context.Context, link int32, iface string, log *slog.Logger) (supplicant.Result, error) {
	e.stop()
	router := e.routers[link]
	conn, err := ListenEAPOL(iface)
	if err != nil {
		return supplicant.Result{}, fmt.Errorf("eapol on %s: %w", iface, err)
	}
	actx, cancel := context.WithTimeout(ctx, mnEAPLimit)
	res, err := e.sup.Authenticate(actx, conn)
	cancel()
	e.mu.Lock()
	if old, ok := e.msks[router]; ok {
		old.Wipe()
		delete(e.msks, router)
	}
	if err != nil {
		e.mu.Unlock()
		conn.Close()
		return res, err
	}
	e.msks[router] = res.MSK
	e.mu.Unlock()
	e.startReader(ctx, conn, router, res.Authenticator, log)
	return res, nil
}

// startReader runs reauthenticate on conn, which it closes when stopped.
func (e *mnEAP) startReader(ctx context.Context, conn EAPOLLink, router netip.Addr, auth net.HardwareAddr, log *slog.Logger) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close()
		e.reauthenticate(ctx, conn, router, auth, log)
	}()
	e.readerMu.Lock()
	e.stopReader = func() { cancel(); <-done }
	e.readerMu.Unlock()
}

// stop ends the reader of the current link, if one runs.
func (e *mnEAP) stop() {
	e.readerMu.Lock()
	stop := e.stopReader
	e.stopReader = nil
	e.readerMu.Unlock()
	if stop != nil {
		stop()
	}
}

// reauthenticate answers each unsolicited EAP-Request/Identity of auth,
// the authenticator of router, until ctx ends or the link fails: the
// MSK of a successful re-authentication replaces router's (the router
// stored it too); after a failed one the old MSK stays, as it does at the
// router until its lifetime ends (docs/eap.md, "Re-authentication").
func (e *mnEAP) reauthenticate(ctx context.Context, conn EAPOLLink, router netip.Addr, auth net.HardwareAddr, log *slog.Logger) {
	for {
		res, err := e.sup.Reauthenticate(ctx, conn, auth)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, supplicant.ErrFailure), errors.Is(err, supplicant.ErrTimeout):
			log.Warn("EAP re-authentication failed, the MSK stays until it expires", "router", router.String(), "err", err)
			continue
		case err != nil:
			log.Error("EAPOL link lost: no more re-authentications on it", "router", router.String(), "err", err)
			return
		}
		e.mu.Lock()
		if old, ok := e.msks[router]; ok {
			old.Wipe()
		}
		e.msks[router] = res.MSK
		e.mu.Unlock()
		log.Info("EAP re-authentication succeeded", "router", router.String(), "authenticator", auth.String())
	}
}

// logoff sends EAPOL-Logoff on iface and forgets every MSK (the node
// closes).
func (e *mnEAP) logoff(iface string) error {
	e.stop()
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
	res, err := n.eap.authenticate(ctx, link, l.iface, n.log)
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
