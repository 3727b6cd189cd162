package decode

import (
	"fmt"
	"net/netip"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/ndp"
	"github.com/fhkey/fhkey/send"
)

// Verdict values of Verification (the JSON convention of issue 10).
const (
	Valid   = "valid"
	Invalid = "invalid"
	Absent  = "absent" // nothing to check in this packet
	Good    = "good"   // mh_checksum
	Bad     = "bad"    // mh_checksum
	NoKey   = "no-key" // badf, mn_ha: no key for the packet in the keys file
)

// Verification is what --verify found in one packet. Every field is set;
// Reasons names the cause of each "invalid" or "bad" verdict, keyed by
// the field's JSON name.
type Verification struct {
	CGA        string `json:"cga"`
	Signature  string `json:"signature"`
	MHChecksum string `json:"mh_checksum"`
	BADF       string `json:"badf"`
	// MNHA is the MN-HA Mobility Message Authentication option of the MSK
	// mode (RFC 4285 §5.1, docs/msk.md).
	MNHA    string            `json:"mn_ha"`
	Reasons map[string]string `json:"reasons,omitempty"`
	// Errors holds the same causes as errors (for errors.Is).
	Errors map[string]error `json:"-"`
}

// Invalid reports whether a check failed.
func (v *Verification) Invalid() bool {
	return v.CGA == Invalid || v.Signature == Invalid || v.MHChecksum == Bad || v.BADF == Invalid || v.MNHA == Invalid
}

func (v *Verification) fail(field string, err error) string {
	if v.Reasons == nil {
		v.Reasons, v.Errors = map[string]string{}, map[string]error{}
	}
	v.Reasons[field], v.Errors[field] = err.Error(), err
	if field == "mh_checksum" {
		return Bad
	}
	return Invalid
}

// offline verifies SEND signatures as a receiver would, minus what needs
// the receiver's clock and state: no freshness (RFC 3971 §5.3.4), and the
// signer's authority is not judged (the CGA verdict is reported apart), so
// the key comes from the CGA option whether or not the CGA verifies.
var offline = send.Verifier{
	Method:        send.AuthorizeTrustAnchor,
	Authorize:     func(*send.Result) error { return nil },
	SkipFreshness: true,
}

// verify checks the packet ip carrying the decoded message m.
func (d *Decoder) verify(ip *capture.Packet, m any) *Verification {
	v := &Verification{CGA: Absent, Signature: Absent, MHChecksum: Absent, BADF: Absent, MNHA: Absent}
	src, dst := ip.PseudoHeaderAddresses()
	switch ip.Protocol {
	case inet.ProtocolICMPv6:
		verifySEND(v, ip.Payload, src, dst)
	case inet.ProtocolMobility:
		v.MHChecksum = Good
		if err := mh.VerifyChecksum(ip.Payload, src, dst); err != nil {
			v.MHChecksum = v.fail("mh_checksum", err)
		}
		if h, ok := d.handover(ip, m); ok {
			d.verifyBADF(v, ip, h)
			d.verifyMNHA(v, ip, h)
		}
	}
	return v
}

// verifySEND checks the CGA option (RFC 3972 §5) and the RSA Signature
// option (RFC 3971 §5.2.2) of msg, received from src to dst.
func verifySEND(v *Verification, msg []byte, src, dst netip.Addr) {
	spans, err := ndp.OptionSpans(msg)
	if err != nil {
		return // the message parsed, so this is not reached
	}
	addr := src
	// RFC 3971 §5.1.1: a Neighbor Solicitation for Duplicate Address
	// Detection proves the Target Address.
	if msg[0] == byte(ndp.TypeNeighborSolicitation) && src.IsUnspecified() && len(msg) >= 24 {
		addr = netip.AddrFrom16([16]byte(msg[8:24]))
	}
	for _, s := range spans {
		switch s.Type {
		case ndp.OptionCGA:
			if v.CGA != Absent {
				continue // the first one counts (send rejects a second)
			}
			v.CGA = Valid
			if _, err := cga.Verify(addr, cgaParameters(msg, s)); err != nil {
				v.CGA = v.fail("cga", err)
			}
		case ndp.OptionRSASignature:
			if v.Signature != Absent {
				continue
			}
			v.Signature = Valid
			if _, err := offline.Verify(msg, src, dst); err != nil {
				v.Signature = v.fail("signature", err)
			}
		}
	}
}

