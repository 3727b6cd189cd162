//go:build linux

package pae_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/pae"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/keystore"
)

// link is the authenticator's end of a veth pair, running the fhkey
// authenticator over netio.EAPOLConn and radius.EAPRelay to the shared
// FreeRADIUS, with its MSKs in a bbolt store.
type link struct {
	pair    *testbed.Pair
	auth    *pae.Authenticator
	relay   *radius.EAPRelay
	store   *keystore.Bolt
	msks    *keystore.MSKs
	dbPath  string
	hostMAC net.HardwareAddr
}

func startLink(t *testing.T, tag string, cfg pae.Config) *link {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	freeRADIUS.Require(t)
	ctx, cancel := context.WithCancel(context.Background())
	pair, err := testbed.UpPair(ctx, fmt.Sprintf("fhk-%s%d-", tag, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	l := &link{pair: pair, dbPath: filepath.Join(t.TempDir(), "keys.db")}
	t.Cleanup(func() {
		if err := pair.Down(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if l.store, err = keystore.OpenBolt(l.dbPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.store.Close() })
	if l.msks, err = l.store.MSKs(); err != nil {
		t.Fatal(err)
	}
	l.relay, err = radius.NewEAPRelay(radius.EAPRelayConfig{
		Servers: []radius.HomeServer{{Addr: freeRADIUS.Addr, Secret: freeRADIUS.Secret}},
		NAS:     radius.NAS{Identifier: "fhkey-ar"}, FramedMTU: 1400, Timeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.relay.Close() })
	cfg.Backend, cfg.Store = pae.RADIUS(l.relay), l.msks
	if l.auth, err = pae.New(cfg); err != nil {
		t.Fatal(err)
	}
	var conn *netio.EAPOLConn
	if err := testbed.Do(pair.A(), func() (err error) { conn, err = netio.ListenEAPOL(testbed.PairIfaceA); return err }); err != nil {
		t.Fatal(err)
	}
	if err := testbed.Do(pair.H(), func() error {
		ifi, err := net.InterfaceByName(testbed.PairIfaceH)
		if err == nil {
			l.hostMAC = ifi.HardwareAddr
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- l.auth.Serve(ctx, conn, 100*time.Millisecond) }()
	t.Cleanup(func() {
		cancel()
		<-served
		conn.Close()
	})
	return l
}

// wpaSupplicant starts `wpa_supplicant -D wired` on the host end with a
// private configuration (EAP-TLS, the test PKI's CA, the given client
// certificate), debug output with keys (-dd -K) so that its MSK can be
// read, stopped by PID at the end of the test.
func (l *link) wpaSupplicant(t *testing.T, client *eaptest.Cert, phase1 string) *testenv.Server {
	t.Helper()
	bin := testenv.RequireTool(t, "wpa_supplicant")
	dir := t.TempDir()
	conf := freeRADIUS.PKI.WriteEAPTLSConfig(t, dir, "wpa.conf", client, "ap_scan=0\neapol_version=2\n", phase1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := testenv.StartServer(ctx, "wpa_supplicant", dir, testenv.OutputContains("Successfully initialized wpa_supplicant"),
		"ip", "netns", "exec", l.pair.H(), bin, "-D", "wired", "-i", testbed.PairIfaceH, "-c", conf, "-dd", "-K")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

var derivedKeyRe = regexp.MustCompile(`EAP-TLS: Derived key - hexdump\(len=64\): ([0-9a-f ]+)`)

// supplicantMSK is the MSK wpa_supplicant printed (eap_tls.c, with -K).
func supplicantMSK(t *testing.T, out string) (m hokey.MSK) {
	t.Helper()
	match := derivedKeyRe.FindStringSubmatch(out)
	if match == nil {
		t.Fatalf("wpa_supplicant printed no derived key:\n%s", tail(out, 40))
	}
	k, err := hex.DecodeString(strings.ReplaceAll(match[1], " ", ""))
	if err != nil || len(k) != len(m) {
		t.Fatalf("derived key %q: %v", match[1], err)
	}
	copy(m[:], k)
	return m
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestWpaSupplicantWired: wpa_supplicant -D wired, an independent
// supplicant, authenticates with EAP-TLS (TLS 1.2 and 1.3) through the
// fhkey authenticator (AF_PACKET EAPOL on a veth, RADIUS to FreeRADIUS)
// and reaches AUTHENTICATED; the MSK the authenticator stored for its
// NAI, with its MAC address, equals the MSK wpa_supplicant derived, and
// it is still there after the store is reopened (a router restart).
func TestWpaSupplicantWired(t *testing.T) {
	for _, tc := range []struct{ name, phase1 string }{
		{"TLS 1.2", eaptest.PhaseTLS12},
		{"TLS 1.3", eaptest.PhaseTLS13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := startLink(t, "w", pae.Config{})
			wpa := l.wpaSupplicant(t, freeRADIUS.PKI.Client, tc.phase1)
			testenv.Eventually(t, 20*time.Second, "wpa_supplicant authenticated", func() (bool, string) {
				out := wpa.Output()
				return strings.Contains(out, "CTRL-EVENT-EAP-SUCCESS") && strings.Contains(out, "SUPP_PAE entering state AUTHENTICATED") &&
					l.auth.Stats().Accepted == 1, fmt.Sprintf("stats %+v\n%s", l.auth.Stats(), tail(out, 20))
			})
			if v := map[string]string{"TLS 1.2": "TLSv1.2", "TLS 1.3": "TLSv1.3"}[tc.name]; !strings.Contains(wpa.Output(), v) {
				t.Errorf("wpa_supplicant output does not name %s", v)
			}
			want := supplicantMSK(t, wpa.Output())
			nai := []byte("mn@example.com")
			got, expires, ok := l.msks.LookupMSK(nai)
			if !ok || !got.Equal(&want) {
				t.Fatalf("stored MSK (found %v) differs from wpa_supplicant's", ok)
			}
			if mac, ok := l.msks.SupplicantAddr(nai); !ok || net.HardwareAddr(mac[:]).String() != l.hostMAC.String() {
				t.Errorf("stored MAC %x, want the supplicant's %v", mac, l.hostMAC)
			}
			if d := time.Until(expires); d <= 0 || d > pae.DefaultMSKLifetime {
				t.Errorf("expires in %v", d)
			}
			l.store.Close()
			store, err := keystore.OpenBolt(l.dbPath)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			msks, err := store.MSKs()
			if err != nil {
				t.Fatal(err)
			}
			if again, _, ok := msks.LookupMSK(nai); !ok || !again.Equal(&want) {
				t.Error("MSK lost across reopening the store")
			}
		})
	}
}

// TestWpaSupplicantWrongClient: a client certificate from another CA is
// rejected by FreeRADIUS; wpa_supplicant gets the EAP-Failure through the
// authenticator and no MSK is stored.
func TestWpaSupplicantWrongClient(t *testing.T) {
	l := startLink(t, "x", pae.Config{})
	wpa := l.wpaSupplicant(t, freeRADIUS.PKI.RogueClient, eaptest.PhaseTLS12)
	testenv.Eventually(t, 20*time.Second, "wpa_supplicant rejected", func() (bool, string) {
		return strings.Contains(wpa.Output(), "CTRL-EVENT-EAP-FAILURE") && l.auth.Stats().Rejected >= 1,
			fmt.Sprintf("stats %+v\n%s", l.auth.Stats(), tail(wpa.Output(), 20))
	})
	if _, _, ok := l.msks.LookupMSK([]byte("mn@example.com")); ok || l.msks.Len() != 0 || l.auth.Stats().Accepted != 0 {
		t.Errorf("MSK stored after a rejection (stats %+v)", l.auth.Stats())
	}
}
