package node

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

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
