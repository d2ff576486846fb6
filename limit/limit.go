// Package limit defines how toolgate counts calls against rate limits.
//
// A Limiter keeps one budget per key. The policy package builds keys from a
// limit's counter name and the value of its scope (grant, identity, session or
// global), so that every limit sharing a counter and a scope value shares one
// budget. Implementations live in subpackages: limit/memory for a single
// process.
package limit

import (
	"context"
	"time"
)

// Result is the outcome of taking one unit from a budget.
type Result struct {
	// Allowed reports whether the unit was taken.
	Allowed bool
	// Remaining is how many more units could be taken right now.
	Remaining int
	// RetryAfter is how long to wait before a unit can be taken again;
	// zero when Allowed.
	RetryAfter time.Duration
}

// Limiter counts calls against budgets of max calls per window.
//
// Implementations must be safe for concurrent use. max and window are passed
// on every call so that a Limiter needs no configuration of its own; callers
// must use the same max and window for a given key.
type Limiter interface {
	// Take takes one unit from the budget of key.
	Take(ctx context.Context, key string, max int, window time.Duration) (Result, error)
	// Refund gives one previously taken unit back to the budget of key, for
	// a call that was reserved but never reached the upstream server.
	Refund(ctx context.Context, key string, max int, window time.Duration) error
}
