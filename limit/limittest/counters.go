// Package limittest holds the behaviour every limit.Counters must have, as
// a test each implementation runs.
package limittest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/toolgate/toolgate/limit"
)

// Clock is a settable clock for counters under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set sets the clock's time.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// TestCounters checks counters made by newCounters against the clock.
func TestCounters(t *testing.T, clock *Clock, c limit.Counters) {
	ctx := context.Background()
	const day = 24 * time.Hour
	clock.Set(time.Date(2026, 3, 4, 23, 58, 0, 0, time.UTC))
	value := func(key string) int64 {
		t.Helper()
		v, err := c.Value(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := value("spend"); v != 0 {
		t.Fatalf("a counter never reserved reads %d", v)
	}
	steps := []struct {
		amount, max int64
		ok          bool
		value       int64
	}{
		{400, 1000, true, 400},
		{600, 1000, true, 1000}, // exactly the maximum
		{1, 1000, false, 1000},  // over it: refused, unchanged
		{0, 1000, true, 1000},
	}
	var held []limit.Reservation
	for i, s := range steps {
		r, ok, v, err := c.Reserve(ctx, "spend", s.amount, s.max, day)
		if err != nil || ok != s.ok || v != s.value {
			t.Fatalf("step %d: Reserve(%d) = ok %v value %d err %v, want ok %v value %d", i, s.amount, ok, v, err, s.ok, s.value)
		}
		if ok {
			held = append(held, r)
		}
	}
	if err := c.Release(ctx, held[1]); err != nil {
		t.Fatal(err)
	}
	if v := value("spend"); v != 400 {
		t.Fatalf("after releasing 600: %d, want 400", v)
	}
	if _, _, _, err := c.Reserve(ctx, "spend", -5, 1000, day); err == nil {
		t.Fatal("a negative increment was accepted")
	}
	// 23:59:59.999 is still the same day; 00:00 UTC starts a new one.
	clock.Set(time.Date(2026, 3, 4, 23, 59, 59, 999_000_000, time.UTC))
	if v := value("spend"); v != 400 {
		t.Fatalf("at 23:59:59.999: %d, want 400", v)
	}
	clock.Set(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC))
	if v := value("spend"); v != 0 {
		t.Fatalf("at 00:00 UTC the day counter reads %d, want 0", v)
	}
	// Releasing yesterday's reservation leaves today's counter alone.
	if _, ok, _, err := c.Reserve(ctx, "spend", 10, 1000, day); err != nil || !ok {
		t.Fatalf("first reservation of the new day: %v %v", ok, err)
	}
	if err := c.Release(ctx, held[0]); err != nil {
		t.Fatal(err)
	}
	if v := value("spend"); v != 10 {
		t.Fatalf("after releasing yesterday's 400: %d, want 10", v)
	}
	// Keys are separate; a minute counter resets at the next minute.
	clock.Set(time.Date(2026, 3, 5, 10, 31, 59, 0, time.UTC))
	for i := 0; i < 3; i++ {
		if _, ok, _, err := c.Reserve(ctx, "calls", 1, 3, time.Minute); err != nil || !ok {
			t.Fatalf("call %d: %v %v", i, ok, err)
		}
	}
	if _, ok, _, _ := c.Reserve(ctx, "calls", 1, 3, time.Minute); ok {
		t.Fatal("fourth call in the minute allowed")
	}
	clock.Set(time.Date(2026, 3, 5, 10, 32, 0, 0, time.UTC))
	if _, ok, v, _ := c.Reserve(ctx, "calls", 1, 3, time.Minute); !ok || v != 1 {
		t.Fatalf("first call of the next minute: ok %v value %d", ok, v)
	}
	if v := value("spend"); v != 10 {
		t.Fatalf("another key changed the spend: %d", v)
	}
}

// TestLargeBudgets checks budgets in the range of value counters (a spend
// in cents): up to 2^53, added to and taken back exactly.
func TestLargeBudgets(t *testing.T, clock *Clock, c limit.Counters) {
	ctx := context.Background()
	const day = 24 * time.Hour
	const max = int64(1) << 53
	clock.Set(time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC))
	r, ok, v, err := c.Reserve(ctx, "big", max-1, max, day)
	if err != nil || !ok || v != max-1 {
		t.Fatalf("Reserve(2^53-1) = ok %v value %d err %v", ok, v, err)
	}
	if _, ok, v, err := c.Reserve(ctx, "big", 2, max, day); err != nil || ok || v != max-1 {
		t.Fatalf("Reserve(2) over 2^53 = ok %v value %d err %v, want refused at %d", ok, v, err, max-1)
	}
	if _, ok, v, err := c.Reserve(ctx, "big", 1, max, day); err != nil || !ok || v != max {
		t.Fatalf("Reserve(1) up to 2^53 = ok %v value %d err %v", ok, v, err)
	}
	if err := c.Release(ctx, r); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Value(ctx, "big"); err != nil || v != 1 {
		t.Fatalf("after releasing 2^53-1: %d %v, want 1", v, err)
	}
}
