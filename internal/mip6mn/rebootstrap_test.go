package mip6mn

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// TestRebootstrap: DefaultRebootstrapMargin before mip6-sa-validity-end
// the role asks its Bootstrapper, keys the new SA and re-registers under
// it; the HA's packets under the old SA are still accepted until the BA
// under the new one. A failed bootstrap is retried after 1 s, 2 s, …
func TestRebootstrap(t *testing.T) {
	s := newSetup(t, mip6tls.SAScopeAll, func(c *Config) { c.Lifetime = 48 * time.Hour })
	s.register(t)
	end := testStart.Add(24 * time.Hour)
	if at := s.mn.Status().SA.RebootstrapAt; !at.Equal(end.Add(-DefaultRebootstrapMargin)) {
		t.Fatalf("re-bootstrap at %v, want %v", at, end.Add(-DefaultRebootstrapMargin))
	}
	// The BU asked no more than the SA's validity (RFC 6275 §11.7.1).
	if s.ha.bu.Lifetime != 24*time.Hour {
		t.Fatalf("BU lifetime %v, want the SA's remaining 24h", s.ha.bu.Lifetime)
	}
	s.boot.err = errors.New("HAC unreachable")
	s.clock.Set(end.Add(-DefaultRebootstrapMargin))
	if err := s.mn.Tick(context.Background()); !errors.Is(err, ErrSecurityAssociation) {
		t.Fatalf("failed bootstrap: %v", err)
	}
	if d := s.mn.NextDeadline().Sub(s.clock.Now()); d != time.Second {
		t.Fatalf("retry after %v, want 1s", d)
	}
	s.clock.Advance(time.Second)
	_ = s.mn.Tick(context.Background())
	if d := s.mn.NextDeadline().Sub(s.clock.Now()); d != 2*time.Second {
		t.Fatalf("second retry after %v, want 2s", d)
	}

	next := fixedSA(t, 0x1234567, mip6tls.SAScopeAll, end.Add(24*time.Hour))
	next.MNToHAIntegrity = key(t, 20, 0x11) // fresh keys
	newHA := newTestHA(t, next)
	s.boot.err, s.boot.next = nil, []mip6tls.SecurityAssociation{next}
	s.wire.take()
	s.clock.Advance(2 * time.Second)
	if err := s.mn.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := s.mn.Status()
	if s.boot.calls != 3 || st.SA.SPI != 0x1234567 || st.SA.PreviousSPI != 0x0abcdef || st.Counters.Bootstraps != 1 || st.Counters.BootstrapFailures != 2 {
		t.Fatalf("after the bootstrap (%d calls): %+v", s.boot.calls, st)
	}
	// The refresh BU due under the old SA went first, then the new one.
	sent := s.wire.take()
	last := sent[len(sent)-1]
	if !bytes.Equal(last[:4], []byte{0x81, 0x23, 0x45, 0x67}) {
		t.Fatalf("re-registration %x, want a BU under SPI 0x1234567", last)
	}
	if _, err := s.ha.receive(last); !errors.Is(err, mip6udp.ErrUnknownSPI) {
		t.Fatalf("the old SA opened the new BU: %v", err)
	}
	if _, err := newHA.receive(last); err != nil || newHA.careOf != testCareOf {
		t.Fatal(err)
	}
	// Data from the HA under the old SA, in flight during the change.
	if _, err := s.mn.HandlePacket(testHomeAgent, s.ha.seal(mip6udp.PacketTypeData, 41, ipv6(testCareOf2, testHome, nil))); err != nil {
		t.Fatalf("old SA before the BA: %v", err)
	}
	// A BA under the old SA does not complete the new registration.
	if _, err := s.mn.HandlePacket(testHomeAgent, s.ha.ack(0, newHA.bu.Sequence, DefaultLifetime, true)); !errors.Is(err, ErrUnexpected) {
		t.Fatalf("BA under the old SA: %v", err)
	}
	if _, err := s.mn.HandlePacket(testHomeAgent, newHA.ack(0, newHA.bu.Sequence, DefaultLifetime, true)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.mn.HandlePacket(testHomeAgent, s.ha.seal(mip6udp.PacketTypeData, 41, ipv6(testCareOf2, testHome, nil))); !errors.Is(err, mip6udp.ErrUnknownSPI) {
		t.Fatalf("old SA after the BA: %v", err)
	}
	if at := s.mn.Status().SA.RebootstrapAt; !at.Equal(end.Add(24 * time.Hour).Add(-DefaultRebootstrapMargin)) {
		t.Fatalf("next re-bootstrap at %v", at)
	}
}

// TestRebootstrapMarginShortSA: an SA valid for less than twice the
// margin is renewed at half its remaining validity.
func TestRebootstrapMarginShortSA(t *testing.T) {
	clock := &fakeClock{now: testStart}
	sa := fixedSA(t, 7, mip6tls.SAScopeAll, testStart.Add(2*time.Minute))
	mn, err := New(Config{Now: clock.Now, Send: (&wire{}).send}, &sa, testBootstrap())
	if err != nil {
		t.Fatal(err)
	}
	if at := mn.Status().SA.RebootstrapAt; !at.Equal(testStart.Add(time.Minute)) {
		t.Fatalf("re-bootstrap at %v, want half-way", at)
	}
	if sa.MNToHAIntegrity.Len() != 0 && !sa.MNToHAIntegrity.Equal(new(mip6tls.Key)) {
		t.Fatal("the role left the SA's keys in place")
	}
}

// TestData: home-address packets go out sealed (PType 1, Next Header 41)
// and come back; what is not from or to the home address is dropped, as
// is anything before registration; with mip6-sas 0 the data is plaintext
// only when allowed.
func TestData(t *testing.T) {
	s := newSetup(t, mip6tls.SAScopeAll, nil)
	out := ipv6(testHome, testCareOf2, []byte("ping"))
	if err := s.mn.SendData(out); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("before registration: %v", err)
	}
	s.register(t)
	if err := s.mn.SendData(out); err != nil {
		t.Fatal(err)
	}
	sent := s.wire.take()
	if len(sent) != 1 || sent[0][0]>>4 != 1 {
		t.Fatalf("%x: want one PType 1 packet", sent)
	}
	inner, err := s.ha.receive(sent[0])
	if err != nil || !bytes.Equal(inner, out) {
		t.Fatalf("HA got %x %v", inner, err)
	}
	if err := s.mn.SendData(ipv6(testCareOf, testCareOf2, nil)); !errors.Is(err, ErrAddress) {
		t.Fatalf("not from the home address: %v", err)
	}
	back := ipv6(testCareOf2, testHome, []byte("pong"))
	got, err := s.mn.HandlePacket(testHomeAgent, s.ha.seal(mip6udp.PacketTypeData, 41, back))
	if err != nil || !bytes.Equal(got, back) {
		t.Fatalf("received %x %v", got, err)
	}
	if _, err := s.mn.HandlePacket(testHomeAgent, s.ha.seal(mip6udp.PacketTypeData, 41, ipv6(testCareOf2, testCareOf, nil))); !errors.Is(err, ErrAddress) {
		t.Fatalf("not for the home address: %v", err)
	}
	if _, err := s.mn.HandlePacket(testHomeAgent, s.ha.seal(mip6udp.PacketTypeData, 59, nil)); !errors.Is(err, ErrUnexpected) {
		t.Fatalf("dummy: %v", err)
	}
	plain, _ := mip6udp.AppendPlaintext(nil, mip6udp.ScopeSignaling, back)
	if _, err := s.mn.HandlePacket(testHomeAgent, plain); !errors.Is(err, mip6udp.ErrScope) {
		t.Fatalf("plaintext under mip6-sas 1: %v", err)
	}
	c := s.mn.Counters()
	if c.DataSent != 1 || c.DataReceived != 1 || c.Drops.NotFromHome != 1 || c.Drops.NotForHome != 1 ||
		c.Drops.NotRegistered != 1 || c.Drops.Dummy != 1 || c.Drops.Scope != 1 {
		t.Fatalf("counters %+v", c)
	}
}

