package mh

import (
	"encoding/binary"
	"fmt"
)

// HandoverKeyRequestView is what a Handover Key Server needs of a received
// HKReq (draft §5.1.1, §6.4): its fixed fields and the MN ID (NAI),
// MN-Nonce, Timestamp and MN-HKS MAC options, each counted so that the
// server can refuse repeated ones. ParseHandoverKeyRequest fills it
// without allocating; its slices alias the message.
type HandoverKeyRequestView struct {
	// HandoverKeyRequest holds the fixed fields; its Options are nil.
	HandoverKeyRequest
	// NAI is the Identifier of the first Mobile Node Identifier option of
	// subtype NAI (RFC 4283 §3.1); NAIOptions counts those options.
	NAI        []byte
	NAIOptions int
	// MNNonce is the Nonce of the first Handover Nonce option of subtype
	// MN-Nonce (draft §5.2.1); MNNonceOptions counts those options.
	MNNonce        []byte
	MNNonceOptions int
	// Timestamp is the value of the first Timestamp option (draft
	// §5.2.3); TimestampOptions counts them.
	Timestamp        NTPTimestamp
	TimestampOptions int
	// MNHKSMACAlgorithmType is the Algorithm Type of the first MAC option
	// of subtype MN-HKS (draft §5.2.2); MNHKSMACOptions counts those
	// options. CoveredByMAC locates it and checks its place.
	MNHKSMACAlgorithmType uint8
	MNHKSMACOptions       int
}

// ParseHandoverKeyRequest is ParseMessage for an HKReq that keeps only the
// fields of HandoverKeyRequestView, and so does not allocate when b is
// valid. It accepts and rejects exactly the inputs ParseMessage does for
// the HKReq's MH Type, with the same errors; another MH Type is an error
// wrapping ErrParse and ErrValue. The view's NAI and MNNonce alias b.
func (cp Codepoints) ParseHandoverKeyRequest(b []byte) (HandoverKeyRequestView, error) {
	r := cp.resolved()
	typ, total, fixed, err := r.frameMessage(b)
	if err != nil {
		return HandoverKeyRequestView{}, err
	}
	if typ != r.HandoverKeyRequest {
		return HandoverKeyRequestView{}, parseErr("MH Type %d is not a Handover Key Request (%d): %w", typ, r.HandoverKeyRequest, ErrValue)
	}
	d := b[headerLen : headerLen+fixed]
	v := HandoverKeyRequestView{HandoverKeyRequest: handoverKeyRequestFixed(d)}
	err = r.walkOptions(b[headerLen+fixed:total], headerLen+fixed, func(typ uint8, d []byte) {
		// The options' lengths are checked (optionSpec) before visit.
		switch {
		case typ == OptionTypeMobileNodeIdentifier && d[0] == MobileNodeIdentifierSubtypeNAI:
			if v.NAIOptions++; v.NAIOptions == 1 {
				v.NAI = d[mobileNodeIdentifierSubtypeLen:]
			}
		case typ == r.HandoverNonce && d[0] == NonceSubtypeMN:
			if v.MNNonceOptions++; v.MNNonceOptions == 1 {
				v.MNNonce = d[nonceHeaderLen:]
			}
		case typ == r.Timestamp:
			if v.TimestampOptions++; v.TimestampOptions == 1 {
				v.Timestamp = NTPTimestamp(binary.BigEndian.Uint64(d))
			}
		case typ == r.MAC && d[0] == MACSubtypeMNHKS:
			if v.MNHKSMACOptions++; v.MNHKSMACOptions == 1 {
				v.MNHKSMACAlgorithmType = d[1] & maxAlgorithmType
			}
		}
	})
	if err != nil {
		return HandoverKeyRequestView{}, fmt.Errorf("MH Type %d: %w", typ, err)
	}
	return v, nil
}

// ParseHandoverKeyRequest decodes an HKReq with the default codepoints;
// see Codepoints.ParseHandoverKeyRequest.
func ParseHandoverKeyRequest(b []byte) (HandoverKeyRequestView, error) {
	return Codepoints{}.ParseHandoverKeyRequest(b)
}
