package hokey

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mh"
)

var (
	exCoA       = netip.MustParseAddr("2001:db8:1::100")
	exTimestamp = mh.NTPTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
)

// exampleHKReq is the HKReq of docs/aaa.md, signed with the example's HIK
// (PRF 1, MAC 1), checksum from the CoA to the AR; exampleAUTH is its
// MN-HKS AUTH Value.
const (
	exampleHKReq = "3b0cfa00c9222a1020010db8000100000000000000000100" +
		"080f016d6e406578616d706c652e636f6d" +
		"fa120200a0a1a2a3a4a5a6a7a8a9aaabacadaeaf" +
		"0103000000" +
		"fc08eb1f040000000000" +
		"fb160101efe945f60cf9441be1e30b15a09f99460d3e6865" +
		"01020000"
	exampleAUTH = "efe945f60cf9441be1e30b15a09f99460d3e6865"
	// exampleMHData is what exampleAUTH covers.
	exampleMHData = "3b0cfa0000002a1020010db8000100000000000000000100080f016d6e406578616d706c652e636f6d" +
		"fa120200a0a1a2a3a4a5a6a7a8a9aaabacadaeaf0103000000fc08eb1f040000000000fb160101"
)

func exampleRequest(verify bool) mh.HandoverKeyRequest {
	return mh.HandoverKeyRequest{MessageID: exMessage, Verify: verify, PRF: mh.PRFHMACSHA1, KeyCareOfAddress: exCoA, Options: []mh.Option{
		mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: []byte(exNAI)},
		mh.HandoverNonce{Subtype: mh.NonceSubtypeMN, Nonce: exMNNonce},
		mh.Timestamp{Value: exTimestamp},
	}}
}

func exampleKeys(t *testing.T, mac MACAlgorithm) (IntegrityKey, HandoverKey) {
	t.Helper()
	hik, err := DeriveHIK(PRFHMACSHA1, exHMK, exMessage, mac)
	if err != nil {
		t.Fatal(err)
	}
	hk, err := DeriveHK(PRFHMACSHA1, exHMK, exMNNonce, exHKSNonce, exNAI, exAR, mac)
	if err != nil {
		t.Fatal(err)
	}
	return hik, hk
}

