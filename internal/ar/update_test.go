package ar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/ndp"
	"github.com/fhkey/fhkey/send"
)

// update applies mod to the router's current settings.
func update(t *testing.T, r *Router, mod func(*Settings)) {
	t.Helper()
	s := r.Settings()
	mod(&s)
	if err := r.Update(s); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// prrtadv parses p as a PrRtAdv, without failing the test (for goroutines).
func prrtadv(p netio.Packet) (*ndp.ProxyRouterAdvertisement, error) {
	m, err := ndp.ParseMessage(p.Payload)
	if err != nil {
		return nil, err
	}
	adv, ok := m.(*ndp.ProxyRouterAdvertisement)
	if !ok {
		return nil, fmt.Errorf("got %T, want a PrRtAdv", m)
	}
	return adv, nil
}

// keyReply returns the Handover Key Reply of the PrRtAdv p, or nil.
func keyReply(p netio.Packet) *ndp.HandoverKeyReply {
	adv, err := prrtadv(p)
	if err != nil {
		return nil
	}
	for _, o := range adv.Options {
		if hkr, ok := o.(*ndp.HandoverKeyReply); ok {
			return hkr
		}
	}
	return nil
}

// fback parses the FBack p.
func fback(p netio.Packet) (mh.FastBindingAcknowledgment, error) {
	m, err := mh.ParseMessage(p.Payload)
	if err != nil {
		return mh.FastBindingAcknowledgment{}, err
	}
	ack, ok := m.(mh.FastBindingAcknowledgment)
	if !ok {
		return ack, fmt.Errorf("got %T, want an FBack", m)
	}
	return ack, nil
}

// TestUpdatePerSourceLimit: a new per-source rate and burst apply to the
// next solicitation; the bucket is kept, so raising the burst grants nothing
// at once and lowering it caps a full bucket.
func TestUpdatePerSourceLimit(t *testing.T) {
	w := newWorld(t, 1024, &Limits{PerSource: Rate{PerSecond: 1, Burst: 1}})
	provisioned := func() bool {
		out := w.par.HandlePacket(context.Background(), w.solicit())
		return len(out) == 1 && keyReply(out[0]) != nil
	}
	if !provisioned() || provisioned() {
		t.Fatalf("burst 1: stats %+v", w.par.Stats())
	}
	update(t, w.par, func(s *Settings) { s.Limits.PerSource = Rate{PerSecond: 1, Burst: 3} })
	if provisioned() {
		t.Error("raising the burst refilled the bucket at once")
	}
	w.clock.Advance(3 * time.Second)
	for i := range 3 {
		if !provisioned() {
			t.Fatalf("solicitation %d within the new burst of 3 refused (stats %+v)", i, w.par.Stats())
		}
	}
	if provisioned() {
		t.Error("fourth solicitation beyond the new burst of 3 answered")
	}
	w.clock.Advance(10 * time.Second) // full: 3 tokens
	update(t, w.par, func(s *Settings) { s.Limits.PerSource = Rate{PerSecond: 1, Burst: 1} })
	if !provisioned() || provisioned() {
		t.Error("lowering the burst to 1 did not cap the full bucket")
	}
	if got := w.par.Stats().RateLimitedSource; got != 4 {
		t.Errorf("RateLimitedSource = %d, want 4", got)
	}
	if got := w.par.Settings().Limits.PerSource; got != (Rate{PerSecond: 1, Burst: 1}) {
		t.Errorf("Settings().Limits.PerSource = %+v", got)
	}
}

// TestUpdateKeyLifetime: keys created after the change get the new
// HK-LIFETIME (RFC 5269 §3.7), in the store and in the Key Lifetime field;
// a key issued before keeps its expiry.
func TestUpdateKeyLifetime(t *testing.T) {
	w := newWorld(t, 1024, nil)
	w.provision() // PCoA: keystore.HKLifetime
	update(t, w.par, func(s *Settings) { s.KeyLifetime = 600 * time.Second })
	w.clock.Advance(time.Second)
	out := w.par.HandlePacket(context.Background(), w.solicit())
	if len(out) != 1 || keyReply(out[0]) == nil || keyReply(out[0]).KeyLifetime != keystore.HKLifetime-time.Second {
		t.Fatalf("existing key: answer %v, stats %+v", out, w.par.Stats())
	}
	p, err := w.mn.Solicit(w.parAdr, w.ncoa)
	if err != nil {
		t.Fatal(err)
	}
	out = w.par.HandlePacket(context.Background(), p)
	if len(out) != 1 {
		t.Fatalf("new CGA: %d answers", len(out))
	}
	if hkr := keyReply(out[0]); hkr == nil || hkr.KeyLifetime != 600*time.Second {
		t.Errorf("new key: Handover Key Reply %+v, want Key Lifetime 600 s", hkr)
	}
	rec, err := w.store.Get(w.parAdr, w.ncoa.Address)
	if err != nil || !rec.Expires.Equal(w.clock.Now().Add(600*time.Second)) {
		t.Errorf("new key record expires %v (%v), want now + 600 s", rec.Expires, err)
	}
	old, err := w.store.Get(w.parAdr, w.pcoa.Address)
	if err != nil || !old.Expires.Equal(w.clock.Now().Add(keystore.HKLifetime-time.Second)) {
		t.Errorf("existing key record expires %v (%v): changed by the update", old.Expires, err)
	}
}

// TestUpdateForwardingLifetime: an FBU accepted after the change is granted
// the new forwarding lifetime.
func TestUpdateForwardingLifetime(t *testing.T) {
	w := newWorld(t, 1024, nil)
	w.provision()
	update(t, w.par, func(s *Settings) { s.ForwardingLifetime = 3 * time.Second })
	fbu, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, false)
	if err != nil {
		t.Fatal(err)
	}
	out := w.par.HandlePacket(context.Background(), fbu)
	if len(out) != 1 {
		t.Fatalf("%d answers (stats %+v)", len(out), w.par.Stats())
	}
	ack, err := fback(out[0])
	if err != nil || ack.Status != mh.FastStatusAccepted || ack.Lifetime != 3*time.Second {
		t.Errorf("FBack %+v (%v), want accepted with lifetime 3 s", ack, err)
	}
	if b, ok := w.table.Lookup(w.pcoa.Address); !ok || b.Lifetime != 3*time.Second {
		t.Errorf("binding %+v %v, want lifetime 3 s", b, ok)
	}
}

