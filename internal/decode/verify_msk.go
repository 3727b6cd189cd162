package decode

import (
	"errors"
	"fmt"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/mh"
)

// errNoNCoA is the mn_ha reason of an FBU sent from the PAR's link without
// an Alternate Care-of Address option: the care-of address of the MAC is
// unknown.
var errNoNCoA = errors.New("decode: no NCoA (no Home Address option and no Alternate Care-of Address option)")

// verifyMNHA checks the MN-HA Mobility Message Authentication option (RFC
// 4285 §5.1) of an FBU or FBack of the MSK mode as internal/ar and
// internal/mn do (docs/msk.md): the FHK of the MN-NAI option's NAI (RFC
// 4283 §3.1) and the PAR, care-of address the NCoA, home address the PCoA,
// over the received Mobility Header, with hokey.VerifyFHK (the option
// last, the SPI that of the FHK's AT, a constant-time compare).
//
// no-key: no FHK for (NAI, PAR) in the keys file, or an FBack whose FBU is
// not in the capture (the PCoA, covered by the MAC, is then unknown).
func (d *Decoder) verifyMNHA(v *Verification, ip *capture.Packet, h handoverMessage) {
	if !hasMNHA(h.opts) {
		return
	}
	nai, err := mh.MobileNodeNAI(ip.Payload)
	if err != nil {
		v.MNHA = v.fail("mn_ha", err)
		return
	}
	v.MNHA = NoKey
	fhk, ok := d.Keys.lookupFHK(nai, h.par)
	if !ok || !h.pcoa.IsValid() {
		return
	}
	defer fhk.Zero()
	if !h.ncoa.IsValid() {
		v.MNHA = v.fail("mn_ha", errNoNCoA)
		return
	}
	if err := hokey.VerifyFHK(ip.Payload, &fhk, h.ncoa, h.pcoa); err != nil {
		v.MNHA = v.fail("mn_ha", fmt.Errorf("FHK of (%q, %s), %s: %w", nai, h.par, fhk.Algorithm(), err))
		return
	}
	v.MNHA = Valid
}

// hasMNHA reports whether opts hold a Mobility Message Authentication
// option of subtype MN-HA (RFC 4285 §5.1).
func hasMNHA(opts []mh.Option) bool {
	for _, o := range opts {
		if a, ok := o.(mh.MobilityMessageAuthentication); ok && a.Subtype == mh.AuthenticationSubtypeMNHA {
			return true
		}
	}
	return false
}
