//go:build race

package radius

// raceEnabled: the race detector changes allocation counts (sync.Pool
// drops items at random), so the AllocsPerRun tests skip.
const raceEnabled = true
