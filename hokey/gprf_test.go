package hokey

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/testenv"
)

// The worked example of docs/aaa.md.
var (
	exHMK      = seqFrom(0x00, 64)
	exMessage  = uint8(42)
	exMNNonce  = seqFrom(0xa0, 16)
	exHKSNonce = seqFrom(0xb0, 16)
	exNAI      = "mn@example.com"
	exAR       = netip.MustParseAddr("2001:db8:1::1")
)

func seqFrom(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// refHMAC is RFC 2104 §2 written out: H(K XOR opad, H(K XOR ipad, text)),
// independent of crypto/hmac.
func refHMAC(h func() hash.Hash, key, text []byte) []byte {
	inner, outer := h(), h()
	block := inner.BlockSize()
	if len(key) > block {
		d := h()
		d.Write(key)
		key = d.Sum(nil)
	}
	k := make([]byte, block)
	copy(k, key)
	ipad, opad := make([]byte, block), make([]byte, block)
	for i := range k {
		ipad[i], opad[i] = k[i]^0x36, k[i]^0x5c
	}
	inner.Write(ipad)
	inner.Write(text)
	outer.Write(opad)
	outer.Write(inner.Sum(nil))
	return outer.Sum(nil)
}

// refGPRF is draft §6.1's definition written out with refHMAC.
func refGPRF(h func() hash.Hash, key, s []byte, y uint16, n int) []byte {
	var out, t []byte
	for i := 0; len(out) < n; i++ {
		c := y + uint16(i)
		in := append(append(append([]byte{}, t...), s...), byte(c>>8), byte(c))
		t = refHMAC(h, key, in)
		out = append(out, t...)
	}
	return out[:n]
}

func hikLabelBytes() []byte { return []byte("Handover Integrity Key") }

func hkSeed() []byte {
	a := exAR.As16()
	return bytes.Join([][]byte{exMNNonce, exHKSNonce, []byte(exNAI), a[:], []byte("Handover Key")}, nil)
}

// golden holds our own vectors for the example inputs (docs/aaa.md),
// each also recomputed with refGPRF below and, for PRF 1, with openssl.
var golden = []struct {
	prf     PRF
	mac     MACAlgorithm
	hik, hk string
}{
	{PRFHMACSHA1, MACHMACSHA1, "0007ab6867b35b6d767d2c9e6b31bfada4fa6e21", "1eb27128b42971b9f22b1b9ea30603e31f2941ec"},
	{PRFHMACSHA1, MACHMACSHA256, "0007ab6867b35b6d767d2c9e6b31bfada4fa6e2144408d59958cf505ff9f6b72",
		"1eb27128b42971b9f22b1b9ea30603e31f2941ecb042a9585a10ffca1fb86b9d"},
	{PRFHMACSHA256, MACHMACSHA1, "3bc548c5140825438861e8274bd6858441dd2845", "b8409efcd8b264c4edd629532a32dd6c087541f0"},
	{PRFHMACSHA256, MACHMACSHA256, "3bc548c5140825438861e8274bd6858441dd2845b124daadc6fb116637c55ae3",
		"b8409efcd8b264c4edd629532a32dd6c087541f0fd74c82be74c25a3d1899cf3"},
}

func TestDeriveGolden(t *testing.T) {
	for _, g := range golden {
		t.Run(fmt.Sprintf("PRF %d MAC %d", g.prf, g.mac), func(t *testing.T) {
			hik, err := DeriveHIK(g.prf, exHMK, exMessage, g.mac)
			if err != nil {
				t.Fatal(err)
			}
			hk, err := DeriveHK(g.prf, exHMK, exMNNonce, exHKSNonce, exNAI, exAR, g.mac)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(hik.Bytes()); got != g.hik {
				t.Errorf("HIK %s, want %s", got, g.hik)
			}
			if got := hex.EncodeToString(hk.Bytes()); got != g.hk {
				t.Errorf("HK %s, want %s", got, g.hk)
			}
			h := g.prf.hash()
			if ref := refGPRF(h, exHMK, hikLabelBytes(), uint16(exMessage), g.mac.KeyLen()); hex.EncodeToString(ref) != g.hik {
				t.Errorf("reference HIK %x, want %s", ref, g.hik)
			}
			if ref := refGPRF(h, exHMK, hkSeed(), 0, g.mac.KeyLen()); hex.EncodeToString(ref) != g.hk {
				t.Errorf("reference HK %x, want %s", ref, g.hk)
			}
			if hik.MACAlgorithm() != g.mac || hk.MACAlgorithm() != g.mac {
				t.Error("key lost its MAC algorithm")
			}
		})
	}
}

// openssl computes HMAC(hexkey, data) with `openssl dgst -mac HMAC`.
func openssl(t *testing.T, digest string, key, data []byte) string {
	t.Helper()
	bin := testenv.RequireTool(t, "openssl")
	cmd := exec.Command(bin, "dgst", "-"+digest, "-mac", "HMAC", "-macopt", "hexkey:"+hex.EncodeToString(key))
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl dgst: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		t.Fatalf("openssl dgst printed %q", out)
	}
	return f[len(f)-1]
}

