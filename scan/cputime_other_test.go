//go:build !unix

package scan

import "time"

// cpuTime is not measured here: BenchmarkScan10k reports wall time only.
func cpuTime() time.Duration { return 0 }
