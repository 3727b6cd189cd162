package hokey

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mh"
)

// The worked example of docs/msk.md: MSK 00..3f, NAI mn@example.com, the
// PAR 2001:db8:1::1 (exNAI, exAR), the PCoA 2001:db8:1::100 (exCoA) and
// the NCoA 2001:db8:2::1.
var (
	exMSK  = seqFrom(0x00, MSKLen)
	exNCoA = netip.MustParseAddr("2001:db8:2::1")
)

// fhkGolden are the FHKs of the example, printed by 'fhkey msk derive'
// and recomputed by refPRFPlus and openssl below.
var fhkGolden = map[AlgorithmType]string{
	HMACSHA1Trunc96:    "883400b9a31fd483ff379eb0517827760a023655",
	HMACSHA256Trunc128: "980b2485c9f71f746f9cb98338d0c527c80d36a0abd832c5ee5ccfeb0ed7b6ed",
}

// fhkSeed is S of the example written out field by field.
func fhkSeed(l byte) []byte {
	a := exAR.As16()
	return bytes.Join([][]byte{[]byte("FMIPv6 FBU Key"), {0x00}, []byte(exNAI), a[:], {0x00, l}}, nil)
}

// refPRFPlus is RFC 7296 §2.13 written out with refHMAC (RFC 2104 over
// crypto/sha256), independent of PRFPlus.
func refPRFPlus(key, s []byte, n int) []byte {
	var out, t []byte
	for i := 1; len(out) < n; i++ {
		t = refHMAC(sha256.New, key, append(append(append([]byte{}, t...), s...), byte(i)))
		out = append(out, t...)
	}
	return out[:n]
}

func TestDeriveFHKGolden(t *testing.T) {
	for at, want := range fhkGolden {
		s, err := FHKInput(exNAI, exAR, at)
		if err != nil || !bytes.Equal(s, fhkSeed(byte(at.KeyLen()))) {
			t.Fatalf("%s: S = %x, %v; want %x", at, s, err, fhkSeed(byte(at.KeyLen())))
		}
		k, err := DeriveFHK(exMSK, exNAI, exAR, at)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(k.Bytes()); got != want || k.Algorithm() != at {
			t.Errorf("%s: FHK %s (%s), golden %s", at, got, k.Algorithm(), want)
		}
		if ref := hex.EncodeToString(refPRFPlus(exMSK, s, at.KeyLen())); ref != want {
			t.Errorf("%s: RFC 2104/7296 written out gives %s, golden %s", at, ref, want)
		}
		w, _ := NewKey(at, mustHex(t, want))
		if !k.Equal(&w) {
			t.Errorf("%s: Equal is false for the golden key", at)
		}
		k.Zero()
		if !k.IsZero() || k.Equal(&w) {
			t.Errorf("%s: Zero left the key", at)
		}
	}
}

// TestDeriveFHKOpenSSL recomputes T1 of both FHKs with openssl (fails
// under CI=true when openssl is missing).
func TestDeriveFHKOpenSSL(t *testing.T) {
	for at, want := range fhkGolden {
		t1 := openssl(t, "sha256", exMSK, append(fhkSeed(byte(at.KeyLen())), 0x01))
		if t1[:2*at.KeyLen()] != want {
			t.Errorf("%s: openssl T1 %s, golden FHK %s", at, t1, want)
		}
	}
}

func TestPRFPlusMultiBlock(t *testing.T) {
	key, s := []byte("key"), []byte("seed")
	for _, n := range []int{0, 1, 31, 32, 33, 64, 100, MaxPRFPlusLen} {
		got, err := PRFPlus(key, s, n)
		if err != nil {
			t.Fatal(err)
		}
		if want := refPRFPlus(key, s, n); !bytes.Equal(got, want) || len(got) != n || cap(got) != n {
			t.Errorf("n=%d: got %x (cap %d), want %x", n, got, cap(got), want)
		}
	}
	// T2 = prf(K, T1 | S | 0x02): a prefix of a longer output is the
	// shorter output.
	long, _ := PRFPlus(key, s, 3*sha256.Size)
	t2 := refHMAC(sha256.New, key, append(append(append([]byte{}, long[:32]...), s...), 2))
	if !bytes.Equal(long[32:64], t2) {
		t.Errorf("T2 %x, want %x", long[32:64], t2)
	}
	for _, n := range []int{-1, MaxPRFPlusLen + 1} {
		if _, err := PRFPlus(key, s, n); !errors.Is(err, ErrDerivation) {
			t.Errorf("n=%d: %v, want ErrDerivation", n, err)
		}
	}
}

