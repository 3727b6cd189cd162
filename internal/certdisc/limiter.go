package certdisc

import "time"

// windowLimiter allows at most n events in any interval of length window:
// an exact sliding window over the last n event times, so that "more than
// MAX_CPA_RATE times within a second" (RFC 3971 §6.4.5) never happens, not
// even at a bucket boundary. It is not safe for concurrent use.
type windowLimiter struct {
	window time.Duration
	times  []time.Time // ring of the last n event times, oldest at next
	next   int
}

func newWindowLimiter(n int, window time.Duration) *windowLimiter {
	if n < 1 {
		n = 1
	}
	return &windowLimiter{window: window, times: make([]time.Time, n)}
}

// readyAt returns the earliest time at which k events may happen together
// (now if they may happen now). k must be 1..n.
func (l *windowLimiter) readyAt(k int, now time.Time) time.Time {
	// The k-th oldest of the last n events must lie a whole window before
	// the new ones; the zero time never constrains.
	t := l.times[(l.next+k-1)%len(l.times)]
	if t.IsZero() {
		return now
	}
	if at := t.Add(l.window); at.After(now) {
		return at
	}
	return now
}

// allow records k events at now if the window has room for them.
func (l *windowLimiter) allow(k int, now time.Time) bool {
	if k < 1 || k > len(l.times) || l.readyAt(k, now).After(now) {
		return false
	}
	for range k {
		l.times[l.next] = now
		l.next = (l.next + 1) % len(l.times)
	}
	return true
}
