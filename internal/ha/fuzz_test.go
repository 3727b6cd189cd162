package ha

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// FuzzHandleUDP: any UDP payload is handled without panic; a dropped one
// changes neither the bindings nor the SAs, and a packet is accepted at
// most once.
func FuzzHandleUDP(f *testing.F) {
	fx := newFixture(f, mip6tls.SAScopeAll)
	f.Add(fx.sealBU(1, time.Minute))
	f.Add(fx.seal(mip6udp.PacketTypeData, 41, ipv6(hoa, cn)))
	p, _ := mip6udp.AppendPlaintext(nil, mip6udp.ScopeSignaling, ipv6(hoa, cn))
	f.Add(p)
	f.Add([]byte{0x80, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		fx := newFixture(t, mip6tls.SAScopeAll)
		fx.register(1)
		from := netip.AddrPortFrom(coa.Addr(), coa.Port())
		bindings, sas := fx.ha.Bindings(), fx.ha.SAs(t0)
		_, err := fx.ha.HandleUDP(nil, t0, from, b)
		if err != nil {
			if !reflect.DeepEqual(fx.ha.Bindings(), bindings) || !reflect.DeepEqual(fx.ha.SAs(t0), sas) {
				t.Fatalf("rejected packet changed state: %v", err)
			}
			return
		}
		if _, err := fx.ha.HandleUDP(nil, t0, from, b); err == nil {
			t.Fatal("the same packet accepted twice")
		}
	})
}
