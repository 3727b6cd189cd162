package radius

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"layeh.com/radius"
)

// maOffset is where the Message-Authenticator's value starts in a packet
// this package marshals: it is the first attribute.
const maOffset = headerLen + 2

// NAS identifies the AR in its Access-Requests (RFC 2865 §4.1: an
// Access-Request MUST contain a NAS-IP-Address or a NAS-Identifier, RFC
// 3162 §2.1 adds NAS-IPv6-Address): Address as NAS-IPv6-Address (or
// NAS-IP-Address for an IPv4 address), else Identifier as NAS-Identifier.
type NAS struct {
	Address    netip.Addr
	Identifier string
}

func (n NAS) attribute() (radius.Type, []byte, error) {
	switch {
	case n.Address.Is4():
		b := n.Address.As4()
		return typeNASIPAddress, b[:], nil
	case n.Address.Is6() && !n.Address.Is4In6():
		b := n.Address.As16()
		return typeNASIPv6Address, b[:], nil
	case n.Address.IsValid():
		return 0, nil, fmt.Errorf("%w: NAS address %v", ErrConfig, n.Address)
	case n.Identifier == "" || len(n.Identifier) > maxAttrValue:
		return 0, nil, fmt.Errorf("%w: NAS-Identifier of %d octets and no NAS address", ErrConfig, len(n.Identifier))
	}
	return typeNASIdentifier, []byte(n.Identifier), nil
}

// vsa returns the value of a Vendor-Specific attribute holding one of
// fhkey's attributes.
func vsa(t VendorType, v []byte) radius.Attribute {
	a := make(radius.Attribute, vsaHeaderLen+len(v))
	binary.BigEndian.PutUint32(a, VendorID)
	a[4], a[5] = byte(t), byte(2+len(v))
	copy(a[vsaHeaderLen:], v)
	return a
}

// addSplit adds v as consecutive t attributes of at most 247 octets each.
func addSplit(p *radius.Packet, t VendorType, v []byte) {
	for len(v) > 0 {
		n := min(len(v), maxVSAValue)
		p.Add(typeVendorSpecific, vsa(t, v[:n]))
		v = v[n:]
	}
}

// marshal marshals p, whose first attribute is a zero Message-Authenticator,
// and signs it (sign).
func marshal(p *radius.Packet, reqAuth *[authenticator]byte, secret []byte) ([]byte, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: empty shared secret", ErrConfig)
	}
	b, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrAttribute, p.Code, err)
	}
	sign(b, maOffset, reqAuth, secret)
	return b, nil
}

// EncodeRequest returns the Access-Request for req with Identifier id and
// Request Authenticator auth: Message-Authenticator first, User-Name (the
// NAI), the NAS attribute, FHkey-AR-ID and FHkey-HKReq.
func EncodeRequest(req aaa.KeyRequest, id uint8, auth [16]byte, nas NAS, secret []byte) ([]byte, error) {
	if len(req.NAI) == 0 || len(req.NAI) > maxAttrValue {
		return nil, fmt.Errorf("%w: User-Name: NAI of %d octets (1–%d)", ErrAttribute, len(req.NAI), maxAttrValue)
	}
	if !req.AR.Is6() || req.AR.Is4In6() || req.AR.Zone() != "" {
		return nil, fmt.Errorf("%w: %s: %v is not an IPv6 address", ErrAttribute, AttrARID, req.AR)
	}
	if len(req.HKReq) == 0 {
		return nil, fmt.Errorf("%w: %s: empty", ErrAttribute, AttrHKReq)
	}
	nt, nv, err := nas.attribute()
	if err != nil {
		return nil, err
	}
	p := &radius.Packet{Code: radius.CodeAccessRequest, Identifier: id, Authenticator: auth}
	p.Add(typeMessageAuthenticator, make(radius.Attribute, authenticator))
	p.Add(typeUserName, radius.Attribute(req.NAI))
	p.Add(nt, nv)
	ar := req.AR.As16()
	p.Add(typeVendorSpecific, vsa(AttrARID, ar[:]))
	addSplit(p, AttrHKReq, req.HKReq)
	return marshal(p, nil, secret)
}

