package memory

import (
	"testing"
	"time"

	"github.com/toolgate/toolgate/limit/limittest"
)

func TestCounters(t *testing.T) {
	clock := limittest.NewClock(time.Time{})
	limittest.TestCounters(t, clock, NewCounters(clock.Now))
}

func TestLargeBudgets(t *testing.T) {
	clock := limittest.NewClock(time.Time{})
	limittest.TestLargeBudgets(t, clock, NewCounters(clock.Now))
}
