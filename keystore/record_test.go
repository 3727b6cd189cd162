package keystore

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRedaction prints a record with a recognisable key through every path
// a key could leak by and looks for the key octets in each rendering.
func TestRedaction(t *testing.T) {
	r := vectorRecord()
	for i := range int(r.KeyLen) {
		r.Key[i] = 0xc0 + byte(i%16) // 0xc0c1c2... is unlikely elsewhere
	}
	keyHex := hex.EncodeToString(r.KeyBytes())
	needles := []string{keyHex[:12], strings.ToUpper(keyHex[:12]), "192 193 194", "0xc0, 0xc1", "\xc0\xc1\xc2"}
	type holder struct{ R Record }
	outputs := map[string]string{
		"String":   r.String(),
		"GoString": r.GoString(),
		"%v":       fmt.Sprintf("%v", r),
		"%+v":      fmt.Sprintf("%+v", r),
		"%#v":      fmt.Sprintf("%#v", r),
		"%x":       fmt.Sprintf("%x", r),
		"%s":       fmt.Sprintf("%s", &r),
		"ptr %v":   fmt.Sprintf("%v", &r),
		"key %v":   fmt.Sprintf("%v", r.Key),
		"key %x":   fmt.Sprintf("%x", r.Key),
		"key %#v":  fmt.Sprintf("%#v", r.Key),
		"key %d":   fmt.Sprintf("%d", r.Key),
		"nested":   fmt.Sprintf("%+v", holder{r}),
		"slice":    fmt.Sprintf("%v", []Record{r}),
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("put", "record", r)
	outputs["slog JSON"] = logBuf.String()
	logBuf.Reset()
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("put", "record", &r)
	outputs["slog text"] = logBuf.String()

	for name, out := range outputs {
		for _, n := range needles {
			if strings.Contains(out, n) {
				t.Errorf("%s output contains key octets (%q): %s", name, n, out)
			}
		}
	}
	for _, name := range []string{"String", "%v", "slog JSON"} {
		if !strings.Contains(outputs[name], "2001:db8:1::a") {
			t.Errorf("%s output lacks the MN address: %s", name, outputs[name])
		}
	}
}

func TestKeyEqual(t *testing.T) {
	r := vectorRecord()
	o := r
	if !r.Key.Equal(&o.Key) || !r.KeyEqual(o.KeyBytes()) || !r.Equal(&o) {
		t.Fatal("equal keys compare unequal")
	}
	o.Key[19] ^= 1
	if r.Key.Equal(&o.Key) || r.KeyEqual(o.KeyBytes()) || r.Equal(&o) {
		t.Fatal("keys differing in the last octet compare equal")
	}
	if r.KeyEqual(r.KeyBytes()[:19]) {
		t.Fatal("key prefix compares equal")
	}
	o = r
	o.Expires = o.Expires.Add(time.Nanosecond)
	if r.Equal(&o) {
		t.Fatal("records with different Expires compare equal")
	}
	o = r
	o.MN = o.MN.WithZone("eth0")
	if !r.Equal(&o) {
		t.Fatal("zone should not take part in Equal")
	}
}

func TestSetKeyAndZero(t *testing.T) {
	var r Record
	r.Key = Key{1, 2, 3, 4, 5, 6, 7, 8, 9}
	if err := r.SetKey([]byte{0xaa, 0xbb}); err != nil {
		t.Fatal(err)
	}
	if r.KeyLen != 2 || r.Key != (Key{0xaa, 0xbb}) {
		t.Fatalf("SetKey left %d octets, tail not zeroed", r.KeyLen)
	}
	for _, n := range []int{0, MaxKeyLen + 1} {
		if err := r.SetKey(make([]byte, n)); err == nil {
			t.Errorf("SetKey of %d octets succeeded", n)
		}
	}
	r.Zero()
	if r.KeyLen != 0 || r.Key != (Key{}) {
		t.Fatal("Zero left key material")
	}
}

func TestExpiredAtBoundary(t *testing.T) {
	r := vectorRecord()
	if r.ExpiredAt(r.Expires.Add(-time.Nanosecond)) {
		t.Error("expired one nanosecond before Expires")
	}
	if !r.ExpiredAt(r.Expires) {
		t.Error("not expired at Expires")
	}
}
