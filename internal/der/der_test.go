package der

import (
	"errors"
	"io"
	"testing"
)

func TestSequenceLength(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want int
		err  error
	}{
		{"short form", []byte{0x30, 0x02, 0x05, 0x00, 0xff}, 4, nil},
		{"one length octet", append([]byte{0x30, 0x81, 0x80}, make([]byte, 0x80)...), 0x83, nil},
		{"two length octets", append([]byte{0x30, 0x82, 0x01, 0x0a}, make([]byte, 0x10a)...), 0x10e, nil},
		{"empty", nil, 0, io.ErrUnexpectedEOF},
		{"not a SEQUENCE", []byte{0x31, 0x00}, 0, ErrSequence},
		{"indefinite", []byte{0x30, 0x80, 0, 0}, 0, ErrSequence},
		{"five length octets", []byte{0x30, 0x85, 0, 0, 0, 0, 1}, 0, ErrSequence},
		{"length octets cut", []byte{0x30, 0x82, 0x01}, 0, io.ErrUnexpectedEOF},
		{"body cut", []byte{0x30, 0x03, 0x05, 0x00}, 0, io.ErrUnexpectedEOF},
		{"over 16 MiB", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, 0, ErrSequence},
	} {
		got, err := SequenceLength(tc.b)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || !errors.Is(err, ErrSequence) {
				t.Errorf("%s: err = %v, want %v wrapped with ErrSequence", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: SequenceLength = %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
}
