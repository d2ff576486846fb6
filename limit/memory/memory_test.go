package memory

import (
	"context"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newTest() (*Limiter, *clock) {
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	return New(&Options{Now: c.Now}), c
}

func TestBurstThenRefuse(t *testing.T) {
	l, _ := newTest()
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		r, err := l.Take(ctx, "k", 30, time.Minute)
		if err != nil || !r.Allowed {
			t.Fatalf("call %d: %+v %v", i+1, r, err)
		}
		if want := 29 - i; r.Remaining != want {
			t.Fatalf("call %d: remaining %d, want %d", i+1, r.Remaining, want)
		}
	}
	r, err := l.Take(ctx, "k", 30, time.Minute)
	if err != nil || r.Allowed {
		t.Fatalf("31st call allowed: %+v %v", r, err)
	}
	if r.RetryAfter <= 0 || r.RetryAfter != 2*time.Second {
		t.Fatalf("31st call: retry after %s, want 2s", r.RetryAfter)
	}
}

func TestSpreadsQuota(t *testing.T) {
	l, c := newTest()
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		l.Take(ctx, "k", 30, time.Minute)
	}
	c.Add(1999 * time.Millisecond)
	if r, _ := l.Take(ctx, "k", 30, time.Minute); r.Allowed || r.RetryAfter != time.Millisecond {
		t.Fatalf("after 1.999s: %+v", r)
	}
	c.Add(time.Millisecond)
	if r, _ := l.Take(ctx, "k", 30, time.Minute); !r.Allowed || r.Remaining != 0 {
		t.Fatalf("after 2s: %+v", r)
	}
	if r, _ := l.Take(ctx, "k", 30, time.Minute); r.Allowed {
		t.Fatalf("second call after 2s allowed: %+v", r)
	}
	c.Add(time.Minute)
	if r, _ := l.Take(ctx, "k", 30, time.Minute); !r.Allowed || r.Remaining != 29 {
		t.Fatalf("after a full window: %+v", r)
	}
}

func TestKeysAreIndependent(t *testing.T) {
	l, _ := newTest()
	ctx := context.Background()
	if r, _ := l.Take(ctx, "a", 1, time.Hour); !r.Allowed {
		t.Fatal("a refused")
	}
	if r, _ := l.Take(ctx, "a", 1, time.Hour); r.Allowed {
		t.Fatal("a allowed twice")
	}
	if r, _ := l.Take(ctx, "b", 1, time.Hour); !r.Allowed {
		t.Fatal("b refused")
	}
}

func TestRefund(t *testing.T) {
	l, _ := newTest()
	ctx := context.Background()
	l.Take(ctx, "k", 2, time.Minute)
	l.Take(ctx, "k", 2, time.Minute)
	if r, _ := l.Take(ctx, "k", 2, time.Minute); r.Allowed {
		t.Fatal("third call allowed")
	}
	if err := l.Refund(ctx, "k", 2, time.Minute); err != nil {
		t.Fatal(err)
	}
	if r, _ := l.Take(ctx, "k", 2, time.Minute); !r.Allowed {
		t.Fatalf("refunded unit not available: %+v", r)
	}
	// Refunding more than was taken leaves a full budget, never more.
	for i := 0; i < 5; i++ {
		l.Refund(ctx, "k", 2, time.Minute)
	}
	for i := 0; i < 2; i++ {
		if r, _ := l.Take(ctx, "k", 2, time.Minute); !r.Allowed {
			t.Fatalf("call %d refused after over-refund", i)
		}
	}
	if r, _ := l.Take(ctx, "k", 2, time.Minute); r.Allowed {
		t.Fatal("over-refund raised the budget above max")
	}
	if err := l.Refund(ctx, "unknown", 2, time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestSweep(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	l := New(&Options{Now: c.Now, Shards: 1, SweepInterval: time.Second})
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		l.Take(ctx, k, 10, time.Second)
	}
	if n := l.Len(); n != 3 {
		t.Fatalf("len %d", n)
	}
	c.Add(2 * time.Second)
	l.Take(ctx, "d", 10, time.Second) // triggers the lazy sweep
	if n := l.Len(); n != 1 {
		t.Fatalf("after lazy sweep len %d, want 1", n)
	}
	c.Add(2 * time.Second)
	l.Sweep()
	if n := l.Len(); n != 0 {
		t.Fatalf("after Sweep len %d", n)
	}
}

func TestInvalid(t *testing.T) {
	l, _ := newTest()
	ctx := context.Background()
	if _, err := l.Take(ctx, "k", 0, time.Minute); err == nil {
		t.Fatal("max 0 accepted")
	}
	if _, err := l.Take(ctx, "k", 1, 0); err == nil {
		t.Fatal("window 0 accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Take(cctx, "k", 1, time.Minute); err == nil {
		t.Fatal("cancelled context accepted")
	}
}

func TestConcurrent(t *testing.T) {
	l := New(nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if r, _ := l.Take(ctx, "k", 50, time.Hour); r.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 50 {
		t.Fatalf("allowed %d, want 50", allowed)
	}
}

func BenchmarkTake(b *testing.B) {
	l := New(nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		l.Take(ctx, "updateuser_rate|grant|g1", 1<<30, time.Minute)
	}
}