// Request is an Access-Request as the Server decoded it.
type Request struct {
	Identifier    uint8
	Authenticator [16]byte
	KeyRequest    aaa.KeyRequest
	// ProxyState holds the request's Proxy-State values in order, for
	// the response (RFC 2865 §5.33).
	ProxyState [][]byte
}

// DecodeRequest checks and decodes the received Access-Request b: its
// Message-Authenticator (required, constant time), then its attributes.
// The Request aliases b (its ProxyState, and its KeyRequest.HKReq when
// the HKReq is in one attribute, as an HKReq of at most 247 octets is):
// b must not change while the Request is used.
func DecodeRequest(b, secret []byte) (Request, error) {
	n, err := checkHeader(b)
	if err != nil {
		return Request{}, err
	}
	b = b[:n]
	if c := radius.Code(b[0]); c != radius.CodeAccessRequest {
		return Request{}, fmt.Errorf("%w: %s where an Access-Request is expected", ErrMalformed, c)
	}
	r := Request{Identifier: b[1]}
	copy(r.Authenticator[:], b[4:headerLen])
	if err := verifyMessageAuthenticator(b, &r.Authenticator, secret); err != nil {
		return Request{}, err
	}
	var room [commonAttributes]attribute
	attrs, err := appendAttributes(room[:0], b[headerLen:])
	if err != nil {
		return Request{}, err
	}
	var haveAR bool
	for _, a := range attrs {
		switch {
		case a.std == typeUserName:
			if r.KeyRequest.NAI != "" {
				return Request{}, repeated("User-Name")
			}
			if len(a.value) == 0 {
				return Request{}, fmt.Errorf("%w: User-Name: empty", ErrAttribute)
			}
			r.KeyRequest.NAI = string(a.value)
		case a.std == typeProxyState:
			r.ProxyState = append(r.ProxyState, a.value)
		case a.vendor && a.vt == AttrARID:
			if haveAR {
				return Request{}, repeated(AttrARID.String())
			}
			if len(a.value) != 16 {
				return Request{}, wrongLength(AttrARID, len(a.value), 16)
			}
			r.KeyRequest.AR = netip.AddrFrom16([16]byte(a.value))
			if r.KeyRequest.AR.Is4In6() {
				return Request{}, fmt.Errorf("%w: %s: %v is not an IPv6 address", ErrAttribute, AttrARID, r.KeyRequest.AR)
			}
			haveAR = true
		case a.vendor && a.vt == AttrHKReq:
			if r.KeyRequest.HKReq == nil {
				// One attribute (an HKReq of at most 247 octets): aliases
				// b; capped so that appending a second one copies.
				r.KeyRequest.HKReq = a.value[:len(a.value):len(a.value)]
			} else {
				r.KeyRequest.HKReq = append(r.KeyRequest.HKReq, a.value...)
			}
		}
	}
	switch {
	case r.KeyRequest.NAI == "":
		return Request{}, missing("User-Name")
	case !haveAR:
		return Request{}, missing(AttrARID.String())
	case len(r.KeyRequest.HKReq) == 0:
		return Request{}, missing(AttrHKReq.String())
	}
	return r, nil
}

// Response is what the Server answers to a Request.
type Response struct {
	// KeyResponse is encoded as an Access-Accept when its Status is 0,
	// else as an Access-Reject with FHkey-Status and FHkey-HKResp (if any).
	KeyResponse aaa.KeyResponse
	// Discarded makes the answer an Access-Reject without fhkey
	// attributes: the HKS discarded the request (aaa.ErrDiscarded).
	Discarded bool
}

