//go:build linux

package scenario

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ProcessCPU returns the user and system CPU time the process has used so
// far, all threads together (getrusage(2), RUSAGE_SELF). System time
// includes the kernel's work on the loopback packets this process sends:
// their receive path runs in the softirq of the sending thread.
func ProcessCPU() (user, system time.Duration, err error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, err
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), nil
}

// MachineCPU returns the CPU time all CPUs of the machine have spent busy
// (everything but idle and iowait) since boot, from /proc/stat, in clock
// ticks converted at USER_HZ = 100. Compared with ProcessCPU over the same
// interval it tells how much other processes took during a measurement.
func MachineCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, fmt.Errorf("scenario: /proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for i, s := range f[1:] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("scenario: /proc/stat: field %d: %w", i+1, err)
		}
		if i != 3 && i != 4 && i < 8 { // idle, iowait; guest times are inside user
			busy += v
		}
	}
	return time.Duration(busy) * 10 * time.Millisecond, nil
}

// pidCPU returns the user and system CPU time process pid has used so far,
// all threads, from /proc/PID/stat (fields 14 and 15, clock ticks at
// USER_HZ = 100).
func pidCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("scenario: /proc/%d/stat: unexpected format", pid)
	}
	var ticks int64
	for _, s := range f[11:13] { // utime, stime
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("scenario: /proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}
