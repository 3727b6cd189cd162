package hokey

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 2202 §3 test case 2 checks the HMAC-SHA1 core ("Jefe"), and RFC 4231
// §4.3 test case 2 the HMAC-SHA-256 core, both through Authenticator by
// splitting the published data into care-of | correspondent | MH Data is
// impossible (the data is shorter than 32 octets), so they are checked on
// the registry's hash directly, and the framing is checked separately.
func TestRegistryHashesOnPublishedVectors(t *testing.T) {
	key, data := []byte("Jefe"), []byte("what do ya want for nothing?")
	for _, tc := range []struct {
		at   AlgorithmType
		want string
	}{
		{HMACSHA1Trunc96, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},                            // RFC 2202 §3 case 2
		{HMACSHA256Trunc128, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"}, // RFC 4231 §4.3
	} {
		m := hmac.New(algorithms[tc.at].newHash, key)
		m.Write(data)
		if got := hex.EncodeToString(m.Sum(nil)); got != tc.want {
			t.Errorf("%s: HMAC = %s, want %s", tc.at, got, tc.want)
		}
	}
}

// TestAuthenticatorFraming checks that the MAC input is care-of address,
// then correspondent, then MH Data, and the truncation length per AT.
func TestAuthenticatorFraming(t *testing.T) {
	coa := netip.MustParseAddr("2001:db8:2::1")
	par := netip.MustParseAddr("2001:db8:1::1")
	mhData := []byte{59, 3, 8, 0, 0, 0, 0x12, 0x34}
	material := bytes.Repeat([]byte{0x0b}, 20)
	k, err := NewKey(HMACSHA1Trunc96, material)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Authenticator(nil, coa, par, mhData)
	if err != nil {
		t.Fatal(err)
	}
	in := append(append(coa.AsSlice(), par.AsSlice()...), mhData...)
	m := hmac.New(sha1.New, material)
	m.Write(in)
	if want := m.Sum(nil)[:12]; !bytes.Equal(got, want) {
		t.Fatalf("authenticator %x, want %x", got, want)
	}
	// Golden vector, also given in docs/handover-keys.md.
	if want := "e46d406a27225404241fb6bd"; hex.EncodeToString(got) != want {
		t.Errorf("golden vector: got %x, want %s", got, want)
	}
	if err := k.VerifyAuthenticator(coa, par, mhData, got); err != nil {
		t.Fatalf("verify own authenticator: %v", err)
	}
}

func TestVerifyAuthenticatorRejects(t *testing.T) {
	coa := netip.MustParseAddr("2001:db8:2::1")
	par := netip.MustParseAddr("2001:db8:1::1")
	mhData := []byte{59, 3, 8, 0, 0, 0, 0x12, 0x34}
	for _, at := range Supported() {
		k, err := GenerateKey(at, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		good, _ := k.Authenticator(nil, coa, par, mhData)
		if len(good) != at.AuthenticatorLen() {
			t.Fatalf("%s: authenticator length %d, want %d", at, len(good), at.AuthenticatorLen())
		}
		other, _ := GenerateKey(at, rand.Reader)
		cases := map[string]func() error{
			"flipped bit":   func() error { b := bytes.Clone(good); b[0] ^= 1; return k.VerifyAuthenticator(coa, par, mhData, b) },
			"short":         func() error { return k.VerifyAuthenticator(coa, par, mhData, good[:len(good)-1]) },
			"long":          func() error { return k.VerifyAuthenticator(coa, par, mhData, append(bytes.Clone(good), 0)) },
			"other key":     func() error { return other.VerifyAuthenticator(coa, par, mhData, good) },
			"other care-of": func() error { return k.VerifyAuthenticator(par, par, mhData, good) },
			"other PAR":     func() error { return k.VerifyAuthenticator(coa, coa, mhData, good) },
			"other MH data": func() error { return k.VerifyAuthenticator(coa, par, mhData[1:], good) },
			"empty":         func() error { return k.VerifyAuthenticator(coa, par, mhData, nil) },
		}
		for name, f := range cases {
			if err := f(); !errors.Is(err, ErrAuthenticator) {
				t.Errorf("%s %s: err = %v, want ErrAuthenticator", at, name, err)
			}
		}
	}
}

func TestNewKeyErrors(t *testing.T) {
	if _, err := NewKey(HMACSHA1Trunc96, make([]byte, 19)); !errors.Is(err, ErrKey) {
		t.Errorf("short key: %v", err)
	}
	if _, err := NewKey(HMACSHA256Trunc128, make([]byte, 20)); !errors.Is(err, ErrKey) {
		t.Errorf("SHA-1 length for SHA-256: %v", err)
	}
	if _, err := NewKey(15, make([]byte, 20)); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("unknown AT: %v", err)
	}
	var empty Key
	if _, err := empty.Authenticator(nil, netip.IPv6Loopback(), netip.IPv6Loopback(), nil); !errors.Is(err, ErrKey) {
		t.Errorf("empty key: %v", err)
	}
}

func TestKeyEqualAndZero(t *testing.T) {
	a, _ := NewKey(HMACSHA1Trunc96, bytes.Repeat([]byte{1}, 20))
	b, _ := NewKey(HMACSHA1Trunc96, bytes.Repeat([]byte{1}, 20))
	c, _ := NewKey(HMACSHA1Trunc96, append(bytes.Repeat([]byte{1}, 19), 2))
	if !a.Equal(&b) || a.Equal(&c) {
		t.Fatal("Equal wrong")
	}
	a.Zero()
	if !a.IsZero() || a.Equal(&b) || !bytes.Equal(a.buf[:], make([]byte, MaxKeyLen)) {
		t.Fatal("Zero left material behind")
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	k, _ := NewKey(HMACSHA1Trunc96, bytes.Repeat([]byte{0xab}, 20))
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %x %s %q", k, k, k, k, k, k), fmt.Sprint(&k), logged.String()} {
		if strings.Contains(s, "abab") || strings.Contains(s, "171") {
			t.Fatalf("key material printed: %s", s)
		}
	}
}

func TestNegotiate(t *testing.T) {
	both := []AlgorithmType{HMACSHA1Trunc96, HMACSHA256Trunc128}
	for _, tc := range []struct {
		pref      AlgorithmType
		supported []AlgorithmType
		want      AlgorithmType
		ok        bool
	}{
		{HMACSHA1Trunc96, both, HMACSHA1Trunc96, true},
		{HMACSHA256Trunc128, both, HMACSHA256Trunc128, true},
		{HMACSHA1Trunc96, []AlgorithmType{HMACSHA256Trunc128}, HMACSHA256Trunc128, true}, // stronger is allowed
		{HMACSHA256Trunc128, []AlgorithmType{HMACSHA1Trunc96}, 0, false},                 // never weaker
		{9, both, HMACSHA256Trunc128, true},                                              // unknown: strongest
		{HMACSHA1Trunc96, nil, 0, false},
	} {
		got, ok := Negotiate(tc.pref, tc.supported)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("Negotiate(%s, %v) = %s, %v; want %s, %v", tc.pref, tc.supported, got, ok, tc.want, tc.ok)
		}
	}
}

