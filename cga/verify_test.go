package cga

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math/big"
	"net/netip"
	"testing"
)

// withIID returns addr with f applied to its interface identifier.
func withIID(addr netip.Addr, f func(iid []byte)) netip.Addr {
	a := addr.As16()
	f(a[8:])
	return netip.AddrFrom16(a)
}

// sec0CGA returns a Sec=0 address for parameters with the given public key
// field, which need not be a valid key: Verify reaches the key check only
// after the hash steps pass.
func sec0CGA(t testing.TB, key []byte) (netip.Addr, []byte) {
	t.Helper()
	p := &Parameters{SubnetPrefix: [8]byte{0x20, 0x01, 0x0d, 0xb8}, PublicKey: key}
	addr, err := p.Address(0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return addr, b
}

// rsaSPKI encodes an RSA public key with a random odd modulus of the given
// size: enough for the key checks, which do not test primality.
func rsaSPKI(t testing.TB, bits, e int) []byte {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits-1)))
	if err != nil {
		t.Fatal(err)
	}
	n.SetBit(n, bits-1, 1).SetBit(n, 0, 1)
	der, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: e})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestVerifyErrors(t *testing.T) {
	addr := netip.MustParseAddr(appendixAddress)
	params := appendixParams(t)

	// Appendix A parameters with the initial modifier: Hash1 can be made to
	// match, but Hash2 does not start with 16 zero bits.
	noHash2 := &Parameters{SubnetPrefix: [8]byte{0xfe, 0x80}, PublicKey: unhex(t, appendixKey)}
	copy(noHash2.Modifier[:], unhex(t, appendixModifier))
	noHash2Addr, err := noHash2.Address(1)
	if err != nil {
		t.Fatal(err)
	}
	noHash2Params, _ := noHash2.Marshal()

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	type vcase struct {
		name   string
		addr   netip.Addr
		params []byte
		want   error
	}
	cases := []vcase{
		{"IPv4 address", netip.MustParseAddr("192.0.2.1"), params, ErrAddress},
		{"IPv4-mapped address", netip.MustParseAddr("::ffff:192.0.2.1"), params, ErrAddress},
		{"zero address", netip.Addr{}, params, ErrAddress},
		{"truncated parameters", addr, params[:len(params)-1], ErrParse},
		{"trailing octet", addr, append(params[:len(params):len(params)], 0), ErrParse},
		{"collision count 3", addr, func() []byte { b := append([]byte(nil), params...); b[24] = 3; return b }(), ErrCollisionCount},
		{"collision count 255", addr, func() []byte { b := append([]byte(nil), params...); b[24] = 255; return b }(), ErrCollisionCount},
		{"other subnet prefix", netip.MustParseAddr("fe80:0:0:1:3c4a:5bf6:ffb4:ca6c"), params, ErrSubnetPrefix},
		{"interface identifier last bit", withIID(addr, func(i []byte) { i[7] ^= 1 }), params, ErrHash1},
		{"interface identifier bit 3", withIID(addr, func(i []byte) { i[0] ^= 0x10 }), params, ErrHash1},
		{"interface identifier bit 5", withIID(addr, func(i []byte) { i[0] ^= 0x04 }), params, ErrHash1},
		{"Hash2 not zero at Sec=1", noHash2Addr, noHash2Params, ErrHash2},
		{"Hash2 not 32 zero bits at Sec=2", withIID(addr, func(i []byte) { i[0] = 2<<5 | i[0]&0x1f }), params, ErrHash2},
		{"Hash2 at Sec=7", withIID(addr, func(i []byte) { i[0] |= 0xe0 }), params, ErrHash2},
	}
	for _, k := range []struct {
		name string
		der  []byte
		want error
	}{
		{"key: INTEGER in a SEQUENCE", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, ErrPublicKey},
		{"key: empty SEQUENCE", []byte{0x30, 0x00}, ErrPublicKey},
		{"key: RSA without NULL parameters", unhex(t, "301a 300b 0609 2a864886f70d010101 030b 00 3008 020105 0203010001"), ErrPublicKey},
		{"key: RSA exponent 1", rsaSPKI(t, 1024, 1), ErrPublicKey},
		{"key: RSA exponent even", rsaSPKI(t, 1024, 65536), ErrPublicKey},
		{"key: ECDSA P-256", ecDER, ErrPublicKeyAlgorithm},
		{"key: RSA 383 bits", rsaSPKI(t, 383, 65537), ErrPublicKeySize},
		{"key: RSA 4097 bits", rsaSPKI(t, 4097, 65537), ErrPublicKeySize},
	} {
		a, b := sec0CGA(t, k.der)
		cases = append(cases, vcase{k.name, a, b, k.want})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := Verify(tc.addr, tc.params)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrVerify) {
				t.Fatalf("err = %v, want %v wrapping ErrVerify", err, tc.want)
			}
			if k != nil {
				t.Errorf("key = %v with an error", k)
			}
		})
	}

	// Accepted key sizes at both ends.
	for _, bits := range []int{MinKeyBits, MaxKeyBits} {
		a, b := sec0CGA(t, rsaSPKI(t, bits, 65537))
		if _, err := Verify(a, b); err != nil {
			t.Errorf("%d-bit key: %v", bits, err)
		}
	}
}