// TestUpdateNeighbors: the PrRtAdvs sent after the change carry the new
// neighbors (RFC 5568 §6.1.2), and none leaves Code 2.
func TestUpdateNeighbors(t *testing.T) {
	w := newWorld(t, 1024, nil)
	narAddr := netip.MustParseAddr("2001:db8:99::1")
	n := Neighbor{AccessPoint: []byte{2, 0, 0, 0, 0, 3}, RouterLLA: []byte{2, 0, 0, 0, 0, 0x33}, Address: narAddr,
		Prefix: netip.MustParsePrefix("2001:db8:99::/64")}
	update(t, w.par, func(s *Settings) { s.Neighbors = []Neighbor{n} })
	n.AccessPoint[0] = 0xff // the router keeps its own copy
	out := w.par.HandlePacket(context.Background(), w.solicit())
	if len(out) != 1 {
		t.Fatal("no answer")
	}
	adv, err := prrtadv(out[0])
	if err != nil {
		t.Fatal(err)
	}
	var ap []byte
	var addr netip.Addr
	for _, o := range adv.Options {
		switch o := o.(type) {
		case *ndp.LinkLayerAddress:
			if o.OptionCode == ndp.LLANewAccessPoint {
				ap = o.LinkLayerAddress
			}
		case *ndp.IPAddressPrefix:
			if o.OptionCode == ndp.IPAddressNARAddress {
				addr = o.IPv6Address
			}
		}
	}
	if adv.Code != ndp.PrRtAdvTuples || addr != narAddr || !bytes.HasPrefix(ap, []byte{2, 0, 0, 0, 0, 3}) { // padded to 8-octet units
		t.Errorf("PrRtAdv Code %d, NAR %v, AP %x; want Code %d, %v, 020000000003", adv.Code, addr, ap, ndp.PrRtAdvTuples, narAddr)
	}
	update(t, w.par, func(s *Settings) { s.Neighbors = nil })
	out = w.par.HandlePacket(context.Background(), w.solicit())
	if len(out) != 1 {
		t.Fatal("no answer")
	}
	if adv, err := prrtadv(out[0]); err != nil || adv.Code != ndp.PrRtAdvNoNewRouterInfo {
		t.Errorf("no neighbors: PrRtAdv %+v (%v), want Code %d", adv, err, ndp.PrRtAdvNoNewRouterInfo)
	}
}

