package mip6tls

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func fuzzSeeds(t *testing.F) [][]byte {
	seeds := [][]byte{nil, b(0, 1, 0, 1, 'x'), container(1, eom), container(2, cat(line("auth", hex32), eom))}
	var all []Parameter
	for _, tc := range parameterCases(t) {
		seeds = append(seeds, container(1, cat(tc.line, eom)))
		if _, ok := tc.p.(Unknown); !ok && !isDuplicateName(all, tc.p) {
			all = append(all, tc.p)
		}
	}
	if w, err := MarshalMessage(Message{Identifier: 4, Parameters: all}); err == nil {
		seeds = append(seeds, w)
	}
	if w, err := SignMessage(exampleRequest(), examplePSK, SenderMN, exampleCB); err == nil {
		seeds = append(seeds, w)
	}
	return seeds
}

func isDuplicateName(ps []Parameter, p Parameter) bool {
	for _, q := range ps {
		if q.Name() == p.Name() {
			return true
		}
	}
	return false
}

// FuzzParseContainer: what parses marshals back to the same octets.
func FuzzParseContainer(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseContainer(data)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		out, err := MarshalContainer(c)
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("MarshalContainer = % x, %v; want % x", out, err, data)
		}
	})
}

// FuzzParseTVHeaders: what parses marshals, and re-parses to the same
// headers; the marshalled form is a fixed point.
func FuzzParseTVHeaders(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		if len(s) >= ContainerHeaderLen {
			f.Add(s[ContainerHeaderLen:])
		}
	}
	f.Add([]byte("a: b \r\n\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		hs, err := ParseTVHeaders(data)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		out, err := MarshalTVHeaders(hs)
		if err != nil {
			t.Fatalf("MarshalTVHeaders(%q): %v", hs, err)
		}
		again, err := ParseTVHeaders(out)
		if err != nil || len(again) != len(hs) || (len(hs) > 0 && !reflect.DeepEqual(again, hs)) {
			t.Fatalf("re-parse = %q, %v; want %q", again, err, hs)
		}
		if out2, _ := MarshalTVHeaders(again); !bytes.Equal(out2, out) {
			t.Fatalf("second marshal %q, first %q", out2, out)
		}
	})
}

// FuzzParseMessage: what parses marshals, re-parses to an equal message
// and marshals to the same octets again; MsgOctets stays inside the input.
func FuzzParseMessage(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if mo, _, err := MsgOctets(data); err == nil && len(mo) > len(data) {
			t.Fatalf("msg-octets longer than the message")
		}
		m, err := ParseMessage(data)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		out, err := MarshalMessage(m)
		if err != nil {
			// Marshalling drops white space and leading zeros and spells
			// names and hex canonically: it never lengthens the content.
			t.Fatalf("MarshalMessage: %v", err)
		}
		m2, err := ParseMessage(out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !reflect.DeepEqual(m2, m) {
			t.Fatalf("re-parse = %#v, want %#v", m2, m)
		}
		out2, err := MarshalMessage(m2)
		if err != nil || !bytes.Equal(out2, out) {
			t.Fatalf("second marshal differs: %q vs %q", out2, out)
		}
	})
}