func TestDeriveFHKErrors(t *testing.T) {
	long := string(bytes.Repeat([]byte{'a'}, MaxNAILen+1))
	for _, tc := range []struct {
		name string
		msk  []byte
		nai  string
		par  string
		at   AlgorithmType
		want error
	}{
		{"MSK short", exMSK[:63], exNAI, "2001:db8:1::1", 0, ErrMSKLength},
		{"MSK long", append(bytes.Clone(exMSK), 0), exNAI, "2001:db8:1::1", 0, ErrMSKLength},
		{"MSK empty", nil, exNAI, "2001:db8:1::1", 0, ErrMSKLength},
		{"NAI empty", exMSK, "", "2001:db8:1::1", 0, ErrNAILength},
		{"NAI long", exMSK, long, "2001:db8:1::1", 0, ErrNAILength},
		{"PAR IPv4", exMSK, exNAI, "192.0.2.1", 0, ErrPARAddress},
		{"PAR IPv4-mapped", exMSK, exNAI, "::ffff:192.0.2.1", 0, ErrPARAddress},
		{"PAR link-local", exMSK, exNAI, "fe80::1", 0, ErrPARAddress},
		{"PAR zone", exMSK, exNAI, "2001:db8:1::1%eth0", 0, ErrPARAddress},
		{"PAR multicast", exMSK, exNAI, "ff02::1", 0, ErrPARAddress},
		{"PAR loopback", exMSK, exNAI, "::1", 0, ErrPARAddress},
		{"PAR unspecified", exMSK, exNAI, "::", 0, ErrPARAddress},
		{"PAR zero", exMSK, exNAI, "", 0, ErrPARAddress},
		{"AT 2", exMSK, exNAI, "2001:db8:1::1", 2, ErrAlgorithm},
	} {
		var par netip.Addr
		if tc.par != "" {
			par = netip.MustParseAddr(tc.par)
		}
		k, err := DeriveFHK(tc.msk, tc.nai, par, tc.at)
		if !errors.Is(err, tc.want) || !k.IsZero() {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if tc.want != ErrAlgorithm && !errors.Is(err, ErrDerivation) {
			t.Errorf("%s: %v does not wrap ErrDerivation", tc.name, err)
		}
	}
	if _, err := DeriveFHK(exMSK, exNAI, netip.MustParseAddr("fd00::1"), 0); err != nil {
		t.Errorf("unique local PAR: %v", err)
	}
	if _, err := DeriveFHK(exMSK, string(long[1:]), exAR, 1); err != nil {
		t.Errorf("NAI of %d octets: %v", MaxNAILen, err)
	}
}

func TestFHKSPI(t *testing.T) {
	for _, at := range Supported() {
		spi, err := FHKSPI(at)
		if err != nil || spi != 0x46480000+uint32(at) {
			t.Errorf("%s: SPI %#x, %v", at, spi, err)
		}
		if got, err := FHKAlgorithm(spi); err != nil || got != at {
			t.Errorf("SPI %#x: %s, %v", spi, got, err)
		}
	}
	for _, spi := range []uint32{0, 3, FirstAAASPI, FHKSPIBase - 1, FHKSPIBase + 2, ^uint32(0)} {
		if _, err := FHKAlgorithm(spi); !errors.Is(err, ErrFHKSPI) {
			t.Errorf("SPI %#x: %v, want ErrFHKSPI", spi, err)
		}
	}
	if _, err := FHKSPI(2); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("AT 2: %v", err)
	}
}

// exampleFHKFBU is the FBU of docs/msk.md: sent from the NAR's link by the
// NCoA with the PCoA in a Home Address option, to the PAR.
func exampleFHKFBU(t testing.TB, at AlgorithmType) mh.FastBindingUpdate {
	opt, err := FHKAuthenticationOption(at)
	if err != nil {
		t.Fatal(err)
	}
	return mh.FastBindingUpdate{Sequence: 7, Acknowledge: true, Lifetime: 10 * time.Second, Options: []mh.Option{
		mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: []byte(exNAI)},
		opt,
	}}
}

