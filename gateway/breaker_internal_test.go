package gateway

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The breaker's states over a sequence of outcomes, on a fake clock.
func TestBreakerStates(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newBreaker(&Server{Name: "docs", BreakerFailures: 3, BreakerCooldown: 10 * time.Second})
	b.now = func() time.Time { return now }
	ctx := context.Background()
	boom := errors.New("HTTP 502")
	type step struct {
		advance time.Duration
		result  error // what the server did, when allowed
		allowed bool  // whether the request may go
		state   string
	}
	steps := []step{
		{0, boom, true, ""},
		{0, nil, true, ""}, // a success resets the count
		{0, boom, true, ""},
		{0, boom, true, ""},
		{0, boom, true, "open"},               // third in a row: open for 10s
		{5 * time.Second, nil, false, "open"}, // refused without reaching the server
		{5 * time.Second, boom, true, "open"}, // the trial fails: open for 20s
		{19 * time.Second, nil, false, "open"},
		{time.Second, nil, true, ""},     // the trial succeeds: closed
		{0, boom, true, ""},              // counting again from zero
		{0, errUpstreamClosed, true, ""}, // this session ended: not the server's failure
		{0, context.Canceled, true, ""},  // neither is a cancelled request (ctx checked below)
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		trial, err := b.allow()
		if (err == nil) != s.allowed {
			t.Fatalf("step %d: allowed %v (%v), want %v", i, err == nil, err, s.allowed)
		}
		if err == nil {
			rctx := ctx
			if errors.Is(s.result, context.Canceled) {
				c, cancel := context.WithCancel(ctx)
				cancel()
				rctx = c
			}
			b.done(rctx, trial, s.result)
		} else {
			var open *errCircuitOpen
			if !errors.As(err, &open) || !errors.Is(err, boom) {
				t.Fatalf("step %d: refusal %v", i, err)
			}
		}
		if st, _, _ := b.state(); st != s.state {
			t.Fatalf("step %d: state %q, want %q", i, st, s.state)
		}
	}
	// While a trial is under way, other requests are refused.
	b2 := newBreaker(&Server{Name: "x", BreakerFailures: 1, BreakerCooldown: time.Second})
	b2.now = func() time.Time { return now }
	trial, _ := b2.allow()
	b2.done(ctx, trial, boom)
	now = now.Add(2 * time.Second)
	if trial, err := b2.allow(); err != nil || !trial {
		t.Fatalf("half-open: trial %v %v", trial, err)
	}
	if _, err := b2.allow(); err == nil {
		t.Fatal("a second request went during the trial")
	}
	// Off.
	off := newBreaker(&Server{Name: "y", BreakerFailures: -1})
	for i := 0; i < 10; i++ {
		trial, err := off.allow()
		if err != nil {
			t.Fatal(err)
		}
		off.done(ctx, trial, boom)
	}
}
