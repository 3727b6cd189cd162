package mip6udp

import "fmt"

// ReplayWindowSize is the receive window of RFC 4303 §3.4.3: "a window
// size of 64 SHOULD be used".
const ReplayWindowSize = 64

// ReplayWindow is the sliding receive window of RFC 4303 §3.4.3 for one
// inbound SA direction (32-bit Sequence Numbers: RFC 6618 has no extended
// sequence numbers). Its right edge is the highest Sequence Number
// accepted; bit i of the bitmap records whether right-edge − i was.
// The zero value is a fresh window: the receiver's counter starts at 0
// (RFC 6618 §4.3) and the first valid Sequence Number is 1. A window is
// not safe for concurrent use; Inbound serializes it.
type ReplayWindow struct {
	right  uint32
	bitmap uint64
}

// Check reports whether seq may be accepted, without changing the window:
// ErrTooOld left of the window (and for 0, which no sender uses), or
// ErrReplayed if it was already accepted. RFC 4303 §3.4.3: the check is
// done before the ICV, the update only after it verified (Accept).
func (w *ReplayWindow) Check(seq uint32) error {
	switch {
	case seq == 0:
		return fmt.Errorf("%w: %w: Sequence Number 0", ErrAuth, ErrTooOld)
	case seq > w.right:
		return nil
	case w.right-seq >= ReplayWindowSize:
		return fmt.Errorf("%w: %w: Sequence Number %d, window %d..%d", ErrAuth, ErrTooOld, seq, w.right-ReplayWindowSize+1, w.right)
	case w.bitmap&(1<<(w.right-seq)) != 0:
		return fmt.Errorf("%w: %w: Sequence Number %d", ErrAuth, ErrReplayed, seq)
	}
	return nil
}

// Accept checks seq again and records it, sliding the window right when
// seq is beyond its right edge. Call it only for a packet whose ICV
// verified.
func (w *ReplayWindow) Accept(seq uint32) error {
	if err := w.Check(seq); err != nil {
		return err
	}
	if seq > w.right {
		shift := seq - w.right
		if shift >= ReplayWindowSize {
			w.bitmap = 0
		} else {
			w.bitmap <<= shift
		}
		w.right = seq
	}
	w.bitmap |= 1 << (w.right - seq)
	return nil
}

// Highest is the right edge: the highest Sequence Number accepted so far.
func (w *ReplayWindow) Highest() uint32 { return w.right }
