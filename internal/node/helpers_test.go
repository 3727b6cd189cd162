package node

import (
	"context"
	"strings"
	"testing"
)

// serveUntilCleanup runs serve until the test ends, then cancels it and
// reports its error.
func serveUntilCleanup(t *testing.T, what string, serve func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", what, err)
		}
	})
}

// reloadRecords returns the last "settings applied live" and "take
// effect at the next restart" lines of a daemon's log.
func reloadRecords(log string) (live, restart string) {
	for line := range strings.Lines(log) {
		switch {
		case strings.Contains(line, "settings applied live"):
			live = line
		case strings.Contains(line, "take effect at the next restart"):
			restart = line
		}
	}
	return live, restart
}
