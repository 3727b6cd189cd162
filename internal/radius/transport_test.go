package radius

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/internal/testenv"
)

// keyServerFunc adapts a function to aaa.KeyServer.
type keyServerFunc func(ctx context.Context, req aaa.KeyRequest) (aaa.KeyResponse, error)

func (f keyServerFunc) RequestKey(ctx context.Context, req aaa.KeyRequest) (aaa.KeyResponse, error) {
	return f(ctx, req)
}

// fixedKeyServer answers by NAI: "refuse@…" with status 137 and an
// HKResp, "discard@…" with aaa.ErrDiscarded, others with the test key.
func fixedKeyServer(t testing.TB, calls *atomic.Int64) aaa.KeyServer {
	return keyServerFunc(func(_ context.Context, req aaa.KeyRequest) (aaa.KeyResponse, error) {
		calls.Add(1)
		switch {
		case bytes.HasPrefix([]byte(req.NAI), []byte("refuse@")):
			return aaa.KeyResponse{Status: 137, HKResp: []byte{0x3b, 0x02, 0xfb}}, nil
		case bytes.HasPrefix([]byte(req.NAI), []byte("discard@")):
			return aaa.KeyResponse{}, aaa.ErrDiscarded
		case !bytes.Equal(req.HKReq, testHKReq) || req.AR != testAR:
			return aaa.KeyResponse{}, fmt.Errorf("unexpected request %+v", req)
		}
		return testKeyResponse(t), nil
	})
}

