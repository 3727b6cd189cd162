package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/internal/mip6sa"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

var (
	haHomePrefix = netip.MustParsePrefix("2001:db8:5::/64")
	haHoA        = netip.MustParseAddr("2001:db8:5::100")
	haCN         = netip.MustParseAddr("2001:db8:1::2")
)

// fakeLink is a HomeLink in memory: Inject queues a packet for Read,
// Written receives what Write got; routes are recorded.
type fakeLink struct {
	in, written chan []byte
	wake        chan struct{}
	deadline    atomic.Pointer[time.Time]
	mu          sync.Mutex
	routes      map[netip.Addr]bool
	// failAdds fails that many AddRoute calls; adds counts them all.
	failAdds, adds int
}

func newFakeLink() *fakeLink {
	return &fakeLink{in: make(chan []byte, 16), written: make(chan []byte, 16), wake: make(chan struct{}, 1), routes: map[netip.Addr]bool{}}
}

func (l *fakeLink) Read(b []byte) (int, error) {
	for {
		if d := l.deadline.Load(); d != nil && !time.Now().Before(*d) {
			return 0, os.ErrDeadlineExceeded
		}
		select {
		case p := <-l.in:
			return copy(b, p), nil
		case <-l.wake:
		}
	}
}

func (l *fakeLink) Write(b []byte) (int, error) { l.written <- bytes.Clone(b); return len(b), nil }

func (l *fakeLink) SetReadDeadline(t time.Time) error {
	l.deadline.Store(&t)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

func (l *fakeLink) AddRoute(a netip.Addr) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.adds++
	if l.failAdds > 0 {
		l.failAdds--
		return errors.New("fake link: route refused")
	}
	l.routes[a] = true
	return nil
}
func (l *fakeLink) DeleteRoute(a netip.Addr) error {
	l.mu.Lock()
	delete(l.routes, a)
	l.mu.Unlock()
	return nil
}
func (l *fakeLink) Close() error { return nil }

func (l *fakeLink) routed(a netip.Addr) bool { l.mu.Lock(); defer l.mu.Unlock(); return l.routes[a] }

// clock is a settable clock.
type clock struct{ t atomic.Pointer[time.Time] }

func (c *clock) now() time.Time      { return *c.t.Load() }
func (c *clock) set(t time.Time)     { c.t.Store(&t) }
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }

