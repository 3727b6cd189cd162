package decode

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/pcapread"
	"github.com/fhkey/fhkey/mh"
)

// The worked example of docs/msk.md: MSK 00 01 … 3f, NAI mn@example.com,
// PAR arAddr, PCoA pcoa, NCoA mskNCoA; its FBUs and FBacks (Sequence 7)
// for AT 0 and AT 1, as the document gives them.
var (
	mskNCoA    = netip.MustParseAddr("2001:db8:2::1")
	exampleNAI = "mn@example.com"
	mskExample = map[hokey.AlgorithmType][2]string{
		hokey.HMACSHA1Trunc96: {
			"3b050800bc3d00078000000a080f016d6e406578616d706c652e636f6d091101464800004cd4c0087a70013994a1ca57",
			"3b050900917800000007000a080f016d6e406578616d706c652e636f6d09110146480000ae2a04376fbbb29a9920246b",
		},
		hokey.HMACSHA256Trunc128: {
			"3b060800f58500078000000a080f016d6e406578616d706c652e636f6d09150146480001d9c398ed61c52dd6dac8a6c8d6ad4e9f01020000",
			"3b060900b2f000000007000a080f016d6e406578616d706c652e636f6d0915014648000119a013a2bcd8c324b6602da92ce4ad9101020000",
		},
	}
)

// exampleMSK returns the MSK of the worked example, in hex.
func exampleMSK() string {
	msk := make([]byte, hokey.MSKLen)
	for i := range msk {
		msk[i] = byte(i)
	}
	return hex.EncodeToString(msk)
}

// mskKeysFile returns a keys file with one MSK entry.
func mskKeysFile(msk, nai string, par netip.Addr, at hokey.AlgorithmType) string {
	return fmt.Sprintf(`[{"msk": %q, "nai": %q, "par": %q, "at": %d, "expires": "2030-01-01T00:00:00Z"}]`, msk, nai, par, at)
}

