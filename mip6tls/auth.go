package mip6tls

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	_ "crypto/sha512" // SHA-384 and SHA-512 for certificates signed with them
	"crypto/x509"
	"strings"
)

// ServerEndpointBinding returns the RFC 5929 §4 'tls-server-end-point'
// channel binding of the HAC's TLS server certificate: the hash of the
// certificate "as it appears, octet for octet, in the server's Certificate
// message" (cert.Raw), with the hash chosen by RFC 5929 §4.1: SHA-256 when
// the signature algorithm hashes with MD5 or SHA-1, else the signature's own
// hash. A signature that uses no single hash (Ed25519) or an unknown
// algorithm wraps ErrChannelBinding ("undefined at this time"). RFC 6618
// §5.8 calls these octets CB-octets; they are the bare hash, with no
// prefix (docs/tls.md).
func ServerEndpointBinding(cert *x509.Certificate) ([]byte, error) {
	if cert == nil || len(cert.Raw) == 0 {
		return nil, wrapAuth(ErrChannelBinding, "no certificate")
	}
	var h crypto.Hash
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.DSAWithSHA256, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
		h = crypto.SHA256
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = crypto.SHA512
	default:
		return nil, wrapAuth(ErrChannelBinding, "signature algorithm %v", cert.SignatureAlgorithm)
	}
	d := h.New()
	d.Write(cert.Raw)
	return d.Sum(nil), nil
}

// Sender is the side that computes an "auth" value; it picks the label that
// starts the HMAC input.
type Sender uint8

// The two senders of RFC 6618 §5.8: "'MN' is 2 ASCII characters without
// null termination and 'HAC' is 3 ASCII characters without null
// termination".
const (
	SenderMN  Sender = iota // requests, MN -> HAC
	SenderHAC               // responses, MN <- HAC
)

// Label returns "MN" or "HAC".
func (s Sender) Label() string {
	if s == SenderHAC {
		return "HAC"
	}
	return "MN"
}

// EAPSharedKey returns the key of an EAP exchange's "auth" values (RFC 6618
// §5.9): the MSK in the MHAuth-Done messages of a key-deriving method, and
// "1" (the single ASCII octet 0x31, docs/tls.md) in MHAuth-Init and
// MHAuth-Mid and when the method derives no MSK. Pass a nil msk for the
// latter cases.
func EAPSharedKey(msk []byte) []byte {
	if len(msk) == 0 {
		return []byte("1")
	}
	return msk
}

// ComputeAuthenticator returns RFC 6618 §5.8's
//
//	auth = HMAC-SHA256(key, label | msg-octets | CB-octets)
//
// with label "MN" or "HAC" (from), msg-octets as MsgOctets defines them and
// cb the ServerEndpointBinding. key is the PSK (§5.8) or EAPSharedKey
// (§5.9); an empty key wraps ErrKey.
func ComputeAuthenticator(key []byte, from Sender, msgOctets, cb []byte) (MessageAuthenticator, error) {
	var a MessageAuthenticator
	if len(key) == 0 {
		return a, wrapAuth(ErrKey, "HMAC-SHA256 key")
	}
	if len(cb) == 0 {
		return a, wrapAuth(ErrChannelBinding, "empty CB-octets")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(from.Label()))
	m.Write(msgOctets)
	m.Write(cb)
	m.Sum(a[:0])
	return a, nil
}

// MsgOctets returns, from a received container, the octets an "auth" value
// covers and the value itself. RFC 6618 §5.5.5 computes auth "over the
// whole message till the start of the" auth TV-header, and §5.8 says
// "'msg-octets' includes all payload parameters of the respective message
// to be signed except the 'auth' payload": so msg-octets are the content
// portion from its first octet up to, not including, the first octet of
// the auth TV-header's name, exactly as received. The container header
// (Ver, Identifier, Length) and end-of-message are not covered
// (docs/tls.md). A message without auth wraps ErrNoAuthenticator.
func MsgOctets(container []byte) ([]byte, MessageAuthenticator, error) {
	_, msgOctets, a, err := verifiable(container)
	return msgOctets, a, err
}

// verifiable parses container and returns its msg-octets and auth value.
func verifiable(container []byte) (Message, []byte, MessageAuthenticator, error) {
	m, msgOctets, err := parseMessage(container)
	if err != nil {
		return Message{}, nil, MessageAuthenticator{}, err
	}
	a, ok := Find[MessageAuthenticator](m)
	if !ok {
		return Message{}, nil, a, wrapAuth(ErrNoAuthenticator, "message %d", m.Identifier)
	}
	return m, msgOctets, a, nil
}

// VerifyMessage parses a received container and checks its "auth" value in
// constant time against the one computed with key, from and cb over the
// received msg-octets. Only a verified message is returned; any failure
// wraps ErrParse or ErrAuth.
func VerifyMessage(container, key []byte, from Sender, cb []byte) (Message, error) {
	m, msgOctets, got, err := verifiable(container)
	if err != nil {
		return Message{}, err
	}
	want, err := ComputeAuthenticator(key, from, msgOctets, cb)
	if err != nil {
		return Message{}, err
	}
	if !hmac.Equal(got[:], want[:]) {
		return Message{}, wrapAuth(ErrBadAuthenticator, "%s message %d", from.Label(), m.Identifier)
	}
	return m, nil
}

// SignMessage marshals m with an "auth" TV-header appended, computed with
// key, from and cb over the marshalled content before it. m must not
// already carry auth.
func SignMessage(m Message, key []byte, from Sender, cb []byte) ([]byte, error) {
	for _, p := range m.Parameters {
		if p != nil && strings.EqualFold(p.Name(), "auth") {
			return nil, marshalErr(ErrDuplicate, "SignMessage: message already carries auth")
		}
	}
	// The content is marshalled once: msg-octets are its TV-headers, then
	// the auth TV-header and end-of-message replace end-of-message.
	b, err := appendContent(make([]byte, ContainerHeaderLen, 1024), m.Parameters)
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-len(EndOfMessage)]
	a, err := ComputeAuthenticator(key, from, b[ContainerHeaderLen:], cb)
	if err != nil {
		return nil, err
	}
	b = append(b, "auth:"...)
	b = appendHex(b, a[:])
	b = append(b, crlf+EndOfMessage...)
	return finishContainer(b, m.Identifier)
}
