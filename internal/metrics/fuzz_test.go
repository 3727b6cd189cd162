package metrics

import (
	"bytes"
	"strings"
	"testing"
)

// unescapeLabelValue inverts escapeLabelValue as a Prometheus parser does.
func unescapeLabelValue(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\n':
			return "", false // must have been escaped
		case c != '\\':
			b.WriteByte(c)
		case i+1 == len(s):
			return "", false
		default:
			i++
			switch s[i] {
			case '\\':
				b.WriteByte('\\')
			case '"':
				b.WriteByte('"')
			case 'n':
				b.WriteByte('\n')
			default:
				return "", false
			}
		}
	}
	return b.String(), true
}

// FuzzLabelValue: any label value is written as one well-formed line and
// reads back unchanged.
func FuzzLabelValue(f *testing.F) {
	for _, s := range []string{"", "bad_signature", `a"b\c` + "\nd", `\n`, `\\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := NewRegistry()
		r.CounterVec("x_total", "h", "l").With(v).Inc()
		var b bytes.Buffer
		if _, err := r.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d lines for value %q:\n%s", len(lines), v, b.String())
		}
		sample := lines[2]
		if !strings.HasPrefix(sample, `x_total{l="`) || !strings.HasSuffix(sample, `"} 1`) {
			t.Fatalf("sample line %q", sample)
		}
		got, ok := unescapeLabelValue(strings.TrimSuffix(strings.TrimPrefix(sample, `x_total{l="`), `"} 1`))
		if !ok || got != v {
			t.Fatalf("value %q read back as %q (ok %v)", v, got, ok)
		}
	})
}