func TestPlaintextData(t *testing.T) {
	for _, allow := range []bool{false, true} {
		s := newSetup(t, mip6tls.SAScopeSignaling, func(c *Config) { c.AllowPlaintextData = allow })
		s.register(t)
		out := ipv6(testHome, testCareOf2, []byte("ping"))
		err := s.mn.SendData(out)
		plain, _ := mip6udp.AppendPlaintext(nil, mip6udp.ScopeSignaling, out)
		back := ipv6(testCareOf2, testHome, []byte("pong"))
		plainBack, _ := mip6udp.AppendPlaintext(nil, mip6udp.ScopeSignaling, back)
		if !allow {
			if !errors.Is(err, ErrScope) || len(s.wire.take()) != 0 {
				t.Fatalf("plaintext not allowed: %v", err)
			}
			if _, err := s.mn.HandlePacket(testHomeAgent, plainBack); !errors.Is(err, ErrScope) {
				t.Fatalf("plaintext received when not allowed: %v", err)
			}
			continue
		}
		sent := s.wire.take()
		if err != nil || len(sent) != 1 || !bytes.Equal(sent[0], plain) {
			t.Fatalf("sent %x %v, want %x", sent, err, plain)
		}
		if got, err := s.mn.HandlePacket(testHomeAgent, plainBack); err != nil || !bytes.Equal(got, back) {
			t.Fatalf("received %x %v", got, err)
		}
	}
}
