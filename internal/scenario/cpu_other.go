//go:build !linux

package scenario

import (
	"errors"
	"time"
)

// ProcessCPU is only supported on Linux.
func ProcessCPU() (user, system time.Duration, err error) { return 0, 0, errors.ErrUnsupported }

// MachineCPU is only supported on Linux.
func MachineCPU() (time.Duration, error) { return 0, errors.ErrUnsupported }

func pidCPU(int) (time.Duration, error) { return 0, errors.ErrUnsupported }