// EncodeResponse returns the response to req, Message-Authenticator first
// and req's Proxy-States last, its Handover-Key encrypted with salt
// (EncryptKey). It writes the octets directly, one allocation for the
// packet (the Server keeps it for duplicates).
func EncodeResponse(req *Request, resp Response, secret []byte, salt uint16) ([]byte, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: empty shared secret", ErrConfig)
	}
	kr := &resp.KeyResponse
	size := headerLen + 2 + authenticator
	for _, ps := range req.ProxyState {
		size += 2 + len(ps)
	}
	code := radius.CodeAccessReject
	switch {
	case resp.Discarded:
	case kr.Status != 0:
		size += 2 + vsaHeaderLen + 4 + (len(kr.HKResp)+maxVSAValue-1)/maxVSAValue*(2+vsaHeaderLen) + len(kr.HKResp)
	default:
		code = radius.CodeAccessAccept
		if len(kr.HKSNonce) == 0 || len(kr.HKSNonce) > maxVSAValue {
			return nil, fmt.Errorf("%w: %s: %d octets (1–%d)", ErrAttribute, AttrHKSNonce, len(kr.HKSNonce), maxVSAValue)
		}
		secs := kr.Lifetime / time.Second
		if secs < 1 || secs > math.MaxUint32 {
			return nil, fmt.Errorf("%w: %s: %v (1 s – 2^32-1 s)", ErrAttribute, AttrKeyLifetime, kr.Lifetime)
		}
		if kr.HK.IsZero() {
			return nil, fmt.Errorf("%w: %s: empty", ErrAttribute, AttrHandoverKey)
		}
		size += 3*(2+vsaHeaderLen) + len(kr.HKSNonce) + 2 + maxKeyLen + 16 + 4
	}
	b := make([]byte, headerLen, size)
	b[0], b[1] = byte(code), req.Identifier
	copy(b[4:headerLen], req.Authenticator[:])
	b = appendAttribute(b, typeMessageAuthenticator, make([]byte, authenticator)...)
	switch code {
	case radius.CodeAccessAccept:
		var err error
		b = appendVSA(b, AttrHKSNonce, kr.HKSNonce...)
		vsa := len(b)
		b = appendVSA(b, AttrHandoverKey)
		if b, err = appendEncryptedKey(b, kr.HK.Bytes(), secret, req.Authenticator, salt); err != nil {
			clear(b[vsa:])
			return nil, err
		}
		b[vsa+1], b[vsa+7] = byte(len(b)-vsa), byte(len(b)-vsa-vsaHeaderLen)
		b = appendVSA(b, AttrKeyLifetime, binary.BigEndian.AppendUint32(nil, uint32(kr.Lifetime/time.Second))...)
	default:
		if !resp.Discarded {
			b = appendVSA(b, AttrStatus, 0, 0, byte(kr.Status>>8), byte(kr.Status))
			for v := kr.HKResp; len(v) > 0; {
				n := min(len(v), maxVSAValue)
				b = appendVSA(b, AttrHKResp, v[:n]...)
				v = v[n:]
			}
		}
	}
	for _, ps := range req.ProxyState {
		b = appendAttribute(b, typeProxyState, ps...)
	}
	if len(b) > maxPacketLen {
		clear(b)
		return nil, fmt.Errorf("%w: %s: %d octets, more than %d", ErrAttribute, radius.Code(code), len(b), maxPacketLen)
	}
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
	sign(b, maOffset, &req.Authenticator, secret)
	return b, nil
}

// appendAttribute appends the attribute t with value v (at most
// maxAttrValue octets) to b.
func appendAttribute(b []byte, t radius.Type, v ...byte) []byte {
	return append(append(b, byte(t), byte(2+len(v))), v...)
}

// appendVSA appends a Vendor-Specific attribute holding fhkey's attribute
// t with value v (at most maxVSAValue octets) to b.
func appendVSA(b []byte, t VendorType, v ...byte) []byte {
	b = append(b, byte(typeVendorSpecific), byte(2+vsaHeaderLen+len(v)))
	b = binary.BigEndian.AppendUint32(b, VendorID)
	return append(append(b, byte(t), byte(2+len(v))), v...)
}

// VerifyResponse checks the received response b to the request with
// Identifier id and Request Authenticator reqAuth: length, Identifier,
// code, Response Authenticator and Message-Authenticator (required), both
// in constant time. It returns b cut to its Length.
func VerifyResponse(b []byte, id uint8, reqAuth [16]byte, secret []byte) ([]byte, error) {
	return verifyReply(b, id, reqAuth, secret, false)
}

