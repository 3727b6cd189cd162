//go:build !unix

package cga

import "time"

// cpuTime is not measured here: cpu-scaling and cores-used read NaN.
func cpuTime() time.Duration { return 0 }
