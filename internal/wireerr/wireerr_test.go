package wireerr

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"testing"
)

var (
	errCategory = errors.New("pkg: malformed")
	errCause    = errors.New("pkg: bad Length")
)

// TestSameAsErrorf checks that Wrap and WrapIn give the message of the
// fmt.Errorf calls they replace and wrap the same errors.
func TestSameAsErrorf(t *testing.T) {
	pathErr := &fs.PathError{Op: "read", Path: "x", Err: io.ErrUnexpectedEOF}
	for _, tc := range []struct {
		name string
		got  error
		want string
		is   []error
	}{
		{"Wrap", Wrap(errCategory, "field %s at offset %d", "Length", 4),
			"pkg: malformed: field Length at offset 4", []error{errCategory}},
		{"Wrap no args", Wrap(errCategory, "empty"),
			"pkg: malformed: empty", []error{errCategory}},
		{"Wrap %w", Wrap(errCategory, "option 2: %w", io.ErrUnexpectedEOF),
			"pkg: malformed: option 2: unexpected EOF", []error{errCategory, io.ErrUnexpectedEOF}},
		{"WrapIn", WrapIn(errCategory, errCause, "%d octets", 3),
			"pkg: malformed: pkg: bad Length: 3 octets", []error{errCategory, errCause}},
		{"WrapIn two %w", WrapIn(errCategory, errCause, "%w then %w", pathErr, io.EOF),
			"pkg: malformed: pkg: bad Length: read x: unexpected EOF then EOF",
			[]error{errCategory, errCause, io.ErrUnexpectedEOF, io.EOF}},
		{"nil sentinel", Wrap(nil, "x"), "%!w(<nil>): x", nil},
	} {
		if tc.got.Error() != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
		for _, target := range tc.is {
			if !errors.Is(tc.got, target) {
				t.Errorf("%s: errors.Is(%v) false", tc.name, target)
			}
		}
		if errors.Is(tc.got, io.ErrClosedPipe) {
			t.Errorf("%s: wraps an error it was not given", tc.name)
		}
	}
	var pe *fs.PathError
	if err := WrapIn(errCategory, errCause, "%w", pathErr); !errors.As(err, &pe) || pe != pathErr {
		t.Errorf("errors.As does not reach the detail's wrapped error: %v", pe)
	}
}

// TestOrder checks that the sentinels come first in the error tree, as
// with fmt.Errorf("%w: %w: ...").
func TestOrder(t *testing.T) {
	err := WrapIn(errCategory, errCause, "x")
	u := err.(interface{ Unwrap() []error }).Unwrap()
	if len(u) != 3 || u[0] != errCategory || u[1] != errCause {
		t.Fatalf("Unwrap = %v", u)
	}
}

// TestWrapAllocs: an error costs no more allocations than the fmt.Errorf
// calls Wrap and WrapIn replaced, give or take the detail's own error (the
// message in one string, sentinels and detail in the struct).
func TestWrapAllocs(t *testing.T) {
	if raceEnabled || testing.CoverMode() != "" {
		t.Skip("the race detector and coverage change allocation counts")
	}
	for _, c := range []struct {
		name     string
		old, new func()
		extra    float64
	}{
		{"WrapIn",
			func() { _ = fmt.Errorf("%w: %w: "+"header: %d octets", append([]any{errCategory, errCause}, 3)...) },
			func() { _ = WrapIn(errCategory, errCause, "header: %d octets", 3) }, 0},
		{"Wrap",
			func() { _ = fmt.Errorf("%w: "+"Header Len %d", append([]any{errCategory}, 3)...) },
			func() { _ = Wrap(errCategory, "Header Len %d", 3) }, 1},
	} {
		old, new := testing.AllocsPerRun(100, c.old), testing.AllocsPerRun(100, c.new)
		if new > old+c.extra {
			t.Errorf("%s: %v allocations, fmt.Errorf %v", c.name, new, old)
		}
		t.Logf("%s: %v allocations, fmt.Errorf %v", c.name, new, old)
	}
}
