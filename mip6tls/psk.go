package mip6tls

import (
	"crypto/subtle"
	"slices"

	"github.com/fhkey/fhkey/internal/wireerr"
)

// The four messages of the PSK exchange, RFC 6618 §5.8, Figure 4:
//
//	1) Request/MHAuth-Init:  mn-id, mn-rand, auth-method=psk
//	2) Response/MHAuth-Init: [mn-rand, hac-rand, auth-method=psk, [status],] auth
//	3) Request/MHAuth-Done:  mn-rand, hac-rand, sa-scope, ciphersuite-list, auth
//	4) Response/MHAuth-Done: [sa-scope, sa-data, ciphersuite, bootstrapping-data,]
//	                         mn-rand, hac-rand, status, auth
//
// The builders return the container octets; the checks take received
// octets, verify auth over them (VerifyMessage) and the consistency of the
// nonces ("The MN verifies the received Message Authentication Code (MAC)
// and the consistency of the identities, nonces, and ciphersuite
// parameters"). Requests are signed with the label "MN", responses "HAC".

// PSKInitRequest returns message 1 (Identifier 1, no auth).
func PSKInitRequest(mn MNIdentifier, mnRand MNRand) ([]byte, error) {
	return InitRequest(mn, mnRand, AuthMethodPSK)
}

// CheckPSKInitRequest reads message 1 on the HAC: mn-id, mn-rand and an
// auth-method list that offers psk must be present (§5.3: "MUST always
// contain at least ... MN-Identity ... Authentication Method").
func CheckPSKInitRequest(wire []byte) (MNIdentifier, MNRand, error) {
	m, err := ParseMessage(wire)
	if err != nil {
		return "", MNRand{}, err
	}
	id, okID := Find[MNIdentifier](m)
	r, okRand := Find[MNRand](m)
	ms, _ := Find[AuthMethods](m)
	switch {
	case !okID:
		return "", MNRand{}, missing("MHAuth-Init request: no mn-id")
	case !okRand:
		return "", MNRand{}, missing("MHAuth-Init request: no mn-rand")
	case !slices.Contains(ms, AuthMethodPSK):
		return "", MNRand{}, missing("MHAuth-Init request: auth-method does not offer psk")
	}
	return id, r, nil
}

// PSKInitResponse returns message 2, signed by the HAC.
func PSKInitResponse(identifier uint8, mnRand MNRand, hacRand HACRand, psk, cb []byte) ([]byte, error) {
	m := Message{Identifier: identifier, Parameters: []Parameter{mnRand, hacRand, AuthMethods{AuthMethodPSK}}}
	return SignMessage(m, psk, SenderHAC, cb)
}

// CheckPSKInitResponse verifies message 2 on the MN: auth, the echoed
// mn-rand, and auth-method = psk alone (§5.5.2: "The HAC MUST select exactly
// one"). It returns the HAC's nonce.
func CheckPSKInitResponse(wire []byte, mnRand MNRand, psk, cb []byte) (HACRand, error) {
	m, err := VerifyMessage(wire, psk, SenderHAC, cb)
	if err != nil {
		return HACRand{}, err
	}
	// "[mn-rand, hac-rand, auth-method=psk, [status],] auth": a status here
	// ends the exchange (§5.5.4), so it is the HAC's refusal.
	if status, ok := Find[StatusCode](m); ok {
		return HACRand{}, &StatusError{Code: status}
	}
	if err := checkRands(m, mnRand, nil); err != nil {
		return HACRand{}, err
	}
	hr, ok := Find[HACRand](m)
	if !ok {
		return HACRand{}, missing("MHAuth-Init response: no hac-rand")
	}
	if ms, _ := Find[AuthMethods](m); !slices.Equal(ms, AuthMethods{AuthMethodPSK}) {
		return HACRand{}, missing("MHAuth-Init response: auth-method is not exactly psk")
	}
	return hr, nil
}

// PSKDoneRequest returns message 3, signed by the MN.
func PSKDoneRequest(identifier uint8, mnRand MNRand, hacRand HACRand, scope SAScope, suites CipherSuiteList, psk, cb []byte) ([]byte, error) {
	m := Message{Identifier: identifier, Parameters: []Parameter{mnRand, hacRand, scope, suites}}
	return SignMessage(m, psk, SenderMN, cb)
}

