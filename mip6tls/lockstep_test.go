package mip6tls

import (
	"errors"
	"testing"
)

// A whole session of 255 exchanges, then the 256th request is refused.
func TestLockstep255Exchanges(t *testing.T) {
	var mn, hac Lockstep
	for i := 1; i <= MaxExchanges; i++ {
		id, err := mn.NextIdentifier()
		if err != nil || int(id) != i {
			t.Fatalf("exchange %d: NextIdentifier = %d, %v", i, id, err)
		}
		if err := mn.Request(id, false); err != nil {
			t.Fatalf("MN request %d: %v", id, err)
		}
		if err := hac.Request(id, false); err != nil {
			t.Fatalf("HAC request %d: %v", id, err)
		}
		for _, l := range []*Lockstep{&hac, &mn} {
			if ended, err := l.Response(id, false); err != nil || ended {
				t.Fatalf("response %d: %v, %v", id, ended, err)
			}
		}
	}
	if _, err := mn.NextIdentifier(); !errors.Is(err, ErrTooManyExchanges) {
		t.Fatalf("NextIdentifier after 255: %v", err)
	}
	// Identifier 255+1 wraps to 0 in a uint8: still refused as too many.
	for _, id := range []uint8{0, 1, 255} {
		if err := hac.Request(id, false); !errors.Is(err, ErrExchange) || !errors.Is(err, ErrTooManyExchanges) {
			t.Fatalf("request %d after 255 exchanges: %v", id, err)
		}
	}
	if hac.Exchanges() != 255 {
		t.Fatalf("Exchanges = %d", hac.Exchanges())
	}
}

func TestLockstepFinal(t *testing.T) {
	var l Lockstep
	if err := l.Request(1, false); err != nil {
		t.Fatal(err)
	}
	if ended, err := l.Response(1, true); err != nil || !ended || !l.Done() {
		t.Fatalf("final response: %v, %v", ended, err)
	}
	if err := l.Request(2, false); !errors.Is(err, ErrExchangeDone) {
		t.Fatalf("request after final: %v", err)
	}
	if _, err := l.Response(1, true); !errors.Is(err, ErrExchangeDone) {
		t.Fatalf("response after final: %v", err)
	}
	if _, err := l.NextIdentifier(); !errors.Is(err, ErrExchangeDone) {
		t.Fatalf("NextIdentifier after final: %v", err)
	}
}

// Each bad step is refused with its sentinel and leaves the state as it
// was: the good step that follows still succeeds.
func TestLockstepErrors(t *testing.T) {
	// after3 has completed exchanges 1..3; its next request is 4.
	after3 := func(t *testing.T) *Lockstep {
		var l Lockstep
		for id := uint8(1); id <= 3; id++ {
			if err := l.Request(id, false); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Response(id, false); err != nil {
				t.Fatal(err)
			}
		}
		return &l
	}
	for _, tc := range []struct {
		name string
		bad  func(l *Lockstep) error
		want error
	}{
		{"first request not 1", func(*Lockstep) error { var n Lockstep; return n.Request(2, false) }, ErrIdentifierSkipped},
		{"identifier 0", func(l *Lockstep) error { return l.Request(0, false) }, ErrIdentifier},
		{"reuse last", func(l *Lockstep) error { return l.Request(3, false) }, ErrIdentifierReused},
		{"reuse first", func(l *Lockstep) error { return l.Request(1, false) }, ErrIdentifierReused},
		{"skip", func(l *Lockstep) error { return l.Request(5, false) }, ErrIdentifierSkipped},
		{"status-code in request", func(l *Lockstep) error { return l.Request(4, true) }, ErrStatusInRequest},
		{"response without request", func(l *Lockstep) error { _, err := l.Response(3, false); return err }, ErrOutOfStep},
		{"response to future request", func(l *Lockstep) error { _, err := l.Response(4, false); return err }, ErrOutOfStep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := after3(t)
			before := *l
			if err := tc.bad(l); !errors.Is(err, ErrExchange) || !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want ErrExchange and %v", err, tc.want)
			}
			if *l != before {
				t.Fatalf("state changed: %+v -> %+v", before, *l)
			}
			if err := l.Request(4, false); err != nil {
				t.Fatalf("good request after the bad step: %v", err)
			}
		})
	}
	t.Run("request while awaiting response", func(t *testing.T) {
		l := after3(t)
		if err := l.Request(4, false); err != nil {
			t.Fatal(err)
		}
		if err := l.Request(5, false); !errors.Is(err, ErrOutOfStep) {
			t.Fatalf("second request: %v", err)
		}
		if _, err := l.Response(3, false); !errors.Is(err, ErrOutOfStep) {
			t.Fatalf("response with the wrong Identifier: %v", err)
		}
		if _, err := l.Response(4, false); err != nil {
			t.Fatalf("right response: %v", err)
		}
	})
}
