package mh

import "fmt"

// Default numbers for the codepoints that draft-vidya-mipshop-handover-keys-
// aaa-04 requested but IANA never assigned (draft §8: "TBA1", "TBA2" and
// three "to be assigned by IANA" option types). They sit at the top of
// each 8-bit space, far from the values IANA has assigned so far (MH types
// 0-18 and mobility options up to the fifties at the time of writing, see
// shared/specs/CODEPOINTS.md §3-§4). docs/codepoints.md explains how to
// change them.
const (
	DefaultHandoverKeyRequestType  uint8 = 250 // MH Type of HKReq (draft §5.1.1, TBA1)
	DefaultHandoverKeyResponseType uint8 = 251 // MH Type of HKResp (draft §5.1.2, TBA2)
	DefaultHandoverNonceOptionType uint8 = 250 // Handover Nonce option (draft §5.2.1)
	DefaultMACOptionType           uint8 = 251 // MAC option (draft §5.2.2)
	DefaultTimestampOptionType     uint8 = 252 // Timestamp option (draft §5.2.3)
)

// Codepoints holds the numbers used for the draft's unassigned MH types and
// mobility options. A zero field means the corresponding Default constant,
// so the zero Codepoints is the default set. Both peers must use the same
// values.
type Codepoints struct {
	HandoverKeyRequest  uint8 // MH Type of the Handover Key Request
	HandoverKeyResponse uint8 // MH Type of the Handover Key Response
	HandoverNonce       uint8 // Option Type of the Handover Nonce option
	MAC                 uint8 // Option Type of the MAC option
	Timestamp           uint8 // Option Type of the Timestamp option
}

// DefaultCodepoints returns the default codepoints with every field set.
func DefaultCodepoints() Codepoints {
	return Codepoints{}.resolved()
}

func (cp Codepoints) resolved() Codepoints {
	def := func(v, d uint8) uint8 {
		if v == 0 {
			return d
		}
		return v
	}
	return Codepoints{
		HandoverKeyRequest:  def(cp.HandoverKeyRequest, DefaultHandoverKeyRequestType),
		HandoverKeyResponse: def(cp.HandoverKeyResponse, DefaultHandoverKeyResponseType),
		HandoverNonce:       def(cp.HandoverNonce, DefaultHandoverNonceOptionType),
		MAC:                 def(cp.MAC, DefaultMACOptionType),
		Timestamp:           def(cp.Timestamp, DefaultTimestampOptionType),
	}
}

// assignedMHType reports MH types listed in the IANA registry copy of
// shared/specs/CODEPOINTS.md §3 (0-16); they cannot carry HKReq/HKResp.
func assignedMHType(t uint8) bool { return t <= 16 }

// assignedOptionType reports mobility option types of CODEPOINTS.md §4 and
// every type this package decodes.
func assignedOptionType(t uint8) bool { return t <= 16 || t == 21 || t == 34 }

// Validate reports whether cp (after defaults are applied) is usable: no
// field may collide with an assigned number of CODEPOINTS.md or with
// another field of the same space.
func (cp Codepoints) Validate() error {
	r := cp.resolved()
	switch {
	case assignedMHType(r.HandoverKeyRequest):
		return fmt.Errorf("%w: HKReq MH Type %d is assigned", ErrCodepoints, r.HandoverKeyRequest)
	case assignedMHType(r.HandoverKeyResponse):
		return fmt.Errorf("%w: HKResp MH Type %d is assigned", ErrCodepoints, r.HandoverKeyResponse)
	case r.HandoverKeyRequest == r.HandoverKeyResponse:
		return fmt.Errorf("%w: HKReq and HKResp share MH Type %d", ErrCodepoints, r.HandoverKeyRequest)
	}
	opts := [...]struct {
		name string
		v    uint8
	}{{"Handover Nonce", r.HandoverNonce}, {"MAC", r.MAC}, {"Timestamp", r.Timestamp}}
	for i, o := range opts {
		if assignedOptionType(o.v) {
			return fmt.Errorf("%w: %s option type %d is assigned", ErrCodepoints, o.name, o.v)
		}
		for _, p := range opts[:i] {
			if p.v == o.v {
				return fmt.Errorf("%w: %s and %s options share type %d", ErrCodepoints, p.name, o.name, o.v)
			}
		}
	}
	return nil
}
