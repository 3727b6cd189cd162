//go:build linux

package pae_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
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

// wpa is a running `wpa_supplicant -D wired` on the host end and its
// control interface.
type wpa struct {
	*testenv.Server
	ctrl string // control interface directory (ctrl_interface)
	cli  string // the wpa_cli binary
}

// wpaSupplicant starts `wpa_supplicant -D wired` on the host end with a
// private configuration (EAP-TLS, the test PKI's CA, the given client
// certificate, a control interface), debug output with keys (-dd -K) so
// that its MSK can be read, stopped by PID at the end of the test. Its
// network starts disabled: each of set ("EAPOL::heldPeriod 1", the
// fields of wpa_cli's SET) is sent to the control interface first, then
// the network is enabled, so that the settings hold from the first
// authentication on (none is in the configuration file's syntax).
func (l *link) wpaSupplicant(t *testing.T, client *eaptest.Cert, phase1 string, set ...string) *wpa {
	t.Helper()
	bin := testenv.RequireTool(t, "wpa_supplicant")
	w := &wpa{cli: testenv.RequireTool(t, "wpa_cli")}
	dir := t.TempDir()
	w.ctrl = filepath.Join(dir, "ctrl")
	conf := freeRADIUS.PKI.WriteEAPTLSConfig(t, dir, "wpa.conf", client, "ctrl_interface="+w.ctrl+"\nap_scan=0\neapol_version=2\n", phase1, "\tdisabled=1\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := testenv.StartServer(ctx, "wpa_supplicant", dir, testenv.OutputContains("Successfully initialized wpa_supplicant"),
		"ip", "netns", "exec", l.pair.H(), bin, "-D", "wired", "-i", testbed.PairIfaceH, "-c", conf, "-dd", "-K")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	w.Server = s
	// "Successfully initialized" comes before the interface is added.
	testenv.Eventually(t, 5*time.Second, "wpa_supplicant's control interface", func() (bool, string) {
		out, err := w.command("PING")
		return out == "PONG", fmt.Sprintf("%q %v", out, err)
	})
	for _, cmd := range append(set, "ENABLE_NETWORK 0") {
		if cmd != "ENABLE_NETWORK 0" {
			cmd = "SET " + cmd
		}
		if out, err := w.command(strings.Fields(cmd)...); err != nil || out != "OK" {
			t.Fatalf("wpa_cli %s: %q %v\n%s", cmd, out, err, tail(w.Output(), 30))
		}
	}
	return w
}

// command sends args to wpa_supplicant's control interface with wpa_cli
// and returns the answer, trimmed.
func (w *wpa) command(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, w.cli, append([]string{"-p", w.ctrl, "-i", testbed.PairIfaceH}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// status is wpa_cli status: each "field=value" line as a map entry
// ("Supplicant PAE state", "suppPortStatus", "EAP state", ...).
func (w *wpa) status() (map[string]string, error) {
	out, err := w.command("status")
	if err != nil {
		return nil, fmt.Errorf("wpa_cli status: %w: %s", err, out)
	}
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m, nil
}

var derivedKeyRe = regexp.MustCompile(`EAP-TLS: Derived key - hexdump\(len=64\): ([0-9a-f ]+)`)

// supplicantMSKs are the MSKs wpa_supplicant printed (eap_tls.c, with
// -K), one per EAP-TLS method completed, in order. With TLS 1.3 it
// prints each twice, when the handshake is done and again when it
// acknowledges the commitment message (RFC 9190 §2.1.1): a key equal to
// the one before is not counted again.
func supplicantMSKs(t *testing.T, out string) []hokey.MSK {
	t.Helper()
	var keys []hokey.MSK
	for _, match := range derivedKeyRe.FindAllStringSubmatch(out, -1) {
		var m hokey.MSK
		k, err := hex.DecodeString(strings.ReplaceAll(match[1], " ", ""))
		if err != nil || len(k) != len(m) {
			t.Fatalf("derived key %q: %v", match[1], err)
		}
		copy(m[:], k)
		if len(keys) == 0 || !keys[len(keys)-1].Equal(&m) {
			keys = append(keys, m)
		}
	}
	return keys
}

// supplicantMSK is the first MSK wpa_supplicant printed.
func supplicantMSK(t *testing.T, out string) hokey.MSK {
	t.Helper()
	keys := supplicantMSKs(t, out)
	if len(keys) == 0 {
		t.Fatalf("wpa_supplicant printed no derived key:\n%s", tail(out, 40))
	}
	return keys[0]
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
