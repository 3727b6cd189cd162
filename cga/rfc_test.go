package cga

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"net/netip"
	"testing"
)

// RFC 3972 Appendix A: a Sec=1 CGA for fe80::/64 and a 512-bit RSA key.
const (
	appendixKey = `
		305c 300d 0609 2a86 4886 f70d 0101 0105 0003 4b00 3048 0241
		00c2 c2f1 3730 5454 f10b d9ce a368 44b5 30e9 211a 4b26 2b16
		467c b7df ba1f 595c 0194 f275 be5a 4d38 6f2c 3c23 8250 8773
		c786 7f9b 3b9e 63a0 9c7b c48f 7a54 ebef af02 0301 0001`
	appendixModifier = `89a8 a8b2 e858 d8b8 f263 3f44 d2d4 ce9a`
	appendixAddress  = "fe80::3c4a:5bf6:ffb4:ca6c"
)

// appendixParams is "the same as the input to Hash1" of Appendix A, one
// field per row.
func appendixParams(t testing.TB) []byte {
	return unhex(t, `
		89a8 a8b2 e858 d8b8 f263 3f44 d2d4 ce9b  # Modifier (initial value + 1)
		fe80 0000 0000 0000                      # Subnet Prefix
		00                                       # Collision Count
	`+appendixKey) // Public Key; no extension fields
}

func TestRFC3972AppendixA(t *testing.T) {
	key := unhex(t, appendixKey)
	var m [16]byte
	copy(m[:], unhex(t, appendixModifier))

	// The two Hash2 values the appendix prints.
	in := append(append(append([]byte{}, m[:]...), make([]byte, 9)...), key...)
	if h := sha1.Sum(in); string(h[:14]) != string(unhex(t, "436b 9a70 dbfd dbf1 926e 6e66 29c0")) {
		t.Errorf("first Hash2 = %x", h[:14])
	}
	incrementModifier((*[16]byte)(in))
	if h := sha1.Sum(in); string(h[:14]) != string(unhex(t, "0000 01ca 680b 8388 8d09 12df fcce")) {
		t.Errorf("second Hash2 = %x", h[:14])
	}
	params := appendixParams(t)
	if h := sha1.Sum(params); string(h[:8]) != string(unhex(t, "fd4a 5bf6 ffb4 ca6c")) {
		t.Errorf("Hash1 = %x", h[:8])
	}

	for _, workers := range []int{1, 2} {
		g, err := Generate(context.Background(), netip.MustParsePrefix("fe80::/64"), key, 1, &GenerateOptions{Modifier: &m, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := g.Parameters.Marshal()
		if workers == 1 && (g.Address.String() != appendixAddress || string(b) != string(params) || g.Attempts != 2) {
			t.Errorf("Generate: %s, %d attempts, params %x; want %s, 2 attempts, %x", g.Address, g.Attempts, b, appendixAddress, params)
		}
		if _, err := Verify(g.Address, b); err != nil {
			t.Errorf("workers=%d: Verify(generated): %v", workers, err)
		}
	}

	k, err := Verify(netip.MustParseAddr(appendixAddress), params)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if rk, ok := k.(*rsa.PublicKey); !ok || rk.N.BitLen() != 512 || rk.E != 65537 {
		t.Errorf("Verify returned %T %v", k, k)
	}
}
