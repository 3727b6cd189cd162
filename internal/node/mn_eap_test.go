package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/eap/supplicant"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/keystore"
)

// One FreeRADIUS EAP-TLS server for the package's tests.
var freeRADIUS = eaptest.NewFreeRADIUS("node-eap-secret-4e1a")

func TestMain(m *testing.M) { freeRADIUS.Main(m) }

// TestMNEAPAuthenticate: the MSK mode's step on entering a link, over
// the EAPOL transport ListenEAPOL gives (an in-memory link to an
// authenticator relaying to FreeRADIUS): the MSK kept is the Access-
// Accept's, for that link's router only; the role signs an FBU to that
// router with it and has none for the other; /status shows the EAP state
// and not the MSK; a failed authentication drops the router's MSK.
func TestMNEAPAuthenticate(t *testing.T) {
	freeRADIUS.Require(t)
	p := freeRADIUS.PKI
	par, nar := netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:2::1")
	e, err := newMNEAP(&config.MNEAP{Identity: "mn@example.com", ServerName: eaptest.ServerName,
		TLSMinVersion: tls.VersionTLS12, TLSMaxVersion: tls.VersionTLS13, Algorithm: hokey.HMACSHA256Trunc128, Router: par, NewRouter: nar},
		&config.EAPCredentials{Certificate: p.Client.TLS(), Roots: p.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	relay, err := radius.NewEAPRelay(radius.EAPRelayConfig{Servers: []radius.HomeServer{{Addr: freeRADIUS.Addr, Secret: freeRADIUS.Secret}},
		NAS: radius.NAS{Identifier: "fhkey-ar"}, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	authMAC := net.HardwareAddr{2, 0, 0, 0, 0xa0, 2}
	relayed := make(chan radius.EAPResult, 1)
	var opened []string
	var authLink *eaptest.MemoryLink // of the first link opened
	old := ListenEAPOL
	t.Cleanup(func() { ListenEAPOL = old })
	ListenEAPOL = func(ifname string) (EAPOLLink, error) {
		opened = append(opened, ifname)
		sup, auth := eaptest.NewMemoryLinks(net.HardwareAddr{2, 0, 0, 0, 0x5e, 2}, authMAC)
		if len(opened) == 1 { // the first time only
			authLink = auth
			go func() {
				res, _ := eaptest.RelayAuthenticator(ctx, auth, relay)
				relayed <- res
			}()
		}
		return sup, nil
	}
	n := &mnNode{eap: e, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		links: []mnLink{{iface: "wlan0"}, {iface: "wlan1"}}}
	if err := n.authenticateLink(ctx, 1); err != nil {
		t.Fatal(err)
	}
	res := <-relayed
	msk, ok := e.MSK(nar)
	if !ok || res.Outcome != radius.EAPAccept || !res.MSK.Equal((*eap.MSK)(&msk)) {
		t.Fatalf("MSK for %s: %v, outcome %d", nar, ok, res.Outcome)
	}
	if _, ok := e.MSK(par); ok {
		t.Fatalf("an MSK for %s, where the node did not authenticate", par)
	}
	role, err := mn.New(mn.Config{MSK: &mn.MSKConfig{NAI: "mn@example.com", Source: e, AT: hokey.HMACSHA256Trunc128}, Store: keystore.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := role.FastBindingUpdate(nar, netip.MustParseAddr("2001:db8:2::100"), netip.MustParseAddr("2001:db8:1::100"), false); err != nil {
		t.Errorf("FBU to %s: %v", nar, err)
	}
	if _, err := role.FastBindingUpdate(par, netip.MustParseAddr("2001:db8:1::100"), netip.MustParseAddr("2001:db8:2::100"), false); !errors.Is(err, mn.ErrNoMSK) {
		t.Errorf("FBU to %s: %v, want ErrNoMSK", par, err)
	}
	st := e.sup.Status()
	doc, _ := json.Marshal(MNStatus{EAP: &st})
	if st.State != supplicant.StateAuthenticated || st.Authenticator != authMAC.String() || st.Identity != "mn@example.com" ||
		bytes.Contains(doc, []byte(hex.EncodeToString(msk[:8]))) {
		t.Fatalf("status %s", doc)
	}

	// Re-authentication (802.1X-2004 §8.2.4): the authenticator's
	// unsolicited Identity Request on the link the node stays on starts
	// a new EAP-TLS exchange whose MSK replaces nar's.
	reqID, _ := eap.Packet{Code: eap.CodeRequest, Identifier: 9, Type: eap.TypeIdentity}.Marshal()
	pdu, _ := eap.EAPOL{Version: eap.EAPOLVersion2004, Type: eap.EAPOLEAPPacket, Body: reqID}.Marshal()
	if err := authLink.WriteTo(pdu, net.HardwareAddr{2, 0, 0, 0, 0x5e, 2}); err != nil {
		t.Fatal(err)
	}
	reauth, err := eaptest.RelayAuthenticator(ctx, authLink, relay)
	if err != nil || reauth.Outcome != radius.EAPAccept || reauth.MSK.Equal(&res.MSK) {
		t.Fatalf("re-authentication: %v, outcome %d, same MSK %v", err, reauth.Outcome, reauth.MSK.Equal(&res.MSK))
	}
	testenv.Eventually(t, 5*time.Second, "the re-authentication's MSK kept for "+nar.String(), func() (bool, string) {
		k, ok := e.MSK(nar)
		return ok && reauth.MSK.Equal((*eap.MSK)(&k)), fmt.Sprintf("have %v, equal to the first %v", ok, res.MSK.Equal((*eap.MSK)(&k)))
	})
	if st := e.sup.Status(); st.Authentications != 2 {
		t.Errorf("status %+v, want 2 authentications", st)
	}

	// No authenticator on wlan1 this time: the MSK of nar is dropped.
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if err := n.authenticateLink(short, 1); err == nil {
		t.Fatal("authenticated without an authenticator")
	}
	if _, ok := e.MSK(nar); ok {
		t.Fatal("the MSK survived a failed authentication")
	}
	if len(opened) != 2 || opened[0] != "wlan1" {
		t.Fatalf("EAPOL opened on %v", opened)
	}
}
