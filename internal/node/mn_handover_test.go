package node

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/fhkey/fhkey/internal/mn"
)

// TestNotRoutable: the send failures of a link whose routes are not in
// place yet are retried; a missing FBack or any other error is not.
func TestNotRoutable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("netio: send: %w", syscall.ENETUNREACH), true},
		{fmt.Errorf("netio: send: %w", syscall.EHOSTUNREACH), true},
		{fmt.Errorf("netio: send: %w", syscall.EADDRNOTAVAIL), true},
		{fmt.Errorf("netio: send: %w", syscall.EPERM), false},
		{mn.ErrNoAnswer, false},
		{fmt.Errorf("wrapped: %w", mn.ErrNoAnswer), false},
	} {
		if got := notRoutable(tc.err); got != tc.want {
			t.Errorf("notRoutable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