func readKeysString(t *testing.T, s string) *Keys {
	t.Helper()
	k, err := ReadKeys(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mskPackets returns the example FBU (NCoA -> PAR, Home Address option =
// PCoA) and FBack (PAR -> NCoA) of at as IPv6 packets; tamper, if not
// nil, changes the Mobility Header of both before the checksum is set.
func mskPackets(t testing.TB, at hokey.AlgorithmType, tamper func([]byte)) (fbu, fback []byte) {
	t.Helper()
	ex := mskExample[at]
	u, _ := hex.DecodeString(ex[0])
	a, _ := hex.DecodeString(ex[1])
	if tamper != nil {
		tamper(u)
		tamper(a)
	}
	fbu = marshal(t, &capture.Packet{HopLimit: 64, Source: mskNCoA, Destination: arAddr, Protocol: 135,
		ExtensionHeaders: []capture.ExtensionHeader{capture.HomeAddressHeader(pcoa)}, Payload: u})
	fback = marshal(t, &capture.Packet{HopLimit: 64, Source: arAddr, Destination: mskNCoA, Protocol: 135, Payload: a})
	if tamper == nil {
		// The document's checksums are the ones the packets carry.
		if !bytes.HasSuffix(fbu, must(hex.DecodeString(ex[0]))) || !bytes.HasSuffix(fback, must(hex.DecodeString(ex[1]))) {
			t.Fatalf("checksums differ from docs/msk.md:\n%x\n%x", fbu, fback)
		}
	}
	return fbu, fback
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// decodeCapture writes packets to a pcap with the internal/capture writer
// and decodes it back with --verify and keys.
func decodeCapture(t *testing.T, keys *Keys, packets ...[]byte) (*Decoder, []*Verification) {
	t.Helper()
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range packets {
		if err := w.WritePacket(time.Unix(1_700_000_000+int64(i), 0), p); err != nil {
			t.Fatal(err)
		}
	}
	r, err := pcapread.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	d := &Decoder{Verify: true, Keys: keys}
	var vs []*Verification
	for n := 1; ; n++ {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return d, vs
		}
		if err != nil {
			t.Fatal(err)
		}
		p := d.Frame(n, f)
		if p == nil || p.Err != nil || p.Verify == nil {
			t.Fatalf("packet %d: %+v", n, p)
		}
		vs = append(vs, p.Verify)
	}
}

func TestVerifyMNHA(t *testing.T) {
	good := mskKeysFile(exampleMSK(), exampleNAI, arAddr, hokey.HMACSHA256Trunc128)
	wrongMSK := mskKeysFile(strings.Repeat("ab", 64), exampleNAI, arAddr, hokey.HMACSHA256Trunc128)
	flipMAC := func(b []byte) { b[40] ^= 0x01 }      // inside the Authentication Data
	flipLifetime := func(b []byte) { b[11] ^= 0x01 } // a covered field
	cases := []struct {
		name      string
		keys      string
		tamper    func([]byte)
		fbuOnly   bool
		fbackOnly bool
		want      string
		cause     error
	}{
		{"known MSK", good, nil, false, false, Valid, nil},
		{"Authentication Data changed", good, flipMAC, false, false, Invalid, hokey.ErrAuthenticator},
		{"covered field changed", good, flipLifetime, false, false, Invalid, hokey.ErrAuthenticator},
		{"wrong MSK", wrongMSK, nil, false, false, Invalid, hokey.ErrAuthenticator},
		{"key entry of AT 0: the SPI names AT 1", mskKeysFile(exampleMSK(), exampleNAI, arAddr, hokey.HMACSHA1Trunc96), nil, false, false, Invalid, hokey.ErrFHKSPI},
		{"no entry for the NAI", mskKeysFile(exampleMSK(), "other@example.com", arAddr, hokey.HMACSHA256Trunc128), nil, false, false, NoKey, nil},
		{"entry of another PAR", mskKeysFile(exampleMSK(), exampleNAI, netip.MustParseAddr("2001:db8:9::1"), hokey.HMACSHA256Trunc128), nil, false, false, NoKey, nil},
		{"no keys file", "", nil, false, false, NoKey, nil},
		{"FBack whose FBU is not in the capture", good, nil, false, true, NoKey, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var keys *Keys
			if tc.keys != "" {
				keys = readKeysString(t, tc.keys)
			}
			fbu, fback := mskPackets(t, hokey.HMACSHA256Trunc128, tc.tamper)
			packets := [][]byte{fbu, fback}
			if tc.fbackOnly {
				packets = packets[1:]
			}
			d, vs := decodeCapture(t, keys, packets...)
			for i, v := range vs {
				if v.MNHA != tc.want || v.BADF != Absent || v.MHChecksum != Good || v.CGA != Absent || v.Signature != Absent {
					t.Errorf("packet %d: %+v, want mn_ha %s", i, v, tc.want)
				}
				if tc.cause != nil && (!errors.Is(v.Errors["mn_ha"], tc.cause) || v.Reasons["mn_ha"] == "") {
					t.Errorf("packet %d: cause %v, want %v", i, v.Errors["mn_ha"], tc.cause)
				}
				if tc.want != Invalid && v.Reasons != nil {
					t.Errorf("packet %d: reasons %v", i, v.Reasons)
				}
			}
			if wantInvalid := map[bool]int{true: len(packets)}[tc.want == Invalid]; d.Summary.Invalid != wantInvalid || d.Summary.Decoded != len(packets) {
				t.Errorf("summary %+v, want %d invalid", d.Summary, wantInvalid)
			}
		})
	}
}

// TestVerifyMNHABothATs checks the worked example of docs/msk.md for each
// AT, and that a mixed keys file (a handover key and an MSK) verifies a
// BADF FBU and an MSK FBU of one capture.
func TestVerifyMNHABothATs(t *testing.T) {
	for at := range mskExample {
		fbu, fback := mskPackets(t, at, nil)
		_, vs := decodeCapture(t, readKeysString(t, mskKeysFile(exampleMSK(), exampleNAI, arAddr, at)), fbu, fback)
		if vs[0].MNHA != Valid || vs[1].MNHA != Valid {
			t.Errorf("AT %d: %+v %+v", at, vs[0], vs[1])
		}
	}
	key, err := hokey.NewKey(hokey.HMACSHA256Trunc128, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	badfFBU, badfFBack := fastHandover(t, &key, 0)
	mixed := strings.TrimSuffix(mskKeysFile(exampleMSK(), exampleNAI, arAddr, hokey.HMACSHA256Trunc128), "]") +
		fmt.Sprintf(`, {"ar": %q, "mn": %q, "at": 1, "spi": 0, "key": %q, "expires": "2030-01-01T00:00:00Z"}]`, arAddr, pcoa, hex.EncodeToString(key.Bytes()))
	keys := readKeysString(t, mixed)
	if keys.Len() != 2 {
		t.Fatalf("Len %d, want 2", keys.Len())
	}
	fbu, fback := mskPackets(t, hokey.HMACSHA256Trunc128, nil)
	d, vs := decodeCapture(t, keys, badfFBU, fbu, badfFBack, fback)
	want := [][2]string{{Valid, Absent}, {Absent, Valid}, {Valid, Absent}, {Absent, Valid}}
	for i, v := range vs {
		if v.BADF != want[i][0] || v.MNHA != want[i][1] {
			t.Errorf("packet %d: badf %s mn_ha %s, want %v", i, v.BADF, v.MNHA, want[i])
		}
	}
	if d.Summary.Failed() {
		t.Errorf("summary %+v", d.Summary)
	}
	// The text and JSON forms carry the verdict.
	p, err := (&Decoder{Verify: true, Keys: keys}).Bytes(ProtoIPv6, fbu)
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	if err := (&Writer{W: &text}).Packet(p); err != nil {
		t.Fatal(err)
	}
	if err := (&Writer{W: &js, JSON: true}).Packet(p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "badf absent, mn_ha valid") || !strings.Contains(js.String(), `"mn_ha":"valid"`) {
		t.Errorf("text\n%s\njson\n%s", text.String(), js.String())
	}
}

// TestVerifyMNHAMalformed: an MN-HA option without an MN-NAI option, and
// an FBU from the PAR's link without an NCoA, are invalid with a reason.
func TestVerifyMNHAMalformed(t *testing.T) {
	keys := readKeysString(t, mskKeysFile(exampleMSK(), exampleNAI, arAddr, hokey.HMACSHA256Trunc128))
	opt, err := hokey.FHKAuthenticationOption(hokey.HMACSHA256Trunc128)
	if err != nil {
		t.Fatal(err)
	}
	noNAI, err := mh.Codepoints{}.AppendMessage(nil, mh.FastBindingUpdate{Sequence: 7, Acknowledge: true, Lifetime: 10 * time.Second, Options: []mh.Option{opt}})
	if err != nil {
		t.Fatal(err)
	}
	p := marshal(t, &capture.Packet{HopLimit: 64, Source: mskNCoA, Destination: arAddr, Protocol: 135,
		ExtensionHeaders: []capture.ExtensionHeader{capture.HomeAddressHeader(pcoa)}, Payload: noNAI})
	_, vs := decodeCapture(t, keys, p)
	if vs[0].MNHA != Invalid || !errors.Is(vs[0].Errors["mn_ha"], mh.ErrNoOption) {
		t.Errorf("no MN-NAI: %+v", vs[0])
	}
	fbu := must(hex.DecodeString(mskExample[hokey.HMACSHA256Trunc128][0]))
	p = marshal(t, &capture.Packet{HopLimit: 64, Source: pcoa, Destination: arAddr, Protocol: 135, Payload: fbu})
	_, vs = decodeCapture(t, keys, p)
	if vs[0].MNHA != Invalid || !errors.Is(vs[0].Errors["mn_ha"], errNoNCoA) {
		t.Errorf("no NCoA: %+v", vs[0])
	}
}
