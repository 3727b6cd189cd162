package mip6tls

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestKeyRedacted(t *testing.T) {
	k := mustKey(t, []byte{0xde, 0xad, 0xbe, 0xef})
	p := MNHAKey{MNToHA, IntegrityKey, k}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		for _, v := range []any{k, &k, p} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(strings.ToLower(out), "dead") || strings.Contains(out, "222") || !strings.Contains(out, "redacted") {
				t.Errorf("Sprintf(%q, %T) = %q shows the key or lacks 'redacted'", verb, v, out)
			}
		}
	}
}

func TestKeyEqualZero(t *testing.T) {
	a, b2, c := mustKey(t, []byte{1, 2}), mustKey(t, []byte{1, 2}), mustKey(t, []byte{1, 2, 0})
	if !a.Equal(&b2) || a.Equal(&c) {
		t.Fatal("Equal: same octets must match, a longer key with a zero tail must not")
	}
	a.Zero()
	if a.Len() != 0 || a.Equal(&b2) {
		t.Fatal("Zero left key material")
	}
	for _, n := range []int{0, MaxKeyLen + 1} {
		if _, err := NewKey(make([]byte, n)); !errors.Is(err, ErrValue) {
			t.Fatalf("NewKey(%d octets) = %v", n, err)
		}
	}
}
