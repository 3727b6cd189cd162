package eap

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzParse: a packet that parses marshals to its first Length octets and
// re-parses equal.
func FuzzParse(f *testing.F) {
	for _, s := range [][]byte{{1, 7, 0, 5, 1}, {2, 7, 0, 8, 1, 'a', 'b', 'c'}, {3, 1, 0, 4}, {1, 9, 0, 6, 13, 0x20}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		w, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed packet: %v", err)
		}
		if !bytes.Equal(w, b[:len(w)]) {
			t.Fatalf("Marshal = % x, received % x", w, b)
		}
		q, err := Parse(w)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("re-parse = %+v, %v; want %+v", q, err, p)
		}
	})
}

// FuzzReassemble: the input split at its first octet's value into EAP-TLS
// messages, parsed, re-marshalled and reassembled under a small limit, never panics,
// never returns a message beyond the limit or the declared length.
func FuzzReassemble(f *testing.F) {
	f.Add([]byte{0xc0, 0, 0, 0, 3, 1, 0x00, 2, 3})
	f.Add([]byte{0x40, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := Reassembler{Limit: 512}
		for len(b) > 0 {
			n := min(int(b[0])+1, len(b))
			chunk := b[:n]
			b = b[n:]
			m, err := ParseTLS(chunk)
			if err != nil {
				continue
			}
			if w := m.Marshal(); !bytes.Equal(w[1:], chunk[1:]) {
				t.Fatalf("Marshal = % x, received % x", w, chunk)
			}
			msg, err := r.Add(m)
			if err == nil && len(msg) > 512 {
				t.Fatalf("message of %d octets beyond the limit", len(msg))
			}
		}
	})
}

// FuzzParseEAPOL: a PDU that parses marshals to its first 4 + Packet Body
// Length octets and re-parses equal.
func FuzzParseEAPOL(f *testing.F) {
	for _, s := range [][]byte{{1, 1, 0, 0}, {2, 0, 0, 5, 1, 7, 0, 5, 1}, {3, 3, 0, 2, 2, 0, 0, 0}, {3, 0xc8, 0, 0}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEAPOL(b)
		if err != nil {
			return
		}
		w, err := e.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed PDU: %v", err)
		}
		if !bytes.Equal(w, b[:len(w)]) {
			t.Fatalf("Marshal = % x, received % x", w, b)
		}
		q, err := ParseEAPOL(w)
		if err != nil || !reflect.DeepEqual(e, q) {
			t.Fatalf("re-parse = %+v, %v; want %+v", q, err, e)
		}
		if e.Type == EAPOLEAPPacket {
			e.EAP() // must not panic
		}
	})
}
