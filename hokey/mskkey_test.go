package hokey

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestMSKRedactedAndEqual: fmt and slog never show an MSK; Equal compares
// all 64 octets; Zero wipes.
func TestMSKRedactedAndEqual(t *testing.T) {
	var a, b MSK
	for i := range a {
		a[i] = 0xa0 + byte(i%16)
	}
	b = a
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("msk", "key", a)
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %s", a, a, a), sb.String()} {
		if strings.Contains(s, "a0a1") || strings.Contains(s, "160") || !strings.Contains(s, "redacted") {
			t.Errorf("MSK shown: %s", s)
		}
	}
	if !a.Equal(&b) {
		t.Error("equal MSKs differ")
	}
	b[63] ^= 1
	if a.Equal(&b) {
		t.Error("MSKs differing in the last octet are equal")
	}
	a.Zero()
	if a != (MSK{}) {
		t.Error("Zero left key octets")
	}
}
