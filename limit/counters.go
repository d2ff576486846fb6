package limit

import (
	"context"
	"time"
)

// Counters keeps amounts that add up over calendar-aligned UTC windows:
// the stateful counters of Intercept-format policies (a number of calls,
// or a spend, per minute, hour or day) and the value counters of
// toolgate's own limits (increment_from). A Redis implementation can keep
// them for several replicas behind this same interface. Unlike a Limiter's budget, which
// refills gradually, a counter's window starts at a fixed instant (the
// start of the UTC minute, hour or day, see WindowStart) and the counter
// reads zero again when the next one begins.
//
// A call reserves its amount before it is forwarded; the reservation
// stands when the upstream answers, and is released when it fails.
// Implementations must be safe for concurrent use; limit/memory keeps
// counters in the process, limit/sqlite in a file that outlives it.
type Counters interface {
	// Reserve adds amount to the counter key in the window containing
	// now, unless the result would exceed max: then it changes nothing
	// and reports false. value is the counter after the call (before it,
	// when refused).
	Reserve(ctx context.Context, key string, amount, max int64, window time.Duration) (r Reservation, ok bool, value int64, err error)
	// Release takes a reservation back: for a call the upstream did not
	// serve. A reservation made in a window that has since ended is not
	// taken from the new window. The counter never goes below zero.
	Release(ctx context.Context, r Reservation) error
	// Value is the counter key in its current window: zero when it was
	// never reserved or its last window has ended.
	Value(ctx context.Context, key string) (int64, error)
}

// Reservation is an amount added to a counter, as Release needs it.
type Reservation struct {
	Key    string
	Amount int64
	// Start is the start of the window the amount was added in.
	Start time.Time
}

// WindowStart is the start of the calendar-aligned UTC window of the given
// length that contains t: the start of the minute, hour or day for those
// lengths; t truncated to a multiple of window since the Unix epoch
// otherwise.
func WindowStart(t time.Time, window time.Duration) time.Time {
	t = t.UTC()
	y, m, d := t.Date()
	switch window {
	case time.Minute:
		return time.Date(y, m, d, t.Hour(), t.Minute(), 0, 0, time.UTC)
	case time.Hour:
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, time.UTC)
	case 24 * time.Hour:
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	if window <= 0 {
		return t
	}
	return t.Truncate(window)
}