// TestUpdateKeySizes: new RSA key size bounds apply to the next solicitation
// (RFC 3971 §5.1.3), through a verifier that shares the SEND state of the
// configured one: a solicitation accepted under one bound is a replay under
// the next.
func TestUpdateKeySizes(t *testing.T) {
	w := newWorld(t, 1024, nil)
	update(t, w.par, func(s *Settings) { s.MinKeyBits = 2048 })
	out := w.par.HandlePacket(context.Background(), w.solicit())
	if len(out) != 1 || keyReply(out[0]) != nil || w.par.Stats().RtSolPrSENDFailed != 1 {
		t.Fatalf("1024-bit signer with MinKeyBits 2048: %d answers, stats %+v", len(out), w.par.Stats())
	}
	update(t, w.par, func(s *Settings) { s.MinKeyBits = 512 })
	if v := w.par.set.Load().verifier; v == w.par.baseVerifier || v.Replay != w.par.baseVerifier.Replay ||
		v.Timestamps != w.par.baseVerifier.Timestamps || v.MinBits != 512 {
		t.Fatalf("verifier %p (base %p): caches not shared or MinBits %d", v, w.par.baseVerifier, v.MinBits)
	}
	sol := w.solicit()
	if out := w.par.HandlePacket(context.Background(), sol); len(out) != 1 || keyReply(out[0]) == nil {
		t.Fatalf("MinKeyBits 512: no key (stats %+v)", w.par.Stats())
	}
	update(t, w.par, func(s *Settings) { s.MinKeyBits = 0 })
	if w.par.set.Load().verifier != w.par.baseVerifier {
		t.Error("back to the configured sizes: not the configured verifier")
	}
	if out := w.par.HandlePacket(context.Background(), sol); len(out) == 1 && keyReply(out[0]) != nil {
		t.Error("replayed solicitation provisioned after the verifier changed")
	}
	if got := w.par.Stats().RtSolPrSENDFailed; got != 2 {
		t.Errorf("RtSolPrSENDFailed = %d, want 2", got)
	}
}

// invalidSettings are rejected by New and Update alike.
var invalidSettings = []struct {
	name string
	mod  func(*Settings)
}{
	{"KeyLifetime beyond the 16-bit field", func(s *Settings) { s.KeyLifetime = 0x10000 * time.Second }},
	{"KeyLifetime negative", func(s *Settings) { s.KeyLifetime = -time.Second }},
	{"ForwardingLifetime under 1 s", func(s *Settings) { s.ForwardingLifetime = 500 * time.Millisecond }},
	{"ForwardingLifetime beyond the FBack field", func(s *Settings) { s.ForwardingLifetime = 0x10000 * time.Second }},
	{"Algorithms empty", func(s *Settings) { s.Algorithms = []hokey.AlgorithmType{} }},
	{"Algorithms unknown AT", func(s *Settings) { s.Algorithms = []hokey.AlgorithmType{hokey.HMACSHA1Trunc96, 9} }},
	{"neighbor without router LLA", func(s *Settings) {
		s.Neighbors = []Neighbor{{AccessPoint: []byte{1}, Address: netip.MustParseAddr("2001:db8::1")}}
	}},
	{"neighbor with an IPv4 address", func(s *Settings) {
		s.Neighbors = []Neighbor{{AccessPoint: []byte{1}, RouterLLA: []byte{2}, Address: netip.MustParseAddr("192.0.2.1")}}
	}},
	{"PerSource rate NaN", func(s *Settings) { s.Limits.PerSource.PerSecond = math.NaN() }},
	{"PerKey rate infinite", func(s *Settings) { s.Limits.PerKey.PerSecond = math.Inf(1) }},
	{"Total rate negative", func(s *Settings) { s.Limits.Total.PerSecond = -1 }},
	{"UnsecuredReplies burst 0 with a rate", func(s *Settings) { s.Limits.UnsecuredReplies = Rate{PerSecond: 5} }},
	{"PerSource burst negative", func(s *Settings) { s.Limits.PerSource.Burst = -1 }},
	{"MaxTracked negative", func(s *Settings) { s.Limits.MaxTracked = -1 }},
	{"MinKeyBits above MaxKeyBits", func(s *Settings) { s.MinKeyBits, s.MaxKeyBits = 4096, 2048 }},
	{"MinKeyBits above the default MaxKeyBits", func(s *Settings) { s.MinKeyBits = 8192 }},
	{"MaxKeyBits negative", func(s *Settings) { s.MaxKeyBits = -1 }},
}

