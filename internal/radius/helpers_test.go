package radius

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
)

// unhex decodes hex written one field per line: on each line, the
// tokens up to the first that is not hex, then a description.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	var out []byte
	for line := range strings.Lines(s) {
		for _, f := range strings.Fields(line) {
			b, err := hex.DecodeString(f)
			if err != nil {
				break
			}
			out = append(out, b...)
		}
	}
	return out
}

var (
	testSecret = []byte("xyzzy5461")
	testAuth   = [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	testAR     = netip.MustParseAddr("2001:db8:1::1")
	testNAS    = NAS{Address: netip.MustParseAddr("2001:db8:ffff::1")}
	// testHKReq stands for an HKReq: its octets are carried, not parsed.
	testHKReq = []byte{0x3b, 0x0c, 0xfa, 0x00, 0xc9, 0x22, 0x2a, 0x10}
	testHK    = []byte{
		0x1e, 0xb2, 0x71, 0x28, 0xb4, 0x29, 0x71, 0xb9, 0xf2, 0x2b,
		0x1b, 0x9e, 0xa3, 0x06, 0x03, 0xe3, 0x1f, 0x29, 0x41, 0xec,
	}
	testNonce = []byte{0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7}
)

func testKeyRequest() aaa.KeyRequest {
	return aaa.KeyRequest{NAI: "mn@example.com", AR: testAR, HKReq: testHKReq}
}

func testKeyResponse(testing.TB) aaa.KeyResponse {
	hk, err := hokey.NewHandoverKey(hokey.MACHMACSHA1, testHK)
	if err != nil {
		panic(err)
	}
	return aaa.KeyResponse{HK: hk, HKSNonce: testNonce, Lifetime: 300 * time.Second}
}

// hmacMD5 is RFC 2104 HMAC-MD5 through crypto/hmac, for the tests'
// independent Message-Authenticator computations.
func hmacMD5(key []byte, parts ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func md5Of(parts ...[]byte) []byte {
	h := md5.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}
