package radius

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
)

// TestEncodeRequestBytes checks the Access-Request field by field; the
// Message-Authenticator is recomputed here with crypto/hmac over the
// packet with its value zeroed (RFC 2869 §5.14).
func TestEncodeRequestBytes(t *testing.T) {
	got, err := EncodeRequest(testKeyRequest(), 7, testAuth, testNAS, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, `
		01 07 0070                                        Access-Request, Identifier 7, Length 112
		000102030405060708090a0b0c0d0e0f                  Request Authenticator
		50 12 00000000000000000000000000000000            Message-Authenticator (first; value below)
		01 10 6d6e406578616d706c652e636f6d                User-Name "mn@example.com"
		5f 12 20010db8ffff00000000000000000001            NAS-IPv6-Address
		1a 18 00007ed9 02 12 20010db8000100000000000000000001   Vendor-Specific 32473, FHkey-AR-ID
		1a 10 00007ed9 01 0a 3b0cfa00c9222a10             Vendor-Specific 32473, FHkey-HKReq
	`)
	ma := hmacMD5(testSecret, want)
	copy(want[22:38], ma)
	if !bytes.Equal(got, want) {
		t.Fatalf("Access-Request\n got %x\nwant %x", got, want)
	}
	req, err := DecodeRequest(got, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if req.Identifier != 7 || req.Authenticator != testAuth || req.KeyRequest.NAI != "mn@example.com" ||
		req.KeyRequest.AR != testAR || !bytes.Equal(req.KeyRequest.HKReq, testHKReq) {
		t.Fatalf("decoded %+v", req)
	}
}

// TestEncodeResponseBytes checks an Access-Accept field by field: the
// Handover-Key encrypted (RFC 2548 §2.4.2, written out in crypt_test.go),
// the Message-Authenticator over the packet with the Request
// Authenticator, then the Response Authenticator (RFC 2865 §3).
func TestEncodeResponseBytes(t *testing.T) {
	req := &Request{Identifier: 7, Authenticator: testAuth, ProxyState: [][]byte{[]byte("ps1")}}
	got, err := EncodeResponse(req, Response{KeyResponse: testKeyResponse(t)}, testSecret, 0x8123)
	if err != nil {
		t.Fatal(err)
	}
	hk, err := EncryptKey(testHK, testSecret, testAuth, 0x8123)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, `
		02 07 0071                                        Access-Accept, Identifier 7, Length 113
		00000000000000000000000000000000                  Response Authenticator (below)
		50 12 00000000000000000000000000000000            Message-Authenticator (below)
		1a 10 00007ed9 03 0a b0b1b2b3b4b5b6b7             FHkey-HKS-Nonce
		1a 2a 00007ed9 04 24                              FHkey-Handover-Key: salt 8123 and 32 octets
	`)
	want = append(want, hk...)
	want = append(want, unhex(t, `
		1a 0c 00007ed9 05 06 0000012c                     FHkey-Key-Lifetime 300
		21 05 707331                                      Proxy-State "ps1"
	`)...)
	copy(want[4:20], testAuth[:])
	copy(want[22:38], hmacMD5(testSecret, want))
	copy(want[4:20], md5Of(want[:4], testAuth[:], want[20:], testSecret))
	if !bytes.Equal(got, want) {
		t.Fatalf("Access-Accept\n got %x\nwant %x", got, want)
	}
	b, err := VerifyResponse(got, 7, testAuth, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := DecodeResponse(b, testAuth, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	wantKR := testKeyResponse(t)
	if kr.Status != 0 || !kr.HK.Equal(&wantKR.HK) || !bytes.Equal(kr.HKSNonce, testNonce) || kr.Lifetime != wantKR.Lifetime {
		t.Fatalf("decoded %+v", kr)
	}
}

func TestResponseRoundTrips(t *testing.T) {
	hk32, _ := hokey.NewHandoverKey(hokey.MACHMACSHA256, bytes.Repeat([]byte{0xab}, 32))
	long := bytes.Repeat([]byte{0x5a}, 600) // three FHkey-HKResp instances
	req := &Request{Identifier: 200, Authenticator: testAuth}
	for _, tc := range []struct {
		name string
		resp Response
		err  error
	}{
		{"accept HK 20", Response{KeyResponse: testKeyResponse(t)}, nil},
		{"accept HK 32", Response{KeyResponse: aaa.KeyResponse{HK: hk32, HKSNonce: testNonce, Lifetime: 3600e9}}, nil},
		{"refusal with HKResp", Response{KeyResponse: aaa.KeyResponse{Status: 137, HKResp: long}}, nil},
		{"refusal without HKResp", Response{KeyResponse: aaa.KeyResponse{Status: 131}}, nil},
		{"discard", Response{Discarded: true}, aaa.ErrDiscarded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeResponse(req, tc.resp, testSecret, 1)
			if err != nil {
				t.Fatal(err)
			}
			if b, err = VerifyResponse(b, 200, testAuth, testSecret); err != nil {
				t.Fatal(err)
			}
			kr, err := DecodeResponse(b, testAuth, testSecret)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			w := tc.resp.KeyResponse
			if kr.Status != w.Status || !bytes.Equal(kr.HKResp, w.HKResp) || !bytes.Equal(kr.HKSNonce, w.HKSNonce) ||
				kr.Lifetime != w.Lifetime || !kr.HK.Equal(&w.HK) {
				t.Fatalf("got %+v, want %+v", kr, w)
			}
		})
	}
}

func TestRequestRoundTripLongHKReq(t *testing.T) {
	kreq := testKeyRequest()
	kreq.HKReq = bytes.Repeat([]byte{1, 2, 3}, 200) // 600 octets: three instances
	b, err := EncodeRequest(kreq, 1, testAuth, NAS{Identifier: "ar1"}, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	req, err := DecodeRequest(b, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(req.KeyRequest.HKReq, kreq.HKReq) {
		t.Fatalf("HKReq of %d octets back, want %d", len(req.KeyRequest.HKReq), len(kreq.HKReq))
	}
}

// resign recomputes the Message-Authenticator (and for a response the
// Response Authenticator) after a test has edited a packet.
func resign(b []byte, response bool) []byte {
	off, err := findMessageAuthenticator(b)
	if err != nil {
		panic(err)
	}
	if response {
		a := testAuth
		sign(b, off, &a, testSecret)
	} else {
		sign(b, off, nil, testSecret)
	}
	return b
}

func TestDecodeRequestErrors(t *testing.T) {
	good, err := EncodeRequest(testKeyRequest(), 7, testAuth, testNAS, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	setLen := func(b []byte) []byte { b[2], b[3] = byte(len(b)>>8), byte(len(b)); return b }
	for _, tc := range []struct {
		name string
		b    []byte
		want []error
	}{
		{"short", good[:19], []error{ErrMalformed, io.ErrUnexpectedEOF}},
		{"Length beyond datagram", good[:len(good)-1], []error{ErrMalformed, io.ErrUnexpectedEOF}},
		{"not Access-Request", edit(func(b []byte) []byte { b[0] = 4; return b }), []error{ErrMalformed}},
		{"wrong secret", func() []byte {
			b, _ := EncodeRequest(testKeyRequest(), 7, testAuth, testNAS, []byte("other"))
			return b
		}(), []error{ErrMessageAuthenticator}},
		{"Message-Authenticator flipped", edit(func(b []byte) []byte { b[30] ^= 1; return b }), []error{ErrMessageAuthenticator}},
		{"attribute after signing", edit(func(b []byte) []byte { return setLen(append(b, 0x21, 0x03, 0x00)) }), []error{ErrMessageAuthenticator}},
		{"no Message-Authenticator", edit(func(b []byte) []byte { return setLen(append(b[:20], b[38:]...)) }), []error{ErrMessageAuthenticator}},
		{"Message-Authenticator length 17", edit(func(b []byte) []byte { b[21] = 17; return b }), []error{ErrMessageAuthenticator, ErrAttribute}},
		{"two Message-Authenticators", func() []byte {
			b := setLen(append(append([]byte(nil), good...), good[20:38]...))
			sign(b, maOffset, nil, testSecret)
			return b
		}(), []error{ErrMessageAuthenticator, ErrAttribute}},
		{"truncated attribute", edit(func(b []byte) []byte { return setLen(append(b, 0x21, 0x09, 0x00)) }), []error{ErrMalformed, io.ErrUnexpectedEOF}},
		{"truncated vendor attribute", resign(edit(func(b []byte) []byte { b[len(b)-9] = 0x0b; return b }), false), []error{ErrMalformed, io.ErrUnexpectedEOF}},
		{"AR-ID of 15 octets", resign(edit(func(b []byte) []byte {
			// 1a 18 ... 02 12 → 1a 17 ... 02 11, one octet cut
			i := bytes.Index(b, []byte{0x1a, 0x18, 0, 0, 0x7e, 0xd9, 0x02, 0x12})
			b[i+1], b[i+7] = 0x17, 0x11
			return setLen(append(b[:i+8+15], b[i+8+16:]...))
		}), false), []error{ErrAttribute}},
		{"no HKReq", resign(edit(func(b []byte) []byte { return setLen(b[:len(b)-16]) }), false), []error{ErrAttribute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeRequest(tc.b, testSecret)
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Fatalf("err %v, want %v", err, w)
				}
			}
		})
	}
}

func TestVerifyResponseErrors(t *testing.T) {
	req := &Request{Identifier: 7, Authenticator: testAuth}
	good, err := EncodeResponse(req, Response{KeyResponse: testKeyResponse(t)}, testSecret, 9)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	otherAuth := testAuth
	otherAuth[0] ^= 1
	for _, tc := range []struct {
		name   string
		b      []byte
		id     uint8
		secret []byte
		auth   [16]byte
		want   error
	}{
		{"wrong Identifier", good, 8, testSecret, testAuth, ErrMalformed},
		{"wrong secret", good, 7, []byte("other"), testAuth, ErrAuthenticator},
		{"other request", good, 7, testSecret, otherAuth, ErrAuthenticator},
		{"Response Authenticator flipped", edit(func(b []byte) []byte { b[5] ^= 1; return b }), 7, testSecret, testAuth, ErrAuthenticator},
		{"Access-Challenge", edit(func(b []byte) []byte { b[0] = 11; return b }), 7, testSecret, testAuth, ErrMalformed},
		{"Message-Authenticator wrong, Response Authenticator right", func() []byte {
			b := edit(func(b []byte) []byte { b[25] ^= 1; return b })
			copy(b[4:20], md5Of(b[:4], testAuth[:], b[20:], testSecret))
			return b
		}(), 7, testSecret, testAuth, ErrMessageAuthenticator},
		{"no Message-Authenticator", func() []byte {
			b := edit(func(b []byte) []byte { b = append(b[:20], b[38:]...); b[3] -= 18; return b })
			copy(b[4:20], md5Of(b[:4], testAuth[:], b[20:], testSecret))
			return b
		}(), 7, testSecret, testAuth, ErrMessageAuthenticator},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := VerifyResponse(tc.b, tc.id, tc.auth, tc.secret); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// TestDecodeResponseErrors: authenticated replies whose attributes are
// wrong; each error names the attribute.
func TestDecodeResponseErrors(t *testing.T) {
	req := &Request{Identifier: 7, Authenticator: testAuth}
	accept := func(f func(p []byte) []byte) []byte {
		b, err := EncodeResponse(req, Response{KeyResponse: testKeyResponse(t)}, testSecret, 9)
		if err != nil {
			t.Fatal(err)
		}
		return resign(f(b), true)
	}
	setLen := func(b []byte) []byte { b[2], b[3] = byte(len(b)>>8), byte(len(b)); return b }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
		attr string
	}{
		{"lifetime of 3 octets", accept(func(b []byte) []byte { return setLen(append(b, vsaAttrBytes(AttrKeyLifetime, []byte{1, 2, 3})...)) }), ErrAttribute, "FHkey-Key-Lifetime"},
		{"nonce repeated", accept(func(b []byte) []byte { return setLen(append(b, vsaAttrBytes(AttrHKSNonce, []byte{1})...)) }), ErrAttribute, "FHkey-HKS-Nonce"},
		{"status on accept", accept(func(b []byte) []byte { return setLen(append(b, vsaAttrBytes(AttrStatus, []byte{0, 0, 0, 130})...)) }), ErrAttribute, "FHkey-Status"},
		{"key of 16 octets", func() []byte {
			kr := testKeyResponse(t)
			b, _ := EncodeResponse(req, Response{KeyResponse: kr}, testSecret, 9)
			hk, _ := EncryptKey(make([]byte, 16), testSecret, testAuth, 9)
			i := bytes.Index(b, []byte{0x00, 0x00, 0x7e, 0xd9, 0x04})
			copy(b[i+7:], hk[2:])
			return resign(b, true)
		}(), ErrAttribute, "FHkey-Handover-Key"},
		{"key encrypted with another secret", func() []byte {
			b, _ := EncodeResponse(req, Response{KeyResponse: testKeyResponse(t)}, testSecret, 9)
			hk, _ := EncryptKey(testHK, []byte("other"), testAuth, 9)
			i := bytes.Index(b, []byte{0x00, 0x00, 0x7e, 0xd9, 0x04})
			copy(b[i+7:], hk[2:])
			return resign(b, true)
		}(), ErrAttribute, "FHkey-Handover-Key"},
		{"reject with HKResp, no Status", func() []byte {
			b, _ := EncodeResponse(req, Response{Discarded: true}, testSecret, 9)
			return resign(setLen(append(b, vsaAttrBytes(AttrHKResp, []byte{1, 2})...)), true)
		}(), ErrAttribute, "FHkey-Status"},
		{"reject with Status 0", func() []byte {
			b, _ := EncodeResponse(req, Response{Discarded: true}, testSecret, 9)
			return resign(setLen(append(b, vsaAttrBytes(AttrStatus, []byte{0, 0, 0, 0})...)), true)
		}(), ErrAttribute, "FHkey-Status"},
		{"oversized vendor length", func() []byte {
			b, _ := EncodeResponse(req, Response{Discarded: true}, testSecret, 9)
			a := vsaAttrBytes(AttrHKResp, []byte{1, 2})
			a[7] = 9
			return resign(setLen(append(b, a...)), true)
		}(), io.ErrUnexpectedEOF, "FHkey-HKResp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := VerifyResponse(tc.b, 7, testAuth, testSecret); err != nil {
				t.Fatalf("test packet does not verify: %v", err)
			}
			_, err := DecodeResponse(tc.b, testAuth, testSecret)
			if !errors.Is(err, tc.want) || !bytes.Contains([]byte(err.Error()), []byte(tc.attr)) {
				t.Fatalf("err %v, want %v naming %s", err, tc.want, tc.attr)
			}
		})
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  aaa.KeyRequest
		nas  NAS
		want error
	}{
		{"no NAI", aaa.KeyRequest{AR: testAR, HKReq: testHKReq}, testNAS, ErrAttribute},
		{"IPv4 AR", aaa.KeyRequest{NAI: "a@b", AR: testNAS.Address.Prev().Unmap(), HKReq: testHKReq}, NAS{}, ErrConfig},
		{"no HKReq", aaa.KeyRequest{NAI: "a@b", AR: testAR}, testNAS, ErrAttribute},
		{"no NAS", testKeyRequest(), NAS{}, ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := EncodeRequest(tc.req, 1, testAuth, tc.nas, testSecret); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}
