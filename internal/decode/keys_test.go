package decode

import (
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
