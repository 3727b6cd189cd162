package ha

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// TestBindingUpdateAccepted: a BU is answered with a BA sealed with the
// same SA, status 0, the BU's Sequence Number and the granted lifetime; the
// binding records the address and port it came from, and is persisted.
func TestBindingUpdateAccepted(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	ba := f.register(7)
	if ba.Status != StatusAccepted || ba.Sequence != 7 || ba.Lifetime != 10*time.Minute {
		t.Fatalf("BA %+v", ba)
	}
	want := Binding{HomeAddress: hoa, CareOf: coa, SPI: 0x1234, Sequence: 7, Expires: t0.Add(10 * time.Minute)}
	if got := f.ha.Bindings(); len(got) != 1 || got[0] != want {
		t.Fatalf("bindings %+v, want %+v", got, want)
	}
	if f.store.bindings[hoa] != want {
		t.Errorf("stored %+v", f.store.bindings[hoa])
	}
	// The lifetime is capped by MaxLifetime and by the SA's validity, in
	// 4-second units.
	r, err := f.ha.HandleUDP(nil, t0.Add(59*time.Minute+58*time.Second), coa, f.sealBU(8, 2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if ba := f.ack(r); ba.Status != StatusReinitSAWithHAC || ba.Lifetime != 0 {
		t.Errorf("BU 2 s before the SA ends: %+v, want status 176", ba)
	}
	r, _ = f.ha.HandleUDP(nil, t0.Add(50*time.Minute+1*time.Second), coa, f.sealBU(9, 2*time.Hour))
	if ba := f.ack(r); ba.Status != 0 || ba.Lifetime != 9*time.Minute+56*time.Second {
		t.Errorf("BU 9m59s before the SA ends: %+v, want lifetime 9m56s", ba)
	}
	if s := f.ha.Stats(); s.BindingUpdatesAccepted != 2 || s.BindingUpdatesRejected.ReinitSAWithHAC != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestDeregistration: lifetime 0 removes the binding (RFC 6275 §10.3.2).
func TestDeregistration(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	r, err := f.ha.HandleUDP(nil, t0, coa, f.sealBU(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if ba := f.ack(r); ba.Status != 0 || ba.Lifetime != 0 || ba.Sequence != 2 {
		t.Errorf("BA %+v", ba)
	}
	if len(f.ha.Bindings()) != 0 || len(f.store.bindings) != 0 {
		t.Error("binding still there")
	}
}

// TestBindingChanges: the home addresses whose binding was created or
// removed, once each, with whether they are bound; a refreshed binding or
// another SA provisioned is no change.
func TestBindingChanges(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	if c := f.ha.BindingChanges(); c != nil {
		t.Fatalf("changes before any binding: %v", c)
	}
	f.register(1)
	if c := f.ha.BindingChanges(); len(c) != 1 || !c[hoa] {
		t.Fatalf("changes after the registration: %v, want %v bound", c, hoa)
	}
	f.register(2)
	other, bs := testSA(t, 0x5678, mip6tls.SAScopeAll)
	bs.HomeAddress6 = netip.MustParseAddr("2001:db8:1::99")
	if err := f.ha.InstallSA(t0, other, bs); err != nil {
		t.Fatal(err)
	}
	if c := f.ha.BindingChanges(); c != nil {
		t.Fatalf("changes after a refresh and another SA: %v", c)
	}
	if _, err := f.ha.HandleUDP(nil, t0, coa, f.sealBU(3, 0)); err != nil {
		t.Fatal(err)
	}
	if c := f.ha.BindingChanges(); len(c) != 1 || c[hoa] {
		t.Fatalf("changes after the deregistration: %v, want %v unbound", c, hoa)
	}
}

// TestBindingUpdateRejected: each BA refusal status, with no change to the
// binding cache.
func TestBindingUpdateRejected(t *testing.T) {
	other := netip.MustParseAddr("2001:db8:1::200")
	withHAO := func(t *testing.T, f *fixture, a netip.Addr) []byte {
		// Next Header 135, Hdr Ext Len 2 (24 octets), PadN 2 so the
		// option sits at 8n+6 (RFC 6275 §6.3), Home Address option.
		d := []byte{135, 2, 1, 2, 0, 0, 201, 16}
		a16 := a.As16()
		d = append(d, a16[:]...)
		return f.seal(mip6udp.PacketTypeMobilityHeader, 60, append(d, marshalBU(t, mh.BindingUpdate{Sequence: 50, HomeRegistration: true, Lifetime: time.Minute})...))
	}
	for _, c := range []struct {
		name   string
		prefix netip.Prefix
		pkt    func(*testing.T, *fixture) []byte
		status uint8
		seq    uint16
	}{
		{"Home Address option of another MN", homePrefix, func(t *testing.T, f *fixture) []byte { return withHAO(t, f, other) }, StatusNotHomeAgentForThisMobile, 50},
		{"no H bit", homePrefix, func(t *testing.T, f *fixture) []byte {
			return f.seal(mip6udp.PacketTypeMobilityHeader, 135, marshalBU(t, mh.BindingUpdate{Sequence: 50, Lifetime: time.Minute}))
		}, StatusHomeRegistrationNotSupported, 50},
		{"not home subnet", netip.MustParsePrefix("2001:db8:7::/64"), func(t *testing.T, f *fixture) []byte { return f.sealBU(50, time.Minute) }, StatusNotHomeSubnet, 50},
		{"stale sequence", homePrefix, func(t *testing.T, f *fixture) []byte { return f.sealBU(10, time.Minute) }, StatusSequenceOutOfWindow, 10},
		{"equal sequence", homePrefix, func(t *testing.T, f *fixture) []byte { return f.sealBU(10, time.Minute) }, StatusSequenceOutOfWindow, 10},
		{"sequence 32768 ahead", homePrefix, func(t *testing.T, f *fixture) []byte { return f.sealBU(10+32768, time.Minute) }, StatusSequenceOutOfWindow, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, mip6tls.SAScopeAll)
			f.register(10)
			f.ha.cfg.HomePrefix = c.prefix
			before := f.ha.Bindings()
			r, err := f.ha.HandleUDP(nil, t0, netip.MustParseAddrPort("[2001:db8:3::3]:1"), c.pkt(t, f))
			if err != nil {
				t.Fatal(err)
			}
			ba := f.ack(r)
			if ba.Status != c.status || ba.Sequence != c.seq || ba.Lifetime != 0 {
				t.Errorf("BA %+v, want status %d sequence %d", ba, c.status, c.seq)
			}
			if got := f.ha.Bindings(); !reflect.DeepEqual(got, before) {
				t.Errorf("bindings changed: %+v", got)
			}
		})
	}
	// A Home Address option naming the SA's own address is accepted.
	f := newFixture(t, mip6tls.SAScopeAll)
	r, err := f.ha.HandleUDP(nil, t0, coa, withHAO(t, f, hoa))
	if err != nil || f.ack(r).Status != StatusAccepted {
		t.Errorf("own Home Address option: %v", err)
	}
}

// TestSequenceGreater: RFC 6275 §9.5.1's example (last 15: 0..15 and
// 32783..65535 are less than or equal).
func TestSequenceGreater(t *testing.T) {
	for _, c := range []struct {
		seq  uint16
		want bool
	}{{0, false}, {15, false}, {16, true}, {32782, true}, {32783, false}, {65535, false}} {
		if got := sequenceGreater(c.seq, 15); got != c.want {
			t.Errorf("sequenceGreater(%d, 15) = %v", c.seq, got)
		}
	}
	if !sequenceGreater(3, 65534) {
		t.Error("3 after 65534 (wrap) must be greater")
	}
}

// TestDataBothWays: protected data from the MN goes to the home link;
// home-link packets to the HoA are sealed to the care-of address and port.
func TestDataBothWays(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	inner := ipv6(hoa, cn)
	r, err := f.ha.HandleUDP(nil, t0, coa, f.seal(mip6udp.PacketTypeData, 41, inner))
	if err != nil || !bytes.Equal(r.HomeLink, inner) || r.Reply != nil {
		t.Fatalf("data from MN: %v %x", err, r.HomeLink)
	}
	back := ipv6(cn, hoa)
	to, out, err := f.ha.FromHomeLink(nil, t0, back)
	if err != nil || to != coa {
		t.Fatalf("FromHomeLink: %v to %v", err, to)
	}
	m, _, err := f.mn.In.Open(nil, out)
	if err != nil || m.Type != mip6udp.PacketTypeData || m.NextHeader != 41 || !bytes.Equal(m.Payload, back) {
		t.Fatalf("MN opens %+v, %v", m, err)
	}
	if s := f.ha.Stats(); s.DataFromMobile != 1 || s.DataToMobile != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestPlaintextData: with mip6-sas 0 data travels as PType 0 both ways,
// matched to the binding by the sender's address and port.
func TestPlaintextData(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeSignaling)
	f.register(1)
	inner := ipv6(hoa, cn)
	pkt, _ := mip6udp.AppendPlaintext(nil, mip6udp.ScopeSignaling, inner)
	r, err := f.ha.HandleUDP(nil, t0, coa, pkt)
	if err != nil || !bytes.Equal(r.HomeLink, inner) {
		t.Fatalf("plaintext from MN: %v", err)
	}
	to, out, err := f.ha.FromHomeLink(nil, t0, ipv6(cn, hoa))
	if err != nil || to != coa || out[0]>>4 != 0 || !bytes.Equal(out[8:], ipv6(cn, hoa)) {
		t.Fatalf("plaintext to MN: %v %x", err, out)
	}
	if _, err := f.ha.HandleUDP(nil, t0, netip.MustParseAddrPort("[2001:db8:2::5]:40001"), pkt); !errors.Is(err, ErrNoBinding) {
		t.Errorf("plaintext from another port: %v, want ErrNoBinding", err)
	}
}
