package send

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/inet"
)

// Test keys were generated once with
// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:N` (PKCS #8 PEM).
var (
	keysMu sync.Mutex
	keys   = map[int]*rsa.PrivateKey{}
)

func testKey(tb testing.TB, bits int) *rsa.PrivateKey {
	tb.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	if k := keys[bits]; k != nil {
		return k
	}
	b, err := os.ReadFile(fmt.Sprintf("testdata/rsa%d.pem", bits))
	if err != nil {
		tb.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		tb.Fatalf("testdata/rsa%d.pem: no PEM block", bits)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	rk := k.(*rsa.PrivateKey)
	if rk.N.BitLen() != bits {
		tb.Fatalf("testdata/rsa%d.pem has %d bits", bits, rk.N.BitLen())
	}
	keys[bits] = rk
	return rk
}

func spki(tb testing.TB, k *rsa.PrivateKey) []byte {
	tb.Helper()
	b, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// makeCGA builds a Sec=0 CGA for key under prefix (RFC 3972 §4 with Sec=0:
// no Hash2 search) with a fixed modifier, and returns the address and the
// CGA Parameters. It is independent of cga.Generate on purpose.
func makeCGA(tb testing.TB, key *rsa.PrivateKey, prefix string) (netip.Addr, []byte) {
	tb.Helper()
	p := netip.MustParseAddr(prefix).As16()
	params := make([]byte, 0, 25+300)
	for i := range 16 {
		params = append(params, byte(0xa0+i)) // Modifier
	}
	params = append(params, p[:8]...) // Subnet Prefix
	params = append(params, 0)        // Collision Count
	params = append(params, spki(tb, key)...)
	h := sha1.Sum(params)
	a := p
	copy(a[8:], h[:8])
	a[8] &= 0x1c // Sec = 0, u = g = 0
	return netip.AddrFrom16(a), params
}

func option(typ byte, body []byte) []byte {
	n := (2 + len(body) + 7) &^ 7
	o := make([]byte, n)
	o[0], o[1] = typ, byte(n/8)
	copy(o[2:], body)
	return o
}

func cgaOption(params []byte) []byte {
	n := (4 + len(params) + 7) &^ 7
	o := make([]byte, n)
	o[0], o[1], o[2] = optionCGA, byte(n/8), byte(n-4-len(params))
	copy(o[4:], params)
	return o
}

func timestampOption(ts Timestamp) []byte {
	o := make([]byte, 16)
	o[0], o[1] = optionTimestamp, 2
	binary.BigEndian.PutUint64(o[8:], uint64(ts))
	return o
}

func nonceOption(nonce []byte) []byte { return option(optionNonce, nonce) }

func concat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// fixChecksum sets the wire checksum of msg.
func fixChecksum(msg []byte, src, dst netip.Addr) {
	msg[2], msg[3] = 0, 0
	binary.BigEndian.PutUint16(msg[2:], inet.Checksum(src, dst, inet.ProtocolICMPv6, msg))
}

var (
	testTime  = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	testNonce = []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab}
	linkLocal = "fe80::"
	routerLL  = netip.MustParseAddr("fe80::1")
)

// testMessage is an unsigned message with its addresses.
type testMessage struct {
	name     string
	msg      []byte
	src, dst netip.Addr
	key      *rsa.PrivateKey
	router   bool // signed with a key known by other means, no CGA option
}

// bigOption is an unknown option of 304 octets, to exceed 255 octets of
// options with 1024-bit keys too.
func bigOption() []byte {
	b := make([]byte, 302)
	for i := range b {
		b[i] = byte(i)
	}
	return option(253, b)
}

// messages returns RtSolPr, PrRtAdv, CPS, CPA and NS built for key.
func messages(tb testing.TB, bits int) []testMessage {
	key := testKey(tb, bits)
	addr, params := makeCGA(tb, key, linkLocal)
	ts := timestampOption(TimestampFromTime(testTime))
	nonce := nonceOption(testNonce)
	var out []testMessage
	// RtSolPr (RFC 5568 §6.1.1): Type 154, Code 0, Checksum, Subtype 2,
	// Reserved, Identifier; then a New Access Point LLA-like option.
	out = append(out, testMessage{"RtSolPr", concat(
		[]byte{154, 0, 0, 0, 2, 0, 0x12, 0x34},
		option(19, []byte{2, 0, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55}),
		cgaOption(params), ts, nonce),
		addr, routerLL, key, false})
	// PrRtAdv (RFC 5568 §6.1.2), answering it, by a CGA router.
	out = append(out, testMessage{"PrRtAdv", concat(
		[]byte{154, 0, 0, 0, 3, 0, 0x12, 0x34},
		option(19, []byte{2, 0, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55}),
		bigOption(),
		cgaOption(params), ts, nonce),
		addr, netip.MustParseAddr("fe80::2"), key, false})
	// CPS (RFC 3971 §6.4.1): Identifier, Component 65535.
	out = append(out, testMessage{"CPS", concat(
		[]byte{148, 0, 0, 0, 0x43, 0x21, 0xff, 0xff},
		cgaOption(params), ts, nonce),
		addr, netip.MustParseAddr("ff02::2"), key, false})
	// CPA (RFC 3971 §6.4.2) signed with a router key without CGA, carrying
	// a 304-octet Certificate-sized option.
	out = append(out, testMessage{"CPA", concat(
		[]byte{149, 0, 0, 0, 0x43, 0x21, 0, 1, 0, 0, 0, 0},
		bigOption(), ts, nonce),
		routerLL, netip.MustParseAddr("ff02::1"), key, true})
	// NS (RFC 4861 §4.3): Reserved, Target Address.
	target := netip.MustParseAddr("fe80::99").As16()
	out = append(out, testMessage{"NS", concat(
		[]byte{135, 0, 0, 0, 0, 0, 0, 0}, target[:],
		cgaOption(params), ts, nonce),
		addr, netip.MustParseAddr("fe80::99"), key, false})
	return out
}

// fixedClock returns a Now function reading *t.
func fixedClock(t *time.Time) func() time.Time { return func() time.Time { return *t } }

// routerVerifier verifies messages signed with key under the trust anchor
// method, the key being known by its Key Hash.
func routerVerifier(key *rsa.PrivateKey, der []byte, now *time.Time) *Verifier {
	h := KeyHash(der)
	return &Verifier{
		Method: AuthorizeTrustAnchorOrCGA,
		KnownKey: func(kh [16]byte) (*rsa.PublicKey, bool) {
			if kh == h {
				return &key.PublicKey, true
			}
			return nil, false
		},
		Authorize: func(*Result) error { return nil },
		Now:       fixedClock(now),
	}
}