// verifyReply is VerifyResponse, also taking an Access-Challenge if
// challenge is set (the EAP relay, RFC 3579 §2.6.3).
func verifyReply(b []byte, id uint8, reqAuth [16]byte, secret []byte, challenge bool) ([]byte, error) {
	n, err := checkHeader(b)
	if err != nil {
		return nil, err
	}
	b = b[:n]
	if b[1] != id {
		return nil, fmt.Errorf("%w: Identifier %d, request's %d", ErrMalformed, b[1], id)
	}
	if c := radius.Code(b[0]); c != radius.CodeAccessAccept && c != radius.CodeAccessReject && (!challenge || c != radius.CodeAccessChallenge) {
		return nil, fmt.Errorf("%w: %s in response to an Access-Request", ErrMalformed, c)
	}
	if err := verifyResponse(b, &reqAuth, secret); err != nil {
		return nil, err
	}
	return b, nil
}

// DecodeResponse decodes the response b that VerifyResponse accepted: an
// Access-Accept into a KeyResponse with the decrypted HK, an
// Access-Reject with FHkey-Status into a KeyResponse with Status and
// HKResp, one without into aaa.ErrDiscarded.
func DecodeResponse(b []byte, reqAuth [16]byte, secret []byte) (aaa.KeyResponse, error) {
	if _, err := checkHeader(b); err != nil {
		return aaa.KeyResponse{}, err
	}
	attrs, err := parseAttributes(b[headerLen:])
	if err != nil {
		return aaa.KeyResponse{}, err
	}
	var (
		kr                                     aaa.KeyResponse
		hk                                     []byte
		haveStatus, haveHK, haveNonce, haveLft bool
	)
	for _, a := range attrs {
		if !a.vendor {
			continue
		}
		switch a.vt {
		case AttrStatus:
			if haveStatus {
				return aaa.KeyResponse{}, repeated(AttrStatus.String())
			}
			v, err := integer(a)
			if err != nil {
				return aaa.KeyResponse{}, err
			}
			if v == 0 || v > math.MaxUint16 {
				return aaa.KeyResponse{}, fmt.Errorf("%w: %s: %d (1–65535)", ErrAttribute, AttrStatus, v)
			}
			kr.Status, haveStatus = uint16(v), true
		case AttrHKResp:
			kr.HKResp = append(kr.HKResp, a.value...)
		case AttrHKSNonce:
			if haveNonce {
				return aaa.KeyResponse{}, repeated(AttrHKSNonce.String())
			}
			if len(a.value) == 0 {
				return aaa.KeyResponse{}, fmt.Errorf("%w: %s: empty", ErrAttribute, AttrHKSNonce)
			}
			kr.HKSNonce, haveNonce = append([]byte(nil), a.value...), true
		case AttrKeyLifetime:
			if haveLft {
				return aaa.KeyResponse{}, repeated(AttrKeyLifetime.String())
			}
			v, err := integer(a)
			if err != nil {
				return aaa.KeyResponse{}, err
			}
			if v == 0 {
				return aaa.KeyResponse{}, fmt.Errorf("%w: %s: 0", ErrAttribute, AttrKeyLifetime)
			}
			kr.Lifetime, haveLft = time.Duration(v)*time.Second, true
		case AttrHandoverKey:
			if haveHK {
				clear(hk)
				return aaa.KeyResponse{}, repeated(AttrHandoverKey.String())
			}
			hk, err = DecryptKey(a.value, secret, reqAuth)
			if err != nil {
				return aaa.KeyResponse{}, err
			}
			haveHK = true
		}
	}
	defer clear(hk)
	if radius.Code(b[0]) == radius.CodeAccessReject {
		switch {
		case haveHK || haveNonce || haveLft:
			return aaa.KeyResponse{}, fmt.Errorf("%w: Access-Reject with key attributes", ErrAttribute)
		case haveStatus:
			return kr, nil
		case len(kr.HKResp) > 0:
			return aaa.KeyResponse{}, missing(AttrStatus.String())
		}
		return aaa.KeyResponse{}, aaa.ErrDiscarded
	}
	switch {
	case haveStatus || len(kr.HKResp) > 0:
		return aaa.KeyResponse{}, fmt.Errorf("%w: Access-Accept with %s or %s", ErrAttribute, AttrStatus, AttrHKResp)
	case !haveHK:
		return aaa.KeyResponse{}, missing(AttrHandoverKey.String())
	case !haveNonce:
		return aaa.KeyResponse{}, missing(AttrHKSNonce.String())
	case !haveLft:
		return aaa.KeyResponse{}, missing(AttrKeyLifetime.String())
	}
	var mac hokey.MACAlgorithm
	switch len(hk) {
	case hokey.MACHMACSHA1.KeyLen():
		mac = hokey.MACHMACSHA1
	case hokey.MACHMACSHA256.KeyLen():
		mac = hokey.MACHMACSHA256
	default:
		return aaa.KeyResponse{}, fmt.Errorf("%w: %s: key of %d octets (%d or %d)", ErrAttribute, AttrHandoverKey, len(hk), hokey.MACHMACSHA1.KeyLen(), hokey.MACHMACSHA256.KeyLen())
	}
	if kr.HK, err = hokey.NewHandoverKey(mac, hk); err != nil {
		return aaa.KeyResponse{}, fmt.Errorf("%w: %s: %w", ErrAttribute, AttrHandoverKey, err)
	}
	return kr, nil
}

