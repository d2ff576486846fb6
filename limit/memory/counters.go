package memory

import (
	"context"
	"sync"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit"
)

var _ limit.Counters = (*Counters)(nil)

// Counters is an in-process limit.Counters: windowed counters that last as
// long as the process. Its zero value is not usable; call NewCounters.
type Counters struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]counter
}

type counter struct {
	value  int64
	start  time.Time
	window time.Duration
}

// NewCounters returns empty counters read against now (time.Now when nil).
func NewCounters(now func() time.Time) *Counters {
	if now == nil {
		now = time.Now
	}
	return &Counters{now: now, m: map[string]counter{}}
}

// checkAmount refuses what no counter can hold.
func checkAmount(amount int64, window time.Duration) error {
	if amount < 0 {
		return toolgate.Errorf(toolgate.Invalid, "counter increment must not be negative, got %d", amount)
	}
	if window <= 0 {
		return toolgate.Errorf(toolgate.Invalid, "counter window must be positive, got %s", window)
	}
	return nil
}

// Reserve implements limit.Counters.
func (c *Counters) Reserve(ctx context.Context, key string, amount, max int64, window time.Duration) (limit.Reservation, bool, int64, error) {
	if err := ctx.Err(); err != nil {
		return limit.Reservation{}, false, 0, err
	}
	if err := checkAmount(amount, window); err != nil {
		return limit.Reservation{}, false, 0, err
	}
	start := limit.WindowStart(c.now(), window)
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.m[key]
	if !cur.start.Equal(start) {
		cur = counter{start: start}
	}
	cur.window = window
	if cur.value+amount > max {
		return limit.Reservation{}, false, cur.value, nil
	}
	cur.value += amount
	c.m[key] = cur
	return limit.Reservation{Key: key, Amount: amount, Start: start}, true, cur.value, nil
}

// Release implements limit.Counters.
func (c *Counters) Release(_ context.Context, r limit.Reservation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.m[r.Key]
	if !ok || !cur.start.Equal(r.Start) {
		return nil
	}
	cur.value = max(cur.value-r.Amount, 0)
	c.m[r.Key] = cur
	return nil
}

// Value implements limit.Counters.
func (c *Counters) Value(ctx context.Context, key string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	cur, ok := c.m[key]
	c.mu.Unlock()
	if !ok || !cur.start.Equal(limit.WindowStart(c.now(), cur.window)) {
		return 0, nil
	}
	return cur.value, nil
}
