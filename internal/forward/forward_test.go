package forward

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testenv"
)

var (
	tPAR  = netip.MustParseAddr("2001:db8:1::1")
	tPCoA = netip.MustParseAddr("2001:db8:1::100")
	tNCoA = netip.MustParseAddr("2001:db8:2::100")
	tCN   = netip.MustParseAddr("2001:db8:c::2")
)

// packetTo returns innerPacket readdressed to dst.
func packetTo(dst netip.Addr) []byte {
	return mutate(innerPacket, func(b []byte) []byte { a := dst.As16(); copy(b[24:40], a[:]); return b })
}

func TestBindingValidate(t *testing.T) {
	ok := Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(%+v) = %v", ok, err)
	}
	with := func(f func(*Binding)) Binding { b := ok; f(&b); return b }
	for name, b := range map[string]Binding{
		"negative lifetime":    with(func(b *Binding) { b.Lifetime = -time.Second }),
		"zero previous CoA":    with(func(b *Binding) { b.PreviousCoA = netip.Addr{} }),
		"unspecified new CoA":  with(func(b *Binding) { b.NewCoA = netip.IPv6Unspecified() }),
		"loopback new CoA":     with(func(b *Binding) { b.NewCoA = netip.IPv6Loopback() }),
		"multicast previous":   with(func(b *Binding) { b.PreviousCoA = netip.MustParseAddr("ff02::1") }),
		"link-local new CoA":   with(func(b *Binding) { b.NewCoA = netip.MustParseAddr("fe80::1") }),
		"IPv4 new CoA":         with(func(b *Binding) { b.NewCoA = netip.MustParseAddr("192.0.2.1") }),
		"IPv4-mapped previous": with(func(b *Binding) { b.PreviousCoA = netip.MustParseAddr("::ffff:192.0.2.1") }),
		"zoned previous":       with(func(b *Binding) { b.PreviousCoA = netip.MustParseAddr("2001:db8::1%eth0") }),
		"previous equals new":  with(func(b *Binding) { b.NewCoA = b.PreviousCoA }),
		"both zero":            {},
	} {
		if err := b.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
		m := NewMemory(tPAR, Options{})
		if err := m.Add(context.Background(), b); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Add = %v, want ErrInvalid", name, err)
		}
	}
}