// attribute is one attribute of a received packet: a standard one, or
// one of fhkey's vendor-specific ones (vendor set).
type attribute struct {
	std    radius.Type
	vendor bool
	vt     VendorType
	value  []byte // aliases the packet
}

// parseAttributes splits b into attributes, opening fhkey's
// Vendor-Specific attributes (every sub-attribute of one, RFC 2865 §5.26);
// other vendors' are kept as standard Vendor-Specific attributes. Every
// error names the attribute.
func parseAttributes(b []byte) ([]attribute, error) {
	return appendAttributes(nil, b)
}

// commonAttributes is room for the attributes of a usual Access-Request
// (Message-Authenticator, User-Name, NAS-Identifier, AR-ID, HKReq, a few
// Proxy-States): appendAttributes into an array of that many on the
// caller's stack does not allocate.
const commonAttributes = 12

// appendAttributes is parseAttributes appending to out.
func appendAttributes(out []attribute, b []byte) ([]attribute, error) {
	for off := 0; off < len(b); {
		if len(b)-off < 2 {
			return nil, fmt.Errorf("%w: attribute type %d: %w", ErrMalformed, b[off], io.ErrUnexpectedEOF)
		}
		t, l := radius.Type(b[off]), int(b[off+1])
		if l < 2 {
			return nil, fmt.Errorf("%w: %s: length %d", ErrMalformed, attrName(t), l)
		}
		if off+l > len(b) {
			return nil, fmt.Errorf("%w: %s: length %d, %d octets left: %w", ErrMalformed, attrName(t), l, len(b)-off, io.ErrUnexpectedEOF)
		}
		v := b[off+2 : off+l]
		off += l
		if t != typeVendorSpecific || len(v) < 4 || binary.BigEndian.Uint32(v) != VendorID {
			out = append(out, attribute{std: t, value: v})
			continue
		}
		if len(v) == 4 {
			return nil, fmt.Errorf("%w: Vendor-Specific (%s): no sub-attribute", ErrMalformed, VendorName)
		}
		for v = v[4:]; len(v) > 0; {
			if len(v) < 2 {
				return nil, fmt.Errorf("%w: Vendor-Specific (%s): sub-attribute: %w", ErrMalformed, VendorName, io.ErrUnexpectedEOF)
			}
			vt, vl := VendorType(v[0]), int(v[1])
			if vl < 2 {
				return nil, fmt.Errorf("%w: %s: vendor length %d", ErrMalformed, vt, vl)
			}
			if vl > len(v) {
				return nil, fmt.Errorf("%w: %s: vendor length %d, %d octets left: %w", ErrMalformed, vt, vl, len(v), io.ErrUnexpectedEOF)
			}
			out = append(out, attribute{std: typeVendorSpecific, vendor: true, vt: vt, value: v[2:vl]})
			v = v[vl:]
		}
	}
	return out, nil
}

func integer(a attribute) (uint32, error) {
	if len(a.value) != 4 {
		return 0, wrongLength(a.vt, len(a.value), 4)
	}
	return binary.BigEndian.Uint32(a.value), nil
}

func wrongLength(t VendorType, have, want int) error {
	return fmt.Errorf("%w: %s: %d octets, want %d", ErrAttribute, t, have, want)
}

func repeated(name string) error { return fmt.Errorf("%w: %s: repeated", ErrAttribute, name) }

func missing(name string) error { return fmt.Errorf("%w: %s: missing", ErrAttribute, name) }
