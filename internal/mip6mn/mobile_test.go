package mip6mn

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// TestRegister: the HA reads HoA, CoA, flags, sequence and lifetime from
// the BU; a BA behind a type 2 Routing header registers the binding, and
// its lifetime counts from the BU's departure.
func TestRegister(t *testing.T) {
	s := newSetup(t, mip6tls.SAScopeAll, nil)
	if err := s.mn.SetCareOfAddress(testCareOf); err != nil {
		t.Fatal(err)
	}
	sent := s.wire.take()
	if _, err := s.ha.receive(sent[0]); err != nil {
		t.Fatal(err)
	}
	bu := s.ha.bu
	if s.ha.home != testHome || s.ha.careOf != testCareOf || !bu.Acknowledge || !bu.HomeRegistration ||
		bu.KeyManagement || bu.Sequence != 1 || bu.Lifetime != DefaultLifetime {
		t.Fatalf("HA saw HoA %v CoA %v %+v", s.ha.home, s.ha.careOf, bu)
	}
	if st := s.mn.Status(); st.State != StateRegistering || !st.Outstanding {
		t.Fatalf("before the BA: %+v", st)
	}
	s.clock.Advance(time.Second)
	if _, err := s.mn.HandlePacket(testHomeAgent, s.ha.ack(0, 1, 400*time.Second, true)); err != nil {
		t.Fatal(err)
	}
	st := s.mn.Status()
	if st.State != StateRegistered || st.Outstanding || st.LastStatus != 0 || st.Lifetime != 400 ||
		!st.Expires.Equal(testStart.Add(400*time.Second)) || !st.NextBU.Equal(testStart.Add(300*time.Second)) {
		t.Fatalf("after the BA: %+v", st)
	}
	if c := s.mn.Counters(); c.BindingUpdatesSent != 1 || c.BindingAcknowledgementsAccepted != 1 {
		t.Fatalf("counters %+v", c)
	}
}

// TestRetransmission: no BA — the BU goes again after 1.5 s, 3 s, 6 s, …
// up to 32 s (RFC 6275 §11.8), each time with a greater Sequence Number;
// a BA for an earlier one is unexpected, the one for the last registers.
func TestRetransmission(t *testing.T) {
	s := newSetup(t, mip6tls.SAScopeAll, nil)
	if err := s.mn.SetCareOfAddress(testCareOf); err != nil {
		t.Fatal(err)
	}
	s.wire.take()
	wantGaps := []time.Duration{1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 12 * time.Second,
		24 * time.Second, 32 * time.Second, 32 * time.Second}
	for i, gap := range wantGaps {
		if d := s.mn.NextDeadline().Sub(s.clock.Now()); d != gap {
			t.Fatalf("retransmission %d after %v, want %v", i+1, d, gap)
		}
		s.clock.Advance(gap - time.Millisecond)
		if err := s.mn.Tick(context.Background()); err != nil || len(s.wire.take()) != 0 {
			t.Fatalf("sent before the timer (%v)", err)
		}
		s.clock.Advance(time.Millisecond)
		if err := s.mn.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		sent := s.wire.take()
		if len(sent) != 1 {
			t.Fatalf("retransmission %d: %d packets", i+1, len(sent))
		}
		if _, err := s.ha.receive(sent[0]); err != nil || s.ha.bu.Sequence != uint16(i+2) {
			t.Fatalf("retransmission %d: sequence %d, %v", i+1, s.ha.bu.Sequence, err)
		}
	}
	if c := s.mn.Counters(); c.BindingUpdatesRetransmitted != uint64(len(wantGaps)) {
		t.Fatalf("counters %+v", c)
	}
	_, err := s.mn.HandlePacket(testHomeAgent, s.ha.ack(0, 3, DefaultLifetime, false))
	if !errors.Is(err, ErrUnexpected) || s.mn.Status().State != StateRegistering {
		t.Fatalf("BA for an earlier BU: %v, state %s", err, s.mn.Status().State)
	}
	if _, err := s.mn.HandlePacket(testHomeAgent, s.ha.ack(0, s.ha.bu.Sequence, DefaultLifetime, false)); err != nil {
		t.Fatal(err)
	}
	if st := s.mn.Status(); st.State != StateRegistered || st.Counters.Drops.Unexpected != 1 {
		t.Fatalf("%+v", st)
	}
}

