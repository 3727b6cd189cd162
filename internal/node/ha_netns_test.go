//go:build linux

package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/eap/eaptest"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hachannel"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// udpPacket is an IPv6/UDP packet with a valid checksum.
func udpPacket(src, dst netip.AddrPort, payload []byte) []byte {
	u := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
	copy(u[8:], payload)
	binary.BigEndian.PutUint16(u[6:], inet.Checksum(src.Addr(), dst.Addr(), 17, u))
	p := make([]byte, 40, 40+len(u))
	p[0] = 0x60
	binary.BigEndian.PutUint16(p[4:], uint16(len(u)))
	p[6], p[7] = 17, 64
	s, d := src.Addr().As16(), dst.Addr().As16()
	copy(p[8:], s[:])
	copy(p[24:], d[:])
	return append(p, u...)
}

// TestHADaemonNetns runs `fhkey ha`'s daemon (HAOptions, as the command
// does) in a network namespace with a real TUN home link: the SA comes
// over the HAC→HA mutual-TLS channel (hachannel.Client), a mobile node on loopback registers over UDP, its
// reverse-tunneled UDP datagram reaches a correspondent node on the other
// side of the home agent's link, and the answer comes back sealed; /status
// shows the SA without its keys and the binding, /metrics the counters.
func TestHADaemonNetns(t *testing.T) {
	pair, ctx := upTestPair(t, "ha")
	for _, args := range [][]string{
		{"-n", pair.A(), "link", "set", "lo", "up"},
		{"netns", "exec", pair.A(), "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"},
		{"-n", pair.H(), "-6", "route", "add", haHomePrefix.String(), "via", testbed.PairAddrA.String()},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}

	dir := t.TempDir()
	pki := eaptest.NewPKI(t)
	for name, b := range map[string][]byte{"ha-cert.pem": pki.Server.CertPEM, "ha-key.pem": pki.Server.KeyPEM, "hac-ca.pem": pki.CA.CertPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sa, bs := haTestSA(t, time.Now().Add(time.Hour).Truncate(time.Second))
	bs.HomeAgent6 = testbed.PairAddrA // mip6-haa-ip6: where the MN sends
	conf := filepath.Join(dir, "ha.toml")
	if err := os.WriteFile(conf, []byte(`listen = "[::]:7872"
[home_link]
prefix = "`+haHomePrefix.String()+`"
tun = "fhkha0"
[state]
path = "ha.db"
[hac_channel]
listen = "[::1]:7873"
certificate = "ha-cert.pem"
key = "ha-key.pem"
client_ca = "hac-ca.pem"
[log]
level = "debug"
[http]
listen = "127.0.0.1:9753"
`), 0o600); err != nil {
		t.Fatal(err)
	}

	log := haLog{filepath.Join(dir, "ha.log")}
	logFile, err := os.Create(log.path)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	opts := HAOptions(conf, logFile)
	opts.Signals = make(chan os.Signal)
	ready := make(chan struct{})
	opts.Ready = func(net.Addr) { close(ready) }
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = testbed.Do(pair.A(), func() error { return daemon.Run(runCtx, opts) })
	}()
	defer func() {
		stop()
		<-done
		if runErr != nil {
			t.Errorf("daemon: %v\n%s", runErr, log.String())
		}
	}()
	select {
	case <-ready:
	case <-done:
		t.Fatalf("daemon stopped\n%s", log.String())
	case <-ctx.Done():
		t.Fatalf("daemon not ready\n%s", log.String())
	}

	// The HAC gives the HA the SA over the mutual-TLS channel (a client
	// certificate of another CA is refused).
	provision := func(client *eaptest.Cert) error {
		c := &hachannel.Client{Addr: "[::1]:7873", TLS: &tls.Config{Certificates: []tls.Certificate{client.TLS()},
			RootCAs: pki.Pool(), ServerName: eaptest.ServerName}, Conns: 1}
		defer c.Close()
		return testbed.Do(pair.A(), func() error {
			return c.Provision(ctx, &hac.Provisioned{Identity: "mn@example.com", SA: sa, Bootstrap: bs})
		})
	}
	if err := provision(pki.RogueClient); err == nil {
		t.Error("the HA accepted an SA from a client certificate of another CA")
	}
	if err := provision(pki.Client); err != nil {
		t.Fatalf("HAC channel: %v\n%s", err, log.String())
	}

	// The MN on loopback in the HA's namespace, the CN on the far end.
	var cnConn *net.UDPConn
	cnAddr := netip.AddrPortFrom(testbed.PairAddrH, 9000)
	if err := testbed.Do(pair.H(), func() (err error) {
		cnConn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(cnAddr))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer cnConn.Close()
	// The mobile node is internal/mip6mn's role on a UDP socket in the HA's
	// namespace, its care-of address the HA's link address.
	var mnConn *net.UDPConn
	if err := testbed.Do(pair.A(), func() (err error) {
		mnConn, err = net.ListenUDP("udp", &net.UDPAddr{IP: testbed.PairAddrA.AsSlice()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer mnConn.Close()
	mnSA, mnBS := sa, bs // the role zeroes the keys it is given
	var mu sync.Mutex
	mn, err := mip6mn.New(mip6mn.Config{Now: time.Now, Lifetime: time.Minute,
		Send: func(to netip.AddrPort, p []byte) error { _, err := mnConn.WriteToUDPAddrPort(p, to); return err }}, &mnSA, &mnBS)
	if err != nil {
		t.Fatal(err)
	}
	innerFromHA := make(chan []byte, 4)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := mnConn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			mu.Lock()
			inner, err := mn.HandlePacket(from, buf[:n])
			mu.Unlock()
			if err == nil && inner != nil {
				innerFromHA <- bytes.Clone(inner)
			}
		}
	}()
	mu.Lock()
	if err := mn.SetCareOfAddress(testbed.PairAddrA); err != nil {
		t.Fatal(err)
	}
	if err := mn.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Unlock()
	testenv.Eventually(t, 5*time.Second, "MN registered", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		st := mn.Status()
		return st.State == mip6mn.StateRegistered, fmt.Sprintf("%+v", st)
	})

	hoaPort := netip.AddrPortFrom(haHoA, 5555)
	mu.Lock()
	err = mn.SendData(udpPacket(hoaPort, cnAddr, []byte("hello")))
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	_ = cnConn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := cnConn.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "hello" || from != hoaPort {
		t.Fatalf("CN got %q from %v, %v\n%s", buf[:n], from, err, log.String())
	}
	if _, err := cnConn.WriteToUDPAddrPort([]byte("world"), hoaPort); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-innerFromHA:
		if len(p) != 40+8+5 || string(p[48:]) != "world" {
			t.Fatalf("MN got %x", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("nothing back at the MN\n%s", log.String())
	}

	// /status and /metrics, over a connection made in the namespace.
	client := netnsHTTPClient(pair.A())
	get := func(path string) string {
		resp, err := client.Get("http://127.0.0.1:9753" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	status := get("/status")
	var doc struct {
		Role HAStatus `json:"role"`
	}
	if err := json.Unmarshal([]byte(status), &doc); err != nil {
		t.Fatalf("/status: %v: %s", err, status)
	}
	r := doc.Role
	if len(r.SAs) != 1 || r.SAs[0].SPI != 4242 || r.SAs[0].Suite != "AES_128_CBC_SHA256" || r.SAs[0].HomeAddress != haHoA ||
		len(r.Bindings) != 1 || r.Bindings[0].HomeAddress != haHoA || r.Bindings[0].CareOf.Addr() != testbed.PairAddrA ||
		r.Counters.DataFromMobile != 1 || r.Counters.DataToMobile != 1 || r.Counters.BindingUpdatesAccepted != 1 {
		t.Errorf("/status role: %+v", r)
	}
	for _, k := range [][]byte{sa.MNToHAIntegrity.Bytes(), sa.HAToMNIntegrity.Bytes(), sa.MNToHAEncryption.Bytes(), sa.HAToMNEncryption.Bytes()} {
		if strings.Contains(strings.ToLower(status), fmt.Sprintf("%x", k)) {
			t.Error("/status shows a key")
		}
	}
	metrics := get("/metrics")
	for _, want := range []string{`fhkey_ha_data_packets_total{direction="from_mobile"} 1`, `fhkey_ha_binding_updates_total{status="accepted"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// haLog reads the daemon's log file (os.File writes are safe while the
// daemon logs).
type haLog struct{ path string }

func (l haLog) String() string {
	b, _ := os.ReadFile(l.path)
	return string(b)
}