func BenchmarkVerifyAuthenticator(b *testing.B) {
	coa := netip.MustParseAddr("2001:db8:2::1")
	par := netip.MustParseAddr("2001:db8:1::1")
	mhData := make([]byte, 54) // FBU with Alternate CoA and the BADF header
	for _, at := range Supported() {
		b.Run(at.String(), func(b *testing.B) {
			k, _ := GenerateKey(at, rand.Reader)
			auth, _ := k.Authenticator(nil, coa, par, mhData)
			b.ReportAllocs()
			for b.Loop() {
				if err := k.VerifyAuthenticator(coa, par, mhData, auth); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
		})
	}
}

// TestAuthenticatorMatchesCryptoHMAC checks the stack HMAC against
// crypto/hmac for every AT, on MH Data of every length class: empty,
// typical, the longest Mobility Header and beyond (the crypto/hmac path).
func TestAuthenticatorMatchesCryptoHMAC(t *testing.T) {
	coa := netip.MustParseAddr("2001:db8:2::1")
	par := netip.MustParseAddr("2001:db8:1::1")
	for _, at := range Supported() {
		k, err := GenerateKey(at, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 54, 63, 64, maxStackMHData, maxStackMHData + 1, 3000} {
			mhData := make([]byte, n)
			rand.Read(mhData)
			m := hmac.New(algorithms[at].newHash, k.Bytes())
			m.Write(coa.AsSlice())
			m.Write(par.AsSlice())
			m.Write(mhData)
			want := m.Sum(nil)[:at.AuthenticatorLen()]
			got, err := k.Authenticator([]byte{0xee}, coa, par, mhData)
			if err != nil || !bytes.Equal(got, append([]byte{0xee}, want...)) {
				t.Errorf("%s, %d octets: got %x, %v; want ee%x", at, n, got, err, want)
			}
			if err := k.VerifyAuthenticator(coa, par, mhData, want); err != nil {
				t.Errorf("%s, %d octets: %v", at, n, err)
			}
		}
	}
}

// TestVerifyAuthenticatorAllocs keeps the FBU's HMAC allocation-free, for
// a good and for a wrong authenticator (docs/handover-keys.md).
func TestVerifyAuthenticatorAllocs(t *testing.T) {
	coa := netip.MustParseAddr("2001:db8:2::1")
	par := netip.MustParseAddr("2001:db8:1::1")
	mhData := make([]byte, 54)
	for _, at := range Supported() {
		k, _ := GenerateKey(at, rand.Reader)
		var buf [MaxKeyLen]byte
		good, _ := k.Authenticator(nil, coa, par, mhData)
		bad := append([]byte(nil), good...)
		bad[0] ^= 1
		allocs := testing.AllocsPerRun(100, func() {
			if k.VerifyAuthenticator(coa, par, mhData, good) != nil || !errors.Is(k.VerifyAuthenticator(coa, par, mhData, bad), ErrAuthenticator) {
				t.Fatal("verify")
			}
			if _, err := k.Authenticator(buf[:0], coa, par, mhData); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per verify, want 0", at, allocs)
		}
	}
}
