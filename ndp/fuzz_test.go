package ndp_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/fhkey/fhkey/ndp"
)

// FuzzParseMessage checks that anything ParseMessage accepts marshals back to
// the same octets and parses to an equal value.
func FuzzParseMessage(f *testing.F) {
	for _, tc := range messageCases() {
		f.Add(tc.want)
	}
	f.Add(signedRtSolPr(f))
	f.Add(wire(133, 1, u16(0), u32(0)))
	f.Add(wire(154, 6, u16(0), 3, 0, u16(1)))
	f.Add(wire(135, 0, u16(0), u32(0), ip("fe80::1"), 1, 0, zeros(6)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ndp.ParseMessage(b)
		if err != nil {
			return
		}
		out, err := ndp.MarshalMessage(m)
		if err != nil {
			t.Fatalf("parsed %x but MarshalMessage failed: %v", b, err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip changed the octets:\n  in %x\n out %x", b, out)
		}
		m2, err := ndp.ParseMessage(out)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-parse differs: %v\n%#v\n%#v", err, m, m2)
		}
		// The raw-bytes helpers agree with the parser.
		if _, ok := m.(*ndp.RawMessage); !ok {
			if _, err := ndp.OptionSpans(b); err != nil {
				t.Fatalf("ParseMessage accepted %x but OptionSpans failed: %v", b, err)
			}
		}
	})
}

// FuzzParseOptions checks that anything ParseOptions accepts marshals back to
// the same octets and parses to an equal value.
func FuzzParseOptions(f *testing.F) {
	for _, tc := range optionCases() {
		f.Add(tc.want)
	}
	f.Add(wire(1, 0, zeros(6)))
	f.Add(wire(15, 1, 2, 0, 1, 'a', 0, 1))
	f.Add(wire(27, 2, 1, 0x10, tinyKey, zeros(7)))
	f.Fuzz(func(t *testing.T, b []byte) {
		opts, err := ndp.ParseOptions(b)
		if err != nil {
			return
		}
		out, err := ndp.MarshalOptions(opts)
		if err != nil {
			t.Fatalf("parsed %x but MarshalOptions failed: %v", b, err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip changed the octets:\n  in %x\n out %x", b, out)
		}
		opts2, err := ndp.ParseOptions(out)
		if err != nil || !reflect.DeepEqual(opts, opts2) {
			t.Fatalf("re-parse differs: %v\n%#v\n%#v", err, opts, opts2)
		}
	})
}
