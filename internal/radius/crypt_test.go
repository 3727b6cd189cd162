package radius

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"layeh.com/radius"
)

// TestEncryptKeyVector writes RFC 2548 §2.4.2 out for the 20-octet HK of
// docs/aaa.md's worked example:
//
//	P = Key-Length | key | padding, 32 octets: p(1), p(2)
//	b(1) = MD5(S + R + A)   c(1) = p(1) xor b(1)
//	b(2) = MD5(S + c(1))    c(2) = p(2) xor b(2)
//	value = A | c(1) | c(2)
//
// and checks it against EncryptKey, a golden value, and layeh's
// independent RFC 2868 Tunnel-Password decryption (the same method).
func TestEncryptKeyVector(t *testing.T) {
	const salt = 0x8123
	a := []byte{0x81, 0x23}
	p := make([]byte, 32)
	p[0] = 20
	copy(p[1:], testHK)
	b1 := md5Of(testSecret, testAuth[:], a)
	c1 := make([]byte, 16)
	for i := range c1 {
		c1[i] = p[i] ^ b1[i]
	}
	b2 := md5Of(testSecret, c1)
	c2 := make([]byte, 16)
	for i := range c2 {
		c2[i] = p[16+i] ^ b2[i]
	}
	want := append(append(append([]byte(nil), a...), c1...), c2...)

	got, err := EncryptKey(testHK, testSecret, testAuth, salt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("EncryptKey\n got %x\nwant %x", got, want)
	}
	const golden = "812360df51d57057e862ee2ee05cad6ef07df717e165e040aca1400657ab33164e7a"
	if hex.EncodeToString(got) != golden {
		t.Fatalf("EncryptKey = %x, golden %s", got, golden)
	}
	key, _, err := radius.TunnelPassword(got, testSecret, testAuth[:])
	if err != nil || !bytes.Equal(key, testHK) {
		t.Fatalf("layeh TunnelPassword = %x, %v; want %x", key, err, testHK)
	}
	back, err := DecryptKey(got, testSecret, testAuth)
	if err != nil || !bytes.Equal(back, testHK) {
		t.Fatalf("DecryptKey = %x, %v", back, err)
	}
}

func TestEncryptKeyRoundTrip(t *testing.T) {
	for _, n := range []int{1, 15, 16, 20, 31, 32, 33, maxKeyLen} {
		key := bytes.Repeat([]byte{byte(n)}, n)
		v, err := EncryptKey(key, testSecret, testAuth, uint16(n))
		if err != nil {
			t.Fatal(n, err)
		}
		if v[0]&0x80 == 0 || len(v) != 2+(1+n+15)/16*16 {
			t.Fatalf("%d octets: value %x", n, v)
		}
		// layeh encrypts the same way: both directions agree.
		lv, err := radius.NewTunnelPassword(key, v[:2], testSecret, testAuth[:])
		if err != nil || !bytes.Equal(lv, v) {
			t.Fatalf("%d octets: layeh NewTunnelPassword %x, %v; EncryptKey %x", n, lv, err, v)
		}
		back, err := DecryptKey(v, testSecret, testAuth)
		if err != nil || !bytes.Equal(back, key) {
			t.Fatalf("%d octets: back %x, %v", n, back, err)
		}
	}
}

func TestEncryptKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"empty key", second(EncryptKey(nil, testSecret, testAuth, 1)), ErrAttribute},
		{"long key", second(EncryptKey(make([]byte, maxKeyLen+1), testSecret, testAuth, 1)), ErrAttribute},
		{"empty secret", second(EncryptKey(testHK, nil, testAuth, 1)), ErrConfig},
		{"short value", second(DecryptKey(make([]byte, 17), testSecret, testAuth)), ErrAttribute},
		{"not 2+16n", second(DecryptKey(make([]byte, 19), testSecret, testAuth)), ErrAttribute},
		{"salt high bit clear", second(DecryptKey(make([]byte, 18), testSecret, testAuth)), ErrAttribute},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }
