package cga

import (
	"context"
	"crypto/sha1"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// generateT runs Generate and checks the result against RFC 3972 §2 and
// §5 before returning it.
func generateT(t testing.TB, prefix string, key []byte, sec uint8, opts *GenerateOptions) *Generated {
	t.Helper()
	pfx := netip.MustParsePrefix(prefix)
	g, err := Generate(context.Background(), pfx, key, sec, opts)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	b, err := g.Parameters.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(g.Address, b); err != nil {
		t.Fatalf("Verify(generated): %v", err)
	}
	a := g.Address.As16()
	if SecOf(g.Address) != sec || g.Sec != sec {
		t.Errorf("Sec of %s = %d (Generated.Sec %d), want %d", g.Address, SecOf(g.Address), g.Sec, sec)
	}
	if a[8]&0x03 != 0 {
		t.Errorf("%s: u/g bits not zero (RFC 3972 §4 step 6)", g.Address)
	}
	if netip.PrefixFrom(g.Address, 64).Masked() != pfx.Masked() {
		t.Errorf("%s not in %s", g.Address, pfx)
	}
	if h := sha1.Sum(b); !hash1Matches(&h, a[8:]) {
		t.Errorf("Hash1 %x vs interface identifier %x", h[:8], a[8:])
	}
	in := append([]byte(nil), b...)
	clear(in[16:fixedLen])
	if h := sha1.Sum(in); !hash2Zero(&h, sec) {
		t.Errorf("Hash2 %x lacks %d zero bits", h[:14], 16*int(sec))
	}
	return g
}

func TestGenerate(t *testing.T) {
	for _, tc := range []struct {
		key string
		sec uint8
	}{{"1024", 0}, {"2048", 0}, {"1024", 1}, {"2048", 1}} {
		t.Run("RSA-"+tc.key+"/Sec="+string('0'+tc.sec), func(t *testing.T) {
			g := generateT(t, "2001:db8:aa::/64", testKey(t, tc.key), tc.sec, nil)
			if tc.sec == 0 && g.Attempts != 0 {
				t.Errorf("Sec=0: %d Hash2 attempts, want 0 (steps 2-3 skipped)", g.Attempts)
			}
			if tc.sec == 1 && g.Attempts == 0 {
				t.Error("Sec=1: no Hash2 attempts counted")
			}
			if g.Parameters.CollisionCount != 0 || g.Parameters.Extensions != nil {
				t.Errorf("collision count %d, extensions %v", g.Parameters.CollisionCount, g.Parameters.Extensions)
			}
		})
	}
}

// TestGenerateDeterministic: from a fixed modifier, one worker finds the
// first modifier at or after it whose Hash2 qualifies (RFC 3972 §4 steps
// 2-3 done literally); several workers find some qualifying modifier.
func TestGenerateDeterministic(t *testing.T) {
	key := testKey(t, "1024")
	m := [16]byte{0: 0xfe, 15: 0xf0} // the search crosses an octet boundary
	in := append(append(append([]byte(nil), m[:]...), make([]byte, 9)...), key...)
	var want [16]byte
	for n := 1; ; n++ {
		if h := sha1.Sum(in); hash2Zero(&h, 1) {
			copy(want[:], in)
			t.Logf("literal search took %d attempts", n)
			break
		}
		incrementModifier((*[16]byte)(in))
	}
	g := generateT(t, "2001:db8::/64", key, 1, &GenerateOptions{Modifier: &m, Workers: 1})
	if g.Parameters.Modifier != want {
		t.Fatalf("modifier %x, want %x", g.Parameters.Modifier, want)
	}
	generateT(t, "2001:db8::/64", key, 1, &GenerateOptions{Modifier: &m, Workers: 3})
}

func TestGenerateExtensions(t *testing.T) {
	ext := []Extension{{Type: 0x0012, Data: []byte{1, 2, 3, 4}}, {Type: 0xffff}}
	g := generateT(t, "fe80::/64", testKey(t, "1024"), 1, &GenerateOptions{Extensions: ext})
	if len(g.Parameters.Extensions) != 2 || g.Parameters.Extensions[0].Type != 0x0012 {
		t.Fatalf("extensions %v", g.Parameters.Extensions)
	}
	ext[0].Data[0] = 9 // the result does not alias the options
	if g.Parameters.Extensions[0].Data[0] != 1 {
		t.Error("Generated.Parameters aliases opts.Extensions")
	}
}

// TestGenerateCollisions: RFC 3972 §4 step 8 with a fake duplicate address
// detection that reports the first n candidates as in use.
func TestGenerateCollisions(t *testing.T) {
	key := testKey(t, "1024")
	for n := range 4 {
		var seen []netip.Addr
		dad := func(a netip.Addr) (bool, error) {
			seen = append(seen, a)
			return len(seen) <= n, nil
		}
		g, err := Generate(context.Background(), netip.MustParsePrefix("2001:db8::/64"), key, 0, &GenerateOptions{DuplicateAddress: dad})
		if n == 3 {
			if !errors.Is(err, ErrCollisions) || len(seen) != 3 {
				t.Fatalf("3 collisions: err = %v after %d checks, want ErrCollisions after 3", err, len(seen))
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d collisions: %v", n, err)
		}
		if int(g.Parameters.CollisionCount) != n || len(seen) != n+1 || g.Address != seen[n] {
			t.Fatalf("%d collisions: collision count %d, %d checks, address %s (last checked %s)", n, g.Parameters.CollisionCount, len(seen), g.Address, seen[len(seen)-1])
		}
		for i := range seen {
			for j := range i {
				if seen[i] == seen[j] {
					t.Fatalf("collision counts %d and %d gave the same address %s", j, i, seen[i])
				}
			}
		}
		b, _ := g.Parameters.Marshal()
		if _, err := Verify(g.Address, b); err != nil {
			t.Fatalf("%d collisions: Verify: %v", n, err)
		}
	}

	errDAD := errors.New("interface down")
	_, err := Generate(context.Background(), netip.MustParsePrefix("2001:db8::/64"), key, 0, &GenerateOptions{
		DuplicateAddress: func(netip.Addr) (bool, error) { return false, errDAD },
	})
	if !errors.Is(err, errDAD) {
		t.Fatalf("err = %v, want the DAD error", err)
	}
}

func TestGenerateCancelAndProgress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reports []Progress
	_, err := Generate(ctx, netip.MustParsePrefix("2001:db8::/64"), testKey(t, "1024"), 7, &GenerateOptions{
		ProgressInterval: 5 * time.Millisecond,
		Progress: func(p Progress) {
			reports = append(reports, p)
			if len(reports) >= 3 && p.Attempts > reports[0].Attempts && ctx.Err() == nil {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	p := reports[len(reports)-1]
	if p.Attempts <= reports[0].Attempts || p.Rate <= 0 || p.Elapsed <= 0 || p.ExpectedAttempts != 0x1p112 || p.ExpectedRemaining <= 0 {
		t.Fatalf("progress %+v (first %+v)", p, reports[0])
	}

	_, err = Generate(ctx, netip.MustParsePrefix("2001:db8::/64"), testKey(t, "1024"), 0, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context, Sec=0: err = %v", err)
	}
}

func TestGenerateErrors(t *testing.T) {
	key := testKey(t, "1024")
	for _, tc := range []struct {
		name   string
		prefix netip.Prefix
		key    []byte
		sec    uint8
		want   error
	}{
		{"Sec 8", netip.MustParsePrefix("2001:db8::/64"), key, 8, ErrSec},
		{"prefix /48", netip.MustParsePrefix("2001:db8::/48"), key, 0, ErrSubnetPrefixLength},
		{"prefix /128", netip.MustParsePrefix("2001:db8::1/128"), key, 0, ErrSubnetPrefixLength},
		{"IPv4 prefix", netip.MustParsePrefix("192.0.2.0/24"), key, 0, ErrSubnetPrefixLength},
		{"zero prefix", netip.Prefix{}, key, 0, ErrSubnetPrefixLength},
		{"not a key", netip.MustParsePrefix("2001:db8::/64"), []byte{0x30, 0x00}, 0, ErrPublicKey},
		{"no key", netip.MustParsePrefix("2001:db8::/64"), nil, 0, ErrPublicKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Generate(context.Background(), tc.prefix, tc.key, tc.sec, nil); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// Host bits in the prefix are ignored.
	g := generateT(t, "2001:db8:0:1:ffff::/64", key, 0, nil)
	if netip.PrefixFrom(g.Address, 64).Masked() != netip.MustParsePrefix("2001:db8:0:1::/64") {
		t.Errorf("address %s", g.Address)
	}
}

func TestModifierArithmetic(t *testing.T) {
	all := [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	m := all
	incrementModifier(&m)
	if m != ([16]byte{}) {
		t.Errorf("ff..ff + 1 = %x, want 0 (mod 2^128)", m)
	}
	m = [16]byte{7: 0x01, 8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}
	incrementModifier(&m)
	if m != ([16]byte{7: 0x02}) {
		t.Errorf("carry into the high half: %x", m)
	}
	if got := addModifier([16]byte{15: 0xff, 8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff}, 1); got != ([16]byte{7: 1}) {
		t.Errorf("addModifier carry: %x", got)
	}
	if got := addModifier(all, 2); got != ([16]byte{15: 1}) {
		t.Errorf("addModifier wrap: %x", got)
	}
	for sec, want := range []float64{0, 0x1p16, 0x1p32, 0x1p48, 0x1p64, 0x1p80, 0x1p96, 0x1p112} {
		if got := ExpectedAttempts(uint8(sec)); got != want {
			t.Errorf("ExpectedAttempts(%d) = %g, want %g", sec, got, want)
		}
	}
}