// TestRefusedBindingAcknowledgement: status >= 128 leaves no binding and
// the BU is retried after MAX_BINDACK_TIMEOUT; status 135 makes the next
// BU continue after the HA's Sequence Number at once.
func TestRefusedBindingAcknowledgement(t *testing.T) {
	s := newSetup(t, mip6tls.SAScopeAll, nil)
	if err := s.mn.SetCareOfAddress(testCareOf); err != nil {
		t.Fatal(err)
	}
	s.acknowledgeLast(t, 129) // administratively prohibited
	st := s.mn.Status()
	if st.State != StateRefused || st.LastStatus != 129 || st.Outstanding || !st.NextBU.Equal(testStart.Add(MaxBindackTimeout)) {
		t.Fatalf("after status 129: %+v", st)
	}
	if err := s.mn.SendData(ipv6(testHome, testCareOf2, nil)); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("data while refused: %v", err)
	}
	s.clock.Advance(MaxBindackTimeout)
	if err := s.mn.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	sent := s.wire.take()
	if len(sent) != 1 {
		t.Fatalf("%d packets after MAX_BINDACK_TIMEOUT", len(sent))
	}
	if _, err := s.ha.receive(sent[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.mn.HandlePacket(testHomeAgent, s.ha.ack(StatusSequenceOutOfWindow, 1000, 0, true)); err != nil {
		t.Fatal(err)
	}
	sent = s.wire.take()
	if len(sent) != 1 {
		t.Fatalf("status 135: %d packets, want the BU again at once", len(sent))
	}
	if _, err := s.ha.receive(sent[0]); err != nil || s.ha.bu.Sequence != 1001 {
		t.Fatalf("after status 135: sequence %d, %v", s.ha.bu.Sequence, err)
	}
	if c := s.mn.Counters(); c.BindingAcknowledgementsRefused != 2 {
		t.Fatalf("counters %+v", c)
	}
}

// TestReplayedAndTampered: the same BA twice — the second is a replay;
// a BA or data packet with one bit flipped fails the ICV. Neither changes
// the state.
func TestReplayedAndTampered(t *testing.T) {
	s := newSetup(t, mip6tls.SAScopeAll, nil)
	s.register(t)
	before := s.mn.Status()
	s.clock.Advance(before.NextBU.Sub(s.clock.Now()))
	if err := s.mn.Tick(context.Background()); err != nil { // refresh BU, sequence 2
		t.Fatal(err)
	}
	s.wire.take()
	ba := s.ha.ack(0, 2, DefaultLifetime, true)
	tampered := append([]byte{}, ba...)
	tampered[30] ^= 0x01
	if _, err := s.mn.HandlePacket(testHomeAgent, tampered); !errors.Is(err, ErrAuth) || !errors.Is(err, mip6udp.ErrICV) {
		t.Fatalf("tampered BA: %v", err)
	}
	if !s.mn.Status().Outstanding {
		t.Fatal("a tampered BA completed the refresh")
	}
	if _, err := s.mn.HandlePacket(testHomeAgent, ba); err != nil {
		t.Fatal(err)
	}
	if _, err := s.mn.HandlePacket(testHomeAgent, ba); !errors.Is(err, ErrAuth) || !errors.Is(err, mip6udp.ErrReplayed) {
		t.Fatalf("replayed BA: %v", err)
	}
	data := s.ha.seal(mip6udp.PacketTypeData, 41, ipv6(testCareOf2, testHome, []byte("x")))
	data[len(data)-1] ^= 0x80
	if _, err := s.mn.HandlePacket(testHomeAgent, data); !errors.Is(err, mip6udp.ErrICV) {
		t.Fatalf("tampered data: %v", err)
	}
	d := s.mn.Counters().Drops
	if d.Auth != 2 || d.Replayed != 1 {
		t.Fatalf("drops %+v", d)
	}
	if _, err := s.mn.HandlePacket(netipAddrPort("[2001:db8:9::1]:7872"), ba); !errors.Is(err, ErrAddress) {
		t.Fatalf("from another address: %v", err)
	}
}

// TestCareOfAddressChange: a new CoA is registered at once, with
// INITIAL_BINDACK_TIMEOUT (a binding exists) and the next Sequence Number.
func TestCareOfAddressChange(t *testing.T) {
	s := newSetup(t, mip6tls.SAScopeAll, nil)
	s.register(t)
	s.clock.Advance(10 * time.Second)
	if err := s.mn.SetCareOfAddress(testCareOf); err != nil || len(s.wire.take()) != 0 {
		t.Fatalf("the same CoA again sent a BU (%v)", err)
	}
	if err := s.mn.SetCareOfAddress(testCareOf2); err != nil {
		t.Fatal(err)
	}
	sent := s.wire.take()
	if len(sent) != 1 {
		t.Fatalf("%d packets after the move", len(sent))
	}
	if _, err := s.ha.receive(sent[0]); err != nil || s.ha.careOf != testCareOf2 || s.ha.bu.Sequence != 2 {
		t.Fatalf("HA saw CoA %v sequence %d (%v)", s.ha.careOf, s.ha.bu.Sequence, err)
	}
	if d := s.mn.NextDeadline().Sub(s.clock.Now()); d != InitialBindackTimeout {
		t.Fatalf("retransmission after %v, want INITIAL_BINDACK_TIMEOUT", d)
	}
	if _, err := s.mn.HandlePacket(testHomeAgent, s.ha.ack(0, 2, DefaultLifetime, true)); err != nil {
		t.Fatal(err)
	}
	if st := s.mn.Status(); st.State != StateRegistered || st.CareOf != testCareOf2 {
		t.Fatalf("%+v", st)
	}
}

// TestRefreshAndExpiry: the binding is refreshed at 3/4 of its lifetime,
// or earlier when the BA carries a Binding Refresh Advice; unanswered, it
// ends at its lifetime and data stops.
func TestRefreshAndExpiry(t *testing.T) {
	s := newSetup(t, mip6tls.SAScopeAll, nil)
	if err := s.mn.SetCareOfAddress(testCareOf); err != nil {
		t.Fatal(err)
	}
	s.wire.take()
	ba := s.ha.ack(0, 1, 400*time.Second, false, mh.BindingRefreshAdvice{RefreshInterval: 100 * time.Second})
	if _, err := s.mn.HandlePacket(testHomeAgent, ba); err != nil {
		t.Fatal(err)
	}
	if d := s.mn.NextDeadline().Sub(testStart); d != 100*time.Second {
		t.Fatalf("refresh at %v, want the advised 100 s", d)
	}
	s.clock.Advance(100 * time.Second)
	if err := s.mn.Tick(context.Background()); err != nil || len(s.wire.take()) != 1 {
		t.Fatalf("no refresh BU (%v)", err)
	}
	if err := s.mn.SendData(ipv6(testHome, testCareOf2, nil)); err != nil {
		t.Fatalf("data during the refresh: %v", err)
	}
	for s.clock.Now().Before(testStart.Add(400 * time.Second)) {
		s.clock.Set(s.mn.NextDeadline())
		_ = s.mn.Tick(context.Background())
	}
	if st := s.mn.Status(); st.State != StateRegistering {
		t.Fatalf("after the lifetime: %s", st.State)
	}
	if err := s.mn.SendData(ipv6(testHome, testCareOf2, nil)); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("data after the binding ended: %v", err)
	}
}