func haTestKey(t *testing.T, n int, v byte) mip6tls.Key {
	b := bytes.Repeat([]byte{v}, n)
	k, err := mip6tls.NewKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func haTestSA(t *testing.T, end time.Time) (mip6tls.SecurityAssociation, mip6tls.Bootstrap) {
	return mip6tls.SecurityAssociation{SPI: 4242, CipherSuite: mip6tls.CipherSuiteAES128CBCSHA256, Scope: mip6tls.SAScopeAll,
			ValidityEnd: end, MNToHAIntegrity: haTestKey(t, 16, 1), HAToMNIntegrity: haTestKey(t, 16, 2),
			MNToHAEncryption: haTestKey(t, 16, 3), HAToMNEncryption: haTestKey(t, 16, 4)},
		mip6tls.Bootstrap{HomeAddress6: haHoA, HomePrefix6: haHomePrefix}
}

// testMN is a mobile node made of mip6sa and mh over a loopback UDP
// socket.
type testMN struct {
	t    *testing.T
	pair *mip6sa.Pair
	conn *net.UDPConn
	ha   netip.AddrPort
}

func newTestMN(t *testing.T, sa mip6tls.SecurityAssociation, bs mip6tls.Bootstrap, ha netip.AddrPort) *testMN {
	p, err := mip6sa.New(mip6sa.MobileNode, &sa, &bs)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &testMN{t: t, pair: p, conn: c, ha: ha}
}

func (m *testMN) send(pt mip6udp.PacketType, nh uint8, payload []byte) {
	m.t.Helper()
	p, err := m.pair.Out.Seal(nil, pt, nh, payload)
	if err != nil {
		m.t.Fatal(err)
	}
	if _, err := m.conn.WriteToUDPAddrPort(p, m.ha); err != nil {
		m.t.Fatal(err)
	}
}

// receive waits up to 5 s for a datagram and opens it.
func (m *testMN) receive() mip6udp.Message {
	m.t.Helper()
	buf := make([]byte, 65536)
	_ = m.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := m.conn.Read(buf)
	if err != nil {
		m.t.Fatalf("MN: nothing from the HA: %v", err)
	}
	msg, _, err := m.pair.In.Open(nil, buf[:n])
	if err != nil {
		m.t.Fatalf("MN cannot open: %v", err)
	}
	return msg
}

// bindingUpdate sends a BU and returns the BA.
func (m *testMN) bindingUpdate(seq uint16, lifetime time.Duration) mh.BindingAcknowledgement {
	m.t.Helper()
	bu, err := mh.MarshalMessage(mh.BindingUpdate{Sequence: seq, Acknowledge: true, HomeRegistration: true, Lifetime: lifetime})
	if err != nil {
		m.t.Fatal(err)
	}
	m.send(mip6udp.PacketTypeMobilityHeader, 135, bu)
	msg, err := mh.ParseMessage(m.receive().Payload)
	if err != nil {
		m.t.Fatal(err)
	}
	ba, ok := msg.(mh.BindingAcknowledgement)
	if !ok {
		m.t.Fatalf("got %T, want a BA", msg)
	}
	return ba
}

// innerPacket is an IPv6 packet src → dst with 4 octets of UDP-less
// payload (Next Header 59).
func innerPacket(src, dst netip.Addr) []byte {
	p := make([]byte, 44)
	p[0] = 0x60
	binary.BigEndian.PutUint16(p[4:], 4)
	p[6], p[7] = 59, 64
	s, d := src.As16(), dst.As16()
	copy(p[8:], s[:])
	copy(p[24:], d[:])
	copy(p[40:], "data")
	return p
}

func startHA(t *testing.T, state string, link *fakeLink, clk *clock) (*HA, func()) {
	h, stopServe := serveHA(t, state, link, clk)
	return h, func() {
		stopServe()
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

// newHAFiles returns a clock, a state file name and a home link for a
// home agent node.
func newHAFiles(t *testing.T) (*clock, string, *fakeLink) {
	clk := &clock{}
	clk.set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	return clk, filepath.Join(t.TempDir(), "ha.db"), newFakeLink()
}

// registerTestMN installs the test SA in h and registers a test MN with
// a BU of the given lifetime.
func registerTestMN(t *testing.T, h *HA, clk *clock, lifetime time.Duration) *testMN {
	t.Helper()
	sa, bs := haTestSA(t, clk.now().Add(time.Hour))
	if err := h.InstallSA(sa, bs); err != nil {
		t.Fatal(err)
	}
	mn := newTestMN(t, sa, bs, h.Addr())
	if ba := mn.bindingUpdate(1, lifetime); ba.Status != ha.StatusAccepted || ba.Lifetime != lifetime {
		t.Fatalf("BA %+v", ba)
	}
	return mn
}

// serveHA opens and serves a home agent; the function returned stops
// Serve and closes nothing.
func serveHA(t *testing.T, state string, link *fakeLink, clk *clock) (*HA, func()) {
	h, err := OpenHA(HASpec{Listen: netip.MustParseAddrPort("[::1]:0"), Role: ha.Config{HomePrefix: haHomePrefix},
		StateFile: state, HomeLink: link, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx) }()
	return h, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
}

// TestHALoopback: BU → BA over loopback UDP against the node, data both
// ways through the home link, a restart that keeps the binding and the
// Sequence Numbers, and expiry that drops the binding and its route.
func TestHALoopback(t *testing.T) {
	clk, state, link := newHAFiles(t)
	h, stop := startHA(t, state, link, clk)
	mn := registerTestMN(t, h, clk, 2*time.Minute)
	if !link.routed(haHoA) {
		t.Error("no route for the home address after the BA")
	}
	out := innerPacket(haHoA, haCN)
	mn.send(mip6udp.PacketTypeData, 41, out)
	select {
	case got := <-link.written:
		if !bytes.Equal(got, out) {
			t.Errorf("home link got %x", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing on the home link")
	}
	back := innerPacket(haCN, haHoA)
	link.in <- back
	if m := mn.receive(); m.Type != mip6udp.PacketTypeData || !bytes.Equal(m.Payload, back) {
		t.Fatalf("MN got %+v", m)
	}
	stop()

	// Restart from the state file: the binding and its route are back,
	// and the HA's next packet is accepted by the MN's window.
	link2 := newFakeLink()
	h, stop = startHA(t, state, link2, clk)
	defer stop()
	if b := h.Role.Bindings(); len(b) != 1 || b[0].HomeAddress != haHoA {
		t.Fatalf("bindings after restart %+v", b)
	}
	if !link2.routed(haHoA) {
		t.Error("route not restored")
	}
	mn.ha = h.Addr()
	link2.in <- back
	if m := mn.receive(); !bytes.Equal(m.Payload, back) {
		t.Fatalf("after restart MN got %+v", m)
	}

	// Expiry: past the 2-minute lifetime the binding and the route go.
	clk.add(2 * time.Minute)
	testenv.Eventually(t, 5*time.Second, "binding expired", func() (bool, string) {
		b := h.Role.Bindings()
		return len(b) == 0 && !link2.routed(haHoA), "bindings: " + formatBindings(b)
	})
	if s := h.Role.Stats(); s.BindingsExpired != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestHARouteRetry: a route the link refused is added at a later sync
// (the role reports a new binding once: ha TestBindingChanges), and a
// sync with nothing changed adds none.
func TestHARouteRetry(t *testing.T) {
	clk, state, link := newHAFiles(t)
	link.failAdds = 1
	h, stop := startHA(t, state, link, clk)
	defer stop()
	registerTestMN(t, h, clk, 2*time.Minute)
	testenv.Eventually(t, 5*time.Second, "route added after a refusal", func() (bool, string) {
		link.mu.Lock()
		defer link.mu.Unlock()
		return link.routes[haHoA] && link.adds == 2, fmt.Sprintf("routes %v, AddRoute calls %d", link.routes, link.adds)
	})
	if err := h.syncRoutes(); err != nil {
		t.Fatal(err)
	}
	link.mu.Lock()
	defer link.mu.Unlock()
	if link.adds != 2 {
		t.Errorf("AddRoute calls %d after a sync with nothing changed, want 2", link.adds)
	}
}

func formatBindings(bs []ha.Binding) string {
	var b bytes.Buffer
	for _, x := range bs {
		b.WriteString(x.HomeAddress.String() + "→" + x.CareOf.String() + " ")
	}
	return b.String()
}

// TestHAChannelHook: Serve runs the HACChannel hook on the channel listener with the
// mutual-TLS configuration, and the install function it is given puts the
// SA in the role; with the hook unset, OpenHA refuses a channel.
func TestHAChannelHook(t *testing.T) {
	clk := &clock{}
	clk.set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	sa, bs := haTestSA(t, clk.now().Add(time.Hour))
	spec := HASpec{Listen: netip.MustParseAddrPort("[::1]:0"), HomeLink: newFakeLink(), Now: clk.now,
		ChannelListen: netip.MustParseAddrPort("[::1]:0"), ChannelTLS: &tls.Config{MinVersion: tls.VersionTLS13}}
	defer func() { HACChannel = serveHACChannel }()
	HACChannel = nil
	if _, err := OpenHA(spec); err == nil {
		t.Fatal("OpenHA accepted a channel with no HACChannel hook")
	}
	gotTLS := make(chan *tls.Config, 1)
	HACChannel = func(ctx context.Context, ln net.Listener, cfg *tls.Config, install func(mip6tls.SecurityAssociation, mip6tls.Bootstrap) error, _ *slog.Logger) error {
		gotTLS <- cfg
		c, err := ln.Accept() // one "HAC" connection installs one SA
		if err != nil {
			return nil // listener closed at stop
		}
		c.Close()
		if err := install(sa, bs); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}
	h, err := OpenHA(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx) }()
	c, err := net.Dial("tcp", h.ChannelAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	testenv.Eventually(t, 5*time.Second, "SA installed through the channel hook", func() (bool, string) {
		sas := h.Role.SAs(clk.now())
		return len(sas) == 1 && sas[0].SPI == 4242, fmt.Sprint(sas)
	})
	if cfg := <-gotTLS; cfg != spec.ChannelTLS {
		t.Error("the hook did not get the channel's TLS configuration")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
