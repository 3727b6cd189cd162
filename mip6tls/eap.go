package mip6tls

import "slices"

// The messages of the EAP exchange, RFC 6618 §5.9, Figure 5:
//
//	1) Request/MHAuth-Init:  mn-id, mn-rand, auth-method=eap
//	2) Response/MHAuth-Init: [auth-method=eap, eap, [status,]] auth
//	3) Request/MHAuth-Mid:   eap, auth                       (repeated as the
//	4) Response/MHAuth-Mid:  eap, auth                        method needs)
//	5) Request/MHAuth-Done:  sa-scope, ciphersuite-list, eap, auth
//	6) Response/MHAuth-Done: [sa-scope, sa-data, ciphersuite, bootstrapping-data,]
//	                         eap, status, auth
//
// auth is keyed with "1" in MHAuth-Init and MHAuth-Mid, and with the MSK
// in both MHAuth-Done messages when the method derives one
// (EAPSharedKey). The EAP packets themselves are opaque here.

// InitRequest returns Request/MHAuth-Init (Identifier 1, no auth)
// proposing methods, in the MN's order of preference (§5.5.2).
func InitRequest(mn MNIdentifier, mnRand MNRand, methods ...AuthMethod) ([]byte, error) {
	return MarshalMessage(Message{Identifier: 1, Parameters: []Parameter{mn, mnRand, AuthMethods(methods)}})
}

// EAPInitResponse returns Response/MHAuth-Init of the EAP method, carrying
// the first EAP request (normally EAP-Request/Identity).
func EAPInitResponse(identifier uint8, eap EAPPayload, cb []byte) ([]byte, error) {
	m := Message{Identifier: identifier, Parameters: []Parameter{AuthMethods{AuthMethodEAP}, eap}}
	return SignMessage(m, EAPSharedKey(nil), SenderHAC, cb)
}

// EAPMidRequest returns Request/MHAuth-Mid carrying one EAP response.
func EAPMidRequest(identifier uint8, eap EAPPayload, cb []byte) ([]byte, error) {
	return SignMessage(Message{Identifier: identifier, Parameters: []Parameter{eap}}, EAPSharedKey(nil), SenderMN, cb)
}

// EAPMidResponse returns Response/MHAuth-Mid carrying one EAP request.
func EAPMidResponse(identifier uint8, eap EAPPayload, cb []byte) ([]byte, error) {
	return SignMessage(Message{Identifier: identifier, Parameters: []Parameter{eap}}, EAPSharedKey(nil), SenderHAC, cb)
}

// EAPDoneRequest returns Request/MHAuth-Done: the MN's proposals and its
// last EAP response, keyed with the MSK (nil when the method derives none).
func EAPDoneRequest(identifier uint8, scope SAScope, suites CipherSuiteList, eap EAPPayload, msk, cb []byte) ([]byte, error) {
	m := Message{Identifier: identifier, Parameters: []Parameter{scope, suites, eap}}
	return SignMessage(m, EAPSharedKey(msk), SenderMN, cb)
}

// EAPDoneResponse returns Response/MHAuth-Done with the final EAP packet
// (EAP-Success or EAP-Failure) and, with status 200, the SA.
func EAPDoneResponse(identifier uint8, status StatusCode, sa *SecurityAssociation, bs *Bootstrap, eap EAPPayload, msk, cb []byte) ([]byte, error) {
	ps, err := provisioning(status, sa, bs)
	if err != nil {
		return nil, err
	}
	ps = append(ps, eap, status)
	return SignMessage(Message{Identifier: identifier, Parameters: ps}, EAPSharedKey(msk), SenderHAC, cb)
}

// provisioning returns the SA and bootstrapping parameters that start a
// Response/MHAuth-Done; status 200 requires sa (§5.3: "In the case of
// successful authentication ... Selected ciphersuite ... Security
// association scope ... The rest of the security association data").
func provisioning(status StatusCode, sa *SecurityAssociation, bs *Bootstrap) ([]Parameter, error) {
	var ps []Parameter
	if sa != nil {
		ps = append(ps, sa.parameters()...)
	} else if status == StatusOK {
		return nil, marshalErr(ErrMissing, "MHAuth-Done response: status 200 without a security association")
	}
	if bs != nil {
		ps = append(ps, bs.parameters()...)
	}
	return ps, nil
}

// IsDoneRequest reports whether a request is MHAuth-Done: it carries the
// SA scope and the suite list that §5.3 requires there and nowhere else.
func IsDoneRequest(m Message) bool {
	_, scope := Find[SAScope](m)
	_, suites := Find[CipherSuiteList](m)
	return scope && suites
}

// CheckEAPMessage verifies an EAP-method message with the "1" key
// (MHAuth-Init response, MHAuth-Mid) or the MSK (MHAuth-Done) and returns
// it with its EAP packet, which every message after the first request
// carries.
func CheckEAPMessage(wire []byte, from Sender, msk, cb []byte) (Message, EAPPayload, error) {
	m, err := VerifyMessage(wire, EAPSharedKey(msk), from, cb)
	if err != nil {
		return Message{}, nil, err
	}
	eap, ok := Find[EAPPayload](m)
	if !ok {
		return Message{}, nil, missing("EAP method message %d: no eap-payload", m.Identifier)
	}
	if ms, ok := Find[AuthMethods](m); ok && from == SenderHAC && !slices.Equal(ms, AuthMethods{AuthMethodEAP}) {
		return Message{}, nil, missing("MHAuth-Init response: auth-method is not exactly eap")
	}
	return m, eap, nil
}
