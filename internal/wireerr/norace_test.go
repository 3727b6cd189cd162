//go:build !race

package wireerr

const raceEnabled = false