// exampleFHKFBack is the PAR's answer, to the NCoA.
func exampleFHKFBack(t testing.TB, at AlgorithmType) mh.FastBindingAcknowledgment {
	fbu := exampleFHKFBU(t, at)
	return mh.FastBindingAcknowledgment{Sequence: 7, Lifetime: 10 * time.Second, Options: fbu.Options}
}

func exampleFHK(t testing.TB, at AlgorithmType) Key {
	k, err := DeriveFHK(exMSK, exNAI, exAR, at)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fhkWire holds the example's messages one wire field per row; AUTH is
// the authenticator recomputed with refHMAC over the covered octets, CKSM
// the checksum (checked with mh.VerifyChecksum).
var fhkWire = []struct {
	name string
	at   AlgorithmType
	fbu  bool
	rows []string
}{
	{"FBU AT 0", 0, true, []string{
		"3b", "05", "08", "00", // Payload Proto 59, Header Len 5 (48 octets), MH Type 8 (FBU), Reserved
		"bc3d",                 // Checksum, PCoA → PAR
		"0007", "8000", "000a", // Sequence 7, A, Lifetime 10 s
		"08", "0f", "01", "6d6e406578616d706c652e636f6d", // MN-NAI: type 8, length 15, subtype 1, "mn@example.com"
		"09", "11", "01", "46480000", // MN-HA: type 9 at offset 29 (4n+1), length 17, subtype 1, SPI of AT 0
		"4cd4c0087a70013994a1ca57", // Authentication Data: First(96, HMAC-SHA1)
	}},
	{"FBack AT 0", 0, false, []string{
		"3b", "05", "09", "00", // MH Type 9 (FBack)
		"9178",                     // Checksum, PAR → NCoA
		"00", "00", "0007", "000a", // Status 0, K clear, Sequence 7, Lifetime 10 s
		"08", "0f", "01", "6d6e406578616d706c652e636f6d",
		"09", "11", "01", "46480000",
		"ae2a04376fbbb29a9920246b",
	}},
	{"FBU AT 1", 1, true, []string{
		"3b", "06", "08", "00", "f585", "0007", "8000", "000a",
		"08", "0f", "01", "6d6e406578616d706c652e636f6d",
		"09", "15", "01", "46480001", // length 21, SPI of AT 1
		"d9c398ed61c52dd6dac8a6c8d6ad4e9f", // First(128, HMAC-SHA256)
		"01", "02", "0000",                 // PadN to 56 octets
	}},
	{"FBack AT 1", 1, false, []string{
		"3b", "06", "09", "00", "b2f0", "00", "00", "0007", "000a",
		"08", "0f", "01", "6d6e406578616d706c652e636f6d",
		"09", "15", "01", "46480001",
		"19a013a2bcd8c324b6602da92ce4ad91",
		"01", "02", "0000",
	}},
}

// TestFHKRoundTrip signs the example FBU and FBack, compares every octet,
// recomputes the Authentication Data from the covered octets (care-of
// address | home address | MH Data up to the SPI, Checksum zero) with
// RFC 2104 written out, verifies the checksum and the option, and
// rejects the wrong key, AT and addresses.
func TestFHKRoundTrip(t *testing.T) {
	for _, tc := range fhkWire {
		t.Run(tc.name, func(t *testing.T) {
			k := exampleFHK(t, tc.at)
			var (
				m        mh.Message
				src, dst netip.Addr
			)
			if tc.fbu {
				m, src, dst = exampleFHKFBU(t, tc.at), exCoA, exAR
			} else {
				m, src, dst = exampleFHKFBack(t, tc.at), exAR, exNCoA
			}
			got, err := SignFHK(m, &k, exNCoA, exCoA, src, dst)
			if err != nil {
				t.Fatal(err)
			}
			want := mustHex(t, strings.Join(tc.rows, ""))
			if !bytes.Equal(got, want) {
				t.Fatalf("signed\n%x\nwant\n%x", got, want)
			}
			if err := mh.VerifyChecksum(got, src, dst); err != nil {
				t.Error(err)
			}
			authLen := tc.at.AuthenticatorLen()
			end := bytes.Index(got, mustHex(t, fmt.Sprintf("%08x", FHKSPIBase+uint32(tc.at)))) + 4
			mhData := bytes.Clone(got[:end])
			mhData[4], mhData[5] = 0, 0
			h := map[AlgorithmType]func() hash.Hash{0: sha1.New, 1: sha256.New}[tc.at]
			ncoa, pcoa := exNCoA.As16(), exCoA.As16()
			ref := refHMAC(h, k.Bytes(), bytes.Join([][]byte{ncoa[:], pcoa[:], mhData}, nil))[:authLen]
			if !bytes.Equal(got[end:end+authLen], ref) {
				t.Errorf("Authentication Data %x, RFC 2104 written out %x", got[end:end+authLen], ref)
			}
			if err := VerifyFHK(got, &k, exNCoA, exCoA); err != nil {
				t.Errorf("verify: %v", err)
			}
			other := exampleFHK(t, 1-tc.at)
			wrongNAI, _ := DeriveFHK(exMSK, "mn@example.org", exAR, tc.at)
			for name, f := range map[string]func() error{
				"other AT's key":  func() error { return VerifyFHK(got, &other, exNCoA, exCoA) },
				"other NAI's key": func() error { return VerifyFHK(got, &wrongNAI, exNCoA, exCoA) },
				"care-of = PCoA":  func() error { return VerifyFHK(got, &k, exCoA, exCoA) },
				"home = NCoA":     func() error { return VerifyFHK(got, &k, exNCoA, exNCoA) },
				"swapped":         func() error { return VerifyFHK(got, &k, exCoA, exNCoA) },
			} {
				if err := f(); !errors.Is(err, ErrAuthenticator) {
					t.Errorf("%s: %v, want ErrAuthenticator", name, err)
				}
			}
		})
	}
}

// TestFHKTampering flips every bit of every covered octet of the example
// messages (and of the Authentication Data): each must fail. Only the
// Checksum, which the MAC takes as zero (RFC 4285 §5.1), and padding after
// the option are outside the authenticator.
func TestFHKTampering(t *testing.T) {
	for _, tc := range fhkWire {
		k := exampleFHK(t, tc.at)
		msg := mustHex(t, strings.Join(tc.rows, ""))
		end := 29 + 2 + 5 + tc.at.AuthenticatorLen() // the MN-HA option is at offset 29 in every example
		for i := range end {
			for bit := range 8 {
				b := bytes.Clone(msg)
				b[i] ^= 1 << bit
				err := VerifyFHK(b, &k, exNCoA, exCoA)
				if i == 4 || i == 5 {
					if err != nil {
						t.Errorf("%s: checksum octet %d bit %d: %v", tc.name, i, bit, err)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: octet %d bit %d flipped still verifies", tc.name, i, bit)
				} else if !errors.Is(err, ErrAuthenticator) && !errors.Is(err, mh.ErrAuthenticator) {
					t.Errorf("%s: octet %d bit %d: uncategorized %v", tc.name, i, bit, err)
				}
			}
		}
		for i := range 16 {
			for _, addr := range []*netip.Addr{&exNCoA, &exCoA} {
				a := addr.As16()
				a[i] ^= 0x80
				coa, home := exNCoA, exCoA
				if addr == &exNCoA {
					coa = netip.AddrFrom16(a)
				} else {
					home = netip.AddrFrom16(a)
				}
				if err := VerifyFHK(msg, &k, coa, home); !errors.Is(err, ErrAuthenticator) {
					t.Errorf("%s: address octet %d changed: %v", tc.name, i, err)
				}
			}
		}
	}
}

// TestFHKPlacement: the MN-HA option must be last and follow an MN-NAI
// option; the SPI must be the key's; an empty key is refused.
func TestFHKPlacement(t *testing.T) {
	k := exampleFHK(t, 0)
	opt, _ := FHKAuthenticationOption(0)
	nai := mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: []byte(exNAI)}
	fbu := func(opts ...mh.Option) mh.FastBindingUpdate {
		return mh.FastBindingUpdate{Sequence: 1, Lifetime: time.Second, Options: opts}
	}
	for _, tc := range []struct {
		name string
		m    mh.Message
		want error
	}{
		{"no MN-NAI", fbu(opt), mh.ErrNoOption},
		{"MN-NAI after", fbu(opt, nai), mh.ErrNotLast},
		{"no auth option", fbu(nai), mh.ErrNoOption},
		{"MN-AAA subtype", fbu(nai, mh.MobilityMessageAuthentication{Subtype: mh.AuthenticationSubtypeMNAAA, SPI: FHKSPIBase, AuthenticationData: make([]byte, 12)}), mh.ErrNoOption},
		{"SPI of AT 1", fbu(nai, mh.MobilityMessageAuthentication{Subtype: 1, SPI: FHKSPIBase + 1, AuthenticationData: make([]byte, 12)}), ErrKey},
		{"HMAC_SHA1_SPI", fbu(nai, mh.MobilityMessageAuthentication{Subtype: 1, SPI: mh.HMACSHA1SPI, AuthenticationData: make([]byte, 12)}), ErrKey},
		{"wrong length", fbu(nai, mh.MobilityMessageAuthentication{Subtype: 1, SPI: FHKSPIBase, AuthenticationData: make([]byte, 16)}), mh.ErrValue},
	} {
		if _, err := SignFHK(tc.m, &k, exNCoA, exCoA, exCoA, exAR); !errors.Is(err, tc.want) {
			t.Errorf("sign %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Verification of hand-made bytes: the example FBU with the SPI of
	// AT 1, and with an option appended after the MN-HA option.
	good := mustHex(t, strings.Join(fhkWire[0].rows, ""))
	b := bytes.Clone(good)
	b[35] = 1 // SPI 0x46480001
	if err := VerifyFHK(b, &k, exNCoA, exCoA); !errors.Is(err, ErrFHKSPI) || !errors.Is(err, ErrAuthenticator) {
		t.Errorf("SPI of AT 1: %v", err)
	}
	b = append(bytes.Clone(good), 0x08, 0x06, 0x01, 'x', 'x', 'x', 'x', 'x')
	b[1] = 6
	if err := VerifyFHK(b, &k, exNCoA, exCoA); !errors.Is(err, mh.ErrNotLast) {
		t.Errorf("option after the MN-HA option: %v", err)
	}
	var empty Key
	if _, err := SignFHK(fbu(nai, opt), &empty, exNCoA, exCoA, exCoA, exAR); !errors.Is(err, ErrKey) {
		t.Errorf("sign with an empty key: %v", err)
	}
	if err := VerifyFHK(good, &empty, exNCoA, exCoA); !errors.Is(err, ErrKey) {
		t.Errorf("verify with an empty key: %v", err)
	}
	if _, err := FHKAuthenticationOption(5); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("option for AT 5: %v", err)
	}
}

// TestVerifyFHKAllocs keeps the PAR's check allocation-free, for a good
// FBU, a wrong MAC and a wrong SPI.
func TestVerifyFHKAllocs(t *testing.T) {
	for _, tc := range fhkWire {
		k := exampleFHK(t, tc.at)
		good := mustHex(t, strings.Join(tc.rows, ""))
		badMAC := bytes.Clone(good)
		badMAC[40] ^= 1
		badSPI := bytes.Clone(good)
		badSPI[35] ^= 1
		allocs := testing.AllocsPerRun(100, func() {
			if VerifyFHK(good, &k, exNCoA, exCoA) != nil || VerifyFHK(badMAC, &k, exNCoA, exCoA) == nil || VerifyFHK(badSPI, &k, exNCoA, exCoA) == nil {
				t.Fatal("verify")
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per verify, want 0", tc.name, allocs)
		}
	}
}

// FuzzVerifyFHK: VerifyFHK never panics, every error is categorized, and
// whatever verifies has the MN-HA option last, the key's SPI, an MN-NAI
// option, and the Authentication Data the key gives for those bytes.
func FuzzVerifyFHK(f *testing.F) {
	keys := []Key{exampleFHK(f, 0), exampleFHK(f, 1)}
	for _, tc := range fhkWire {
		f.Add(mustHex(f, strings.Join(tc.rows, "")))
	}
	f.Add([]byte{59, 0, 8, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		for i := range keys {
			k := &keys[i]
			err := VerifyFHK(msg, k, exNCoA, exCoA)
			if err != nil {
				if !errors.Is(err, ErrAuthenticator) && !errors.Is(err, mh.ErrAuthenticator) {
					t.Fatalf("uncategorized error: %v", err)
				}
				continue
			}
			c, cerr := mh.CoveredByMobilityMessageAuthentication(msg, mh.AuthenticationSubtypeMNHA, exNCoA, exCoA)
			if cerr != nil || c.SPI != FHKSPIBase+uint32(k.Algorithm()) {
				t.Fatalf("verified but located %+v, %v", c, cerr)
			}
			if _, err := mh.MobileNodeNAI(msg); err != nil {
				t.Fatalf("verified without an MN-NAI option: %v", err)
			}
			if err := mh.CheckOnlyPadding(msg, c.Offset+len(c.Authenticator)); err != nil {
				t.Fatalf("verified with an option after the MN-HA option: %v", err)
			}
			want, _ := k.Authenticator(nil, exNCoA, exCoA, c.Data[32:])
			if !bytes.Equal(c.Authenticator, want) {
				t.Fatalf("verified a wrong Authentication Data %x", c.Authenticator)
			}
		}
	})
}

// BenchmarkFBUVerifyPath compares, in one run, the PAR's check of an FBU
// authenticated by the RFC 4285 MN-HA option with an FHK against the BADF
// path (RFC 5568 §6.4.5) with a key of the same AT: checksum, parse, key
// lookup (by the PCoA for the BADF; by the MN-NAI for the FHK, whose
// derivation is cached), authenticator location and HMAC. Issue 12's
// target: RFC4285 ≥ 0.9 × BADF per core (docs/msk.md).
func BenchmarkFBUVerifyPath(b *testing.B) {
	for _, at := range Supported() {
		fhk := exampleFHK(b, at)
		fhkWire, err := SignFHK(exampleFHKFBU(b, at), &fhk, exNCoA, exCoA, exCoA, exAR)
		if err != nil {
			b.Fatal(err)
		}
		byNAI := map[string]*Key{exNAI: &fhk, "other@example.com": nil}
		hk := exampleFHK(b, at) // any key of the AT
		badf := mh.FastBindingUpdate{Sequence: 7, Acknowledge: true, Lifetime: 10 * time.Second, Options: []mh.Option{
			mh.BindingAuthorizationDataForFMIPv6{SPI: FirstAAASPI, Authenticator: make([]byte, at.AuthenticatorLen())},
		}}
		badfWire, err := SignBADF(badf, &hk, exNCoA, exAR, exCoA, exAR)
		if err != nil {
			b.Fatal(err)
		}
		byPCoA := map[netip.Addr]*Key{exCoA: &hk, exAR: nil}
		b.Run("BADF/"+at.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := mh.VerifyChecksum(badfWire, exCoA, exAR); err != nil {
					b.Fatal(err)
				}
				if v, err := mh.ParseFastBindingUpdate(badfWire); err != nil || !v.BADF {
					b.Fatal(err)
				}
				k := byPCoA[exCoA]
				var data [mh.MaxMobilityDataLen]byte
				cov, err := mh.AppendCoveredByBADF(data[:0], badfWire, exNCoA, exAR)
				if err != nil || cov.SPI != FirstAAASPI {
					b.Fatal(err)
				}
				if err := k.VerifyAuthenticator(exNCoA, exAR, cov.Data[32:], cov.Authenticator); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fbu/s")
		})
		b.Run("RFC4285/"+at.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := mh.VerifyChecksum(fhkWire, exCoA, exAR); err != nil {
					b.Fatal(err)
				}
				if _, err := mh.ParseFastBindingUpdate(fhkWire); err != nil {
					b.Fatal(err)
				}
				nai, err := mh.MobileNodeNAI(fhkWire)
				if err != nil {
					b.Fatal(err)
				}
				k := byNAI[string(nai)]
				if err := VerifyFHK(fhkWire, k, exNCoA, exCoA); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fbu/s")
		})
	}
}