// cgaParameters returns the CGA Parameters of the CGA option s as received:
// after Pad Length and Reserved, without the padding (RFC 3971 §5.1).
func cgaParameters(msg []byte, s ndp.OptionSpan) []byte {
	o := msg[s.Offset : s.Offset+s.Length]
	if len(o) < 4 || int(o[2]) > len(o)-4 {
		return nil // cga.Verify reports the empty parameters
	}
	return o[4 : len(o)-int(o[2])]
}

// fbuSeen is an FBU met earlier in the capture: its FBack is authenticated
// with the key of (PAR, PCoA) over the same NCoA (BADF), or over the same
// NCoA and PCoA (MN-HA).
type fbuSeen struct {
	par, pcoa, ncoa netip.Addr
	seq             uint16
}

// handoverMessage is what an FBU or FBack names: the PAR, the PCoA (invalid
// for an FBack whose FBU is not in the capture), the NCoA, and its options.
type handoverMessage struct {
	par, pcoa, ncoa netip.Addr
	opts            []mh.Option
}

// handover returns the addresses of the FBU or FBack m (false for another
// message) and remembers an authenticated FBU for its FBack.
func (d *Decoder) handover(ip *capture.Packet, m any) (h handoverMessage, ok bool) {
	switch m := m.(type) {
	case mh.FastBindingUpdate:
		// RFC 5568 §6.2.2: from the NAR's link the source is the NCoA and
		// the Home Address option holds the PCoA; from the PAR's link the
		// source is the PCoA and an Alternate Care-of Address option the
		// NCoA.
		h = handoverMessage{par: ip.Destination, pcoa: ip.Source, opts: m.Options}
		if home, ok := ip.HomeAddress(); ok {
			h.pcoa, h.ncoa = home, ip.Source
		}
		for _, o := range m.Options {
			if a, ok := o.(mh.AlternateCareOfAddress); ok {
				h.ncoa = a.Address
			}
		}
		if hasBADF(h.opts) || hasMNHA(h.opts) {
			d.fbus = append(d.fbus, fbuSeen{par: h.par, pcoa: h.pcoa, ncoa: h.ncoa, seq: m.Sequence})
		}
	case mh.FastBindingAcknowledgment:
		// Sent by the PAR to the NCoA, or to the PCoA on its own link
		// when forwarding ended; the FBU it answers names the binding.
		h = handoverMessage{par: ip.Source, opts: m.Options}
		for i := len(d.fbus) - 1; i >= 0; i-- {
			f := d.fbus[i]
			if f.par == h.par && f.seq == m.Sequence && (f.ncoa == ip.Destination || f.pcoa == ip.Destination) {
				h.pcoa, h.ncoa = f.pcoa, f.ncoa
				break
			}
		}
		if !h.ncoa.IsValid() {
			h.ncoa = ip.Destination
		}
	default:
		return h, false
	}
	return h, true
}

// verifyBADF checks the BADF authenticator of an FBU or FBack (RFC 5568
// §6.4.5) as internal/ar does: care-of address the NCoA, correspondent the
// PAR, over the received Mobility Header (docs/handover-keys.md).
func (d *Decoder) verifyBADF(v *Verification, ip *capture.Packet, h handoverMessage) {
	par, pcoa, ncoa := h.par, h.pcoa, h.ncoa
	if !hasBADF(h.opts) {
		return
	}
	cov, err := mh.CoveredByBADF(ip.Payload, ncoa, par)
	if err != nil {
		v.BADF = v.fail("badf", err)
		return
	}
	candidates := []netip.Addr{pcoa}
	if !pcoa.IsValid() && d.Keys != nil {
		// An FBack whose FBU is not in the capture: any key of the PAR.
		candidates = d.Keys.ars[par.WithZone("")]
	}
	v.BADF = NoKey
	var last error
	for _, mn := range candidates {
		k, ok := d.Keys.lookup(par, mn)
		if !ok {
			continue
		}
		if cov.SPI != k.spi {
			last = fmt.Errorf("SPI %d, the key of (%s, %s) has SPI %d", cov.SPI, par, mn, k.spi)
			continue
		}
		if err := k.key.VerifyAuthenticator(ncoa, par, cov.Data[32:], cov.Authenticator); err != nil {
			last = fmt.Errorf("key of (%s, %s): %w", par, mn, err)
			continue
		}
		v.BADF = Valid
		return
	}
	if last != nil {
		v.BADF = v.fail("badf", last)
	}
}

func hasBADF(opts []mh.Option) bool {
	for _, o := range opts {
		if _, ok := o.(mh.BindingAuthorizationDataForFMIPv6); ok {
			return true
		}
	}
	return false
}