// CheckPSKDoneRequest verifies message 3 on the HAC: auth, both nonces,
// and the scope and suite list §5.3 requires. It returns the MN's
// proposals.
func CheckPSKDoneRequest(wire []byte, mnRand MNRand, hacRand HACRand, psk, cb []byte) (SAScope, CipherSuiteList, error) {
	m, err := VerifyMessage(wire, psk, SenderMN, cb)
	if err != nil {
		return 0, nil, err
	}
	if err := checkRands(m, mnRand, &hacRand); err != nil {
		return 0, nil, err
	}
	scope, okScope := Find[SAScope](m)
	suites, okSuites := Find[CipherSuiteList](m)
	if !okScope || !okSuites {
		return 0, nil, missing("MHAuth-Done request: need mip6-sas and mip6-suitelist (§5.3)")
	}
	return scope, suites, nil
}

// PSKDoneResponse returns message 4, signed by the HAC. With status 200 sa
// must be given (§5.3: "In the case of successful authentication ...
// Selected ciphersuite ... Security association scope ... The rest of the
// security association data"); otherwise sa and bs may be nil.
func PSKDoneResponse(identifier uint8, mnRand MNRand, hacRand HACRand, status StatusCode, sa *SecurityAssociation, bs *Bootstrap, psk, cb []byte) ([]byte, error) {
	ps, err := provisioning(status, sa, bs)
	if err != nil {
		return nil, err
	}
	ps = append(ps, mnRand, hacRand, status)
	return SignMessage(Message{Identifier: identifier, Parameters: ps}, psk, SenderHAC, cb)
}

// DoneResult is what the MN learns from Response/MHAuth-Done.
type DoneResult struct {
	Status    StatusCode
	SA        SecurityAssociation // set when Status is 200
	Bootstrap Bootstrap
}

// CheckPSKDoneResponse verifies message 4 on the MN: auth, both nonces,
// then ReadDoneResponse.
func CheckPSKDoneResponse(wire []byte, mnRand MNRand, hacRand HACRand, offered CipherSuiteList, psk, cb []byte) (DoneResult, error) {
	m, err := VerifyMessage(wire, psk, SenderHAC, cb)
	if err != nil {
		return DoneResult{}, err
	}
	if err := checkRands(m, mnRand, &hacRand); err != nil {
		return DoneResult{}, err
	}
	return ReadDoneResponse(m, offered)
}

// ReadDoneResponse reads a verified Response/MHAuth-Done of either method:
// a status-code, and with status 200 a complete SA whose ciphersuite is one
// the MN offered (§5.8: "The selection MUST be one of the MN-supported
// ciphersuites as received in 'ciphersuite-list'").
func ReadDoneResponse(m Message, offered CipherSuiteList) (DoneResult, error) {
	status, ok := Find[StatusCode](m)
	if !ok {
		return DoneResult{}, missing("MHAuth-Done response: no status-code (§5.3)")
	}
	r := DoneResult{Status: status, Bootstrap: BootstrapFrom(m)}
	if status != StatusOK {
		return r, nil
	}
	var err error
	if r.SA, err = SecurityAssociationFrom(m); err != nil {
		return DoneResult{}, err
	}
	if !slices.Contains(offered, r.SA.CipherSuite) {
		r.SA.Zero()
		return DoneResult{}, wrapAuth(ErrMismatch, "mip6-ciphersuite %v was not offered", r.SA.CipherSuite)
	}
	return r, nil
}

// checkRands compares the echoed nonces in constant time; hacRand nil
// skips hac-rand.
func checkRands(m Message, mnRand MNRand, hacRand *HACRand) error {
	r, ok := Find[MNRand](m)
	if !ok {
		return missing("no mn-rand")
	}
	if subtle.ConstantTimeCompare(r[:], mnRand[:]) != 1 {
		return wrapAuth(ErrMismatch, "mn-rand differs from the one sent")
	}
	if hacRand == nil {
		return nil
	}
	h, ok := Find[HACRand](m)
	if !ok {
		return missing("no hac-rand")
	}
	if subtle.ConstantTimeCompare(h[:], hacRand[:]) != 1 {
		return wrapAuth(ErrMismatch, "hac-rand differs from the HAC's")
	}
	return nil
}

func missing(format string, args ...any) error {
	return wireerr.WrapIn(ErrExchange, ErrMissing, format, args...)
}