// TestUpdateRejectsInvalid: every invalid setting is a wrapped
// ErrInvalidSetting, and an update with one invalid field changes nothing,
// not even its valid fields. New rejects the same settings.
func TestUpdateRejectsInvalid(t *testing.T) {
	w := newWorld(t, 1024, nil)
	before := w.par.Settings()
	verifier := w.par.set.Load().verifier
	for _, tc := range invalidSettings {
		s := w.par.Settings()
		s.KeyLifetime, s.Limits.PerSource = 600*time.Second, Rate{PerSecond: 100, Burst: 100} // valid changes
		tc.mod(&s)
		if err := w.par.Update(s); !errors.Is(err, ErrInvalidSetting) {
			t.Errorf("%s: Update error %v, want ErrInvalidSetting", tc.name, err)
		}
		if got := w.par.Settings(); !reflect.DeepEqual(got, before) {
			t.Errorf("%s: settings changed by a refused update: %+v", tc.name, got)
		}
		if w.par.perSource.rate != DefaultLimits.PerSource || w.par.set.Load().verifier != verifier {
			t.Errorf("%s: bucket rate %+v or verifier changed by a refused update", tc.name, w.par.perSource.rate)
		}

		c := w.creds
		cfg := Config{Address: c.PAR.CGA.Address, Parameters: c.PAR.CGA.Parameters, Signer: c.PAR.Key, Store: keystore.NewMemory(),
			Algorithms: s.Algorithms, KeyLifetime: s.KeyLifetime, ForwardingLifetime: s.ForwardingLifetime, Neighbors: s.Neighbors,
			Limits: s.Limits, Verifier: &send.Verifier{Method: send.AuthorizeCGA, MinBits: s.MinKeyBits, MaxBits: s.MaxKeyBits}}
		if _, err := New(cfg); !errors.Is(err, ErrInvalidSetting) {
			t.Errorf("%s: New error %v, want ErrInvalidSetting", tc.name, err)
		}
	}
	// The unchanged router still provisions with its settings.
	ev := w.provision()
	if !ev.Record.Expires.Equal(w.clock.Now().Add(keystore.HKLifetime)) {
		t.Errorf("key expires %v, want the configured HK-LIFETIME", ev.Record.Expires)
	}
}

// acceptAll is Bindings that accepts every FBU and remembers none, so that
// one FBU can be accepted many times.
type acceptAll struct{}

func (acceptAll) Bind(Binding) error                { return nil }
func (acceptAll) Lookup(netip.Addr) (Binding, bool) { return Binding{}, false }

