//go:build !race

package radius

const raceEnabled = false
