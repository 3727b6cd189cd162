package testenv

import (
	"fmt"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	n := 0
	state, ok := Poll(5*time.Second, func() (bool, string) { n++; return n == 3, fmt.Sprint("n=", n) })
	if !ok || state != "n=3" {
		t.Fatalf("Poll = %q, %v; want n=3, true", state, ok)
	}
	state, ok = Poll(10*time.Millisecond, func() (bool, string) { return false, "never" })
	if ok || state != "never" {
		t.Fatalf("Poll of a condition that never holds = %q, %v", state, ok)
	}
}
