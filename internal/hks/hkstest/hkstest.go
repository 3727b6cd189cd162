// Package hkstest builds the Handover Key Requests a mobile node sends
// (draft-vidya-mipshop-handover-keys-aaa-04 §5.1.1, §6.2.1), signed with
// the MN-HKS MAC, for the tests and benchmarks that drive a Handover Key
// Server (internal/hks) without the mobile-node role.
package hkstest

import (
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/mh"
)

// Request describes an HKReq from CoA to AR.
type Request struct {
	MessageID uint8
	PRF       hokey.PRF
	MAC       hokey.MACAlgorithm // the MN-HKS MAC's algorithm
	NAI       string
	HMK       []byte
	MNNonce   []byte
	Time      time.Time // the Timestamp option's value
	CoA, AR   netip.Addr
}

// Sign returns the HKReq Mobility Header: Message ID, PRF, Key Care-of
// Address, the MN ID (NAI), MN-Nonce and Timestamp options, then the
// MN-HKS MAC with the HIK of (PRF, HMK, Message ID, MAC) over the bytes
// (hokey.SignMACs), checksum for CoA → AR.
func (r Request) Sign() ([]byte, error) {
	m := mh.HandoverKeyRequest{MessageID: r.MessageID, PRF: uint8(r.PRF), KeyCareOfAddress: r.CoA, Options: []mh.Option{
		mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: []byte(r.NAI)},
		mh.HandoverNonce{Subtype: mh.NonceSubtypeMN, Nonce: r.MNNonce},
		mh.Timestamp{Value: mh.NTPTime(r.Time)},
	}}
	hik, err := hokey.DeriveHIK(r.PRF, r.HMK, r.MessageID, r.MAC)
	if err != nil {
		return nil, err
	}
	defer hik.Zero()
	return hokey.SignMACs(mh.Codepoints{}, m, r.CoA, r.AR, &hik)
}

// HK is the key the HKS must grant for the request and hksNonce
// (hokey.DeriveHK with the request's PRF and MAC algorithm), computed
// independently of the server.
func (r Request) HK(hksNonce []byte) (hokey.HandoverKey, error) {
	return hokey.DeriveHK(r.PRF, r.HMK, r.MNNonce, hksNonce, r.NAI, r.AR, r.MAC)
}