// TestExampleHKReq checks the HKReq of docs/aaa.md: its bytes, its MN-HKS
// AUTH Value recomputed from the exact bytes (checksum zeroed, up to and
// including the MAC option's AT field) with refHMAC and openssl.
func TestExampleHKReq(t *testing.T) {
	hik, _ := exampleKeys(t, MACHMACSHA1)
	msg, err := SignMACs(mh.Codepoints{}, exampleRequest(false), exCoA, exAR, &hik)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(msg); got != exampleHKReq {
		t.Fatalf("HKReq\n got %s\nwant %s", got, exampleHKReq)
	}
	if err := mh.VerifyChecksum(msg, exCoA, exAR); err != nil {
		t.Fatal(err)
	}
	// MH Data written out: the 80 octets up to the AT field (offset 76 is
	// the MAC option: Type, Length, Sub-type, AT), Checksum (4-5) zero.
	const macOpt = 76
	if msg[macOpt] != mh.DefaultMACOptionType || msg[macOpt+2] != mh.MACSubtypeMNHKS || msg[macOpt+3] != 1 {
		t.Fatalf("MAC option not at %d: % x", macOpt, msg[macOpt:macOpt+4])
	}
	data := bytes.Clone(msg[:macOpt+4])
	data[4], data[5] = 0, 0
	if got := hex.EncodeToString(data); got != exampleMHData {
		t.Fatalf("MH Data\n got %s\nwant %s", got, exampleMHData)
	}
	if got := hex.EncodeToString(refHMAC(MACHMACSHA1.hash(), hik.Bytes(), data)); got != exampleAUTH {
		t.Fatalf("AUTH by reference HMAC %s, want %s", got, exampleAUTH)
	}
	if got := hex.EncodeToString(msg[macOpt+4 : macOpt+24]); got != exampleAUTH {
		t.Fatalf("AUTH in the message %s, want %s", got, exampleAUTH)
	}
	if got := openssl(t, "sha1", hik.Bytes(), data); got != exampleAUTH {
		t.Fatalf("AUTH by openssl %s, want %s", got, exampleAUTH)
	}
	if err := VerifyMAC(mh.Codepoints{}, msg, &hik); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyFlag: with V set the MN-AR MAC comes last and covers the
// MN-HKS MAC before it; both verify on the received bytes.
func TestVerifyFlag(t *testing.T) {
	for _, mac := range []MACAlgorithm{MACHMACSHA1, MACHMACSHA256} {
		hik, hk := exampleKeys(t, mac)
		msg, err := SignMACs(mh.Codepoints{}, exampleRequest(true), exCoA, exAR, &hik, &hk)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyMAC(mh.Codepoints{}, msg, &hik); err != nil {
			t.Fatalf("%s MN-HKS: %v", mac, err)
		}
		if err := VerifyMAC(mh.Codepoints{}, msg, &hk); err != nil {
			t.Fatalf("%s MN-AR: %v", mac, err)
		}
		m, err := mh.ParseMessage(msg)
		if err != nil {
			t.Fatal(err)
		}
		opts := m.(mh.HandoverKeyRequest).Options
		var subtypes []uint8
		for _, o := range opts {
			if c, ok := o.(mh.MessageAuthenticationCode); ok {
				subtypes = append(subtypes, c.Subtype)
				if c.AlgorithmType != uint8(mac) || len(c.AuthValue) != mac.AuthValueLen() {
					t.Fatalf("MAC option %+v", c)
				}
			}
		}
		if !bytes.Equal(subtypes, []uint8{mh.MACSubtypeMNHKS, mh.MACSubtypeMNAR}) {
			t.Fatalf("MAC options %v, want MN-HKS then MN-AR", subtypes)
		}
		// A bit flipped in the MN-HKS AUTH Value breaks both MACs.
		c, _ := mh.CoveredByMAC(msg, mh.MACSubtypeMNHKS)
		bad := bytes.Clone(msg)
		bad[c.Offset] ^= 1
		if err := VerifyMAC(mh.Codepoints{}, bad, &hk); !errors.Is(err, ErrAuthenticator) {
			t.Fatalf("MN-AR MAC does not cover the MN-HKS MAC: %v", err)
		}
		if err := VerifyMAC(mh.Codepoints{}, bad, &hik); !errors.Is(err, ErrAuthenticator) {
			t.Fatalf("MN-HKS MAC: %v", err)
		}
	}
}

// TestHKRespMAC: the AR's HKResp with the MN-AR MAC (the MN verifies it
// with the HK it derived).
func TestHKRespMAC(t *testing.T) {
	_, hk := exampleKeys(t, MACHMACSHA1)
	resp := mh.HandoverKeyResponse{MessageID: exMessage, PRF: mh.PRFHMACSHA1, Lifetime: time.Hour, SPI: 0x1234, Options: []mh.Option{
		mh.HandoverNonce{Subtype: mh.NonceSubtypeHKS, Nonce: exHKSNonce},
		mh.Timestamp{Value: exTimestamp},
	}}
	msg, err := SignMACs(mh.Codepoints{}, resp, exAR, exCoA, &hk)
	if err != nil {
		t.Fatal(err)
	}
	if err := mh.VerifyChecksum(msg, exAR, exCoA); err != nil {
		t.Fatal(err)
	}
	if err := VerifyMAC(mh.Codepoints{}, msg, &hk); err != nil {
		t.Fatal(err)
	}
	c, _ := mh.CoveredByMAC(msg, mh.MACSubtypeMNAR)
	data := bytes.Clone(msg[:c.Offset])
	data[4], data[5] = 0, 0
	if !bytes.Equal(c.Authenticator, refHMAC(MACHMACSHA1.hash(), hk.Bytes(), data)) {
		t.Fatal("AUTH Value is not HMAC(HK, MH Data)")
	}
	for _, off := range []int{1, 2, 6, 7, 8, 12, 16, 20, c.Offset - 1, c.Offset, len(msg) - 5} {
		bad := bytes.Clone(msg)
		bad[off] ^= 0x04
		if err := VerifyMAC(mh.Codepoints{}, bad, &hk); err == nil {
			t.Errorf("verified after flipping offset %d", off)
		}
	}
	// The checksum is not covered: a packet's checksum is the caller's.
	bad := bytes.Clone(msg)
	bad[4] ^= 0xff
	if err := VerifyMAC(mh.Codepoints{}, bad, &hk); err != nil {
		t.Errorf("checksum covered: %v", err)
	}
}

func TestSignMACsErrors(t *testing.T) {
	hik, hk := exampleKeys(t, MACHMACSHA1)
	var empty HandoverKey
	withMAC := exampleRequest(false)
	withMAC.Options = append(withMAC.Options, mh.MessageAuthenticationCode{Subtype: 1, AlgorithmType: 1, AuthValue: make([]byte, 20)})
	for _, tc := range []struct {
		name string
		m    mh.Message
		keys []MACKey
		want error
	}{
		{"V without HK", exampleRequest(true), []MACKey{&hik}, ErrKey},
		{"HK without V", exampleRequest(false), []MACKey{&hik, &hk}, ErrKey},
		{"MN-AR before MN-HKS", exampleRequest(true), []MACKey{&hk, &hik}, ErrKey},
		{"two MN-HKS", exampleRequest(false), []MACKey{&hik, &hik}, ErrKey},
		{"MAC option present", withMAC, []MACKey{&hik}, ErrKey},
		{"FBU", mh.FastBindingUpdate{}, []MACKey{&hik}, ErrKey},
		{"empty key", mh.HandoverKeyResponse{}, []MACKey{&empty}, ErrKey},
		{"bad PRF", mh.HandoverKeyRequest{PRF: 9, KeyCareOfAddress: exCoA}, []MACKey{&hik}, mh.ErrMarshal},
	} {
		if _, err := SignMACs(mh.Codepoints{}, tc.m, exCoA, exAR, tc.keys...); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestVerifyMACErrors(t *testing.T) {
	hik, hk := exampleKeys(t, MACHMACSHA1)
	hik256, _ := exampleKeys(t, MACHMACSHA256)
	other, _ := NewIntegrityKey(MACHMACSHA1, seqFrom(1, 20))
	msg := mustHex(t, exampleHKReq)
	const at = 79 // the MAC option's Reserved/AT octet
	withAT := func(v byte) []byte { b := bytes.Clone(msg); b[at] = v; return b }
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"other key", VerifyMAC(mh.Codepoints{}, msg, &other), ErrAuthenticator},
		{"key for HMAC-SHA256", VerifyMAC(mh.Codepoints{}, msg, &hik256), ErrAuthenticator},
		{"AT 2 on a SHA-1 AUTH Value", VerifyMAC(mh.Codepoints{}, withAT(2), &hik256), ErrAuthenticator},
		{"AT 3", VerifyMAC(mh.Codepoints{}, withAT(3), &hik), ErrInvalidMAC},
		{"AT 0", VerifyMAC(mh.Codepoints{}, withAT(0), &hik), ErrInvalidMAC},
		{"no MN-AR MAC", VerifyMAC(mh.Codepoints{}, msg, &hk), mh.ErrNoOption},
		{"truncated", VerifyMAC(mh.Codepoints{}, msg[:60], &hik), mh.ErrAuthenticator},
		{"other codepoints", VerifyMAC(mh.Codepoints{MAC: 200}, msg, &hik), mh.ErrNoOption},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if err := VerifyMAC(mh.Codepoints{}, withAT(5), &hik); !errors.Is(err, ErrInvalidMAC) {
		t.Errorf("unsupported AT: %v, want ErrInvalidMAC", err)
	}
}

// FuzzVerifyMAC: VerifyMAC never panics, every error is categorized, and
// whatever verifies was signed with the key over exactly those bytes.
func FuzzVerifyMAC(f *testing.F) {
	hik, err := DeriveHIK(PRFHMACSHA1, exHMK, exMessage, MACHMACSHA1)
	if err != nil {
		f.Fatal(err)
	}
	hk, _ := DeriveHK(PRFHMACSHA1, exHMK, exMNNonce, exHKSNonce, exNAI, exAR, MACHMACSHA1)
	seed, _ := hex.DecodeString(exampleHKReq)
	f.Add(seed)
	both, _ := SignMACs(mh.Codepoints{}, exampleRequest(true), exCoA, exAR, &hik, &hk)
	f.Add(both)
	f.Add([]byte{59, 0, 250, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, k := range []MACKey{&hik, &hk} {
			err := VerifyMAC(mh.Codepoints{}, msg, k)
			if err != nil {
				if !errors.Is(err, ErrAuthenticator) && !errors.Is(err, mh.ErrAuthenticator) && !errors.Is(err, ErrInvalidMAC) {
					t.Fatalf("uncategorized error: %v", err)
				}
				continue
			}
			c, cerr := mh.CoveredByMAC(msg, k.subtype())
			if cerr != nil {
				t.Fatalf("verified but not located: %v", cerr)
			}
			want, _ := k.material().authValue(nil, c.Data)
			if !bytes.Equal(c.Authenticator, want) {
				t.Fatalf("verified a wrong AUTH Value %x", c.Authenticator)
			}
		}
	})
}

// TestMACAlgorithmOf: the inverse of BADFAlgorithm for both MAC
// algorithms; another AT is INVALID_MAC_ALG.
func TestMACAlgorithmOf(t *testing.T) {
	for _, m := range []MACAlgorithm{MACHMACSHA1, MACHMACSHA256} {
		at, err := m.BADFAlgorithm()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := MACAlgorithmOf(at); err != nil || got != m {
			t.Errorf("MACAlgorithmOf(%v) = %v, %v; want %v", at, got, err, m)
		}
	}
	if _, err := MACAlgorithmOf(15); !errors.Is(err, ErrInvalidMAC) {
		t.Errorf("AT 15: %v", err)
	}
}

// TestVerifyMACDoesNotAllocate: the HKS checks the MN-HKS MAC of every key
// request without allocating, on success and on a wrong AUTH Value
// (docs/aaa.md, Performance).
func TestVerifyMACDoesNotAllocate(t *testing.T) {
	for _, mac := range []MACAlgorithm{MACHMACSHA1, MACHMACSHA256} {
		hik, _ := exampleKeys(t, mac)
		msg, err := SignMACs(mh.Codepoints{}, exampleRequest(false), exCoA, exAR, &hik)
		if err != nil {
			t.Fatal(err)
		}
		if allocs := testing.AllocsPerRun(100, func() {
			if err := VerifyMAC(mh.Codepoints{}, msg, &hik); err != nil {
				t.Fatal(err)
			}
		}); allocs != 0 {
			t.Errorf("%s: %v allocations", mac, allocs)
		}
	}
}
