package cli

import (
	"context"
	"time"
)

// clockKey is the context key of the clock the gateway's windowed
// counters read (see withClock).
type clockKey struct{}

// withClock returns ctx carrying now, the clock Main gives the counters
// of the gateways it starts: the seam through which tests move a running
// command across (or within) a UTC day without waiting for one. Without
// it the counters read time.Now.
func withClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// clockOf returns the clock withClock put in ctx, or nil (time.Now).
func clockOf(ctx context.Context) func() time.Time {
	now, _ := ctx.Value(clockKey{}).(func() time.Time)
	return now
}
