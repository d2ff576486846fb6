//go:build unix

package scan

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (user and system, the
// garbage collector's included): on a shared machine the scanner's cost
// is better measured by it than by the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
