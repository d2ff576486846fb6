package policy

import (
	"context"
	"fmt"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit"
)

// Enforce takes one unit from every limit, in order, for an allowed call.
// When a limit refuses, the units already taken for this call are refunded
// and a denial of kind "limit" names the refusing limit's pointer, with
// RetryAfter set. When every limit has room it returns an Allow decision of
// kind "limit"; the caller then forwards the call, and calls Rollback if the
// call never reaches the upstream server.
//
// If the limiter fails, Enforce refunds what it took and returns a denial
// together with the error, so that a caller that ignores the error still
// fails closed.
func Enforce(ctx context.Context, l limit.Limiter, c *toolgate.Call, limits []Limit) (toolgate.Decision, error) {
	for i := range limits {
		lim := &limits[i]
		res, err := l.Take(ctx, lim.Key(c), lim.Max, lim.Window)
		if err != nil {
			refund(ctx, l, c, limits[:i])
			return toolgate.Decision{Action: toolgate.Deny, Rule: lim.Pointer, Kind: KindLimit,
				Reason: "rate limit could not be checked; try again later"}, fmt.Errorf("policy: limit %s: %w", lim.Pointer, err)
		}
		if !res.Allowed {
			refund(ctx, l, c, limits[:i])
			return toolgate.Decision{Action: toolgate.Deny, Rule: lim.Pointer, Kind: KindLimit,
				Reason:     fmt.Sprintf("rate limit of %d per %s reached; retry in %s", lim.Max, describeWindow(lim.Window), retryText(res.RetryAfter)),
				RetryAfter: res.RetryAfter}, nil
		}
	}
	return toolgate.Decision{Action: toolgate.Allow, Kind: KindLimit}, nil
}

// Rollback gives back the units Enforce took for a call, for a call that
// was reserved but never reached the upstream server. It refunds every
// limit and returns the first error.
func Rollback(ctx context.Context, l limit.Limiter, c *toolgate.Call, limits []Limit) error {
	return refund(ctx, l, c, limits)
}

func refund(ctx context.Context, l limit.Limiter, c *toolgate.Call, limits []Limit) error {
	var first error
	for i := range limits {
		lim := &limits[i]
		if err := l.Refund(context.WithoutCancel(ctx), lim.Key(c), lim.Max, lim.Window); err != nil && first == nil {
			first = fmt.Errorf("policy: refund %s: %w", lim.Pointer, err)
		}
	}
	return first
}

// retryText renders a wait rounded up to whole seconds: "2s", "1m30s".
func retryText(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	s := (d + time.Second - 1) / time.Second
	return (s * time.Second).String()
}
