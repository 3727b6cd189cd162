package decode

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/keystore"
)

var (
	arAddr = netip.MustParseAddr("2001:db8:1::1")
	pcoa   = netip.MustParseAddr("2001:db8:1::100")
)

func TestKeysRoundTrip(t *testing.T) {
	r := keystore.Record{AR: arAddr, MN: pcoa, AT: uint8(hokey.HMACSHA1Trunc96), SPI: 0,
		Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := r.SetKey([]byte("0123456789abcdefghij")); err != nil {
		t.Fatal(err)
	}
	b, err := MarshalKeys([]keystore.Record{r})
	if err != nil {
		t.Fatal(err)
	}
	want := `[
  {
    "ar": "2001:db8:1::1",
    "mn": "2001:db8:1::100",
    "at": 0,
    "spi": 0,
    "key": "30313233343536373839616263646566676869 6a",
    "expires": "2030-01-02T03:04:05Z"
  }
]
`
	want = strings.Replace(want, " 6a", "6a", 1)
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	k, err := ReadKeys(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := k.lookup(arAddr, pcoa)
	if k.Len() != 1 || !ok || got.spi != 0 || got.key.Algorithm() != hokey.HMACSHA1Trunc96 || string(got.key.Bytes()) != "0123456789abcdefghij" {
		t.Fatalf("lookup: %v %+v", ok, got)
	}
}

func TestReadKeysErrors(t *testing.T) {
	entry := func(repl ...string) string {
		s := `[{"ar": "2001:db8:1::1", "mn": "2001:db8:1::100", "at": 1, "spi": 0, "key": "` + strings.Repeat("ab", 32) + `", "expires": "2030-01-01T00:00:00Z"}]`
		return strings.NewReplacer(repl...).Replace(s)
	}
	if _, err := ReadKeys(strings.NewReader(entry())); err != nil {
		t.Fatalf("good entry: %v", err)
	}
	cases := []struct{ name, in string }{
		{"not JSON", "{"},
		{"object, not array", `{"ar": "2001:db8::1"}`},
		{"unknown field", entry(`"spi"`, `"sp1"`)},
		{"IPv4 ar", entry("2001:db8:1::1", "192.0.2.1")},
		{"bad mn", entry("2001:db8:1::100", "nope")},
		{"undefined AT", entry(`"at": 1`, `"at": 9`)},
		{"key not hex", entry(`"key": "ab`, `"key": "zz`)},
		{"key too short for AT 1", entry(strings.Repeat("ab", 32), strings.Repeat("ab", 20))},
		{"duplicate pair", "[" + strings.Trim(entry(), "[]") + "," + strings.Trim(entry(), "[]") + "]"},
		{"trailing data", entry() + " []"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ReadKeys(strings.NewReader(tc.in)); !errors.Is(err, ErrKeys) {
				t.Fatalf("err = %v, want ErrKeys", err)
			}
		})
	}
}

func TestReadKeysMSK(t *testing.T) {
	k := readKeysString(t, mskKeysFile(exampleMSK(), exampleNAI, arAddr, hokey.HMACSHA1Trunc96))
	fhk, ok := k.lookupFHK([]byte(exampleNAI), arAddr)
	// docs/msk.md, worked example, AT 0.
	if k.Len() != 1 || !ok || fhk.Algorithm() != hokey.HMACSHA1Trunc96 || hex.EncodeToString(fhk.Bytes()) != "883400b9a31fd483ff379eb0517827760a023655" {
		t.Fatalf("FHK %v %x", ok, fhk.Bytes())
	}
	if _, ok := k.lookupFHK([]byte("mn@example.org"), arAddr); ok {
		t.Error("found an FHK for another NAI")
	}
	// MarshalMSKKeys writes what ReadKeys reads.
	b, err := MarshalMSKKeys([]MSKKeyEntry{{MSK: exampleMSK(), NAI: exampleNAI, PAR: arAddr, AT: 1, Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	want := "[\n  {\n    \"msk\": \"" + exampleMSK() + "\",\n    \"nai\": \"mn@example.com\",\n    \"par\": \"2001:db8:1::1\",\n    \"at\": 1,\n    \"expires\": \"2030-01-02T03:04:05Z\"\n  }\n]\n"
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	k = readKeysString(t, string(b))
	if fhk, ok := k.lookupFHK([]byte(exampleNAI), arAddr); !ok || hex.EncodeToString(fhk.Bytes()) != "980b2485c9f71f746f9cb98338d0c527c80d36a0abd832c5ee5ccfeb0ed7b6ed" {
		t.Fatalf("AT 1 FHK %v %x", ok, fhk.Bytes())
	}
}

func TestReadKeysMSKErrors(t *testing.T) {
	good := mskKeysFile(exampleMSK(), exampleNAI, arAddr, hokey.HMACSHA256Trunc128)
	entry := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	cases := []struct{ name, in, field string }{
		{"MSK not hex", entry(`"msk": "00`, `"msk": "zz`), "[0].msk"},
		{"MSK of 32 octets", entry(exampleMSK(), exampleMSK()[:64]), "[0].msk"},
		{"empty NAI", entry(exampleNAI, ""), "[0].nai"},
		{"NAI of 255 octets", entry(exampleNAI, strings.Repeat("n", 255)), "[0].nai"},
		{"link-local PAR", entry(arAddr.String(), "fe80::1"), "[0].par"},
		{"IPv4 PAR", entry(arAddr.String(), "192.0.2.1"), "[0].par"},
		{"PAR not an address", entry(arAddr.String(), "par"), "[0]: "},
		{"undefined AT", entry(`"at": 1`, `"at": 9`), "[0].at"},
		{"handover key field in an MSK entry", entry(`"at": 1`, `"at": 1, "spi": 0`), `[0]: json: unknown field "spi"`},
		{"second MSK for (NAI, PAR)", strings.TrimSuffix(good, "]") + "," + strings.TrimPrefix(good, "["), "[1].par"},
		{"bad handover key after an MSK", strings.TrimSuffix(good, "]") + `, {"ar": "x"}]`, "[1]: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadKeys(strings.NewReader(tc.in))
			if !errors.Is(err, ErrKeys) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("err = %v, want ErrKeys naming %s", err, tc.field)
			}
			if strings.Contains(err.Error(), exampleMSK()[2:]) {
				t.Errorf("the error holds the MSK: %v", err)
			}
		})
	}
}

// FuzzReadKeys checks that ReadKeys never panics on any file, of handover
// keys, MSKs or both, and that every error wraps ErrKeys.
func FuzzReadKeys(f *testing.F) {
	handover := `{"ar": "2001:db8:1::1", "mn": "2001:db8:1::100", "at": 0, "spi": 0, "key": "` + strings.Repeat("ab", 20) + `", "expires": "2030-01-01T00:00:00Z"}`
	msk := strings.Trim(mskKeysFile(exampleMSK(), exampleNAI, arAddr, hokey.HMACSHA256Trunc128), "[]")
	for _, s := range []string{"[]", "[" + handover + "]", "[" + msk + "]", "[" + handover + "," + msk + "]", "[null]", `[{"nai": ""}]`, "{"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ReadKeys(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrKeys) || k != nil {
				t.Fatalf("err %v, keys %v", err, k)
			}
			return
		}
		if k.Len() > bytes.Count(b, []byte("{")) {
			t.Fatalf("%d keys from %d objects", k.Len(), bytes.Count(b, []byte("{")))
		}
	})
}
