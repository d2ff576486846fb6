// Package memory is an in-process rate limiter using the generic cell rate
// algorithm (GCRA).
//
// A budget of max calls per window lets max calls through at once (the burst
// equals max) and then one call every window/max: GCRA spreads the quota
// evenly instead of resetting it at the start of each window. With 30 calls
// per minute, 30 calls pass immediately, the 31st is refused with a
// RetryAfter of about 2s, and from then on one call passes every 2s.
//
// State is one timestamp per key (the theoretical arrival time), held in a
// sharded map with one mutex per shard. Entries whose budget is full again are
// forgotten: each shard is swept lazily, on access, at most once per
// Options.SweepInterval. Budgets are per process: several gateway replicas
// need a shared limiter instead.
package memory

import (
	"context"
	"sync"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit"
)

var _ limit.Limiter = (*Limiter)(nil)

// Options configure a Limiter. A nil *Options means the defaults.
type Options struct {
	// Now is the clock; time.Now when nil. Tests inject a fake clock.
	Now func() time.Time
	// Shards is the number of independently locked shards; 64 when zero.
	Shards int
	// SweepInterval is the least time between two sweeps of a shard that
	// forget full budgets; one minute when zero.
	SweepInterval time.Duration
}

// Limiter is an in-memory GCRA limiter. Its zero value is not usable; call
// New. It is safe for concurrent use.
type Limiter struct {
	now    func() time.Time
	base   time.Time
	shards []shard
}

type shard struct {
	mu        sync.Mutex
	tat       map[string]int64 // theoretical arrival time, ns since base
	lastSweep int64
	every     int64 // sweep interval, ns
}

// New returns a Limiter configured by opts (nil for the defaults).
func New(opts *Options) *Limiter {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Shards <= 0 {
		o.Shards = 64
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = time.Minute
	}
	l := &Limiter{
		now:    o.Now,
		base:   o.Now(),
		shards: make([]shard, o.Shards),
	}
	for i := range l.shards {
		l.shards[i].tat = make(map[string]int64)
		l.shards[i].every = int64(o.SweepInterval)
	}
	return l
}

func (l *Limiter) shardFor(key string) *shard {
	// FNV-1a, inline so that hashing does not allocate.
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return &l.shards[h%uint32(len(l.shards))]
}

func (l *Limiter) elapsed() int64 { return int64(l.now().Sub(l.base)) }

func check(max int, window time.Duration) error {
	if max <= 0 {
		return toolgate.Errorf(toolgate.Invalid, "rate limit max must be positive, got %d", max)
	}
	if window <= 0 {
		return toolgate.Errorf(toolgate.Invalid, "rate limit window must be positive, got %s", window)
	}
	return nil
}

// Take takes one unit from the budget of key: max calls per window, with a
// burst of max.
func (l *Limiter) Take(ctx context.Context, key string, max int, window time.Duration) (limit.Result, error) {
	if err := ctx.Err(); err != nil {
		return limit.Result{}, err
	}
	if err := check(max, window); err != nil {
		return limit.Result{}, err
	}
	interval := int64(window) / int64(max) // emission interval T
	if interval <= 0 {
		interval = 1
	}
	period := interval * int64(max) // the window, rounded down to a multiple of T
	now := l.elapsed()

	s := l.shardFor(key)
	s.mu.Lock()
	s.maybeSweep(now)
	tat, ok := s.tat[key]
	if !ok || tat < now {
		tat = now
	}
	newTAT := tat + interval
	allowAt := newTAT - period
	if now < allowAt {
		s.mu.Unlock()
		return limit.Result{Allowed: false, Remaining: 0, RetryAfter: time.Duration(allowAt - now)}, nil
	}
	s.tat[key] = newTAT
	s.mu.Unlock()
	return limit.Result{Allowed: true, Remaining: int((now - allowAt) / interval)}, nil
}

// Refund gives one unit back to the budget of key. Refunding a budget that is
// already full does nothing.
func (l *Limiter) Refund(ctx context.Context, key string, max int, window time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := check(max, window); err != nil {
		return err
	}
	interval := int64(window) / int64(max)
	if interval <= 0 {
		interval = 1
	}
	now := l.elapsed()
	s := l.shardFor(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	tat, ok := s.tat[key]
	if !ok {
		return nil
	}
	tat -= interval
	if tat <= now {
		delete(s.tat, key)
		return nil
	}
	s.tat[key] = tat
	return nil
}

// Len reports how many keys the limiter currently remembers.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.tat)
		s.mu.Unlock()
	}
	return n
}

// Sweep forgets every budget that is full again, in every shard, now.
func (l *Limiter) Sweep() {
	now := l.elapsed()
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		s.sweepLocked(now)
		s.mu.Unlock()
	}
}

// maybeSweep sweeps the shard if the last sweep is older than the sweep
// interval. The caller holds s.mu.
func (s *shard) maybeSweep(now int64) {
	if now-s.lastSweep < s.every {
		return
	}
	s.sweepLocked(now)
}

func (s *shard) sweepLocked(now int64) {
	for k, tat := range s.tat {
		if tat <= now {
			delete(s.tat, k)
		}
	}
	s.lastSweep = now
}
