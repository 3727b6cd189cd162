package forward

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/testenv"
)

// Addresses of the namespace topology (RFC 3849 documentation prefix):
//
//	CN cn0 ── par-cn  PAR  par-mn ── mn-old (previous link)  MN
//	                  PAR  par-nar ── nar-par  NAR  nar-mn ── mn-new (new link) MN
var (
	addrCN     = netip.MustParseAddr("2001:db8:c::2")
	addrPARCN  = netip.MustParseAddr("2001:db8:c::1")
	addrPAR    = netip.MustParseAddr("2001:db8:1::1") // PAR on the MN's previous link
	addrPCoA   = netip.MustParseAddr("2001:db8:1::100")
	addrPARNAR = netip.MustParseAddr("2001:db8:b::1")
	addrNARPAR = netip.MustParseAddr("2001:db8:b::2")
	addrNAR    = netip.MustParseAddr("2001:db8:2::1")
	addrNCoA   = netip.MustParseAddr("2001:db8:2::100")
)

// topology is four network namespaces named <prefix>cn, par, nar, mn.
type topology struct {
	t      testing.TB
	prefix string
}

func (tp *topology) ns(node string) string { return tp.prefix + node }

// ip runs ip(8) with args and fails the test with its stderr on error.
func (tp *topology) ip(args ...string) {
	tp.t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command("ip", args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		tp.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
}

func (tp *topology) output(args ...string) string {
	tp.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		tp.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func newTopology(t testing.TB) *topology {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		testenv.Unavailable(t, "no /dev/net/tun: %v", err)
	}
	tp := &topology{t: t, prefix: fmt.Sprintf("fhkfw-%d-", os.Getpid())}
	for _, n := range []string{"cn", "par", "nar", "mn"} {
		tp.ip("netns", "add", tp.ns(n))
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", tp.ns(n)).Run() })
		for _, k := range []string{"all", "default"} {
			tp.sysctl(n, "net.ipv6.conf."+k+".accept_dad=0")
			tp.sysctl(n, "net.ipv6.conf."+k+".accept_ra=0")
		}
		tp.ip("-n", tp.ns(n), "link", "set", "lo", "up")
	}
	tp.sysctl("par", "net.ipv6.conf.all.forwarding=1")
	tp.sysctl("nar", "net.ipv6.conf.all.forwarding=1")
	tp.link("cn", "cn0", addrCN, "par", "par-cn", addrPARCN)
	tp.link("par", "par-mn", addrPAR, "mn", "mn-old", addrPCoA)
	tp.link("par", "par-nar", addrPARNAR, "nar", "nar-par", addrNARPAR)
	tp.link("nar", "nar-mn", addrNAR, "mn", "mn-new", addrNCoA)
	tp.ip("-n", tp.ns("cn"), "-6", "route", "add", "default", "via", addrPARCN.String())
	tp.ip("-n", tp.ns("par"), "-6", "route", "add", "2001:db8:2::/64", "via", addrNARPAR.String())
	tp.ip("-n", tp.ns("nar"), "-6", "route", "add", "default", "via", addrPARNAR.String())
	// The MN reaches the world through the new link; the previous link
	// only serves its PCoA while it is attached there.
	tp.ip("-n", tp.ns("mn"), "-6", "route", "add", "default", "via", addrNAR.String())
	tp.waitUp(map[string][]string{
		"cn": {"cn0"}, "par": {"par-cn", "par-mn", "par-nar"},
		"nar": {"nar-par", "nar-mn"}, "mn": {"mn-old", "mn-new"},
	})
	return tp
}

// waitUp waits until every listed interface is operationally up. Until the
// kernel's link watcher has run (up to a second after "link set up"), a
// veth drops what it is given, including the first Neighbor Solicitations.
func (tp *topology) waitUp(links map[string][]string) {
	tp.t.Helper()
	testenv.Eventually(tp.t, 5*time.Second, "interfaces operationally up", func() (bool, string) {
		for node, names := range links {
			for _, name := range names {
				if l := tp.output("-n", tp.ns(node), "-o", "link", "show", "dev", name); !strings.Contains(l, "state UP") {
					return false, node + ": " + l
				}
			}
		}
		return true, "all up"
	})
}

func (tp *topology) sysctl(node, kv string) {
	tp.t.Helper()
	if out, err := exec.Command("ip", "netns", "exec", tp.ns(node), "sysctl", "-q", "-w", kv).CombinedOutput(); err != nil {
		tp.t.Fatalf("sysctl %s in %s: %v: %s", kv, node, err, out)
	}
}

// link joins node a (interface ia, address aa/64) and node b with a veth pair.
func (tp *topology) link(a, ia string, aa netip.Addr, b, ib string, ba netip.Addr) {
	tp.t.Helper()
	tp.ip("-n", tp.ns(a), "link", "add", ia, "type", "veth", "peer", "name", ib, "netns", tp.ns(b))
	tp.ip("-n", tp.ns(a), "addr", "add", aa.String()+"/64", "dev", ia, "nodad")
	tp.ip("-n", tp.ns(b), "addr", "add", ba.String()+"/64", "dev", ib, "nodad")
	tp.ip("-n", tp.ns(a), "link", "set", ia, "up")
	tp.ip("-n", tp.ns(b), "link", "set", ib, "up")
}

// in runs fn on an OS thread switched into node's network namespace;
// sockets and devices created by fn stay in that namespace.
func (tp *topology) in(node string, fn func()) {
	tp.t.Helper()
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		tp.t.Fatal(err)
	}
	defer unix.Close(orig)
	target, err := unix.Open("/run/netns/"+tp.ns(node), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		tp.t.Fatal(err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		tp.t.Fatalf("setns %s: %v", node, err)
	}
	defer func() {
		// A thread that cannot return to its namespace is left locked,
		// so the runtime discards it when the goroutine exits.
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
	}()
	fn()
}

// receiver collects the UDP datagrams arriving at one socket.
type receiver struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  []datagram
}

