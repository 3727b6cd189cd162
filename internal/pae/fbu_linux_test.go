//go:build linux

package pae_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/pae"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// TestMSKFastBindingUpdateAfter8021X: the whole MSK mode at the PAR with
// real peers. wpa_supplicant authenticates through the fhkey
// authenticator; a mobile node holding wpa_supplicant's MSK sends FBUs
// for two PCoAs to a PAR reading that MSK store and the kernel's neighbor
// table of the access link: the supplicant's own address (its neighbor
// entry resolved by the kernel, the supplicant's MAC) is accepted; an
// address whose entry is another MAC is refused with FBack 129 and
// nothing is bound.
func TestMSKFastBindingUpdateAfter8021X(t *testing.T) {
	l := startLink(t, "m", pae.Config{})
	wpa := l.wpaSupplicant(t, freeRADIUS.PKI.Client, eaptest.PhaseTLS12)
	testenv.Eventually(t, 20*time.Second, "wpa_supplicant authenticated", func() (bool, string) {
		return strings.Contains(wpa.Output(), "CTRL-EVENT-EAP-SUCCESS") && l.auth.Stats().Accepted == 1,
			fmt.Sprintf("stats %+v\n%s", l.auth.Stats(), tail(wpa.Output(), 20))
	})
	msk := supplicantMSK(t, wpa.Output())

	// The PAR's neighbor table of its access link: the supplicant's
	// address resolved by the kernel, another address set to another MAC.
	stranger := netip.MustParseAddr("2001:db8:1::77")
	if _, err := l.pair.IP(context.Background(), l.pair.A(), "neigh", "replace", stranger.String(), "lladdr", "02:00:00:00:77:77", "dev", testbed.PairIfaceA, "nud", "permanent"); err != nil {
		t.Fatal(err)
	}
	var neighbors *netio.NeighborTable
	if err := testbed.Do(l.pair.A(), func() (err error) {
		if neighbors, err = netio.NewNeighborTable(testbed.PairIfaceA); err != nil {
			return err
		}
		c, err := net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(testbed.PairAddrH, 9)))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("x"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer neighbors.Close()
	testenv.Eventually(t, 5*time.Second, "neighbor entry of the supplicant", func() (bool, string) {
		mac, ok := neighbors.LinkAddr(testbed.PairAddrH)
		return ok, fmt.Sprintf("%x %v", mac, ok)
	})

	bindings := ar.NewBindingTable(nil)
	par, err := ar.New(ar.Config{Address: testbed.PairAddrA, Store: keystore.NewMemory(), Bindings: bindings, Limits: &ar.Limits{},
		MSK: &ar.MSKConfig{Source: l.msks, Neighbors: neighbors}})
	if err != nil {
		t.Fatal(err)
	}
	node, err := mn.New(mn.Config{MSK: &mn.MSKConfig{NAI: "mn@example.com", AT: hokey.HMACSHA256Trunc128,
		Source: mn.MSKFunc(func(netip.Addr) ([hokey.MSKLen]byte, bool) { return msk, true })}})
	if err != nil {
		t.Fatal(err)
	}
	ncoa := netip.MustParseAddr("2001:db8:2::2")
	for _, c := range []struct {
		pcoa   netip.Addr
		status uint8
		bound  bool
	}{
		{stranger, mh.FastStatusAdministrativelyProhibited, false},
		{testbed.PairAddrH, mh.FastStatusAccepted, true},
	} {
		p, err := node.FastBindingUpdate(testbed.PairAddrA, c.pcoa, ncoa, false)
		if err != nil {
			t.Fatal(err)
		}
		out := par.HandlePacket(context.Background(), p)
		if len(out) != 1 {
			t.Fatalf("PCoA %v: %d answers, stats %+v", c.pcoa, len(out), par.Stats())
		}
		ev, err := node.HandlePacket(context.Background(), out[0])
		if err != nil || ev.Status != c.status {
			t.Errorf("PCoA %v: FBack %+v %v, want status %d", c.pcoa, ev, err, c.status)
		}
		if b, ok := bindings.Lookup(c.pcoa); ok != c.bound || (ok && b.New != ncoa) {
			t.Errorf("PCoA %v: binding %+v %v, want bound %v", c.pcoa, b, ok, c.bound)
		}
	}
	if s := par.Stats(); s.FBUAcceptedMSK != 1 || s.FBUMSKNotOwner != 1 {
		t.Errorf("PAR stats %+v", s)
	}
}