// TestDeriveOpenSSL recomputes T1 and T2 of the HIK and the HK of the
// example (PRF 1, MAC 2: 32 octets = T1 | 12 octets of T2) with openssl,
// and T1 of both for PRF 2.
func TestDeriveOpenSSL(t *testing.T) {
	s := hikLabelBytes()
	t1 := openssl(t, "sha1", exHMK, append(bytes.Clone(s), 0x00, exMessage))
	t2 := openssl(t, "sha1", exHMK, append(append(mustHex(t, t1), s...), 0x00, exMessage+1))
	if got := t1 + t2[:24]; got != golden[1].hik {
		t.Errorf("HIK by openssl %s, golden %s", got, golden[1].hik)
	}
	s = hkSeed()
	t1 = openssl(t, "sha1", exHMK, append(bytes.Clone(s), 0, 0))
	t2 = openssl(t, "sha1", exHMK, append(append(mustHex(t, t1), s...), 0, 1))
	if got := t1 + t2[:24]; got != golden[1].hk {
		t.Errorf("HK by openssl %s, golden %s", got, golden[1].hk)
	}
	if got := openssl(t, "sha256", exHMK, append(hikLabelBytes(), 0x00, exMessage)); got != golden[3].hik {
		t.Errorf("PRF 2 HIK by openssl %s, golden %s", got, golden[3].hik)
	}
	if got := openssl(t, "sha256", exHMK, append(hkSeed(), 0, 0)); got != golden[3].hk {
		t.Errorf("PRF 2 HK by openssl %s, golden %s", got, golden[3].hk)
	}
}

// TestGPRFPlusMultiBlock checks gprf+ against the crypto/hmac reference
// for keys up to, at and beyond the HMAC block (hashed first, RFC 2104
// §2), and seeds on both sides of the stack HMAC's limit (the longer ones
// take crypto/hmac).
func TestGPRFPlusMultiBlock(t *testing.T) {
	for _, keyLen := range []int{3, hmacBlockLen - 1, hmacBlockLen, hmacBlockLen + 1, 200} {
		key := bytes.Repeat([]byte{0xa5}, keyLen)
		for _, prf := range []PRF{PRFHMACSHA1, PRFHMACSHA256} {
			for _, seedLen := range []int{4, maxStackText - prf.Size() - 2, maxStackText - prf.Size() - 1, maxStackText + 10} {
				s := bytes.Repeat([]byte{0x3c}, seedLen)
				for _, n := range []int{0, 1, prf.Size() - 1, prf.Size(), prf.Size() + 1, 3*prf.Size() + 5} {
					got, err := GPRFPlus(prf, key, s, 7, n)
					if err != nil {
						t.Fatal(err)
					}
					if want := refGPRF(prf.hash(), key, s, 7, n); !bytes.Equal(got, want) || len(got) != n || cap(got) != n {
						t.Errorf("%s key %d seed %d n=%d: %x (cap %d), want %x", prf, keyLen, seedLen, n, got, cap(got), want)
					}
				}
			}
		}
	}
}

// TestDeriveDoesNotAllocate: the HKS derives an HIK and an HK per key
// request, and checks the MN-HKS MAC, without allocating (docs/aaa.md,
// Performance).
func TestDeriveDoesNotAllocate(t *testing.T) {
	long := bytes.Repeat([]byte{7}, 131) // an HMK longer than the HMAC block: hashed first
	for _, hmk := range [][]byte{exHMK, long} {
		for _, g := range golden {
			allocs := testing.AllocsPerRun(100, func() {
				hik, err := DeriveHIK(g.prf, hmk, exMessage, g.mac)
				if err != nil {
					t.Fatal(err)
				}
				hk, err := DeriveHK(g.prf, hmk, exMNNonce, exHKSNonce, exNAI, exAR, g.mac)
				if err != nil {
					t.Fatal(err)
				}
				hik.Zero()
				hk.Zero()
			})
			if allocs != 0 {
				t.Errorf("PRF %v MAC %v, HMK of %d: %v allocations", g.prf, g.mac, len(hmk), allocs)
			}
		}
	}
}