// TestUpdateConcurrent changes the settings while FBUs and solicitations are
// handled (run with -race): every packet is handled, each with the
// settings in force before (forwarding lifetime 10 s) or one of the two
// alternating.
func TestUpdateConcurrent(t *testing.T) {
	w := newWorld(t, 1024, &Limits{})
	w.provision()
	w.par.bindings = acceptAll{}
	fbu, err := w.mn.FastBindingUpdate(w.parAdr, w.pcoa.Address, w.ncoa.Address, false)
	if err != nil {
		t.Fatal(err)
	}
	sols := make([]netio.Packet, 16)
	for i := range sols {
		sols[i] = w.solicit()
	}
	a := Settings{ForwardingLifetime: 2 * time.Second, KeyLifetime: 600 * time.Second, MinKeyBits: 512,
		Limits:     &Limits{PerSource: Rate{PerSecond: 1000, Burst: 1000}, Total: Rate{PerSecond: 1000, Burst: 1000}, MaxTracked: 8},
		Algorithms: []hokey.AlgorithmType{hokey.HMACSHA256Trunc128}}
	b := Settings{ForwardingLifetime: 5 * time.Second, Limits: &Limits{},
		Neighbors: []Neighbor{{AccessPoint: []byte{2, 0, 0, 0, 0, 3}, RouterLLA: []byte{2}, Address: w.parAdr}}}
	const fbus, updates = 200, 200
	var wg sync.WaitGroup
	ctx := context.Background()
	for range 2 {
		wg.Go(func() {
			for range fbus {
				out := w.par.HandlePacket(ctx, fbu)
				if len(out) != 1 {
					t.Errorf("FBU: %d answers", len(out))
					return
				}
				ack, err := fback(out[0])
				if err != nil || ack.Status != mh.FastStatusAccepted || (ack.Lifetime != 2*time.Second && ack.Lifetime != 5*time.Second && ack.Lifetime != 10*time.Second) {
					t.Errorf("FBack %+v (%v): want accepted, lifetime 2, 5 or 10 s", ack, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for _, p := range sols {
			if out := w.par.HandlePacket(ctx, p); len(out) != 1 || keyReply(out[0]) == nil {
				t.Errorf("solicitation not provisioned (stats %+v)", w.par.Stats())
				return
			}
		}
	})
	wg.Go(func() {
		for i := range updates {
			s := a
			if i%2 == 1 {
				s = b
			}
			if err := w.par.Update(s); err != nil {
				t.Errorf("Update: %v", err)
				return
			}
			_ = w.par.Settings()
		}
	})
	wg.Wait()
	if st := w.par.Stats(); st.FBUAccepted != 2*fbus || st.FBackSent != 2*fbus || st.RateLimitedSource+st.RateLimitedTotal != 0 {
		t.Errorf("stats %+v, want %d FBUs accepted and answered, none rate limited", st, 2*fbus)
	}
	if got := w.par.Settings(); got.ForwardingLifetime != 5*time.Second || *got.Limits != (Limits{MaxTracked: DefaultLimits.MaxTracked}) {
		t.Errorf("settings after the last update (b): %+v", got)
	}
}

// TestBucketSet: a rate change keeps the buckets, caps them at the new
// burst, evicts down to a smaller size and drops them when unlimited.
func TestBucketSet(t *testing.T) {
	now := time.Unix(1000, 0)
	tb := newBucketTable[int](Rate{PerSecond: 1, Burst: 5}, 4)
	for range 5 {
		tb.take(1, now)
	}
	tb.set(Rate{PerSecond: 1, Burst: 2}, 4, now)
	if tb.take(1, now) {
		t.Error("empty bucket refilled by set")
	}
	later := now.Add(10 * time.Second)
	if !tb.take(1, later) || !tb.take(1, later) || tb.take(1, later) {
		t.Error("bucket not capped at the new burst of 2")
	}
	for k := range 4 {
		tb.take(k, later)
	}
	tb.set(Rate{PerSecond: 1, Burst: 2}, 2, later)
	if len(tb.m) > 2 {
		t.Errorf("%d buckets after shrinking to 2", len(tb.m))
	}
	tb.set(Rate{}, 2, later)
	if len(tb.m) != 0 || !tb.take(1, later) || len(tb.m) != 0 {
		t.Errorf("unlimited: %d buckets", len(tb.m))
	}

	var s single
	s.rate = Rate{PerSecond: 1, Burst: 3}
	for range 3 {
		s.take(now)
	}
	s.set(Rate{PerSecond: 1, Burst: 1})
	if s.take(now) || !s.take(later) || s.take(later) {
		t.Error("single bucket not kept and capped at the new burst")
	}
	s.set(Rate{})
	for range 10 {
		if !s.take(later) {
			t.Fatal("unlimited single bucket refused")
		}
	}
}