type datagram struct {
	src      netip.AddrPort
	payload  string
	hopLimit int // of the IPv6 packet as received, -1 if unknown
}

func (r *receiver) run() {
	buf := make([]byte, 2048)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, src, err := r.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			return
		}
		d := datagram{src: src, payload: string(buf[:n]), hopLimit: -1}
		if cms, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, cm := range cms {
				if cm.Header.Level == unix.IPPROTO_IPV6 && cm.Header.Type == unix.IPV6_HOPLIMIT && len(cm.Data) >= 4 {
					d.hopLimit = int(binary.NativeEndian.Uint32(cm.Data))
				}
			}
		}
		r.mu.Lock()
		r.got = append(r.got, d)
		r.mu.Unlock()
	}
}

// take waits until want datagrams have arrived, for at most 5 s, and
// returns and forgets what arrived.
func (r *receiver) take(want int) []datagram {
	testenv.Poll(5*time.Second, func() (bool, string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.got) >= want, ""
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

const udpPort = 5999

// TestNetnsForwarding runs the PAR's user-space forwarder and the MN's
// decapsulator in network namespaces: CN sends UDP to the MN's previous
// CoA after the MN has moved to the NAR's link.
func TestNetnsForwarding(t *testing.T) {
	tp := newTopology(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	expired := make(chan netip.Addr, 4)
	var (
		fwd  *TUN
		dec  *Decapsulator
		recv *receiver
		cn   *net.UDPConn
		raw  int
		err  error
	)
	tp.in("par", func() {
		fwd, err = OpenTUN(TUNConfig{Name: "fhkfw0", Source: addrPAR, Options: Options{OnExpire: func(p netip.Addr) { expired <- p }}})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fwd.Close() })
	tp.in("mn", func() {
		dec, err = OpenDecapsulator(DecapsulatorConfig{Name: "fhkdc0", Allowed: []netip.Addr{addrPAR}, Local: addrNCoA})
		if err != nil {
			return
		}
		var c *net.UDPConn
		c, err = net.ListenUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addrPCoA, udpPort)))
		if err != nil {
			return
		}
		recv = &receiver{conn: c}
		var sc syscall.RawConn
		if sc, err = c.SyscallConn(); err != nil {
			return
		}
		if cerr := sc.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
		}); cerr != nil {
			err = cerr
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dec.Close(); recv.conn.Close() })
	go recv.run()
	tp.in("cn", func() {
		cn, err = net.ListenUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addrCN, 0)))
		if err != nil {
			return
		}
		raw, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cn.Close(); unix.Close(raw) })

	serveErr := make(chan error, 2)
	go func() { serveErr <- fwd.Serve(ctx) }()
	go func() { serveErr <- dec.Serve(ctx) }()

	seq := 0
	send := func(n int) []string {
		t.Helper()
		var sent []string
		for range n {
			seq++
			p := fmt.Sprintf("datagram %d", seq)
			if _, err := cn.WriteToUDPAddrPort([]byte(p), netip.AddrPortFrom(addrPCoA, udpPort)); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, p)
		}
		return sent
	}
	expectArrive := func(step string, sent []string, hopLimit int) {
		t.Helper()
		got := recv.take(len(sent))
		if len(got) != len(sent) {
			t.Fatalf("%s: %d of %d datagrams arrived: %v; forwarder %+v, decapsulator %+v", step, len(got), len(sent), got, fwd.Counters(), dec.Counters())
		}
		for i, d := range got {
			if d.src.Addr() != addrCN || d.payload != sent[i] || d.hopLimit != hopLimit {
				t.Errorf("%s: datagram %d = %v %q hop limit %d, want from %v %q hop limit %d", step, i, d.src, d.payload, d.hopLimit, addrCN, sent[i], hopLimit)
			}
		}
	}
	// The CN sends with hop limit 64 and the PAR decrements it once,
	// directly or when forwarding into the tunnel, which counts as one hop
	// for the original packet (RFC 2473 §3.1): 63 at the MN either way.
	const viaPAR = 63
	// What must not arrive is checked against a marker that must: the
	// datagrams of the next step, or one sent as a tunnel packet from the
	// PAR's address, built by hand (hop limit 64, not forwarded). The
	// marker alone must arrive, and nothing before it.
	marker := func(payload string) []string {
		t.Helper()
		tunnel, err := Encapsulate(nil, addrPAR, addrNCoA, 64, udpPacket(t, addrCN, addrPCoA, udpPort, payload))
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Sendto(raw, tunnel, 0, &unix.SockaddrInet6{Addr: addrNCoA.As16()}); err != nil {
			t.Fatal(err)
		}
		return []string{payload}
	}

	// counted waits until the forwarder's and the decapsulator's counters
	// satisfy ok: each counts a packet after passing it on, so possibly
	// after it has arrived.
	counted := func(want string, ok func(Counters, DecapsulatorCounters) bool) {
		t.Helper()
		testenv.Eventually(t, 5*time.Second, want, func() (bool, string) {
			fc, dc := fwd.Counters(), dec.Counters()
			return ok(fc, dc), fmt.Sprintf("forwarder %+v, decapsulator %+v", fc, dc)
		})
	}

	// Attached to the PAR, the MN receives on its PCoA directly.
	expectArrive("attached to PAR", send(3), viaPAR)

	// The MN moves: its interface on the previous link goes down (taking
	// the PCoA with it) and it keeps the PCoA on the decapsulator's TUN.
	tp.ip("-n", tp.ns("mn"), "link", "set", "mn-old", "down")
	tp.ip("-n", tp.ns("mn"), "addr", "add", addrPCoA.String()+"/128", "dev", dec.Name(), "nodad")
	send(3) // must not arrive: the next step's datagrams alone do

	// An authenticated FBU: the PAR binds PCoA to NCoA.
	if err := fwd.Add(ctx, Binding{PreviousCoA: addrPCoA, NewCoA: addrNCoA, Lifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if r := tp.output("-n", tp.ns("par"), "-6", "route", "show", addrPCoA.String()+"/128"); !strings.Contains(r, "dev "+fwd.Name()) {
		t.Fatalf("route for PCoA after Add = %q, want dev %s", r, fwd.Name())
	}
	sent := send(5)
	expectArrive("bound", sent, viaPAR)
	wantBytes := uint64(0)
	for _, p := range sent {
		wantBytes += HeaderLen + 8 + uint64(len(p)) // original IPv6 + UDP + payload
	}
	counted(fmt.Sprintf("bound: 5 packets, %d bytes forwarded and decapsulated, none dropped, expired or rejected", wantBytes),
		func(fc Counters, dc DecapsulatorCounters) bool {
			return fc == Counters{Packets: 5, Bytes: wantBytes} && dc == DecapsulatorCounters{Packets: 5, Bytes: wantBytes}
		})

	// A tunnel packet from a source not allowed (the CN itself) carrying
	// a genuine-looking datagram for the PCoA is not decapsulated.
	forged := udpPacket(t, addrCN, addrPCoA, udpPort, "forged")
	tunnel, err := Encapsulate(nil, addrCN, addrNCoA, 64, forged)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Sendto(raw, tunnel, 0, &unix.SockaddrInet6{Addr: addrNCoA.As16()}); err != nil {
		t.Fatal(err)
	}
	// The same tunnel packet from the PAR's address is accepted, which
	// checks that the forged one failed only because of its source; it
	// is the only one to arrive, after the decapsulator rejected the first.
	expectArrive("tunnel packet from the PAR's address", marker("forged"), 64)
	counted("forged tunnel packet: 1 rejected, 6 decapsulated", func(_ Counters, dc DecapsulatorCounters) bool {
		return dc.Rejected == 1 && dc.Packets == 6
	})

	// Remove: forwarding stops and the route is gone.
	if err := fwd.Remove(addrPCoA); err != nil {
		t.Fatal(err)
	}
	if r := tp.output("-n", tp.ns("par"), "-6", "route", "show", addrPCoA.String()+"/128"); r != "" {
		t.Fatalf("route for PCoA after Remove = %q, want none", r)
	}
	send(3) // must not arrive: the next step's datagrams alone do
	if fc := fwd.Counters(); fc.Packets != 5 {
		t.Errorf("forwarder counters %+v after Remove, want 5 packets", fc)
	}

	// Expiry: forwarding for a short lifetime, then OnExpire and nothing.
	if err := fwd.Add(ctx, Binding{PreviousCoA: addrPCoA, NewCoA: addrNCoA, Lifetime: 400 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	expectArrive("short binding", send(2), viaPAR)
	select {
	case p := <-expired:
		if p != addrPCoA {
			t.Errorf("OnExpire(%v), want %v", p, addrPCoA)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("OnExpire not called")
	}
	if r := tp.output("-n", tp.ns("par"), "-6", "route", "show", addrPCoA.String()+"/128"); r != "" {
		t.Fatalf("route for PCoA after expiry = %q, want none", r)
	}
	send(3)
	expectArrive("after expiry", marker("marker"), 64)
	counted("after expiry: 7 forwarded, none dropped, 1 expired; 9 decapsulated (the marker's included), 1 rejected",
		func(fc Counters, dc DecapsulatorCounters) bool {
			return fc.Packets == 7 && fc.Dropped == 0 && fc.Expired == 1 &&
				dc.Packets == 9 && dc.Rejected == 1 && dc.Malformed == 0 && dc.Dropped == 0
		})
	if b := fwd.Bindings(); len(b) != 0 {
		t.Errorf("bindings %v after expiry", b)
	}

	t.Logf("forwarder %+v, decapsulator %+v", fwd.Counters(), dec.Counters())
	cancel()
	for range 2 {
		if err := <-serveErr; !errors.Is(err, context.Canceled) {
			t.Errorf("Serve returned %v, want context.Canceled", err)
		}
	}
}

// udpPacket builds an IPv6 packet carrying a UDP datagram with a correct
// checksum (RFC 8200 §8.1).
func udpPacket(t testing.TB, src, dst netip.Addr, port uint16, payload string) []byte {
	t.Helper()
	udp := make([]byte, 8, 8+len(payload))
	udp[0], udp[1] = 0xc3, 0x50 // source port 50000
	udp[2], udp[3] = byte(port>>8), byte(port)
	udp[4], udp[5] = byte((8+len(payload))>>8), byte(8+len(payload))
	udp = append(udp, payload...)
	c := inet.Checksum(src, dst, inet.ProtocolUDP, udp)
	if c == 0 {
		c = 0xffff // RFC 8200 §8.1: a computed zero is sent as all ones
	}
	udp[6], udp[7] = byte(c>>8), byte(c)
	h := Header{PayloadLength: uint16(len(udp)), NextHeader: 17, HopLimit: 64, Source: src, Destination: dst}
	b, err := h.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, udp...)
}

// BenchmarkNetnsForwarding measures the user-space tunnel end to end: the
// CN sends 1200-octet UDP datagrams to the PCoA, the PAR's TUN forwarder
// tunnels them to the NCoA and the MN's decapsulator delivers them, with a
// bounded number in flight; losses shrink the window (and fail the
// benchmark once it is exhausted).
func BenchmarkNetnsForwarding(b *testing.B) {
	tp := newTopology(b)
	var (
		fwd *TUN
		dec *Decapsulator
		mn  *net.UDPConn
		cn  *net.UDPConn
		err error
	)
	tp.in("par", func() { fwd, err = OpenTUN(TUNConfig{Name: "fhkfw0", Source: addrPAR}) })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { fwd.Close() })
	tp.ip("-n", tp.ns("mn"), "link", "set", "mn-old", "down")
	tp.in("mn", func() {
		if dec, err = OpenDecapsulator(DecapsulatorConfig{Name: "fhkdc0", Allowed: []netip.Addr{addrPAR}}); err != nil {
			return
		}
		tp.ip("-n", tp.ns("mn"), "addr", "add", addrPCoA.String()+"/128", "dev", dec.Name(), "nodad")
		mn, err = net.ListenUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addrPCoA, udpPort)))
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { dec.Close(); mn.Close() })
	_ = mn.SetReadBuffer(8 << 20)
	tp.in("cn", func() { cn, err = net.ListenUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addrCN, 0))) })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	go fwd.Serve(ctx)
	go dec.Serve(ctx)
	if err := fwd.Add(ctx, Binding{PreviousCoA: addrPCoA, NewCoA: addrNCoA, Lifetime: time.Hour}); err != nil {
		b.Fatal(err)
	}
	var received atomic.Int64
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := mn.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
			received.Add(1)
		}
	}()
	payload := make([]byte, 1200)
	dst := netip.AddrPortFrom(addrPCoA, udpPort)
	// Warm up neighbour caches: send until a datagram gets through.
	testenv.Eventually(b, 5*time.Second, "warm-up: a datagram delivered", func() (bool, string) {
		if received.Load() > 0 {
			return true, "delivered"
		}
		_, err := cn.WriteToUDPAddrPort(payload, dst)
		return false, fmt.Sprintf("nothing delivered, last send: %v", err)
	})
	base := received.Load()
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	// At most window datagrams in flight, so that the figure is the
	// sustained rate rather than the rate at which queues overflow.
	const window = 32
	n := 0
	for b.Loop() {
		for stall := time.Now(); int64(n)-(received.Load()-base) >= window; {
			if time.Since(stall) > 2*time.Second {
				b.Fatalf("window stalled: %d sent, %d delivered", n, received.Load()-base)
			}
			runtime.Gosched()
		}
		if _, err := cn.WriteToUDPAddrPort(payload, dst); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.StopTimer()
	// What is still on its way, for at most 2 s: the rest is lost.
	testenv.Poll(2*time.Second, func() (bool, string) { return received.Load()-base >= int64(n), "" })
	b.ReportMetric(100*float64(received.Load()-base)/float64(n), "%delivered")
}
