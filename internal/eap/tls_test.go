package eap

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestTLSMessageRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		m    TLSMessage
		wire []byte
	}{
		{"start", TLSMessage{Flags: FlagStart, Data: []byte{}}, []byte{0x20}},
		{"ack", TLSMessage{Data: []byte{}}, []byte{0x00}},
		{"first fragment", TLSMessage{Flags: FlagLength | FlagMore, Length: 5, Data: []byte{1, 2}}, cat(
			[]byte{0xc0},       // Flags L M
			[]byte{0, 0, 0, 5}, // TLS Message Length
			[]byte{1, 2},       // TLS Data
		)},
		{"last fragment", TLSMessage{Data: []byte{3, 4, 5}}, cat([]byte{0x00}, []byte{3, 4, 5})},
	}
	for _, tt := range tests {
		b := tt.m.Marshal()
		if !bytes.Equal(b, tt.wire) {
			t.Errorf("%s: Marshal = % x, want % x", tt.name, b, tt.wire)
		}
		m, err := ParseTLS(tt.wire)
		if err != nil || m.Flags != tt.m.Flags || m.Length != tt.m.Length || !bytes.Equal(m.Data, tt.m.Data) {
			t.Errorf("%s: ParseTLS = %+v, %v", tt.name, m, err)
		}
	}
	if m, _ := ParseTLS([]byte{0x1f}); m.Flags != 0 {
		t.Errorf("reserved bits kept: %#x", m.Flags)
	}
}

func TestFragmentReassemble(t *testing.T) {
	data := make([]byte, 3000)
	for i := range data {
		data[i] = byte(i)
	}
	for _, size := range []int{1, 1000, 1024, 2999, 3000, 4000} {
		var r Reassembler
		frags := Fragment(data, size)
		for i, f := range frags {
			f, err := ParseTLS(f.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Add(f)
			if err != nil {
				t.Fatalf("size %d fragment %d: %v", size, i, err)
			}
			if last := i == len(frags)-1; last != (got != nil) {
				t.Fatalf("size %d fragment %d of %d: message %v", size, i, len(frags), got != nil)
			}
			if got != nil && !bytes.Equal(got, data) {
				t.Fatalf("size %d: reassembled differs", size)
			}
		}
	}
}

func TestReassemblerErrors(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		frags []TLSMessage
		want  error
	}{
		{"declared beyond limit", 0, []TLSMessage{{Flags: FlagLength | FlagMore, Length: MaxTLSMessage + 1, Data: []byte{1}}}, ErrTooLong},
		{"gathered beyond limit", 4, []TLSMessage{{Flags: FlagMore | FlagLength, Length: 4, Data: []byte{1, 2, 3}}, {Data: []byte{4, 5}}}, ErrTooLong},
		{"no length, no total: beyond limit", 2, []TLSMessage{{Data: []byte{1, 2, 3}}}, ErrTooLong},
		{"first without L", 0, []TLSMessage{{Flags: FlagMore, Data: []byte{1}}}, ErrFragment},
		{"beyond declared", 0, []TLSMessage{{Flags: FlagLength | FlagMore, Length: 2, Data: []byte{1}}, {Data: []byte{2, 3}}}, ErrFragment},
		{"short of declared", 0, []TLSMessage{{Flags: FlagLength | FlagMore, Length: 4, Data: []byte{1}}, {Data: []byte{2}}}, ErrFragment},
		{"empty with M", 0, []TLSMessage{{Flags: FlagLength | FlagMore, Length: 4, Data: []byte{1}}, {Flags: FlagMore}}, ErrFragment},
	}
	for _, tt := range tests {
		r := Reassembler{Limit: tt.limit}
		var err error
		for _, f := range tt.frags {
			if _, err = r.Add(f); err != nil {
				break
			}
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		if r.InProgress() {
			t.Errorf("%s: not reset after the error", tt.name)
		}
	}
	if _, err := ParseTLS([]byte{0x80, 0, 0}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short TLS Message Length: %v", err)
	}
	if _, err := ParseTLS([]byte{0x80, 0, 0, 0, 1, 1, 2}); !errors.Is(err, ErrFragment) {
		t.Errorf("fragment longer than TLS Message Length: %v", err)
	}
}
