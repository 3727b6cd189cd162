package ha

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// TestDrops: every silent discard of the issue, each counted under its
// reason, none changing the bindings or the replay state (the last case
// of each row checks that a fresh valid packet is still accepted).
func TestDrops(t *testing.T) {
	for _, c := range []struct {
		name  string
		scope mip6tls.SAScope
		// prepare returns the packet to drop; it may send others first.
		prepare func(*testing.T, *fixture) []byte
		cause   error
		counter func(Drops) uint64
	}{
		{"unknown SPI", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			p := f.sealBU(20, time.Minute)
			p[3] ^= 0x01 // SPI 0x1235
			return p
		}, mip6udp.ErrUnknownSPI, func(d Drops) uint64 { return d.UnknownSPI }},
		{"replayed BU", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			p := f.sealBU(20, time.Minute)
			if _, err := f.ha.HandleUDP(nil, t0, coa, p); err != nil {
				t.Fatal(err)
			}
			return p
		}, mip6udp.ErrReplayed, func(d Drops) uint64 { return d.Replayed }},
		{"old sequence number", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			old := f.sealBU(20, time.Minute)
			f.mn.Out.ResumeAt(200)
			if _, err := f.ha.HandleUDP(nil, t0, coa, f.sealBU(21, time.Minute)); err != nil {
				t.Fatal(err)
			}
			return old
		}, mip6udp.ErrTooOld, func(d Drops) uint64 { return d.TooOld }},
		{"tampered ciphertext", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			p := f.sealBU(20, time.Minute)
			p[mip6udp.HeaderLen+16] ^= 0x80
			return p
		}, mip6udp.ErrICV, func(d Drops) uint64 { return d.ICV }},
		{"tampered ICV", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			p := f.sealBU(20, time.Minute)
			p[len(p)-1] ^= 0x01
			return p
		}, mip6udp.ErrICV, func(d Drops) uint64 { return d.ICV }},
		{"plaintext data under mip6-sas 1", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			p, _ := mip6udp.AppendPlaintext(nil, mip6udp.ScopeSignaling, ipv6(hoa, cn))
			return p
		}, mip6udp.ErrScope, func(d Drops) uint64 { return d.Scope }},
		{"protected data under mip6-sas 0", mip6tls.SAScopeSignaling, func(t *testing.T, f *fixture) []byte {
			return f.seal(mip6udp.PacketTypeData, 41, ipv6(hoa, cn))
		}, mip6udp.ErrScope, func(d Drops) uint64 { return d.Scope }},
		{"SPI 0 on PType 8", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			p := f.sealBU(20, time.Minute)
			p[0], p[1], p[2], p[3] = 0x80, 0, 0, 0
			return p
		}, ErrSPIZero, func(d Drops) uint64 { return d.SPIZero }},
		{"SPI 0 on PType 1", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			p := f.seal(mip6udp.PacketTypeData, 41, ipv6(hoa, cn))
			p[0], p[1], p[2], p[3] = 0x10, 0, 0, 0
			return p
		}, ErrSPIZero, func(d Drops) uint64 { return d.SPIZero }},
		{"inner source not the home address", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			return f.seal(mip6udp.PacketTypeData, 41, ipv6(netip.MustParseAddr("2001:db8:1::200"), cn))
		}, ErrInnerSource, func(d Drops) uint64 { return d.InnerSource }},
		{"not a BU", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			return f.seal(mip6udp.PacketTypeMobilityHeader, 6, []byte{1, 2, 3, 4})
		}, ErrNotBindingUpdate, func(d Drops) uint64 { return d.NotBindingUpdate }},
		{"dummy packet", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			return f.seal(mip6udp.PacketTypeData, 59, nil)
		}, errDummy, func(d Drops) uint64 { return d.Dummy }},
		{"short inner packet", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			return f.seal(mip6udp.PacketTypeData, 41, []byte{0x60, 0})
		}, ErrInnerPacket, func(d Drops) uint64 { return d.Malformed }},
		{"truncated header", mip6tls.SAScopeAll, func(t *testing.T, f *fixture) []byte {
			return []byte{0x80, 0, 0x12}
		}, mip6udp.ErrParse, func(d Drops) uint64 { return d.Malformed }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.scope)
			f.register(10)
			p := c.prepare(t, f)
			before, stats := f.ha.Bindings(), f.ha.Stats()
			r, err := f.ha.HandleUDP(nil, t0, coa, p)
			if !errors.Is(err, ErrDropped) || !errors.Is(err, c.cause) || r.Reply != nil || r.HomeLink != nil {
				t.Fatalf("HandleUDP = %+v, %v; want ErrDropped and %v", r, err, c.cause)
			}
			if got := c.counter(f.ha.Stats().Drops) - c.counter(stats.Drops); got != 1 {
				t.Errorf("counter moved by %d", got)
			}
			if !reflect.DeepEqual(f.ha.Bindings(), before) {
				t.Error("bindings changed")
			}
			if ba := f.register(30); ba.Status != StatusAccepted {
				t.Errorf("a valid BU after the drop: %+v", ba)
			}
		})
	}
}

// TestNoBinding: data from or for a home address without a binding is
// dropped.
func TestNoBinding(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	if _, err := f.ha.HandleUDP(nil, t0, coa, f.seal(mip6udp.PacketTypeData, 41, ipv6(hoa, cn))); !errors.Is(err, ErrNoBinding) {
		t.Errorf("data before the BU: %v", err)
	}
	if _, _, err := f.ha.FromHomeLink(nil, t0, ipv6(cn, hoa)); !errors.Is(err, ErrNoBinding) {
		t.Errorf("home link packet before the BU: %v", err)
	}
	if d := f.ha.Stats().Drops; d.NoBinding != 2 {
		t.Errorf("drops %+v", d)
	}
}

// TestStoreFailure: a BU whose binding cannot be persisted is dropped and
// leaves no binding.
func TestStoreFailure(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.store.failBinding = true
	if _, err := f.ha.HandleUDP(nil, t0, coa, f.sealBU(1, time.Minute)); !errors.Is(err, ErrStore) {
		t.Fatalf("err %v, want ErrStore", err)
	}
	if len(f.ha.Bindings()) != 0 || f.ha.Stats().Drops.Store != 1 {
		t.Error("binding made or not counted")
	}
}
