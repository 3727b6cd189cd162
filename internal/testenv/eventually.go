package testenv

import (
	"testing"
	"time"
)

// Eventually polls cond until it reports done, and fails t (from the
// test's goroutine) if timeout passes first, with what and the state cond
// reported last. It is how a test waits: on a condition, with a deadline,
// saying what it saw; never on a fixed sleep, which is a race.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (done bool, state string)) {
	t.Helper()
	if state, ok := Poll(timeout, cond); !ok {
		t.Fatalf("%s: not within %v; last seen: %s", what, timeout, state)
	}
}

// Poll is Eventually without a test to fail: it polls cond until it reports
// done or timeout passes and returns the state cond reported last and
// whether it was done. The first polls follow each other closely, later
// ones every 20 ms.
func Poll(timeout time.Duration, cond func() (done bool, state string)) (string, bool) {
	deadline := time.Now().Add(timeout)
	for pause := 100 * time.Microsecond; ; pause = min(2*pause, 20*time.Millisecond) {
		done, state := cond()
		if done {
			return state, true
		}
		if time.Now().After(deadline) {
			return state, false
		}
		time.Sleep(pause)
	}
}
