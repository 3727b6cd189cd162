package radius

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/internal/hks"
	"github.com/fhkey/fhkey/internal/hks/hkstest"
	"github.com/fhkey/fhkey/internal/hks/subscribers"
)

// hksPath is the HKS's request path of `fhkey hks` without the reading
// goroutines: Server.handle with the HKS role over a memory store, answering
// on a loopback UDP socket that the benchmark reads back.
type hksPath struct {
	srv    *Server
	pool   *readerPool
	client *net.UDPConn
	src    netip.AddrPort
	reqs   [][]byte // Access-Requests, each for a subscriber of its own
}

func newHKSPath(tb testing.TB, n int) *hksPath {
	tb.Helper()
	store := subscribers.NewMemory()
	role, err := hks.New(hks.Config{Subscribers: store, TimestampWindow: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := NewServer(ServerConfig{KeyServer: role,
		Clients: []NASClient{{Name: "ar", Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: testSecret}}})
	if err != nil {
		tb.Fatal(err)
	}
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	conn, err := net.ListenUDP("udp", lo)
	if err != nil {
		tb.Fatal(err)
	}
	client, err := net.ListenUDP("udp", lo)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(); client.Close() })
	p := &hksPath{srv: srv, pool: &readerPool{s: srv, conn: conn, udp: conn, idleTarget: 1}, client: client,
		src: client.LocalAddr().(*net.UDPAddr).AddrPort()}
	p.pool.idle.Store(1) // a reader "waits": handle starts no other
	ctx := context.Background()
	hmk := make([]byte, hokey.MinHMKLen)
	now := time.Now()
	for i := range n {
		nai := "mn" + strconv.Itoa(i) + "@example.com"
		rand.Read(hmk)
		if err := store.Put(ctx, &subscribers.Subscriber{NAI: nai, HMK: hmk, Enabled: true}); err != nil {
			tb.Fatal(err)
		}
		nonce := make([]byte, 16)
		rand.Read(nonce)
		r := hkstest.Request{MessageID: uint8(i), PRF: hokey.PRFHMACSHA256, MAC: hokey.MACHMACSHA256, NAI: nai, HMK: hmk,
			MNNonce: nonce, Time: now, CoA: netip.MustParseAddr("2001:db8:1::100"), AR: testAR}
		hkreq, err := r.Sign()
		if err != nil {
			tb.Fatal(err)
		}
		var auth [16]byte
		rand.Read(auth[:])
		b, err := EncodeRequest(aaa.KeyRequest{NAI: nai, AR: testAR, HKReq: hkreq}, uint8(i), auth, NAS{Identifier: "bench"}, testSecret)
		if err != nil {
			tb.Fatal(err)
		}
		p.reqs = append(p.reqs, b)
	}
	return p
}

// serve handles request i and reads its answer, which must be an
// Access-Accept.
func (p *hksPath) serve(tb testing.TB, ctx context.Context, i int, buf []byte) {
	p.srv.handle(ctx, p.pool, p.src, p.reqs[i])
	n, _, err := p.client.ReadFromUDPAddrPort(buf)
	if err != nil || n < headerLen || buf[0] != 2 {
		tb.Fatalf("request %d: answer % x, %v; stats %+v", i, buf[:n], err, p.srv.Stats())
	}
}

// BenchmarkHandleKeyRequest is the HKS's CPU per key request (issue 11's
// "fhkey hks answering key requests"): Message-Authenticator check,
// decoding, HIK derivation and MN-HKS MAC check, replay check, HK
// derivation, salt encryption, the signed answer and its sendto, plus the
// benchmark's recvfrom of the answer.
func BenchmarkHandleKeyRequest(b *testing.B) {
	p := newHKSPath(b, b.N)
	buf := make([]byte, maxPacketLen)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p.serve(b, ctx, i, buf)
	}
}

// BenchmarkServeKeyRequests is the same requests through Serve, as `fhkey
// hks` runs: a client keeps 32 in flight (as radclient keeps -p), the
// readers take them in recvmmsg batches and answer in sendmmsg batches.
// ns/op is wall time per request on GOMAXPROCS cores, cpu-ns/op the
// process's CPU time per request (user + system, less sensitive to other
// load), the client's work included in both.
func BenchmarkServeKeyRequests(b *testing.B) {
	const window = 32
	p := newHKSPath(b, b.N)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.srv.Serve(ctx, p.pool.udp) }()
	defer func() { cancel(); <-done }()
	to := p.pool.udp.LocalAddr().(*net.UDPAddr).AddrPort()
	buf := make([]byte, maxPacketLen)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	sent, answered := 0, 0
	for answered < b.N {
		for sent < b.N && sent-answered < window {
			if _, err := p.client.WriteToUDPAddrPort(p.reqs[sent], to); err != nil {
				b.Fatal(err)
			}
			sent++
		}
		p.client.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := p.client.ReadFromUDPAddrPort(buf)
		if err != nil || n < headerLen || buf[0] != 2 {
			b.Fatalf("answer %d: % x, %v; stats %+v", answered, buf[:n], err, p.srv.Stats())
		}
		answered++
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	st := p.srv.Stats()
	b.ReportMetric(float64(st.Received)/float64(st.Reads), "datagrams/read")
}

// processCPU is the process's user + system CPU time so far.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestHandleKeyRequestAllocs pins the HKS's allocations per accepted key
// request through Server.handle (docs/aaa.md, bench hks): the NAI string,
// the HKS-Nonce and the answer the duplicate cache keeps. No context,
// attribute slice, HKReq copy, boxed option or HMK copy per request.
func TestHandleKeyRequestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	const runs = 200
	p := newHKSPath(t, runs+1)
	buf := make([]byte, maxPacketLen)
	ctx := context.Background()
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		p.serve(t, ctx, i, buf)
		i++
	})
	if allocs > 3 {
		t.Errorf("%v allocations per key request, want at most 3", allocs)
	}
}
