package ha

import (
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/mip6sa"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// BenchmarkDataRoundTrip: one 1400-octet packet MN → HA → home link and
// one home link → HA → MN through the role (Seal, HandleUDP, FromHomeLink,
// Open), against the limit measured in the same run: the same four
// mip6udp operations on a bare SA, nothing else (batches alternate). The
// limit-ratio is what the role adds (lookup, scope, binding and source
// checks, the lock, the reservation check).
func BenchmarkDataRoundTrip(b *testing.B) {
	f := newFixture(b, mip6tls.SAScopeAll)
	f.ha.cfg.Store = nil
	if _, err := f.ha.HandleUDP(nil, t0, coa, f.sealBU(1, 10*time.Minute)); err != nil {
		b.Fatal(err)
	}
	sa, bs := testSA(b, 0x999, mip6tls.SAScopeAll)
	mn, err := mip6sa.New(mip6sa.MobileNode, &sa, &bs)
	if err != nil {
		b.Fatal(err)
	}
	ha, err := mip6sa.New(mip6sa.HomeAgent, &sa, &bs)
	if err != nil {
		b.Fatal(err)
	}
	up := ipv6(hoa, cn)
	up = append(up, make([]byte, 1400-len(up))...)
	down := ipv6(cn, hoa)
	down = append(down, make([]byte, 1400-len(down))...)
	var p1, p2, p3, p4 [2048]byte
	role := func() {
		pkt, _ := f.mn.Out.Seal(p1[:0], mip6udp.PacketTypeData, 41, up)
		if _, err := f.ha.HandleUDP(p2[:0], t0, coa, pkt); err != nil {
			b.Fatal(err)
		}
		_, out, err := f.ha.FromHomeLink(p3[:0], t0, down)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := f.mn.In.Open(p4[:0], out); err != nil {
			b.Fatal(err)
		}
	}
	limit := func() {
		pkt, _ := mn.Out.Seal(p1[:0], mip6udp.PacketTypeData, 41, up)
		if _, _, err := ha.In.Open(p2[:0], pkt); err != nil {
			b.Fatal(err)
		}
		out, _ := ha.Out.Seal(p3[:0], mip6udp.PacketTypeData, 41, down)
		if _, _, err := mn.In.Open(p4[:0], out); err != nil {
			b.Fatal(err)
		}
	}
	const batch = 32
	var tRole, tLimit time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		for range batch {
			role()
		}
		mid := time.Now()
		for range batch {
			limit()
		}
		tRole += mid.Sub(start)
		tLimit += time.Since(mid)
	}
	n := float64(b.N * batch)
	b.ReportMetric(float64(tRole.Nanoseconds())/n, "role-ns/roundtrip")
	b.ReportMetric(float64(tLimit.Nanoseconds())/n, "limit-ns/roundtrip")
	b.ReportMetric(float64(tRole)/float64(tLimit), "limit-ratio")
}