func TestMemoryForwarding(t *testing.T) {
	m := NewMemory(tPAR, Options{})
	defer m.Close()
	if _, err := m.Deliver(innerPacket); !errors.Is(err, ErrNoBinding) {
		t.Fatalf("Deliver before Add = %v, want ErrNoBinding", err)
	}
	if err := m.Add(context.Background(), Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	got, err := m.Deliver(innerPacket)
	if err != nil || !bytes.Equal(got, tunnelPacket) {
		t.Fatalf("Deliver = % x, %v; want % x", got, err, tunnelPacket)
	}
	if _, err := m.Deliver(packetTo(netip.MustParseAddr("2001:db8:1::101"))); !errors.Is(err, ErrNoBinding) {
		t.Fatalf("Deliver to another address = %v, want ErrNoBinding", err)
	}
	if _, err := m.Deliver(innerPacket[:50-1]); !errors.Is(err, ErrParse) {
		t.Fatalf("Deliver truncated = %v, want ErrParse", err)
	}
	// The stack's own link traffic is refused but not counted as dropped.
	if _, err := m.Deliver(packetTo(netip.MustParseAddr("ff02::16"))); !errors.Is(err, ErrNoBinding) {
		t.Fatalf("Deliver to ff02::16 = %v, want ErrNoBinding", err)
	}
	// Dropped: before Add, another address, truncated.
	want := Counters{Packets: 1, Bytes: uint64(len(innerPacket)), Dropped: 3}
	if c := m.Counters(); c != want {
		t.Fatalf("Counters = %+v, want %+v", c, want)
	}
	if s := m.Sent(); len(s) != 1 || !bytes.Equal(s[0], tunnelPacket) {
		t.Fatalf("Sent = %x", s)
	}
}

func TestAddSupersedeRemove(t *testing.T) {
	ctx := context.Background()
	other := netip.MustParseAddr("2001:db8:3::100")
	m := NewMemory(tPAR, Options{})
	defer m.Close()
	if err := m.Add(ctx, Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	// A new FBU supersedes the binding (RFC 5568 §5.6).
	if err := m.Add(ctx, Binding{PreviousCoA: tPCoA, NewCoA: other, Lifetime: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	b := m.Bindings()
	if len(b) != 1 || b[0].NewCoA != other || b[0].Lifetime != 2*time.Minute || time.Until(b[0].Expires) < time.Minute {
		t.Fatalf("Bindings = %+v, want one to %v for 2m", b, other)
	}
	out, err := m.Deliver(innerPacket)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := ParseHeader(out); h.Destination != other {
		t.Fatalf("tunnelled to %v, want %v", h.Destination, other)
	}
	if err := m.Remove(tPCoA); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove(tPCoA); !errors.Is(err, ErrNoBinding) {
		t.Fatalf("second Remove = %v, want ErrNoBinding", err)
	}
	// Lifetime zero terminates the tunnel, and is no error without one.
	if err := m.Add(ctx, Binding{PreviousCoA: tPCoA, NewCoA: tNCoA}); err != nil {
		t.Fatalf("Add lifetime 0 without binding = %v", err)
	}
	if err := m.Add(ctx, Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := m.Add(ctx, Binding{PreviousCoA: tPCoA, NewCoA: tNCoA}); err != nil {
		t.Fatal(err)
	}
	if b := m.Bindings(); len(b) != 0 {
		t.Fatalf("Bindings after lifetime 0 = %+v", b)
	}
	if c := m.Counters(); c.Expired != 0 {
		t.Fatalf("Remove counted as expiry: %+v", c)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.Add(cctx, Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Minute}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Add with a cancelled context = %v", err)
	}
}

func TestAddRejectsLoops(t *testing.T) {
	ctx := context.Background()
	a, b, c := tPCoA, tNCoA, netip.MustParseAddr("2001:db8:3::100")
	m := NewMemory(tPAR, Options{})
	defer m.Close()
	if err := m.Add(ctx, Binding{PreviousCoA: a, NewCoA: b, Lifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []Binding{
		{PreviousCoA: b, NewCoA: c, Lifetime: time.Minute}, // b is a's tunnel exit
		{PreviousCoA: c, NewCoA: a, Lifetime: time.Minute}, // a is forwarded
		{PreviousCoA: b, NewCoA: a, Lifetime: time.Minute}, // both
	} {
		if err := m.Add(ctx, l); !errors.Is(err, ErrInvalid) {
			t.Errorf("Add(%v -> %v) = %v, want ErrInvalid", l.PreviousCoA, l.NewCoA, err)
		}
	}
	if err := m.Add(ctx, Binding{PreviousCoA: a, NewCoA: c, Lifetime: time.Minute}); err != nil {
		t.Fatalf("superseding a's own binding: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	expired := make(chan netip.Addr, 4)
	m := NewMemory(tPAR, Options{OnExpire: func(p netip.Addr) { expired <- p }})
	defer m.Close()
	ctx := context.Background()
	if err := m.Add(ctx, Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: 30 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-expired:
		if p != tPCoA {
			t.Fatalf("OnExpire(%v), want %v", p, tPCoA)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnExpire not called")
	}
	if c, b := m.Counters(), m.Bindings(); c.Expired != 1 || len(b) != 0 {
		t.Fatalf("after expiry: counters %+v, bindings %+v", c, b)
	}
	if _, err := m.Deliver(innerPacket); !errors.Is(err, ErrNoBinding) {
		t.Fatalf("Deliver after expiry = %v", err)
	}
	// Timers that must not call OnExpire are checked against a marker: a
	// binding on a second forwarder, reporting on the same channel, that
	// expires after them. What has not come before the marker's expiry
	// does not come from a timer that was due earlier.
	marker := NewMemory(tPAR, Options{OnExpire: func(p netip.Addr) { expired <- p }})
	defer marker.Close()
	mark := netip.MustParseAddr("2001:db8:1::300")
	// A superseded binding's timer does not expire its successor.
	if err := m.Add(ctx, Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := m.Add(ctx, Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := marker.Add(ctx, Binding{PreviousCoA: mark, NewCoA: tNCoA, Lifetime: 30 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if early := expiriesBefore(t, expired, mark); len(early) != 0 {
		t.Fatalf("OnExpire(%v) for a superseded binding", early)
	}
	if _, err := m.Deliver(innerPacket); err != nil {
		t.Fatalf("Deliver with the successor = %v", err)
	}
	// Close stops the timers without OnExpire. A timer that ran before
	// Close (the test was slow) counted its expiry first, and then its
	// OnExpire is due.
	other := netip.MustParseAddr("2001:db8:1::200")
	if err := m.Add(ctx, Binding{PreviousCoA: other, NewCoA: tNCoA, Lifetime: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	ranBeforeClose := m.Counters().Expired == 2
	if err := marker.Add(ctx, Binding{PreviousCoA: mark, NewCoA: tNCoA, Lifetime: 30 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	early := expiriesBefore(t, expired, mark)
	if !ranBeforeClose && len(early) != 0 {
		t.Fatalf("OnExpire(%v) after Close", early)
	}
	if ranBeforeClose && len(early) == 0 {
		early = append(expiriesBefore(t, expired, other), other) // came after the marker's
	}
	if ranBeforeClose && (len(early) != 1 || early[0] != other) {
		t.Fatalf("OnExpire(%v); want OnExpire(%v) alone, which expired before Close", early, other)
	}
	if err := m.Add(ctx, Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Minute}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close = %v, want ErrClosed", err)
	}
	if err := m.Remove(tPCoA); !errors.Is(err, ErrClosed) {
		t.Fatalf("Remove after Close = %v, want ErrClosed", err)
	}
}

// TestLifetimeBeforeTimer: a binding whose lifetime has passed forwards
// nothing even if its timer has not run yet.
func TestLifetimeBeforeTimer(t *testing.T) {
	var now atomic.Pointer[time.Time]
	start := time.Now()
	now.Store(&start)
	m := NewMemory(tPAR, Options{Now: func() time.Time { return *now.Load() }})
	defer m.Close()
	if err := m.Add(context.Background(), Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if b := m.Bindings(); len(b) != 1 || !b[0].Expires.Equal(start.Add(time.Hour)) {
		t.Fatalf("Bindings = %+v, want expiry at start+1h", b)
	}
	later := start.Add(time.Hour)
	now.Store(&later)
	if _, err := m.Deliver(innerPacket); !errors.Is(err, ErrNoBinding) {
		t.Fatalf("Deliver at expiry = %v, want ErrNoBinding", err)
	}
}

// fakeDevice is a packetDevice: Read returns the packets sent on in.
type fakeDevice struct {
	in       chan []byte
	mu       sync.Mutex
	written  [][]byte
	writeErr error
	expired  chan struct{}
	closed   chan struct{}
	once     sync.Once
}

func newFakeDevice() *fakeDevice {
	return &fakeDevice{in: make(chan []byte, 16), expired: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (d *fakeDevice) Read(b []byte) (int, error) {
	select {
	case p := <-d.in:
		return copy(b, p), nil
	case <-d.expired:
		return 0, os.ErrDeadlineExceeded
	case <-d.closed:
		return 0, os.ErrClosed
	}
}

func (d *fakeDevice) Write(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.writeErr != nil {
		return 0, d.writeErr
	}
	d.written = append(d.written, append([]byte(nil), b...))
	return len(b), nil
}

func (d *fakeDevice) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && t.Before(time.Now()) {
		select {
		case d.expired <- struct{}{}:
		default:
		}
	}
	return nil
}

func (d *fakeDevice) Close() error {
	d.once.Do(func() { close(d.closed) })
	return nil
}

type sentPacket struct {
	pkt  []byte
	exit netip.Addr
}

type fakeSender struct {
	mu   sync.Mutex
	sent []sentPacket
	err  error
}

func (s *fakeSender) send(pkt []byte, exit netip.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.sent = append(s.sent, sentPacket{append([]byte(nil), pkt...), exit})
	return nil
}

func (s *fakeSender) Close() error { return nil }

type fakeRouter struct {
	mu     sync.Mutex
	routes []netip.Addr
	err    error
	closed bool
}

func (r *fakeRouter) addRoute(p netip.Addr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.routes = append(r.routes, p)
	return nil
}

func (r *fakeRouter) delRoute(p netip.Addr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes = slices.DeleteFunc(r.routes, func(a netip.Addr) bool { return a == p })
	return nil
}

func (r *fakeRouter) Close() error { r.closed = true; return nil }

func (r *fakeRouter) list() []netip.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.routes)
}

func TestTUNWithFakes(t *testing.T) {
	dev, rt := newFakeDevice(), &fakeRouter{}
	snd := &fakeSender{}
	cfg := TUNConfig{Source: tPAR}
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	f := newTUN(&cfg, dev, "fake0", rt, snd)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- f.Serve(ctx) }()

	if err := f.Add(ctx, Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if r := rt.list(); !slices.Equal(r, []netip.Addr{tPCoA}) {
		t.Fatalf("routes after Add = %v", r)
	}
	dev.in <- innerPacket
	dev.in <- packetTo(tCN) // no binding
	waitCounters(t, f, Counters{Packets: 1, Bytes: uint64(len(innerPacket)), Dropped: 1})
	snd.mu.Lock()
	snd.err = errors.New("EMSGSIZE")
	snd.mu.Unlock()
	dev.in <- innerPacket // send fails
	want := Counters{Packets: 1, Bytes: uint64(len(innerPacket)), Dropped: 2}
	waitCounters(t, f, want)
	snd.mu.Lock()
	sent := snd.sent
	snd.mu.Unlock()
	if len(sent) != 1 || !bytes.Equal(sent[0].pkt, tunnelPacket) || sent[0].exit != tNCoA {
		t.Fatalf("sent %+v, want the tunnel packet to %v", sent, tNCoA)
	}

	if err := f.Remove(tPCoA); err != nil {
		t.Fatal(err)
	}
	if r := rt.list(); len(r) != 0 {
		t.Fatalf("routes after Remove = %v", r)
	}
	cancel()
	if err := <-served; !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve after cancel = %v", err)
	}
	// Serve again, then Close: the route of a live binding goes too.
	go func() { served <- f.Serve(context.Background()) }()
	if err := f.Add(context.Background(), Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, ErrClosed) {
		t.Fatalf("Serve after Close = %v, want ErrClosed", err)
	}
	if r := rt.list(); len(r) != 0 || !rt.closed {
		t.Fatalf("after Close: routes %v, route socket closed %v", r, rt.closed)
	}
}

func TestTUNRouteFailure(t *testing.T) {
	rt := &fakeRouter{err: errors.New("EPERM")}
	cfg := TUNConfig{Source: tPAR}
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	f := newTUN(&cfg, newFakeDevice(), "fake0", rt, &fakeSender{})
	defer f.Close()
	if err := f.Add(context.Background(), Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Minute}); err == nil {
		t.Fatal("Add succeeded although the route could not be installed")
	}
	if b := f.Bindings(); len(b) != 0 {
		t.Fatalf("Bindings after a failed Add = %+v", b)
	}
}

// waitCounters waits until f's counters are want.
func waitCounters(t *testing.T, f Forwarder, want Counters) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, "forwarder counters", func() (bool, string) {
		c := f.Counters()
		return c == want, fmt.Sprintf("%+v, want %+v", c, want)
	})
}

// expiriesBefore returns the previous CoAs reported on expired before
// marker's, which it waits for.
func expiriesBefore(t *testing.T, expired <-chan netip.Addr, marker netip.Addr) []netip.Addr {
	t.Helper()
	var got []netip.Addr
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case p := <-expired:
			if p == marker {
				return got
			}
			got = append(got, p)
		case <-deadline.C:
			t.Fatalf("OnExpire(%v) not called within 5 s; before it: %v", marker, got)
		}
	}
}

func TestDecapsulatorHandle(t *testing.T) {
	par2 := netip.MustParseAddr("2001:db8:1::2")
	tests := []struct {
		name   string
		cfg    DecapsulatorConfig
		src    netip.Addr
		pkt    []byte
		devErr error
		want   DecapsulatorCounters
	}{
		{"allowed", DecapsulatorConfig{Allowed: []netip.Addr{tPAR}}, tPAR, innerPacket, nil,
			DecapsulatorCounters{Packets: 1, Bytes: uint64(len(innerPacket))}},
		{"second allowed, zoned source", DecapsulatorConfig{Allowed: []netip.Addr{par2, tPAR}}, tPAR.WithZone("eth0"), innerPacket, nil,
			DecapsulatorCounters{Packets: 1, Bytes: uint64(len(innerPacket))}},
		{"source not allowed", DecapsulatorConfig{Allowed: []netip.Addr{par2}}, tPAR, innerPacket, nil,
			DecapsulatorCounters{Rejected: 1}},
		{"malformed", DecapsulatorConfig{Allowed: []netip.Addr{tPAR}}, tPAR, innerPacket[:45], nil,
			DecapsulatorCounters{Malformed: 1}},
		{"destination allowed", DecapsulatorConfig{Allowed: []netip.Addr{tPAR}, Destinations: []netip.Prefix{netip.PrefixFrom(tPCoA, 128)}}, tPAR, innerPacket, nil,
			DecapsulatorCounters{Packets: 1, Bytes: uint64(len(innerPacket))}},
		{"destination not allowed", DecapsulatorConfig{Allowed: []netip.Addr{tPAR}, Destinations: []netip.Prefix{netip.MustParsePrefix("2001:db8:9::/64")}}, tPAR, innerPacket, nil,
			DecapsulatorCounters{Rejected: 1}},
		{"device error", DecapsulatorConfig{Allowed: []netip.Addr{tPAR}}, tPAR, innerPacket, errors.New("EIO"),
			DecapsulatorCounters{Dropped: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.check(); err != nil {
				t.Fatal(err)
			}
			dev := newFakeDevice()
			dev.writeErr = tt.devErr
			d := newDecapsulator(&tt.cfg, dev, "fake", nil)
			d.handle(tt.src, tt.pkt)
			if c := d.Counters(); c != tt.want {
				t.Fatalf("counters %+v, want %+v", c, tt.want)
			}
			if tt.want.Packets == 1 && (len(dev.written) != 1 || !bytes.Equal(dev.written[0], tt.pkt)) {
				t.Fatalf("written %x, want the original packet", dev.written)
			}
			if tt.want.Packets == 0 && len(dev.written) != 0 {
				t.Fatalf("written %x, want nothing", dev.written)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]TUNConfig{
		"no source":         {},
		"link-local source": {Source: netip.MustParseAddr("fe80::1")},
		"IPv4 source":       {Source: netip.MustParseAddr("192.0.2.1")},
		"MTU 1279":          {Source: tPAR, MTU: 1279},
		"MTU 65536":         {Source: tPAR, MTU: 65536},
		"long name":         {Source: tPAR, Name: "sixteen-octets-x"},
	} {
		if _, err := OpenTUN(cfg); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: OpenTUN = %v, want ErrInvalid", name, err)
		}
	}
	for name, cfg := range map[string]DecapsulatorConfig{
		"no allowed source":   {},
		"unspecified allowed": {Allowed: []netip.Addr{netip.IPv6Unspecified()}},
		"IPv4 allowed":        {Allowed: []netip.Addr{netip.MustParseAddr("192.0.2.1")}},
		"IPv4 local":          {Allowed: []netip.Addr{tPAR}, Local: netip.MustParseAddr("192.0.2.1")},
		"invalid destination": {Allowed: []netip.Addr{tPAR}, Destinations: []netip.Prefix{{}}},
		"MTU 100":             {Allowed: []netip.Addr{tPAR}, MTU: 100},
	} {
		if _, err := OpenDecapsulator(cfg); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: OpenDecapsulator = %v, want ErrInvalid", name, err)
		}
	}
}

// BenchmarkTUNHandle is the per-packet work of the forwarder between the
// TUN read and the raw-socket send: parse, binding lookup, encapsulation.
func BenchmarkTUNHandle(b *testing.B) {
	cfg := TUNConfig{Source: tPAR}
	if err := cfg.check(); err != nil {
		b.Fatal(err)
	}
	f := newTUN(&cfg, newFakeDevice(), "fake0", &fakeRouter{}, nopSender{})
	defer f.Close()
	for i := range 1000 { // a table of realistic size
		p := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 14: byte(i >> 8), 15: byte(i)})
		if p == tPCoA {
			continue
		}
		if err := f.Add(context.Background(), Binding{PreviousCoA: p, NewCoA: tNCoA, Lifetime: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Add(context.Background(), Binding{PreviousCoA: tPCoA, NewCoA: tNCoA, Lifetime: time.Hour}); err != nil {
		b.Fatal(err)
	}
	pkt := cat(innerPacket[:4], []byte{0x05, 0x8c}, innerPacket[6:40], make([]byte, 1420)) // 1460 octets
	out := make([]byte, 0, 1600)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		f.handle(out[:0], pkt)
	}
	if c := f.Counters(); c.Dropped != 0 {
		b.Fatalf("dropped %d", c.Dropped)
	}
}

type nopSender struct{}

func (nopSender) send([]byte, netip.Addr) error { return nil }
func (nopSender) Close() error                  { return nil }
