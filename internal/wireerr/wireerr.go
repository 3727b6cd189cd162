// Package wireerr builds the errors of the wire packages (mh, mip6tls,
// mip6udp): a message that starts with the package's sentinels and ends
// with the field at fault, wrapping the sentinels together with any error
// the detail wraps (STYLE.md, *Errors*: "category sentinels ... are
// wrapped together with the cause (%w: %w)").
//
// Wrap and WrapIn are printf wrappers of fmt.Errorf, so go vet checks the
// format of every call, %w included.
package wireerr

import (
	"fmt"
	"strings"
)

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

// wrapped is the error of Wrap and WrapIn.
type wrapped struct {
	msg  string
	errs []error
}

func newError(detail error, sentinels ...error) error {
	var b strings.Builder
	errs := make([]error, 0, len(sentinels)+1)
	for _, s := range sentinels {
		if s == nil { // as fmt.Errorf prints and skips a nil %w operand
			b.WriteString("%!w(<nil>): ")
			continue
		}
		b.WriteString(s.Error())
		b.WriteString(": ")
		errs = append(errs, s)
	}
	b.WriteString(detail.Error())
	return &wrapped{msg: b.String(), errs: append(errs, detail)}
}

func (e *wrapped) Error() string { return e.msg }

// Unwrap returns the sentinels, then the detail (through which errors.Is
// and errors.As reach the errors it wraps).
func (e *wrapped) Unwrap() []error { return e.errs }