// startServer runs a Server on a loopback port until the test ends.
func startServer(t testing.TB, cfg ServerConfig) (*Server, netip.AddrPort) {
	t.Helper()
	if cfg.Clients == nil {
		cfg.Clients = []NASClient{{Name: "lo", Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: testSecret}}
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, conn) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

func newClient(t testing.TB, cfg ClientConfig) *Client {
	t.Helper()
	if !cfg.NAS.Address.IsValid() && cfg.NAS.Identifier == "" {
		cfg.NAS = testNAS
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func realm(addr netip.AddrPort, secret []byte) map[string][]HomeServer {
	return map[string][]HomeServer{"example.com": {{Addr: addr, Secret: secret}}}
}

func TestClientServer(t *testing.T) {
	var calls atomic.Int64
	srv, addr := startServer(t, ServerConfig{KeyServer: fixedKeyServer(t, &calls)})
	c := newClient(t, ClientConfig{Realms: realm(addr, testSecret), Timeout: 2 * time.Second})
	ctx := context.Background()

	kr, err := c.RequestKey(ctx, testKeyRequest())
	if err != nil {
		t.Fatal(err)
	}
	want := testKeyResponse(t)
	if !kr.HK.Equal(&want.HK) || !bytes.Equal(kr.HKSNonce, testNonce) || kr.Lifetime != want.Lifetime {
		t.Fatalf("accept: %+v", kr)
	}

	req := testKeyRequest()
	req.NAI = "refuse@EXAMPLE.com" // realms compare without case
	kr, err = c.RequestKey(ctx, req)
	if err != nil || kr.Status != 137 || !bytes.Equal(kr.HKResp, []byte{0x3b, 0x02, 0xfb}) {
		t.Fatalf("refusal: %+v, %v", kr, err)
	}

	req.NAI = "discard@example.com"
	if _, err = c.RequestKey(ctx, req); !errors.Is(err, aaa.ErrDiscarded) {
		t.Fatalf("discard: %v, want aaa.ErrDiscarded", err)
	}

	req.NAI = "mn@unknown.org"
	if _, err = c.RequestKey(ctx, req); !errors.Is(err, ErrUnknownRealm) {
		t.Fatalf("unknown realm: %v, want ErrUnknownRealm", err)
	}

	cs, ss := c.Stats(), srv.Stats()
	if cs.Requests != 4 || cs.Accepts != 1 || cs.Rejects != 2 || cs.UnknownRealm != 1 || cs.Transmissions != 3 {
		t.Errorf("client stats %+v", cs)
	}
	if ss.Accepts != 1 || ss.Rejects != 2 || ss.Discards != 1 || calls.Load() != 3 {
		t.Errorf("server stats %+v, %d calls", ss, calls.Load())
	}
}

// TestFailover: the first home server never answers; after Tries
// transmissions the client fails over to the second.
func TestFailover(t *testing.T) {
	var calls atomic.Int64
	_, addr := startServer(t, ServerConfig{KeyServer: fixedKeyServer(t, &calls)})
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silentAddr := silent.LocalAddr().(*net.UDPAddr).AddrPort()
	c := newClient(t, ClientConfig{
		Realms:  map[string][]HomeServer{"example.com": {{Addr: silentAddr, Secret: testSecret}, {Addr: addr, Secret: testSecret}}},
		Timeout: 50 * time.Millisecond, Tries: 2,
	})
	if _, err := c.RequestKey(context.Background(), testKeyRequest()); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Failovers != 1 || s.Retransmissions != 1 || s.Transmissions != 3 || s.Accepts != 1 {
		t.Fatalf("stats %+v", s)
	}
	// Both transmissions to the silent server were the same packet (same
	// Identifier and Request Authenticator, RFC 5080 §2.2.1).
	buf := make([]byte, 4096)
	var first []byte
	for i := range 2 {
		silent.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := silent.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = append([]byte(nil), buf[:n]...)
		} else if !bytes.Equal(first, buf[:n]) {
			t.Fatalf("retransmission differs:\n%x\n%x", first, buf[:n])
		}
	}
}

func TestNoAnswer(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c := newClient(t, ClientConfig{Realms: realm(silent.LocalAddr().(*net.UDPAddr).AddrPort(), testSecret), Timeout: 20 * time.Millisecond, Tries: 2})
	if _, err := c.RequestKey(context.Background(), testKeyRequest()); !errors.Is(err, aaa.ErrNoAnswer) {
		t.Fatalf("err %v, want aaa.ErrNoAnswer", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.RequestKey(ctx, testKeyRequest()); !errors.Is(err, aaa.ErrNoAnswer) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err %v, want aaa.ErrNoAnswer and context.Canceled", err)
	}
	if s := c.Stats(); s.Timeouts != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// TestWrongSecretAtClient: the server drops the request (its
// Message-Authenticator does not verify) and counts it; the client gets
// no answer.
func TestWrongSecretAtClient(t *testing.T) {
	var calls atomic.Int64
	srv, addr := startServer(t, ServerConfig{KeyServer: fixedKeyServer(t, &calls)})
	c := newClient(t, ClientConfig{Realms: realm(addr, []byte("not the secret")), Timeout: 30 * time.Millisecond, Tries: 2})
	if _, err := c.RequestKey(context.Background(), testKeyRequest()); !errors.Is(err, aaa.ErrNoAnswer) {
		t.Fatalf("err %v, want aaa.ErrNoAnswer", err)
	}
	if s := srv.Stats(); s.DroppedMessageAuth != 2 || calls.Load() != 0 {
		t.Fatalf("server stats %+v, %d calls", s, calls.Load())
	}
}

func TestServerDropsUnknownClient(t *testing.T) {
	var calls atomic.Int64
	srv, addr := startServer(t, ServerConfig{KeyServer: fixedKeyServer(t, &calls),
		Clients: []NASClient{{Name: "elsewhere", Prefix: netip.MustParsePrefix("192.0.2.0/24"), Secret: testSecret}}})
	c := newClient(t, ClientConfig{Realms: realm(addr, testSecret), Timeout: 20 * time.Millisecond, Tries: 1})
	if _, err := c.RequestKey(context.Background(), testKeyRequest()); !errors.Is(err, aaa.ErrNoAnswer) {
		t.Fatalf("err %v, want aaa.ErrNoAnswer", err)
	}
	if s := srv.Stats(); s.DroppedUnknownClient != 1 {
		t.Fatalf("server stats %+v", s)
	}
}

// sendRaw sends b to addr from a fresh socket and returns the socket.
func sendRaw(t testing.TB, addr netip.AddrPort, b []byte) *net.UDPConn {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	return conn
}

func readReply(t testing.TB, conn *net.UDPConn) []byte {
	t.Helper()
	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// TestServerDuplicates: a retransmission (same source, Identifier and
// Request Authenticator) is answered from the cache with the same bytes,
// without calling the KeyServer again (RFC 5080 §2.2.2); one arriving
// while the first is in progress is dropped.
func TestServerDuplicates(t *testing.T) {
	var calls atomic.Int64
	release := make(chan struct{})
	ks := keyServerFunc(func(ctx context.Context, req aaa.KeyRequest) (aaa.KeyResponse, error) {
		calls.Add(1)
		<-release
		return testKeyResponse(t), nil
	})
	srv, addr := startServer(t, ServerConfig{KeyServer: ks})
	req, err := EncodeRequest(testKeyRequest(), 9, testAuth, testNAS, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	conn := sendRaw(t, addr, req)
	testenv.Eventually(t, 5*time.Second, "first request at the key server", func() (bool, string) {
		return calls.Load() == 1, fmt.Sprintf("%d calls", calls.Load())
	})
	conn.Write(req)
	testenv.Eventually(t, 5*time.Second, "in-progress duplicate dropped", func() (bool, string) {
		s := srv.Stats()
		return s.DuplicatesInProgress == 1, fmt.Sprintf("%+v", s)
	})
	close(release)
	first := append([]byte(nil), readReply(t, conn)...)
	conn.Write(req)
	if second := readReply(t, conn); !bytes.Equal(first, second) {
		t.Fatalf("duplicate answered differently:\n%x\n%x", first, second)
	}
	if s := srv.Stats(); s.DuplicatesAnswered != 1 || calls.Load() != 1 || s.Accepts != 1 {
		t.Fatalf("stats %+v, %d calls", s, calls.Load())
	}
	if _, err := VerifyResponse(first, 9, testAuth, testSecret); err != nil {
		t.Fatal(err)
	}
}

func TestServerStatusServer(t *testing.T) {
	var calls atomic.Int64
	srv, addr := startServer(t, ServerConfig{KeyServer: fixedKeyServer(t, &calls)})
	req := unhex(t, `0c 01 0026 000102030405060708090a0b0c0d0e0f  Status-Server
		50 12 00000000000000000000000000000000  Message-Authenticator`)
	sign(req, maOffset, nil, testSecret)
	reply := readReply(t, sendRaw(t, addr, req))
	if _, err := verifyResponseAny(reply, testAuth); err != nil || reply[0] != 2 {
		t.Fatalf("reply %x: %v", reply, err)
	}
	if s := srv.Stats(); s.StatusServer != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func verifyResponseAny(b []byte, auth [16]byte) ([]byte, error) {
	return b, verifyResponse(b, &auth, testSecret)
}

// fakeRADIUSServer answers each packet it reads with the packets answer
// returns, in order; answer gets the received octets (valid until it
// returns).
func fakeRADIUSServer(t testing.TB, answer func(wire []byte) [][]byte) netip.AddrPort {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	wg.Go(func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			for _, b := range answer(buf[:n]) {
				conn.WriteTo(b, from)
			}
		}
	})
	return conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// fakeHomeServer is a fakeRADIUSServer for handover-key Access-Requests:
// answer gets each one decoded.
func fakeHomeServer(t testing.TB, answer func(req *Request, wire []byte) [][]byte) netip.AddrPort {
	t.Helper()
	return fakeRADIUSServer(t, func(wire []byte) [][]byte {
		req, err := DecodeRequest(wire, testSecret)
		if err != nil {
			t.Errorf("fake home server: %v", err)
			return nil
		}
		return answer(&req, wire)
	})
}

// withoutMessageAuth returns the signed reply good (Message-Authenticator
// first) without its Message-Authenticator, its Response Authenticator
// recomputed for the Request Authenticator reqAuth.
func withoutMessageAuth(good []byte, reqAuth [16]byte) []byte {
	b := append(append([]byte(nil), good[:20]...), good[38:]...)
	b[3] -= 18
	copy(b[4:20], md5Of(b[:4], reqAuth[:], b[20:], testSecret))
	return b
}

// withWrongMessageAuth returns good with one bit of its
// Message-Authenticator flipped, its Response Authenticator recomputed.
func withWrongMessageAuth(good []byte, reqAuth [16]byte) []byte {
	b := append([]byte(nil), good...)
	b[30] ^= 1
	copy(b[4:20], md5Of(b[:4], reqAuth[:], b[20:], testSecret))
	return b
}

// TestClientDropsBadReplies: replies with a wrong Identifier, a wrong
// Response Authenticator (another secret), no Message-Authenticator, a
// wrong one, and a duplicate are dropped and counted; the good one is
// taken.
func TestClientDropsBadReplies(t *testing.T) {
	addr := fakeHomeServer(t, func(req *Request, _ []byte) [][]byte {
		good, err := EncodeResponse(req, Response{KeyResponse: testKeyResponse(t)}, testSecret, 5)
		if err != nil {
			t.Error(err)
		}
		otherID := *req
		otherID.Identifier++
		wrongID, _ := EncodeResponse(&otherID, Response{KeyResponse: testKeyResponse(t)}, testSecret, 5)
		wrongSecret, _ := EncodeResponse(req, Response{KeyResponse: testKeyResponse(t)}, []byte("other"), 5)
		noMA := withoutMessageAuth(good, req.Authenticator)
		badMA := withWrongMessageAuth(good, req.Authenticator)
		return [][]byte{wrongID, wrongSecret, noMA, badMA, good, good}
	})
	c := newClient(t, ClientConfig{Realms: realm(addr, testSecret), Timeout: 5 * time.Second, Tries: 1})
	kr, err := c.RequestKey(context.Background(), testKeyRequest())
	if err != nil {
		t.Fatal(err)
	}
	want := testKeyResponse(t)
	if !kr.HK.Equal(&want.HK) {
		t.Fatal("wrong key")
	}
	testenv.Eventually(t, 5*time.Second, "bad replies counted", func() (bool, string) {
		s := c.Stats()
		return s.DroppedIdentifier == 1 && s.DroppedAuth == 1 && s.DroppedMessageAuth == 2 && s.DroppedDuplicate == 1, fmt.Sprintf("%+v", s)
	})
}

// TestTooManyPending: past MaxPending, RequestKey fails at once.
func TestTooManyPending(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	ks := keyServerFunc(func(ctx context.Context, req aaa.KeyRequest) (aaa.KeyResponse, error) {
		calls.Add(1)
		<-release
		return testKeyResponse(t), nil
	})
	_, addr := startServer(t, ServerConfig{KeyServer: ks})
	c := newClient(t, ClientConfig{Realms: realm(addr, testSecret), Timeout: 5 * time.Second, MaxPending: 2})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := c.RequestKey(context.Background(), testKeyRequest()); err != nil {
				t.Error(err)
			}
		})
	}
	testenv.Eventually(t, 5*time.Second, "two requests at the key server", func() (bool, string) {
		return calls.Load() == 2, fmt.Sprintf("%d calls", calls.Load())
	})
	if _, err := c.RequestKey(context.Background(), testKeyRequest()); !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("third request: %v, want ErrTooManyPending", err)
	}
	close(release)
	wg.Wait()
	if s := c.Stats(); s.TooManyPending != 1 || s.Accepts != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// TestIdentifiersPerSocket: one socket has 256 Identifiers; the 257th
// concurrent request to the same server fails at once.
func TestIdentifiersPerSocket(t *testing.T) {
	sc := &serverConn{}
	for i := range 256 {
		if _, ok := sc.register(&exchange{}); !ok {
			t.Fatalf("register %d failed", i)
		}
	}
	if _, ok := sc.register(&exchange{}); ok {
		t.Fatal("257th Identifier allocated")
	}
}

func TestRealm(t *testing.T) {
	for nai, want := range map[string]string{
		"mn@example.com": "example.com", "mn@Example.COM": "example.com", "mn": "",
		"other.net!mn@example.com": "example.com", "a@b@c": "c",
	} {
		if got := Realm(nai); got != want {
			t.Errorf("Realm(%q) = %q, want %q", nai, got, want)
		}
	}
}

func TestDefaultRoute(t *testing.T) {
	var calls atomic.Int64
	_, addr := startServer(t, ServerConfig{KeyServer: fixedKeyServer(t, &calls)})
	c := newClient(t, ClientConfig{Default: []HomeServer{{Addr: addr, Secret: testSecret}}})
	req := testKeyRequest()
	req.NAI = "mn@anything.org"
	if _, err := c.RequestKey(context.Background(), req); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	addr := netip.MustParseAddrPort("127.0.0.1:1812")
	for name, cfg := range map[string]ClientConfig{
		"no NAS":                 {Realms: realm(addr, testSecret)},
		"empty secret":           {NAS: testNAS, Realms: realm(addr, nil)},
		"realm without":          {NAS: testNAS, Realms: map[string][]HomeServer{"x": nil}},
		"two secrets one server": {NAS: testNAS, Realms: realm(addr, testSecret), Default: []HomeServer{{Addr: addr, Secret: []byte("b")}}},
	} {
		if _, err := NewClient(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err %v, want ErrConfig", name, err)
		}
	}
	if _, err := NewServer(ServerConfig{}); !errors.Is(err, ErrConfig) {
		t.Errorf("server without KeyServer: %v", err)
	}
}

// TestClientInvalidReply: an authenticated Access-Accept without the key
// is an error wrapping aaa.ErrDiscarded and ErrAttribute, naming the
// attribute, and is counted.
func TestClientInvalidReply(t *testing.T) {
	addr := fakeHomeServer(t, func(req *Request, _ []byte) [][]byte {
		p := packetWith(2, vsaAttrBytes(AttrKeyLifetime, []byte{0, 0, 0, 5}), &req.Authenticator)
		p[1] = req.Identifier
		sign(p, maOffset, &req.Authenticator, testSecret)
		return [][]byte{p}
	})
	c := newClient(t, ClientConfig{Realms: realm(addr, testSecret), Timeout: 5 * time.Second, Tries: 1})
	_, err := c.RequestKey(context.Background(), testKeyRequest())
	if !errors.Is(err, aaa.ErrDiscarded) || !errors.Is(err, ErrAttribute) || !strings.Contains(err.Error(), "FHkey-Handover-Key") {
		t.Fatalf("err %v, want aaa.ErrDiscarded and ErrAttribute naming FHkey-Handover-Key", err)
	}
	if s := c.Stats(); s.InvalidReplies != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func vsaAttrBytes(t VendorType, v []byte) []byte {
	return append([]byte{byte(typeVendorSpecific), byte(vsaHeaderLen + 2 + len(v))}, vsa(t, v)...)
}

// TestServerSetClients: a new client list takes effect at the next
// request (the old secret is no longer accepted, the new one is), and an
// invalid list is refused and changes nothing.
func TestServerSetClients(t *testing.T) {
	var calls atomic.Int64
	srv, addr := startServer(t, ServerConfig{KeyServer: fixedKeyServer(t, &calls)})
	newSecret := []byte("rotated-secret-77")
	oldC := newClient(t, ClientConfig{Realms: realm(addr, testSecret), Timeout: 100 * time.Millisecond, Tries: 1})
	newC := newClient(t, ClientConfig{Realms: realm(addr, newSecret), Timeout: 2 * time.Second})
	ctx := context.Background()
	if _, err := oldC.RequestKey(ctx, testKeyRequest()); err != nil {
		t.Fatalf("before SetClients: %v", err)
	}
	lo := netip.MustParsePrefix("127.0.0.0/8")
	if err := srv.SetClients([]NASClient{{Name: "lo", Prefix: lo}}); !errors.Is(err, ErrConfig) {
		t.Fatalf("SetClients without a secret: %v, want ErrConfig", err)
	}
	if _, err := oldC.RequestKey(ctx, testKeyRequest()); err != nil {
		t.Fatalf("after a refused SetClients: %v", err)
	}
	secret := bytes.Clone(newSecret)
	if err := srv.SetClients([]NASClient{{Name: "lo", Prefix: lo, Secret: secret}}); err != nil {
		t.Fatal(err)
	}
	clear(secret) // the server keeps its own copy
	if _, err := newC.RequestKey(ctx, testKeyRequest()); err != nil {
		t.Fatalf("new secret: %v; server %+v", err, srv.Stats())
	}
	if _, err := oldC.RequestKey(ctx, testKeyRequest()); !errors.Is(err, aaa.ErrNoAnswer) {
		t.Fatalf("old secret after SetClients: %v, want aaa.ErrNoAnswer", err)
	}
	if s := srv.Stats(); s.DroppedMessageAuth != 1 || s.Accepts != 3 {
		t.Fatalf("server stats %+v, want 1 dropped (Message-Authenticator), 3 accepts", s)
	}
	// No client at all: every request is from an unknown client.
	if err := srv.SetClients(nil); err != nil {
		t.Fatal(err)
	}
	short := newClient(t, ClientConfig{Realms: realm(addr, newSecret), Timeout: 100 * time.Millisecond, Tries: 1})
	if _, err := short.RequestKey(ctx, testKeyRequest()); !errors.Is(err, aaa.ErrNoAnswer) || srv.Stats().DroppedUnknownClient != 1 {
		t.Fatalf("no clients: %v; server %+v", err, srv.Stats())
	}
}

// TestDuplicateCacheBounded: with a full cache every request expires the
// oldest entry; the cache holds DuplicateCache answers, the insertion
// order stays within twice that (compaction), and the newest answers are
// the ones kept.
func TestDuplicateCacheBounded(t *testing.T) {
	var calls atomic.Int64
	s, err := NewServer(ServerConfig{KeyServer: fixedKeyServer(t, &calls), Clients: []NASClient{{Name: "lo",
		Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: testSecret}}, DuplicateCache: 8})
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddrPort("127.0.0.1:1812")
	for i := range 1000 {
		k := dupKey{src: src, id: uint8(i), auth: [16]byte{byte(i >> 8), byte(i)}}
		if _, dup := s.lookup(k); dup {
			t.Fatalf("request %d seen as a duplicate", i)
		}
		s.remember(k, []byte{byte(i)})
		if len(s.cache) > 9 || len(s.order)-s.head > 9 || len(s.order) > 18 {
			t.Fatalf("after %d requests: %d cached, order %d (head %d)", i+1, len(s.cache), len(s.order), s.head)
		}
	}
	if reply, dup := s.lookup(dupKey{src: src, id: 999 & 0xff, auth: [16]byte{3, 0xe7}}); !dup || len(reply) != 1 || reply[0] != 999&0xff {
		t.Fatalf("newest answer not cached: %v %v", reply, dup)
	}
	if _, dup := s.lookup(dupKey{src: src, id: 0, auth: [16]byte{0, 0}}); dup {
		t.Fatal("oldest answer still cached")
	}
}
