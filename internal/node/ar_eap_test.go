package node

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/keystore"
)

// TestOpenRouterEAPNeedsBolt: OpenRouter refuses the MSK mode ([eap])
// with an in-memory key store, naming key_store.type, before it opens any
// socket (no root needed), and closes the relay it was given; a store the
// caller passed stays open.
func TestOpenRouterEAPNeedsBolt(t *testing.T) {
	callerStore := keystore.NewMemory()
	defer callerStore.Close()
	for _, tc := range []struct {
		name  string
		store keystore.Store
	}{
		{"no StorePath: in-memory store", nil},
		{"caller's in-memory store", callerStore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relay, err := radius.NewEAPRelay(radius.EAPRelayConfig{Servers: []radius.HomeServer{
				{Addr: netip.MustParseAddrPort("[::1]:1812"), Secret: []byte("secret")}}, NAS: radius.NAS{Identifier: "par"}})
			if err != nil {
				t.Fatal(err)
			}
			r, err := OpenRouter(t.Context(), RouterSpec{Address: netip.MustParseAddr("2001:db8:1::1"), Interface: "lo",
				Store: tc.store, EAP: &RouterEAP{Interfaces: []string{"lo"}, Relay: relay}})
			if r != nil || !errors.Is(err, ErrEAPKeyStore) || !strings.Contains(err.Error(), "key_store.type") || !strings.Contains(err.Error(), "*keystore.Memory") {
				t.Fatalf("OpenRouter: %v, %v; want ErrEAPKeyStore naming key_store.type", r, err)
			}
		})
	}
	if err := callerStore.Put(&keystore.Record{}); errors.Is(err, keystore.ErrClosed) {
		t.Errorf("the caller's store was closed: %v", err)
	}
}

// TestAREAPTimers: [eap]'s reauth, reauth_fraction, min_reauth_period
// and quiet_period reach pae.Config; quiet_period = "0s" (none) becomes
// a negative QuietPeriod, since zero there takes the default.
func TestAREAPTimers(t *testing.T) {
	base := config.AREAP{Servers: []config.RADIUSServer{{Address: netip.MustParseAddrPort("[::1]:1812")}}, Timeout: time.Second, Tries: 1, MaxPending: 1}
	cr := &config.ARCredentials{EAPSecrets: map[netip.AddrPort][]byte{netip.MustParseAddrPort("[::1]:1812"): []byte("secret")}}
	for _, tc := range []struct {
		reauth        bool
		quiet, wantQP time.Duration
	}{{true, time.Minute, time.Minute}, {false, 0, -1}} {
		e := base
		e.Reauth, e.ReauthFraction, e.MinReauthPeriod, e.QuietPeriod = tc.reauth, 0.5, 30*time.Second, tc.quiet
		re, err := arEAP(&config.ARConfig{Address: netip.MustParseAddr("2001:db8:1::1"), EAP: &e}, cr, nil)
		if err != nil {
			t.Fatal(err)
		}
		re.Relay.Close()
		p := re.PAE
		if p.DisableReauth == tc.reauth || p.ReauthFraction != 0.5 || p.MinReauthPeriod != 30*time.Second || p.QuietPeriod != tc.wantQP {
			t.Errorf("reauth %v, quiet %v: pae.Config %+v", tc.reauth, tc.quiet, p)
		}
	}
}
