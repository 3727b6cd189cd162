package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/internal/certdisc"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/ndp"
)

// TestCertificationPathToUnspecifiedSource sends a Certification Path
// Solicitation from the unspecified address (a host with no address yet)
// to the PAR daemon's node over real sockets: RFC 3971 §6.4.5 "If the
// source address in the solicitation was the unspecified address, the
// router MUST send the response to the link-scoped All-Nodes multicast
// address", with Identifier 0 (§6.4.2). The node must answer with the
// whole path there — the deferred All-Nodes sender runs beside the role.
func TestCertificationPathToUnspecifiedSource(t *testing.T) {
	t.Parallel()
	b := newBed(t, "p", false)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	par := b.par(nil)
	parAddr := par.Address()

	var icmp *netio.ICMPConn
	if err := b.tb.Do(testbed.MN, func() error {
		var err error
		icmp, err = netio.ListenICMP(netio.ICMPConfig{Interface: testbed.IfaceMNToPAR, Types: []uint8{uint8(ndp.TypeCertificationPathAdvertisement)}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer icmp.Close()

	name, _ := b.creds.Anchor.Name(certpath.NameTypeDERName)
	sol := &ndp.CertificationPathSolicitation{Identifier: 0x4242, Component: certdisc.AllComponents,
		Options: []ndp.Option{&ndp.TrustAnchor{NameType: ndp.NameType(certpath.NameTypeDERName), TrustAnchorName: name}}}
	src := netip.IPv6Unspecified()
	payload, err := ndp.MarshalMessageWithChecksum(sol, src, parAddr)
	if err != nil {
		t.Fatal(err)
	}
	rawSender(t, b, testbed.MN, parAddr)(rawPacket(t, src, parAddr, 255, inet.ProtocolICMPv6, nil, payload))

	want := len(b.creds.PAR.Path)
	got := map[uint16]bool{}
	var last string
	for len(got) < want {
		rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
		p, err := icmp.ReadPacket(rctx)
		rcancel()
		if err != nil {
			t.Fatalf("%d of %d components received (last: %s; responder %+v): %v", len(got), want, last, par.Responder.Stats(), err)
		}
		m, err := ndp.ParseMessage(p.Payload)
		if err != nil {
			t.Fatalf("CPA from %v: %v", p.Src, err)
		}
		cpa, ok := m.(*ndp.CertificationPathAdvertisement)
		last = fmt.Sprintf("%T to %v", m, p.Dst)
		if !ok {
			continue
		}
		if p.Dst != certdisc.AllNodes || cpa.Identifier != 0 || cpa.AllComponents != uint16(want) {
			t.Fatalf("CPA to %v, Identifier %d, All Components %d: want All-Nodes, 0, %d", p.Dst, cpa.Identifier, cpa.AllComponents, want)
		}
		got[cpa.Component] = true
	}
	if st := par.Responder.Stats(); st.Solicitations != 1 || st.Advertisements != uint64(want) {
		t.Errorf("responder %+v: want 1 solicitation, %d advertisements", st, want)
	}
}
