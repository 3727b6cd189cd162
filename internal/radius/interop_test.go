package radius

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/peer"
	"github.com/fhkey/fhkey/internal/testenv"
)

// The interop tests' peers: one HKS (this package's Server over a fixed
// key) on loopback, shared by radclient and by one FreeRADIUS started
// per test binary as a realm proxy in front of it (TestMain).
var (
	hksSecret = []byte("hks-secret-5f2c")
	arSecret  = []byte("ar-secret-9b41")

	interop struct {
		hks      *Server
		hksAddr  netip.AddrPort
		hksCalls atomic.Int64
		stop     context.CancelFunc
		dir      string
		frAddr   netip.AddrPort
	}
	freeRADIUS = testenv.NewShared(startFreeRADIUS)
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := freeRADIUS.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if interop.stop != nil {
		interop.stop()
	}
	if interop.dir != "" {
		os.RemoveAll(interop.dir)
	}
	os.Exit(code)
}

// startHKS starts the shared HKS once.
func startHKS() error {
	if interop.hks != nil {
		return nil
	}
	s, err := NewServer(ServerConfig{
		KeyServer: fixedKeyServer(nil, &interop.hksCalls),
		Clients:   []NASClient{{Name: "loopback", Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: hksSecret}},
	})
	if err != nil {
		return err
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go s.Serve(ctx, conn)
	interop.hks, interop.stop = s, cancel
	interop.hksAddr = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return nil
}

// freePort returns a UDP port on 127.0.0.1 free a moment ago.
func freePort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// exampleDictionary is examples/dictionary.fhkey, which the interop
// peers load.
func exampleDictionary() (string, error) {
	b, err := os.ReadFile("../../examples/dictionary.fhkey")
	return string(b), err
}

// proxyConf is examples/freeradius/proxy.conf with the home server's
// ipaddr, port and secret replaced by the test HKS's.
func proxyConf(hks netip.AddrPort, secret []byte) (string, error) {
	b, err := os.ReadFile("../../examples/freeradius/proxy.conf")
	if err != nil {
		return "", err
	}
	s := string(b)
	for _, r := range []struct{ key, value string }{
		{"ipaddr", hks.Addr().String()},
		{"port", fmt.Sprint(hks.Port())},
		{"secret", string(secret)},
	} {
		re := regexp.MustCompile(`(?m)^(\s*` + r.key + `\s*=\s*)\S+$`)
		if n := len(re.FindAllStringIndex(s, -1)); n != 1 {
			return "", fmt.Errorf("proxy.conf: %d lines %q, want 1", n, r.key)
		}
		s = re.ReplaceAllString(s, "${1}"+r.value)
	}
	return s, nil
}

// startFreeRADIUS starts the shared HKS and FreeRADIUS in front of it.
func startFreeRADIUS() (*testenv.Server, error) {
	if err := startHKS(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "fhkey-freeradius-")
	if err != nil {
		return nil, err
	}
	interop.dir = dir
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	proxy, err := proxyConf(interop.hksAddr, hksSecret)
	if err != nil {
		return nil, err
	}
	dict, err := exampleDictionary()
	if err != nil {
		return nil, err
	}
	interop.frAddr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	fr := &peer.FreeRADIUS{
		Dir: dir, Listen: interop.frAddr, Proxy: proxy, Dictionaries: []string{dict}, Debug: true,
		Clients: []peer.FreeRADIUSClient{{Name: "ar", Prefix: netip.MustParsePrefix("127.0.0.1/32"), Secret: string(arSecret),
			RequireMessageAuthenticator: true}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return fr.Start(ctx)
}

func requireFreeRADIUS(t *testing.T) *testenv.Server {
	t.Helper()
	testenv.RequireTool(t, "freeradius")
	s, err := freeRADIUS.Get()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFreeRADIUSProxy: Client → FreeRADIUS 3.2 (realm proxy, configured
// with examples/freeradius/proxy.conf and examples/dictionary.fhkey) →
// Server, and back with the key re-encrypted by FreeRADIUS for the AR.
func TestFreeRADIUSProxy(t *testing.T) {
	fr := requireFreeRADIUS(t)
	c := newClient(t, ClientConfig{
		Realms:  map[string][]HomeServer{"example.com": {{Addr: interop.frAddr, Secret: arSecret}}},
		Default: []HomeServer{{Addr: interop.frAddr, Secret: arSecret}},
		Timeout: 1500 * time.Millisecond, Tries: 2,
	})
	ctx := context.Background()
	kr, err := c.RequestKey(ctx, testKeyRequest())
	if err != nil {
		t.Fatalf("%v; client %+v; HKS %+v\n%s", err, c.Stats(), interop.hks.Stats(), tail(fr.Output()))
	}
	want := testKeyResponse(t)
	if !kr.HK.Equal(&want.HK) || string(kr.HKSNonce) != string(testNonce) || kr.Lifetime != want.Lifetime {
		t.Fatalf("through FreeRADIUS: %+v", kr)
	}

	req := testKeyRequest()
	req.NAI = "refuse@example.com"
	if kr, err = c.RequestKey(ctx, req); err != nil || kr.Status != 137 {
		t.Fatalf("refusal through FreeRADIUS: %+v, %v", kr, err)
	}
	if s := c.Stats(); s.Accepts != 1 || s.Rejects != 1 || s.DroppedMessageAuth+s.DroppedAuth+s.DroppedIdentifier != 0 {
		t.Fatalf("client stats %+v", s)
	}
}

// TestFreeRADIUSUnknownRealm: a realm the proxy does not serve gets no
// answer from FreeRADIUS (ErrNoAnswer at the client); one the client's
// table lacks (no default route) is refused locally (ErrUnknownRealm).
func TestFreeRADIUSUnknownRealm(t *testing.T) {
	requireFreeRADIUS(t)
	c := newClient(t, ClientConfig{
		Default: []HomeServer{{Addr: interop.frAddr, Secret: arSecret}},
		Timeout: 200 * time.Millisecond, Tries: 2,
	})
	req := testKeyRequest()
	req.NAI = "mn@unknown.example.org"
	calls := interop.hksCalls.Load()
	if _, err := c.RequestKey(context.Background(), req); !errorsIs(err, "aaa: no answer") {
		t.Fatalf("err %v, want aaa.ErrNoAnswer", err)
	}
	if interop.hksCalls.Load() != calls {
		t.Fatal("the HKS was asked")
	}
	local := newClient(t, ClientConfig{Realms: map[string][]HomeServer{"example.com": {{Addr: interop.frAddr, Secret: arSecret}}}})
	if _, err := local.RequestKey(context.Background(), req); !errorsIs(err, ErrUnknownRealm.Error()) || local.Stats().UnknownRealm != 1 {
		t.Fatalf("err %v, stats %+v; want ErrUnknownRealm", err, local.Stats())
	}
}

// TestFreeRADIUSWrongSecret: an AR with the wrong secret gets no answer:
// FreeRADIUS drops its request because the Message-Authenticator does not
// verify, and says so.
func TestFreeRADIUSWrongSecret(t *testing.T) {
	fr := requireFreeRADIUS(t)
	c := newClient(t, ClientConfig{
		Realms:  map[string][]HomeServer{"example.com": {{Addr: interop.frAddr, Secret: []byte("not-the-ar-secret")}}},
		Timeout: 200 * time.Millisecond, Tries: 1,
	})
	if _, err := c.RequestKey(context.Background(), testKeyRequest()); !errorsIs(err, "aaa: no answer") {
		t.Fatalf("err %v, want aaa.ErrNoAnswer", err)
	}
	testenv.Eventually(t, 5*time.Second, "FreeRADIUS reports the bad Message-Authenticator", func() (bool, string) {
		out := fr.Output()
		return strings.Contains(out, "invalid Message-Authenticator"), tail(out)
	})
}

// TestRadclient: radclient (FreeRADIUS) builds an Access-Request from
// examples/dictionary.fhkey, sends it to the Server, and decrypts the
// FHkey-Handover-Key of the Access-Accept (encrypt=2) with the secret.
func TestRadclient(t *testing.T) {
	radclient := testenv.RequireTool(t, "radclient")
	if err := startHKS(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dict, err := exampleDictionary()
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.DictionaryDir(dir, dict); err != nil {
		t.Fatal(err)
	}
	attrs := fmt.Sprintf("User-Name = \"mn@example.com\"\nNAS-Identifier = \"radclient\"\nFHkey-AR-ID = %s\nFHkey-HKReq = 0x%x\nMessage-Authenticator = 0x00\n", testAR, testHKReq)
	cmd := exec.Command(radclient, "-x", "-d", dir, "-r", "2", "-t", "3", interop.hksAddr.String(), "auth", string(hksSecret))
	cmd.Stdin = strings.NewReader(attrs)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("radclient: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Received Access-Accept",
		fmt.Sprintf("FHkey-Handover-Key = 0x%x", testHK),
		fmt.Sprintf("FHkey-HKS-Nonce = 0x%x", testNonce),
		"FHkey-Key-Lifetime = 300",
		"Message-Authenticator = 0x",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("radclient output lacks %q:\n%s", want, out)
		}
	}
}

func errorsIs(err error, text string) bool { return err != nil && strings.Contains(err.Error(), text) }

// tail is the end of a long output, for failure messages.
func tail(s string) string {
	if len(s) > 6000 {
		return "…" + s[len(s)-6000:]
	}
	return s
}
