package mip6mn

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

var (
	testHome      = netip.MustParseAddr("2001:db8:1::100")
	testHomeAgent = netip.MustParseAddrPort("[2001:db8:1::1]:7872")
	testCareOf    = netip.MustParseAddr("2001:db8:2::55")
	testCareOf2   = netip.MustParseAddr("2001:db8:3::55")
	testStart     = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
)

// key is n octets of value v; each key of an SA gets its own v, so that
// swapped directions cannot pass by accident.
func key(t testing.TB, n int, v byte) mip6tls.Key {
	t.Helper()
	k, err := mip6tls.NewKey(bytes.Repeat([]byte{v}, n))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixedSA is an AES_128_CBC_SHA SA with fixed keys (distinct per key).
func fixedSA(t testing.TB, spi mip6tls.SPI, scope mip6tls.SAScope, validUntil time.Time) mip6tls.SecurityAssociation {
	return mip6tls.SecurityAssociation{
		SPI: spi, CipherSuite: mip6tls.CipherSuiteAES128CBCSHA, Scope: scope, ValidityEnd: validUntil,
		MNToHAIntegrity: key(t, 20, 0x10), HAToMNIntegrity: key(t, 20, 0x40),
		MNToHAEncryption: key(t, 16, 0x70), HAToMNEncryption: key(t, 16, 0xa0),
	}
}

func testBootstrap() *mip6tls.Bootstrap {
	return &mip6tls.Bootstrap{HomeAgent6: testHomeAgent.Addr(), HomeAddress6: testHome}
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// wire records what the role sends.
type wire struct {
	mu   sync.Mutex
	sent [][]byte
	to   []netip.AddrPort
}

func (w *wire) send(to netip.AddrPort, p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sent = append(w.sent, bytes.Clone(p))
	w.to = append(w.to, to)
	return nil
}

func (w *wire) take() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.sent
	w.sent, w.to = nil, nil
	return s
}

// testHA is a home agent built only from mip6udp, mh and netio's
// Destination Options parser: independent of the role's own builders.
type testHA struct {
	t     testing.TB
	out   *mip6udp.Outbound
	in    *mip6udp.Inbound
	scope mip6udp.Scope
	// what the last Binding Update said
	bu     mh.BindingUpdate
	home   netip.Addr
	careOf netip.Addr
}

func newTestHA(t testing.TB, sa mip6tls.SecurityAssociation) *testHA {
	t.Helper()
	spi, suite := mip6udp.SPI(sa.SPI), mip6udp.CipherSuite(sa.CipherSuite)
	out, err := mip6udp.NewOutbound(mip6udp.Config{SPI: spi, Suite: suite,
		EncryptionKey: sa.HAToMNEncryption.Bytes(), IntegrityKey: sa.HAToMNIntegrity.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	in, err := mip6udp.NewInbound(mip6udp.Config{SPI: spi, Suite: suite,
		EncryptionKey: sa.MNToHAEncryption.Bytes(), IntegrityKey: sa.MNToHAIntegrity.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	return &testHA{t: t, out: out, in: in, scope: mip6udp.Scope(sa.Scope)}
}

// receive opens a packet from the MN: a Binding Update (recorded, nil
// returned) or user data (the inner packet returned).
func (h *testHA) receive(pkt []byte) ([]byte, error) {
	msg, _, err := mip6udp.Open(nil, pkt, h.scope, func(s mip6udp.SPI) (*mip6udp.Inbound, bool) {
		return h.in, s == h.in.SPI()
	})
	if err != nil {
		return nil, err
	}
	if msg.Type != mip6udp.PacketTypeMobilityHeader {
		return msg.Payload, nil
	}
	if msg.NextHeader != 60 {
		return nil, errors.New("binding update without destination options")
	}
	d, err := netio.ParseDestinationOptions(msg.Payload)
	if err != nil {
		return nil, err
	}
	b := msg.Payload[d.Len:]
	if d.NextHeader != 135 {
		return nil, errors.New("no mobility header after the destination options")
	}
	if err := mh.VerifyChecksum(b, d.HomeAddress, testHomeAgent.Addr()); err != nil {
		return nil, err
	}
	m, err := mh.ParseMessage(b)
	if err != nil {
		return nil, err
	}
	bu, ok := m.(mh.BindingUpdate)
	if !ok {
		return nil, errors.New("not a binding update")
	}
	h.bu, h.home = bu, d.HomeAddress
	for _, o := range bu.Options {
		if a, ok := o.(mh.AlternateCareOfAddress); ok {
			h.careOf = a.Address
		}
	}
	return nil, nil
}

// ack seals a Binding Acknowledgement for the last Binding Update, behind
// a type 2 Routing header when rh.
func (h *testHA) ack(status uint8, seq uint16, lifetime time.Duration, rh bool, opts ...mh.Option) []byte {
	h.t.Helper()
	b, err := mh.MarshalMessage(mh.BindingAcknowledgement{Status: status, Sequence: seq, Lifetime: lifetime, Options: opts})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := mh.SetChecksum(b, testHomeAgent.Addr(), testHome); err != nil {
		h.t.Fatal(err)
	}
	nh := uint8(135)
	if rh {
		a := testHome.As16()
		b = append(append([]byte{135, 2, 2, 1, 0, 0, 0, 0}, a[:]...), b...)
		nh = 43
	}
	return h.seal(mip6udp.PacketTypeMobilityHeader, nh, b)
}

func (h *testHA) seal(t mip6udp.PacketType, nh uint8, payload []byte) []byte {
	h.t.Helper()
	p, err := h.out.Seal(nil, t, nh, payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// ipv6 builds a minimal IPv6/UDP-less packet (Next Header 59) from src to dst.
func ipv6(src, dst netip.Addr, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0] = 0x60
	b[4], b[5] = byte(len(payload)>>8), byte(len(payload))
	b[6], b[7] = 59, 64
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, payload...)
}

// fakeBootstrapper hands out SAs with increasing SPIs.
type fakeBootstrapper struct {
	mu    sync.Mutex
	next  []mip6tls.SecurityAssociation
	calls int
	err   error
}

func (f *fakeBootstrapper) Bootstrap(context.Context) (*mip6tls.SecurityAssociation, *mip6tls.Bootstrap, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil || len(f.next) == 0 {
		return nil, nil, errors.Join(f.err, errors.New("no SA"))
	}
	sa := f.next[0]
	f.next = f.next[1:]
	return &sa, testBootstrap(), nil
}

// setup is a role on a fake clock and wire with the first SA, and the
// in-test HA with the same SA.
type setup struct {
	clock *fakeClock
	wire  *wire
	mn    *MobileNode
	ha    *testHA
	boot  *fakeBootstrapper
}

func newSetup(t testing.TB, scope mip6tls.SAScope, mod func(*Config)) *setup {
	t.Helper()
	s := &setup{clock: &fakeClock{now: testStart}, wire: &wire{}, boot: &fakeBootstrapper{}}
	sa := fixedSA(t, 0x0abcdef, scope, testStart.Add(24*time.Hour))
	s.ha = newTestHA(t, sa)
	cfg := Config{Now: s.clock.Now, Send: s.wire.send, Bootstrapper: s.boot, Rand: bytes.NewReader(bytes.Repeat([]byte{0xa5}, 1<<16))}
	if mod != nil {
		mod(&cfg)
	}
	mn, err := New(cfg, &sa, testBootstrap())
	if err != nil {
		t.Fatal(err)
	}
	s.mn = mn
	return s
}

// register brings the role to StateRegistered at testCareOf.
func (s *setup) register(t testing.TB) {
	t.Helper()
	if err := s.mn.SetCareOfAddress(testCareOf); err != nil {
		t.Fatal(err)
	}
	s.acknowledgeLast(t, 0)
	if st := s.mn.Status(); st.State != StateRegistered {
		t.Fatalf("state %s after the BA", st.State)
	}
}

// acknowledgeLast has the HA receive the last packet sent (a BU) and
// answer with status.
func (s *setup) acknowledgeLast(t testing.TB, status uint8) {
	t.Helper()
	sent := s.wire.take()
	if len(sent) == 0 {
		t.Fatal("nothing sent")
	}
	if _, err := s.ha.receive(sent[len(sent)-1]); err != nil {
		t.Fatalf("HA: %v", err)
	}
	ba := s.ha.ack(status, s.ha.bu.Sequence, s.ha.bu.Lifetime, true)
	if _, err := s.mn.HandlePacket(testHomeAgent, ba); err != nil {
		t.Fatalf("BA: %v", err)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func netipAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