// TestVerifyIgnoredBits: RFC 3972 §5 step 4 ignores the "u" and "g" bits
// (bits 6 and 7) and the Sec bits in the Hash1 comparison.
func TestVerifyIgnoredBits(t *testing.T) {
	addr := netip.MustParseAddr(appendixAddress)
	params := appendixParams(t)
	for _, tc := range []struct {
		name string
		iid  func([]byte)
	}{
		{"as generated", func([]byte) {}},
		{"u bit set", func(i []byte) { i[0] |= 0x02 }},
		{"g bit set", func(i []byte) { i[0] |= 0x01 }},
		{"u and g bits set", func(i []byte) { i[0] |= 0x03 }},
		{"Sec=0", func(i []byte) { i[0] &= 0x1f }},
		{"Sec=0, u and g bits set", func(i []byte) { i[0] = i[0]&0x1f | 0x03 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := withIID(addr, tc.iid)
			if _, err := Verify(a, params); err != nil {
				t.Fatalf("Verify(%s): %v", a, err)
			}
			if _, err := Verify(a.WithZone("eth0"), params); err != nil {
				t.Fatalf("Verify(%s%%eth0): %v", a, err)
			}
		})
	}
}

// TestVerifyTamper changes every octet of valid parameters (and the length)
// and expects every copy to fail verification.
func TestVerifyTamper(t *testing.T) {
	vectors := []struct {
		name   string
		addr   netip.Addr
		params []byte
	}{{"RFC 3972 Appendix A", netip.MustParseAddr(appendixAddress), appendixParams(t)}}
	g := generateT(t, "2001:db8:1::/64", testKey(t, "2048"), 1, &GenerateOptions{Extensions: []Extension{{Type: 0xfffd, Data: []byte("ext")}}})
	b, _ := g.Parameters.Marshal()
	vectors = append(vectors, struct {
		name   string
		addr   netip.Addr
		params []byte
	}{"RSA-2048 Sec=1 with an extension", g.Address, b})

	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			if _, err := Verify(v.addr, v.params); err != nil {
				t.Fatalf("untampered: %v", err)
			}
			for i := range v.params {
				for _, x := range []byte{0x01, 0x80, 0xff} {
					b := append([]byte(nil), v.params...)
					b[i] ^= x
					if _, err := Verify(v.addr, b); !errors.Is(err, ErrVerify) {
						t.Fatalf("octet %d ^ %#02x: err = %v, want ErrVerify", i, x, err)
					}
				}
			}
			for n := range len(v.params) {
				if _, err := Verify(v.addr, v.params[:n]); !errors.Is(err, ErrVerify) {
					t.Fatalf("truncated to %d: err = %v", n, err)
				}
			}
			extra := append(append([]byte(nil), v.params...), 0xff, 0xfd, 0, 0) // a well-formed empty extension
			if _, err := Verify(v.addr, extra); !errors.Is(err, ErrHash1) {
				t.Fatalf("extension appended: err = %v, want ErrHash1", err)
			}
		})
	}
}
