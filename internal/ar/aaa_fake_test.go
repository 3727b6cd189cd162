package ar

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/mh"
)

// fakeHKS is a KeyServer that does what an HKS does (draft §6.4,
// docs/aaa.md): it authenticates the HKReq with the HIK of the subscriber's
// HMK, checks the PRF, MAC algorithm and Timestamp (±7 s), builds error
// HKResps whole with an MN-HKS MAC, and derives the HK for the AR ID.
type fakeHKS struct {
	now func() time.Time

	mu       sync.Mutex
	hmk      map[string][]byte // NAI → HMK
	prf      hokey.PRF         // the PRF it accepts
	mac      hokey.MACAlgorithm
	lifetime time.Duration
	skew     time.Duration   // added to now: the HKS's clock
	admin    map[string]bool // NAIs answered ADMINISTRATIVELY_PROHIBITED
	force    uint16          // a status answered once, authenticated
	block    chan struct{}   // when set, calls wait for it to close
	down     atomic.Bool     // ErrNoAnswer
	calls    atomic.Int64
	refused  atomic.Int64
	okCount  atomic.Int64
	lastReq  atomic.Pointer[aaa.KeyRequest]
	codes    mh.Codepoints
}

func newFakeHKS(now func() time.Time) *fakeHKS {
	return &fakeHKS{now: now, hmk: map[string][]byte{}, prf: hokey.PRFHMACSHA1, mac: hokey.MACHMACSHA1,
		lifetime: time.Hour, admin: map[string]bool{}}
}

func (h *fakeHKS) RequestKey(ctx context.Context, req aaa.KeyRequest) (aaa.KeyResponse, error) {
	h.calls.Add(1)
	h.lastReq.Store(&req)
	h.mu.Lock()
	block := h.block
	h.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return aaa.KeyResponse{}, aaa.ErrNoAnswer
		}
	}
	if h.down.Load() {
		return aaa.KeyResponse{}, aaa.ErrNoAnswer
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	m, err := h.codes.ParseMessage(req.HKReq)
	if err != nil {
		return aaa.KeyResponse{}, aaa.ErrDiscarded
	}
	r, ok := m.(mh.HandoverKeyRequest)
	hmk := h.hmk[req.NAI]
	if !ok || hmk == nil {
		return aaa.KeyResponse{}, aaa.ErrDiscarded
	}
	var (
		mnNonce []byte
		ts      *mh.NTPTimestamp
		macOpt  *mh.MessageAuthenticationCode
		nai     string
	)
	for _, o := range r.Options {
		switch o := o.(type) {
		case mh.MobileNodeIdentifier:
			nai = string(o.Identifier)
		case mh.HandoverNonce:
			if o.Subtype == mh.NonceSubtypeMN {
				mnNonce = o.Nonce
			}
		case mh.Timestamp:
			ts = &o.Value
		case mh.MessageAuthenticationCode:
			if o.Subtype == mh.MACSubtypeMNHKS {
				macOpt = &o
			}
		}
	}
	if nai != req.NAI || macOpt == nil || mnNonce == nil {
		return aaa.KeyResponse{}, aaa.ErrDiscarded
	}
	prf, mac := hokey.PRF(r.PRF), hokey.MACAlgorithm(macOpt.AlgorithmType)
	// INVALID_PRF_ALG is answered without authenticating the request
	// (docs/aaa.md: the HKS cannot derive the HIK with that PRF).
	if prf != h.prf {
		return h.refuse(hmk, r, mh.HandoverKeyStatusInvalidPRFAlgorithm, h.prf, h.mac, ts)
	}
	hik, err := hokey.DeriveHIK(prf, hmk, r.MessageID, mac)
	if err != nil || hokey.VerifyMAC(h.codes, req.HKReq, &hik) != nil {
		return aaa.KeyResponse{}, aaa.ErrDiscarded
	}
	now := h.now().Add(h.skew)
	switch {
	case mac != h.mac:
		return h.refuse(hmk, r, mh.HandoverKeyStatusInvalidMACAlgorithm, prf, h.mac, ts)
	case h.force != 0:
		st := h.force
		h.force = 0
		return h.refuse(hmk, r, st, prf, mac, ts)
	case ts == nil:
		return h.refuse(hmk, r, mh.HandoverKeyStatusTimestampRequired, prf, mac, nil)
	case ts.Time().Sub(now).Abs() > 7*time.Second:
		// §5.2.3: "the server copies only the low-order 32 bits into the
		// HKResp, and supplies the high-order 32 bits from its own time".
		fix := mh.NTPTimestamp(uint64(mh.NTPTime(now).Seconds())<<32 | uint64(ts.Fraction()))
		return h.refuse(hmk, r, mh.HandoverKeyStatusInvalidTimestamp, prf, mac, &fix)
	case h.admin[nai]:
		return h.refuse(hmk, r, mh.HandoverKeyStatusAdministrativelyProhibited, prf, mac, ts)
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	hk, err := hokey.DeriveHK(prf, hmk, mnNonce, nonce, nai, req.AR, mac)
	if err != nil {
		return aaa.KeyResponse{}, aaa.ErrDiscarded
	}
	h.okCount.Add(1)
	return aaa.KeyResponse{HK: hk, HKSNonce: nonce, Lifetime: h.lifetime}, nil
}

// refuse builds the whole error HKResp with the MN-HKS MAC (docs/aaa.md,
// HKS errors).
func (h *fakeHKS) refuse(hmk []byte, r mh.HandoverKeyRequest, status uint16, prf hokey.PRF, mac hokey.MACAlgorithm, ts *mh.NTPTimestamp) (aaa.KeyResponse, error) {
	h.refused.Add(1)
	hik, err := hokey.DeriveHIK(prf, hmk, r.MessageID, mac)
	if err != nil {
		return aaa.KeyResponse{}, aaa.ErrDiscarded
	}
	defer hik.Zero()
	resp := mh.HandoverKeyResponse{MessageID: r.MessageID, PRF: uint8(prf), Status: status}
	if ts != nil {
		resp.Options = []mh.Option{mh.Timestamp{Value: *ts}}
	}
	// The checksum is the AR's: any addresses do.
	b, err := hokey.SignMACs(h.codes, resp, r.KeyCareOfAddress, r.KeyCareOfAddress, &hik)
	if err != nil {
		return aaa.KeyResponse{}, aaa.ErrDiscarded
	}
	return aaa.KeyResponse{Status: status, HKResp: b}, nil
}
