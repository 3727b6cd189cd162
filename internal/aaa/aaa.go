// Package aaa is the contract between the access router and the Handover
// Key Server of draft-vidya-mipshop-handover-keys-aaa-04 (docs/aaa.md),
// independent of the transport that carries it: what the AR relays for one
// Handover Key Request it has checked (§6.3.2) and what the HKS answers
// (§6.4). The AR role (internal/ar) calls a KeyServer; RADIUS
// (internal/radius) carries it between the daemons, and the HKS role
// (internal/hks) implements it; tests and the in-process demo connect the
// two directly.
package aaa

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/hokey"
)

// KeyRequest is what the AR relays to the HKS for one HKReq (draft §6.3.2:
// "the AR ... sends the HKReq ... along with its own identity").
type KeyRequest struct {
	// NAI is the MN ID: the NAI of the HKReq's Mobile Node Identifier
	// option (RFC 4283 subtype 1), the name the HKS knows the subscriber by
	// and the realm RADIUS routes on.
	NAI string
	// AR is the AR ID: the AR's address as the MN sees it, the
	// destination of the HKReq (and later of the FBU), an input of the HK
	// (draft §6.1.2).
	AR netip.Addr
	// HKReq is the received HKReq Mobility Header, exactly the octets
	// received (the MN-HKS MAC is verified over them, never over a
	// re-marshal), with its Checksum as received.
	HKReq []byte
}

// KeyResponse is the HKS's answer to a KeyRequest.
type KeyResponse struct {
	// Status is 0 (success) or the draft's status code (§5.1.2,
	// mh.HandoverKeyStatus*) of a refusal.
	Status uint16
	// On success: the HK derived for the request's AR and MN (§6.1.2),
	// the HKS-Nonce that went into it, and the lifetime the HKS grants
	// the key. The receiver owns HK and zeroes it when done.
	HK       hokey.HandoverKey
	HKSNonce []byte
	Lifetime time.Duration
	// On a refusal the HKS can authenticate to the MN (INVALID_PRF_ALG,
	// INVALID_MAC_ALG, INVALID_TIMESTAMP, TIMESTAMP_REQD,
	// ADMINISTRATIVELY_PROHIBITED): the whole HKResp Mobility Header the
	// AR relays unchanged (docs/aaa.md, HKS errors), its checksum left for
	// the AR to compute with the addresses it sends it between.
	HKResp []byte
}

// KeyServer is the HKS as the AR sees it.
type KeyServer interface {
	// RequestKey asks for the HK of req. It returns ErrNoAnswer when no
	// server answered in time and ErrDiscarded when the HKS discarded the
	// request (an MN-HKS MAC that does not verify, an unknown
	// subscriber): the AR then drops its state and answers nothing (draft
	// §6.3.2, §6.4).
	RequestKey(ctx context.Context, req KeyRequest) (KeyResponse, error)
}

// Errors of KeyServer.RequestKey.
var (
	ErrNoAnswer  = errors.New("aaa: no answer from the Handover Key Server")
	ErrDiscarded = errors.New("aaa: request discarded by the Handover Key Server")
)
