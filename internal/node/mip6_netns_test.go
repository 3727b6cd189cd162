//go:build linux

package node

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hachannel"
	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mip6tls"
)

// provisionIn runs a HAC→HA channel client from a network namespace (the
// HAC's sessions run on threads of the test's namespace).
type provisionIn struct {
	netns string
	c     *hachannel.Client
}

func (p provisionIn) Provision(ctx context.Context, sa *hac.Provisioned) error {
	return testbed.Do(p.netns, func() error { return p.c.Provision(ctx, sa) })
}

// runDaemonIn runs a daemon's options in netns until the test ends and
// waits for it to be ready; the log goes to name in dir.
func runDaemonIn[C any](t *testing.T, netns, dir, name string, opts daemon.Options[C]) haLog {
	t.Helper()
	log := haLog{filepath.Join(dir, name)}
	f, err := os.Create(log.path)
	if err != nil {
		t.Fatal(err)
	}
	opts.Stderr = f
	opts.Signals = make(chan os.Signal)
	ready := make(chan struct{})
	opts.Ready = func(net.Addr) { close(ready) }
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- testbed.Do(netns, func() error { return daemon.Run(ctx, opts) }) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("%s: %v\n%s", name, err, log.String())
		}
		f.Close()
	})
	select {
	case <-ready:
	case err := <-done:
		done <- err
		t.Fatalf("%s stopped: %v\n%s", name, err, log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not ready\n%s", name, log.String())
	}
	return log
}

// TestMIP6DaemonNetns runs `fhkey mip6`'s daemon with a home-address TUN
// in one namespace (care-of address on the pair's link) and `fhkey ha`'s
// daemon with its real TUN home link in the other, a HAC node beside it:
// the MN bootstraps over TLS, registers, and a socket bound to the home
// address in the MN's namespace reaches a correspondent node in the HA's
// namespace through the HA and gets its reply back the same way.
func TestMIP6DaemonNetns(t *testing.T) {
	pair, ctx := upTestPair(t, "mt")
	cn := netip.AddrPortFrom(netip.MustParseAddr("2001:db8:9::9"), 9000)
	for _, args := range [][]string{
		{"-n", pair.A(), "link", "set", "lo", "up"},
		{"-n", pair.H(), "link", "set", "lo", "up"},
		{"-n", pair.A(), "-6", "addr", "add", cn.Addr().String() + "/128", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}

	dir := t.TempDir()
	pki := eaptest.NewPKI(t)
	psk := []byte("mip6-netns-test-psk")
	for name, b := range map[string][]byte{"ha-cert.pem": pki.Server.CertPEM, "ha-key.pem": pki.Server.KeyPEM,
		"ca.pem": pki.CA.CertPEM, "mn.psk": psk} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	haConf := write("ha.toml", `listen = "[::]:7872"
[home_link]
prefix = "`+haHomePrefix.String()+`"
address = "`+testbed.PairAddrA.String()+`"
tun = "fhkha1"
[state]
path = "ha.db"
[hac_channel]
listen = "[::1]:7873"
certificate = "ha-cert.pem"
key = "ha-key.pem"
client_ca = "ca.pem"
[log]
level = "debug"
`)
	haLogs := runDaemonIn(t, pair.A(), dir, "ha.log", HAOptions(haConf, nil))

	// The HAC node in the HA's namespace.
	subs := hac.NewMemory()
	if err := subs.Put(ctx, hac.Subscriber{Identity: "mn@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK},
		PSK: psk, HomeAddress: haHoA}); err != nil {
		t.Fatal(err)
	}
	channel := &hachannel.Client{Addr: "[::1]:7873", Conns: 1, TLS: &tls.Config{Certificates: []tls.Certificate{pki.Client.TLS()},
		RootCAs: pki.Pool(), ServerName: eaptest.ServerName}}
	defer channel.Close()
	var hacNode *HAC
	if err := testbed.Do(pair.A(), func() (err error) {
		hacNode, err = OpenHAC(HACSpec{Listen: netip.AddrPortFrom(testbed.PairAddrA, 0), Certificate: pki.Server.TLS(),
			Role: hac.Config{Subscribers: subs, Provisioner: provisionIn{pair.A(), channel}, HomeAgent: testbed.PairAddrA, Port: 7872}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	hacCtx, hacStop := context.WithCancel(ctx)
	hacDone := make(chan error, 1)
	go func() { hacDone <- hacNode.Serve(hacCtx) }()
	defer func() { hacStop(); <-hacDone }()

	mnConf := write("mip6.toml", fmt.Sprintf(`care_of = %q
tun = "fhkmn0"
tun_mtu = 1320
lifetime = "60s"
[mip6tls]
hac = %q
server_name = %q
ca = "ca.pem"
identity = "mn@example.com"
psk_file = "mn.psk"
[log]
level = "debug"
[http]
listen = "127.0.0.1:9754"
`, testbed.PairAddrH, hacNode.Addr().String(), eaptest.ServerName))
	mnLogs := runDaemonIn(t, pair.H(), dir, "mip6.log", MIP6Options(mnConf, nil, "", HACBootstrapper))
	logs := func() string { return "HA:\n" + haLogs.String() + "\nMN:\n" + mnLogs.String() }

	client := netnsHTTPClient(pair.H())
	testenv.Eventually(t, 10*time.Second, "MN registered", func() (bool, string) {
		resp, err := client.Get("http://127.0.0.1:9754/status")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var st struct {
			Role mip6mn.Status `json:"role"`
		}
		if json.Unmarshal(b, &st) != nil {
			return false, string(b)
		}
		return st.Role.State == mip6mn.StateRegistered && st.Role.HomeAddress == haHoA, string(b)
	})

	// tun_mtu: the home-address TUN has the configured MTU, not the
	// default.
	if err := testbed.Do(pair.H(), func() error {
		ifc, err := net.InterfaceByName("fhkmn0")
		if err == nil && ifc.MTU != 1320 {
			err = fmt.Errorf("fhkmn0 MTU %d, want 1320 (tun_mtu)", ifc.MTU)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}

	var cnConn, hoaConn *net.UDPConn
	if err := testbed.Do(pair.A(), func() (err error) {
		cnConn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(cn))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer cnConn.Close()
	hoa := netip.AddrPortFrom(haHoA, 5555)
	if err := testbed.Do(pair.H(), func() (err error) {
		hoaConn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(hoa))
		return err
	}); err != nil {
		t.Fatalf("bind to the home address in the MN's namespace: %v\n%s", err, logs())
	}
	defer hoaConn.Close()
	if _, err := hoaConn.WriteToUDPAddrPort([]byte("hello"), cn); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	_ = cnConn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := cnConn.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "hello" || from != hoa {
		t.Fatalf("CN got %q from %v, %v\n%s", buf[:n], from, err, logs())
	}
	if _, err := cnConn.WriteToUDPAddrPort([]byte("world"), hoa); err != nil {
		t.Fatal(err)
	}
	_ = hoaConn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err = hoaConn.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "world" || from != cn {
		t.Fatalf("the home address got %q from %v, %v\n%s", buf[:n], from, err, logs())
	}
}
