package radius

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/fhkey/fhkey/internal/aaa"
)

// packetWith returns a signed packet of code whose attributes are a
// Message-Authenticator then attrs (nil if too long); reqAuth set makes
// it a response to that request.
func packetWith(code byte, attrs []byte, reqAuth *[16]byte) []byte {
	if headerLen+maLen+len(attrs) > maxPacketLen {
		return nil
	}
	b := make([]byte, headerLen+maLen, headerLen+maLen+len(attrs))
	b[0], b[1] = code, 42
	copy(b[4:20], testAuth[:])
	b[20], b[21] = byte(typeMessageAuthenticator), maLen
	b = append(b, attrs...)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	sign(b, maOffset, reqAuth, testSecret)
	return b
}

// FuzzDecodeRequest fuzzes the server's parsing of an Access-Request's
// attributes (behind a valid Message-Authenticator, which the fuzzer
// could not forge): no panic; what decodes re-encodes and decodes equal.
func FuzzDecodeRequest(f *testing.F) {
	for _, kr := range []aaa.KeyRequest{testKeyRequest(), {NAI: "x", AR: testAR, HKReq: bytes.Repeat([]byte{7}, 300)}} {
		b, err := EncodeRequest(kr, 1, testAuth, testNAS, testSecret)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[headerLen+maLen:])
	}
	f.Fuzz(func(t *testing.T, attrs []byte) {
		b := packetWith(1, attrs, nil)
		if b == nil {
			return
		}
		req, err := DecodeRequest(b, testSecret)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrAttribute) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		again, err := EncodeRequest(req.KeyRequest, req.Identifier, req.Authenticator, testNAS, testSecret)
		if err != nil {
			if errors.Is(err, ErrAttribute) && len(attrs) > maxPacketLen-200 {
				return // re-split with a NAS attribute, past 4096 octets
			}
			t.Fatalf("decoded %+v, re-encoding: %v", req.KeyRequest, err)
		}
		back, err := DecodeRequest(again, testSecret)
		if err != nil {
			t.Fatal(err)
		}
		k1, k2 := req.KeyRequest, back.KeyRequest
		if k1.NAI != k2.NAI || k1.AR != k2.AR || !bytes.Equal(k1.HKReq, k2.HKReq) {
			t.Fatalf("round trip: %+v, then %+v", k1, k2)
		}
	})
}

// FuzzDecodeResponse fuzzes the client's parsing of an Access-Accept or
// Access-Reject's attributes (authenticated, as the client would have
// verified them): no panic; what decodes re-encodes and decodes equal.
func FuzzDecodeResponse(f *testing.F) {
	req := &Request{Identifier: 42, Authenticator: testAuth}
	for _, r := range []Response{
		{KeyResponse: testKeyResponse(f)},
		{KeyResponse: aaa.KeyResponse{Status: 136, HKResp: bytes.Repeat([]byte{1}, 260)}},
		{Discarded: true},
	} {
		b, err := EncodeResponse(req, r, testSecret, 3)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[0] == 3, b[headerLen+maLen:])
	}
	f.Fuzz(func(t *testing.T, reject bool, attrs []byte) {
		code := byte(2)
		if reject {
			code = 3
		}
		b := packetWith(code, attrs, &testAuth)
		if b == nil {
			return
		}
		b, err := VerifyResponse(b, 42, testAuth, testSecret)
		if err != nil {
			// attrs that do not split into attributes, or hold a second
			// Message-Authenticator
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrMessageAuthenticator) {
				t.Fatalf("test packet: %v", err)
			}
			return
		}
		kr, err := DecodeResponse(b, testAuth, testSecret)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrAttribute) && !errors.Is(err, aaa.ErrDiscarded) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		again, err := EncodeResponse(req, Response{KeyResponse: kr}, testSecret, 3)
		if err != nil {
			t.Fatalf("decoded %+v, re-encoding: %v", kr, err)
		}
		back, err := DecodeResponse(again, testAuth, testSecret)
		if err != nil {
			t.Fatal(err)
		}
		if kr.Status != back.Status || !bytes.Equal(kr.HKResp, back.HKResp) || !bytes.Equal(kr.HKSNonce, back.HKSNonce) ||
			kr.Lifetime != back.Lifetime || !kr.HK.Equal(&back.HK) {
			t.Fatalf("round trip: %+v, then %+v", kr, back)
		}
	})
}
