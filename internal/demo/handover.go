package demo

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/forward"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
)

// handover is the part of the in-memory walk-throughs after the key is
// provisioned, the same in both modes: the MN moves, authenticates its FBU
// to the PAR with the key, traffic for the PCoA is tunnelled, an attacker's
// FBU with a guessed key is refused.
type handover struct {
	node   *mn.MobileNode
	mnConn netio.Conn      // the MN's connection
	moveTo func()          // gives the MN its addresses on the NAR's link
	par    *ar.Router      // the PAR role
	parAdr netip.Addr      // its address
	fwd    *forward.Memory // its forwarding plane
	pcoa   netip.Addr
	ncoa   netip.Addr
	spi    uint32 // the key's SPI (0: a SEND key)
}

// fastHandover moves the MN and runs the FBU/FBack exchange (steps
// "handover", "FBU", "PAR verifies", "FBack") and the forwarding check
// ("forwarding"). It returns whether the PAR accepted the FBU and bound
// the PCoA to the NCoA.
func (d *Demo) fastHandover(ctx context.Context, h *handover) bool {
	h.moveTo()
	d.step("handover", 0, true, "MN moves to the NAR's link: NCoA %s", h.ncoa)
	start := time.Now()
	fb, err := h.node.FastHandover(ctx, h.mnConn, h.parAdr, h.pcoa, h.ncoa, false)
	rtt := time.Since(start)
	tr := d.takeTraces()
	bnd, bound := tunnelOf(h.fwd, h.pcoa)
	d.step("FBU", tr["mn:fbu-build"].Took, err == nil, "MN -> PAR from the NCoA, Home Address option = PCoA, BADF (SPI %d) last\n(time: building and authenticating; whole exchange %s)", h.spi, FormatDuration(rtt))
	d.step("PAR verifies", tr["fbu-verify"].Took, tr["fbu-verify"].Err == nil && bound && bnd.NewCoA == h.ncoa,
		"PAR: key found by the PCoA, authenticator valid (constant time);\ntunnel PCoA -> NCoA installed for %v", bnd.Lifetime)
	accepted := err == nil && fb.Status == mh.FastStatusAccepted && bound && bnd.NewCoA == h.ncoa
	if err != nil {
		d.step("FBack", 0, false, "MN: no authenticated FBack: %v", err)
	} else {
		d.step("FBack", tr["mn:fback-verify"].Took, fb.Status == 0, "PAR -> MN: Status %d, lifetime %v; BADF verified by the MN", fb.Status, fb.Lifetime)
	}

	// Traffic for the PCoA now reaches the MN through the tunnel.
	start = time.Now()
	cn := netip.MustParseAddr("2001:db8:99::1")
	tunnelled, err := d.forwardEcho(h.fwd, cn, h.pcoa)
	d.step("forwarding", time.Since(start), err == nil, "CN %s -> PCoA: echo request tunnelled by the PAR to the NCoA\n(IPv6-in-IPv6, RFC 2473; %d octets)", cn, len(tunnelled))
	return accepted
}

// forgedFBU sends forged (an FBU for the PCoA with a BADF described by
// badf) from the attacker and reports whether the PAR rejected it and
// whether the binding stayed unchanged (step "forged FBU").
func (d *Demo) forgedFBU(ctx context.Context, h *handover, attConn netio.Conn, forged netio.Packet, badf string) (rejected, unchanged bool, err error) {
	before, _ := tunnelOf(h.fwd, h.pcoa)
	statsBefore := h.par.Stats()
	start := time.Now()
	if err := attConn.WritePacket(ctx, forged); err != nil {
		return false, false, err
	}
	status := -1
	actx, cancel := context.WithTimeout(ctx, time.Second)
	if p, err := attConn.ReadPacket(actx); err == nil {
		if m, err := mh.ParseMessage(p.Payload); err == nil {
			if a, ok := m.(mh.FastBindingAcknowledgment); ok {
				status = int(a.Status)
			}
		}
	}
	cancel()
	took := time.Since(start)
	tr := d.takeTraces()
	after, _ := tunnelOf(h.fwd, h.pcoa)
	unchanged = after.Binding == before.Binding && after.Expires.Equal(before.Expires)
	rejected = unchanged && h.par.Stats().FBUBadAuth == statsBefore.FBUBadAuth+1 &&
		h.par.Stats().FBUAccepted == statsBefore.FBUAccepted && tr["fbu-verify"].Err != nil
	d.step("forged FBU", took, rejected,
		"attacker %s -> PAR: FBU claiming the PCoA, %s;\nPAR: %s; FBack Status %d; binding unchanged: %v",
		forged.Src, badf, strings.TrimPrefix(fmt.Sprint(tr["fbu-verify"].Err), ar.ErrFBU.Error()+": "), status, unchanged)
	return rejected, unchanged, nil
}

// tunnelOf returns the forwarding entry of pcoa.
func tunnelOf(f *forward.Memory, pcoa netip.Addr) (forward.Entry, bool) {
	for _, e := range f.Bindings() {
		if e.PreviousCoA == pcoa {
			return e, true
		}
	}
	return forward.Entry{}, false
}
