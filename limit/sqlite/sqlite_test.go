package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/toolgate/toolgate/limit/limittest"
)

func TestCounters(t *testing.T) {
	clock := limittest.NewClock(time.Time{})
	c, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	limittest.TestCounters(t, clock, c)
}

func TestLargeBudgets(t *testing.T) {
	clock := limittest.NewClock(time.Time{})
	c, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	limittest.TestLargeBudgets(t, clock, c)
}

// A budget spent before a restart is still spent after it: the counters
// are reopened from the same file.
func TestCountersSurviveRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "toolgate.db")
	clock := limittest.NewClock(time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC))
	c, err := Open(ctx, path, clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _, err := c.Reserve(ctx, "create_charge.daily_spend", 900, 1000, 24*time.Hour); err != nil || !ok {
		t.Fatalf("reserve: %v %v", ok, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC))
	c, err = Open(ctx, path, clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.Value(ctx, "create_charge.daily_spend"); err != nil || v != 900 {
		t.Fatalf("after the restart: %d %v, want 900", v, err)
	}
	if _, ok, _, err := c.Reserve(ctx, "create_charge.daily_spend", 200, 1000, 24*time.Hour); err != nil || ok {
		t.Fatalf("200 more after the restart: ok %v err %v, want refused", ok, err)
	}
}
