package policy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit"
	"github.com/toolgate/toolgate/limit/memory"
)

func TestEnforce(t *testing.T) {
	e := mustLoad(t, seedDoc)
	now := time.Unix(1000, 0)
	l := memory.New(&memory.Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	c := &toolgate.Call{Tool: "UpdateUser", Identity: &toolgate.Identity{Subject: "a", Grant: "g1"}}
	d, limits := e.Decide(c)
	if !d.Allowed() {
		t.Fatal(d)
	}
	for i := 0; i < 30; i++ {
		d, err := Enforce(ctx, l, c, limits)
		if err != nil || !d.Allowed() {
			t.Fatalf("call %d: %+v %v", i+1, d, err)
		}
	}
	d, err := Enforce(ctx, l, c, limits)
	if err != nil || d.Allowed() {
		t.Fatalf("31st call: %+v %v", d, err)
	}
	if d.Kind != KindLimit || d.Rule != "/tools/UpdateUser/limits/0" || d.RetryAfter != 2*time.Second ||
		d.Reason != "rate limit of 30 per minute reached; retry in 2s" {
		t.Fatalf("31st call: %+v", d)
	}
	// Another grant has its own budget.
	other := &toolgate.Call{Tool: "UpdateUser", Identity: &toolgate.Identity{Subject: "a", Grant: "g2"}}
	if d, _ := Enforce(ctx, l, other, limits); !d.Allowed() {
		t.Fatalf("grant g2: %+v", d)
	}
	// Rollback returns the unit.
	if err := Rollback(ctx, l, other, limits); err != nil {
		t.Fatal(err)
	}
}

func TestEnforceRefundsEarlierLimits(t *testing.T) {
	e := mustLoad(t, `{"version":"1","default":"deny",
		"all_tools":{"limits":[{"counter":"all","window":"minute","max":10}]},
		"tools":{"a":{"limits":[{"counter":"a","window":"minute","max":1}]}}}`)
	l := memory.New(nil)
	ctx := context.Background()
	c := &toolgate.Call{Tool: "a", Identity: &toolgate.Identity{Grant: "g"}}
	_, limits := e.Decide(c)
	if d, _ := Enforce(ctx, l, c, limits); !d.Allowed() {
		t.Fatal(d)
	}
	for i := 0; i < 20; i++ {
		d, _ := Enforce(ctx, l, c, limits)
		if d.Allowed() || d.Rule != "/tools/a/limits/0" {
			t.Fatalf("call %d: %+v", i, d)
		}
	}
	// The all_tools budget was refunded each time: 9 units remain.
	r, _ := l.Take(ctx, limits[0].Key(c), 10, time.Minute)
	if !r.Allowed || r.Remaining != 8 {
		t.Fatalf("all_tools budget leaked: %+v", r)
	}
}

type failing struct{ limit.Limiter }

func (failing) Take(context.Context, string, int, time.Duration) (limit.Result, error) {
	return limit.Result{}, errors.New("down")
}

func TestEnforceFailsClosed(t *testing.T) {
	e := mustLoad(t, seedDoc)
	c := &toolgate.Call{Tool: "UpdateUser"}
	_, limits := e.Decide(c)
	d, err := Enforce(context.Background(), failing{}, c, limits)
	if err == nil || d.Allowed() || !strings.Contains(err.Error(), "down") {
		t.Fatalf("%+v %v", d, err)
	}
}

func TestRetryText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2 * time.Second: "2s", 1500 * time.Millisecond: "2s", time.Millisecond: "1s", 90 * time.Second: "1m30s", 0: "0s",
	} {
		if got := retryText(d); got != want {
			t.Errorf("%s: %s, want %s", d, got, want)
		}
	}
}
