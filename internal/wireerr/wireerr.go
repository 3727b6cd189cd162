// Package wireerr builds the errors of the wire packages (mh, mip6tls,
// mip6udp): a message that starts with the package's sentinels and ends
// with the field at fault, wrapping the sentinels together with any error
// the detail wraps (STYLE.md, *Errors*: "category sentinels ... are
// wrapped together with the cause (%w: %w)").
//
// Wrap and WrapIn are printf wrappers of fmt.Errorf, so go vet checks the
// format of every call, %w included.
package wireerr

import "fmt"

// Wrap returns the error "sentinel: detail", detail being
// fmt.Errorf(format, args...); it wraps sentinel and whatever detail
// wraps. It is fmt.Errorf("%w: "+format, sentinel, args...).
func Wrap(sentinel error, format string, args ...any) error {
	return newError(fmt.Errorf(format, args...), sentinel)
}

// WrapIn returns the error "category: cause: detail", detail being
// fmt.Errorf(format, args...); it wraps category, cause and whatever
// detail wraps, in that order. It is
// fmt.Errorf("%w: %w: "+format, category, cause, args...).
func WrapIn(category, cause error, format string, args ...any) error {
	return newError(fmt.Errorf(format, args...), category, cause)
}

// wrapped is the error of Wrap and WrapIn: its message, and the sentinels
// then the detail in errs[:n] (one allocation with the struct).
type wrapped struct {
	msg  string
	errs [3]error
	n    int
}

func newError(detail error, sentinels ...error) error {
	e := &wrapped{}
	var name, sep [2]string
	for i, s := range sentinels {
		sep[i] = ": "
		if s == nil { // as fmt.Errorf prints and skips a nil %w operand
			name[i] = "%!w(<nil>)"
			continue
		}
		name[i] = s.Error()
		e.errs[e.n] = s
		e.n++
	}
	e.errs[e.n] = detail
	e.n++
	e.msg = name[0] + sep[0] + name[1] + sep[1] + detail.Error() // one allocation
	return e
}

func (e *wrapped) Error() string { return e.msg }

// Unwrap returns the sentinels, then the detail (through which errors.Is
// and errors.As reach the errors it wraps).
func (e *wrapped) Unwrap() []error { return e.errs[:e.n:e.n] }
