package mip6udp

import (
	"errors"
	"testing"
)

// TestReplayWindow walks the RFC 4303 §3.4.3 window: new numbers to the
// right are accepted and slide it, numbers inside it once, numbers 64 or
// more behind the right edge never.
func TestReplayWindow(t *testing.T) {
	var w ReplayWindow
	steps := []struct {
		seq  uint32
		want error // nil: accepted
	}{
		{0, ErrTooOld}, // no sender uses 0: counters start at 0, first packet is 1
		{1, nil},
		{1, ErrReplayed},
		{3, nil}, // out of order: 2 is still acceptable
		{2, nil},
		{2, ErrReplayed},
		{64, nil},        // window now 1..64
		{1, ErrReplayed}, // still inside, already seen
		{65, nil},        // window 2..65: 1 falls out
		{1, ErrTooOld},
		{4, nil}, // inside, not seen
		{200, nil},
		{137, nil}, // 200-63, the left edge
		{136, ErrTooOld},
		{137, ErrReplayed},
		{0xffffffff, nil}, // a jump past the window width
		{0xffffffff - 63, nil},
		{0xffffffff - 64, ErrTooOld},
		{200, ErrTooOld},
	}
	for i, s := range steps {
		before := w
		err := w.Check(s.seq)
		if s.want == nil {
			if err != nil {
				t.Fatalf("step %d: Check(%d) = %v", i, s.seq, err)
			}
			if w != before {
				t.Fatalf("step %d: Check changed the window", i)
			}
			if err := w.Accept(s.seq); err != nil {
				t.Fatalf("step %d: Accept(%d) = %v", i, s.seq, err)
			}
			continue
		}
		if !errors.Is(err, s.want) || !errors.Is(err, ErrAuth) {
			t.Fatalf("step %d: Check(%d) = %v, want %v", i, s.seq, err, s.want)
		}
		if err := w.Accept(s.seq); !errors.Is(err, s.want) || w != before {
			t.Fatalf("step %d: Accept(%d) = %v and changed the window", i, s.seq, err)
		}
	}
	if w.Highest() != 0xffffffff {
		t.Errorf("right edge %d", w.Highest())
	}
}

// TestReplayWindowEveryShift: after accepting n, every number of the
// window but n is still acceptable once, and the ones before it are too
// old, for every shift from 1 to beyond the width.
func TestReplayWindowEveryShift(t *testing.T) {
	for shift := uint32(1); shift <= 70; shift++ {
		var w ReplayWindow
		base := uint32(100)
		if err := w.Accept(base); err != nil {
			t.Fatal(err)
		}
		if err := w.Accept(base + shift); err != nil {
			t.Fatal(err)
		}
		for seq := base + shift - ReplayWindowSize - 2; seq <= base+shift; seq++ {
			err := w.Check(seq)
			var want error
			switch {
			case seq+ReplayWindowSize <= base+shift:
				want = ErrTooOld
			case seq == base || seq == base+shift:
				want = ErrReplayed
			}
			if !errors.Is(err, want) || (want == nil && err != nil) {
				t.Fatalf("shift %d, seq %d: %v, want %v", shift, seq, err, want)
			}
		}
	}
}
