package ha

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/mip6sa"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

var (
	t0         = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	homePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	hoa        = netip.MustParseAddr("2001:db8:1::100")
	coa        = netip.MustParseAddrPort("[2001:db8:2::5]:40000")
	cn         = netip.MustParseAddr("2001:db8:9::9")
)

func testKey(t testing.TB, n int, start byte) mip6tls.Key {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	k, err := mip6tls.NewKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testSA is an AES_128_CBC_SHA SA with fixed keys, valid for an hour.
func testSA(t testing.TB, spi mip6tls.SPI, scope mip6tls.SAScope) (mip6tls.SecurityAssociation, mip6tls.Bootstrap) {
	return mip6tls.SecurityAssociation{
			SPI: spi, CipherSuite: mip6tls.CipherSuiteAES128CBCSHA, Scope: scope, ValidityEnd: t0.Add(time.Hour),
			MNToHAIntegrity: testKey(t, 20, 1), HAToMNIntegrity: testKey(t, 20, 0x31),
			MNToHAEncryption: testKey(t, 16, 0x61), HAToMNEncryption: testKey(t, 16, 0x91),
		}, mip6tls.Bootstrap{HomeAgent6: netip.MustParseAddr("2001:db8:1::1"), HomeAddress6: hoa,
			HomePrefix6: homePrefix}
}

// fixture is a home agent with one SA and the mobile node's side of it.
type fixture struct {
	t     testing.TB
	ha    *HomeAgent
	mn    *mip6sa.Pair
	store *memStore
}

func newFixture(t testing.TB, scope mip6tls.SAScope) *fixture {
	f := &fixture{t: t, store: newMemStore()}
	f.ha = New(Config{HomePrefix: homePrefix, Store: f.store})
	sa, bs := testSA(t, 0x1234, scope)
	if err := f.ha.InstallSA(t0, sa, bs); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.mn, err = mip6sa.New(mip6sa.MobileNode, &sa, &bs); err != nil {
		t.Fatal(err)
	}
	return f
}

func marshalBU(t testing.TB, bu mh.BindingUpdate) []byte {
	b, err := mh.MarshalMessage(bu)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sealBU seals a home registration BU with the MN's side.
func (f *fixture) sealBU(seq uint16, lifetime time.Duration) []byte {
	return f.seal(mip6udp.PacketTypeMobilityHeader, 135,
		marshalBU(f.t, mh.BindingUpdate{Sequence: seq, Acknowledge: true, HomeRegistration: true, Lifetime: lifetime}))
}

func (f *fixture) seal(pt mip6udp.PacketType, nh uint8, payload []byte) []byte {
	p, err := f.mn.Out.Seal(nil, pt, nh, payload)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// ack opens a reply with the MN's side and returns the BA.
func (f *fixture) ack(r Result) mh.BindingAcknowledgement {
	f.t.Helper()
	m, _, err := f.mn.In.Open(nil, r.Reply)
	if err != nil {
		f.t.Fatalf("MN cannot open the reply: %v", err)
	}
	msg, err := mh.ParseMessage(m.Payload)
	if err != nil {
		f.t.Fatal(err)
	}
	ba, ok := msg.(mh.BindingAcknowledgement)
	if !ok {
		f.t.Fatalf("reply is %T", msg)
	}
	return ba
}

// register binds hoa → coa with BU sequence seq.
func (f *fixture) register(seq uint16) mh.BindingAcknowledgement {
	f.t.Helper()
	r, err := f.ha.HandleUDP(nil, t0, coa, f.sealBU(seq, 10*time.Minute))
	if err != nil {
		f.t.Fatal(err)
	}
	return f.ack(r)
}

// ipv6 builds a minimal IPv6 packet (UDP next header, 4 payload octets).
func ipv6(src, dst netip.Addr) []byte {
	p := make([]byte, 44)
	p[0] = 0x60
	binary.BigEndian.PutUint16(p[4:], 4)
	p[6], p[7] = 17, 64
	s, d := src.As16(), dst.As16()
	copy(p[8:], s[:])
	copy(p[24:], d[:])
	copy(p[40:], "ping")
	return p
}

// memStore is a Store in memory that can be told to fail. PutLeases and
// PutSA (which the role calls without its lock) are serialized with the
// others; PutLeases waits for gate when it is set and counts its calls,
// PutSA announces itself on saEntered and waits for saGate when they are
// set.
type memStore struct {
	mu          sync.Mutex
	sas         map[mip6udp.SPI]SARecord
	bindings    map[netip.Addr]Binding
	fail        bool
	failBinding bool // PutBinding only
	gate        chan struct{}
	leaseWrites int
	saEntered   chan mip6udp.SPI
	saGate      chan struct{}
}

var errStoreTest = errors.New("store down")

func newMemStore() *memStore {
	return &memStore{sas: map[mip6udp.SPI]SARecord{}, bindings: map[netip.Addr]Binding{}}
}

func (s *memStore) PutSA(r SARecord) error {
	if s.saGate != nil {
		s.saEntered <- mip6udp.SPI(r.SA.SPI)
		<-s.saGate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errStoreTest
	}
	s.sas[mip6udp.SPI(r.SA.SPI)] = r
	return nil
}

func (s *memStore) DeleteSA(spi mip6udp.SPI) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errStoreTest
	}
	delete(s.sas, spi)
	return nil
}

func (s *memStore) PutBinding(b Binding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail || s.failBinding {
		return errStoreTest
	}
	s.bindings[b.HomeAddress] = b
	return nil
}

func (s *memStore) PutLeases(ls []Lease) error {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leaseWrites++
	if s.fail {
		return errStoreTest
	}
	for _, l := range ls {
		if r, ok := s.sas[l.SPI]; ok {
			r.InLease = l.Lease
			s.sas[l.SPI] = r
		}
	}
	return nil
}

func (s *memStore) DeleteBinding(a netip.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errStoreTest
	}
	delete(s.bindings, a)
	return nil
}

func (s *memStore) records() ([]SARecord, []Binding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sas []SARecord
	var bs []Binding
	for _, r := range s.sas {
		sas = append(sas, r)
	}
	for _, b := range s.bindings {
		bs = append(bs, b)
	}
	return sas, bs
}
