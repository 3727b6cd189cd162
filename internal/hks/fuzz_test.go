package hks

import (
	"context"
	"errors"
	"testing"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/mh"
)

// FuzzRequestKey: arbitrary HKReq bytes never panic; every outcome is one
// of the documented ones; an error HKResp parses as an HKResp of the same
// Status whose MN-HKS MAC verifies with the HIK derived independently for
// its PRF and Algorithm Type; a success carries an HK and a nonce.
func FuzzRequestKey(f *testing.F) {
	f.Add(exHKReq)
	for _, r := range []hkreq{
		func() hkreq { r := exampleReq(); r.prf = 5; return r }(),
		func() hkreq { r := exampleReq(); r.at = 9; return r }(),
		func() hkreq { r := exampleReq(); r.ts = nil; return r }(),
		func() hkreq { r := exampleReq(); r.mac = hokey.MACHMACSHA256; r.prf = 2; return r }(),
	} {
		f.Add(r.sign(f))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fx := newFixture(t, nil, Config{})
		resp, err := fx.srv.RequestKey(context.Background(), aaa.KeyRequest{NAI: exNAI, AR: exAR, HKReq: b})
		switch {
		case err != nil:
			if !errors.Is(err, aaa.ErrDiscarded) {
				t.Fatalf("neither an answer nor a discard: %v", err)
			}
		case resp.Status == 0:
			if resp.HK.IsZero() || len(resp.HKSNonce) != HKSNonceLen || resp.HKResp != nil {
				t.Fatalf("success without key: %+v", resp)
			}
		default:
			m, err := mh.ParseMessage(resp.HKResp)
			if err != nil {
				t.Fatal(err)
			}
			r, ok := m.(mh.HandoverKeyResponse)
			if !ok || r.Status != resp.Status || r.MessageID != b[6] {
				t.Fatalf("error answer %#v for status %d", m, resp.Status)
			}
			c, err := mh.CoveredByMAC(resp.HKResp, mh.MACSubtypeMNHKS)
			if err != nil {
				t.Fatal(err)
			}
			hik, err := hokey.DeriveHIK(hokey.PRF(r.PRF), exHMK, r.MessageID, hokey.MACAlgorithm(c.AlgorithmType))
			if err != nil {
				t.Fatal(err)
			}
			if err := hokey.VerifyMAC(mh.Codepoints{}, resp.HKResp, &hik); err != nil {
				t.Fatal(err)
			}
		}
	})
}
