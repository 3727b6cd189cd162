//go:build race

package wireerr

// raceEnabled: the race detector changes allocation counts (fmt's
// sync.Pool drops printers at random), so TestWrapAllocs skips.
const raceEnabled = true