// TestGPRFPlusWrap: Y is two octets and wraps modulo 2^16, so after Y =
// 0xffff comes 0x0000.
func TestGPRFPlusWrap(t *testing.T) {
	key, s := []byte("key"), []byte("seed")
	got, err := GPRFPlus(PRFHMACSHA1, key, s, 0xffff, 40)
	if err != nil {
		t.Fatal(err)
	}
	t1 := refHMAC(sha1.New, key, append(bytes.Clone(s), 0xff, 0xff))
	t2 := refHMAC(sha1.New, key, append(append(bytes.Clone(t1), s...), 0x00, 0x00))
	if want := append(t1, t2...); !bytes.Equal(got, want) {
		t.Fatalf("wrap: %x, want %x", got, want)
	}
	// The HIK's Y is the zero-extended Message ID: 255 gives 0x00ff, then 0x0100.
	hik, err := DeriveHIK(PRFHMACSHA256, exHMK, 255, MACHMACSHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want := refHMAC(sha256.New, exHMK, append(hikLabelBytes(), 0x00, 0xff)); !bytes.Equal(hik.Bytes(), want) {
		t.Fatalf("Message ID 255: %x, want %x", hik.Bytes(), want)
	}
}

func TestDeriveErrors(t *testing.T) {
	short := exHMK[:MinHMKLen-1]
	long := make([]byte, MaxNonceLen+1)
	hk := func(prf PRF, hmk, mn, hks []byte, nai string, ar netip.Addr, mac MACAlgorithm) error {
		_, err := DeriveHK(prf, hmk, mn, hks, nai, ar, mac)
		return err
	}
	hik := func(prf PRF, hmk []byte, mac MACAlgorithm) error {
		_, err := DeriveHIK(prf, hmk, 1, mac)
		return err
	}
	gprf := func(prf PRF, n int) error {
		_, err := GPRFPlus(prf, nil, nil, 0, n)
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"PRF 0", hik(0, exHMK, MACHMACSHA1), ErrInvalidPRF},
		{"PRF 3", hk(3, exHMK, exMNNonce, exHKSNonce, exNAI, exAR, MACHMACSHA1), ErrInvalidPRF},
		{"PRF 7 gprf+", gprf(7, 20), ErrInvalidPRF},
		{"MAC 0", hik(PRFHMACSHA1, exHMK, 0), ErrInvalidMAC},
		{"MAC 15", hk(PRFHMACSHA1, exHMK, exMNNonce, exHKSNonce, exNAI, exAR, 15), ErrInvalidMAC},
		{"negative length", gprf(PRFHMACSHA1, -1), ErrDerivation},
		{"too long", gprf(PRFHMACSHA1, MaxGPRFBlocks*20+1), ErrDerivation},
		{"HIK short HMK", hik(PRFHMACSHA1, short, MACHMACSHA1), ErrDerivation},
		{"HK short HMK", hk(PRFHMACSHA1, short, exMNNonce, exHKSNonce, exNAI, exAR, MACHMACSHA1), ErrDerivation},
		{"empty MN-Nonce", hk(PRFHMACSHA1, exHMK, nil, exHKSNonce, exNAI, exAR, MACHMACSHA1), ErrDerivation},
		{"long MN-Nonce", hk(PRFHMACSHA1, exHMK, long, exHKSNonce, exNAI, exAR, MACHMACSHA1), ErrDerivation},
		{"empty HKS-Nonce", hk(PRFHMACSHA1, exHMK, exMNNonce, nil, exNAI, exAR, MACHMACSHA1), ErrDerivation},
		{"long HKS-Nonce", hk(PRFHMACSHA1, exHMK, exMNNonce, long, exNAI, exAR, MACHMACSHA1), ErrDerivation},
		{"empty NAI", hk(PRFHMACSHA1, exHMK, exMNNonce, exHKSNonce, "", exAR, MACHMACSHA1), ErrDerivation},
		{"long NAI", hk(PRFHMACSHA1, exHMK, exMNNonce, exHKSNonce, strings.Repeat("a", MaxNAILen+1), exAR, MACHMACSHA1), ErrDerivation},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	for _, a := range []string{"", "192.0.2.1", "::ffff:192.0.2.1", "::", "::1", "ff02::1", "fe80::1", "2001:db8::1%eth0"} {
		var ar netip.Addr
		if a != "" {
			ar = netip.MustParseAddr(a)
		}
		if err := hk(PRFHMACSHA1, exHMK, exMNNonce, exHKSNonce, exNAI, ar, MACHMACSHA1); !errors.Is(err, ErrDerivation) {
			t.Errorf("AR ID %q: %v, want ErrDerivation", a, err)
		}
	}
	if _, err := ParsePRF(4); !errors.Is(err, ErrInvalidPRF) {
		t.Errorf("ParsePRF(4): %v", err)
	}
	if _, err := ParseMACAlgorithm(3); !errors.Is(err, ErrInvalidMAC) {
		t.Errorf("ParseMACAlgorithm(3): %v", err)
	}
	if p, err := ParsePRF(2); err != nil || p != PRFHMACSHA256 {
		t.Errorf("ParsePRF(2) = %v, %v", p, err)
	}
}

// TestAlgorithmErrors: an unsupported PRF or MAC algorithm is reported
// with the sentinel the roles answer INVALID_PRF_ALG / INVALID_MAC_ALG for.
func TestAlgorithmErrors(t *testing.T) {
	if _, err := DeriveHIK(5, exHMK, 1, MACHMACSHA1); !errors.Is(err, ErrInvalidPRF) || errors.Is(err, ErrInvalidMAC) {
		t.Errorf("PRF 5: %v, want ErrInvalidPRF", err)
	}
	if _, err := DeriveHIK(PRFHMACSHA1, exHMK, 1, 9); !errors.Is(err, ErrInvalidMAC) || errors.Is(err, ErrInvalidPRF) {
		t.Errorf("MAC 9: %v, want ErrInvalidMAC", err)
	}
}

func TestAAAKeys(t *testing.T) {
	a, _ := DeriveHK(PRFHMACSHA1, exHMK, exMNNonce, exHKSNonce, exNAI, exAR, MACHMACSHA1)
	b, _ := NewHandoverKey(MACHMACSHA1, a.Bytes())
	c, _ := NewHandoverKey(MACHMACSHA256, append(bytes.Clone(a.Bytes()), make([]byte, 12)...))
	if !a.Equal(&b) || a.Equal(&c) {
		t.Fatal("HandoverKey.Equal wrong")
	}
	badf, err := a.BADFKey()
	if err != nil || badf.Algorithm() != HMACSHA1Trunc96 || !bytes.Equal(badf.Bytes(), a.Bytes()) {
		t.Fatalf("BADFKey: %v %v", badf, err)
	}
	if k, err := c.BADFKey(); err != nil || k.Algorithm() != HMACSHA256Trunc128 {
		t.Fatalf("BADFKey SHA-256: %v %v", k, err)
	}
	b.Zero()
	if !b.IsZero() || a.Equal(&b) || !bytes.Equal(b.key.buf[:], make([]byte, MaxKeyLen)) {
		t.Fatal("Zero left material behind")
	}
	if _, err := b.BADFKey(); err == nil {
		t.Fatal("BADFKey of a zeroed key")
	}
	h1, _ := NewIntegrityKey(MACHMACSHA1, seqFrom(0xab, 20))
	h2, _ := NewIntegrityKey(MACHMACSHA1, seqFrom(0xab, 20))
	if !h1.Equal(&h2) {
		t.Fatal("IntegrityKey.Equal wrong")
	}
	if _, err := NewIntegrityKey(MACHMACSHA256, seqFrom(0, 20)); !errors.Is(err, ErrKey) {
		t.Errorf("20-octet HMAC-SHA256 key: %v", err)
	}
	if _, err := NewHandoverKey(4, seqFrom(0, 20)); !errors.Is(err, ErrInvalidMAC) {
		t.Errorf("MAC 4 key: %v", err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "hik", h1, "hk", a)
	hkHex := hex.EncodeToString(a.Bytes())
	for _, s := range []string{fmt.Sprint(h1, a), fmt.Sprintf("%v %+v %#v %x %s %q", h1, a, h1, a, h1, a), fmt.Sprint(&h1, &a), logged.String()} {
		if strings.Contains(s, "abac") || strings.Contains(s, hkHex[:8]) || strings.Contains(s, "171") {
			t.Fatalf("key material printed: %s", s)
		}
	}
}

// TestDocumentedExample keeps docs/aaa.md in step with the golden vectors.
func TestDocumentedExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/aaa.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(doc)), "")
	for _, want := range []string{golden[0].hik, golden[0].hk, golden[1].hik, golden[1].hk, exampleHKReq, exampleMHData, exampleAUTH} {
		if !strings.Contains(text, want) {
			t.Errorf("docs/aaa.md lacks %s", want)
		}
	}
}
