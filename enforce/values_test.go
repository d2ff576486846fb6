package enforce

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit/limittest"
	"github.com/toolgate/toolgate/limit/memory"
)

const spendPolicy = `{"version":"1","default":"deny","tools":{
	"charge":{"limits":[
		{"counter":"calls","window":"hour","max":100,"scope":"grant"},
		{"counter":"spend","window":"day","max":1000,"increment_from":"args.amount","scope":"grant"}]},
	"big":{"action":"approve","limits":[{"counter":"spend","window":"day","max":1000,"increment_from":"args.amount","scope":"grant"}]},
	"trial":{"mode":"shadow","limits":[{"counter":"trial","window":"day","max":10,"increment_from":"args.amount","scope":"grant"}]}}}`

// A value counter is reserved by Check, stays taken when the call is
// served, and comes back with Rollback (never served) or ReleaseCounters
// (answered with an error); the rate-limit quota goes back only with
// Rollback.
func TestValueCounterReserveCommitRollback(t *testing.T) {
	ctx := context.Background()
	eng := load(t, spendPolicy)
	clock := limittest.NewClock(time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC))
	counters := memory.NewCounters(clock.Now)
	approver := &fakeApprover{approve: false}
	p := &Pipeline{Limiter: memory.New(nil), Counters: counters, Approvals: approver, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	spent := func() int64 {
		t.Helper()
		v, err := counters.Value(ctx, `\v|spend|grant|anonymous`)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	check := func(tool string, amount float64) *Verdict {
		t.Helper()
		return p.Check(ctx, eng, call(tool, map[string]any{"amount": amount}), nil)
	}

	v := check("charge", 600)
	if !v.Allowed() || !v.Counted() || spent() != 600 {
		t.Fatalf("first charge: %+v counted %v spent %d", v.Decision, v.Counted(), spent())
	}
	// Served: the reservation stands.
	v = check("charge", 500)
	if v.Allowed() || v.Kind != toolgate.KindLimit || v.Rule != "/tools/charge/limits/1" || !strings.Contains(v.Reason, "limit of 1000 per day on args.amount") {
		t.Fatalf("over the budget: %+v", v.Decision)
	}
	// The refusal gave the call-count quota back: 100 an hour is untouched.
	v = check("charge", 300)
	if !v.Allowed() || spent() != 900 {
		t.Fatalf("third charge: %+v spent %d", v.Decision, spent())
	}
	// The upstream answered with an error: the amount comes back.
	if err := v.ReleaseCounters(ctx); err != nil || spent() != 600 {
		t.Fatalf("release: %v spent %d", err, spent())
	}
	v = check("charge", 400)
	if !v.Allowed() || spent() != 1000 {
		t.Fatalf("fourth charge: %+v spent %d", v.Decision, spent())
	}
	// Never served: everything comes back.
	if err := v.Rollback(ctx); err != nil || spent() != 600 {
		t.Fatalf("rollback: %v spent %d", err, spent())
	}
	// A refused approval gives the amount back too.
	v = check("big", 100)
	if v.Allowed() || v.Kind != toolgate.KindApproval || approver.asked != 1 || spent() != 600 {
		t.Fatalf("refused approval: %+v asked %d spent %d", v.Decision, approver.asked, spent())
	}
	// A bad argument refuses before anything is reserved or asked.
	v = p.Check(ctx, eng, call("big", map[string]any{"amount": "lots"}), nil)
	if v.Allowed() || v.Kind != toolgate.KindArgs || v.Rule != "/tools/big/limits/0/increment_from" || approver.asked != 1 {
		t.Fatalf("bad argument: %+v asked %d", v.Decision, approver.asked)
	}
	// Shadow mode: over the budget is recorded, and the call goes through.
	if v = check("trial", 8); !v.Allowed() || v.Kind == toolgate.KindShadowDenied {
		t.Fatalf("trial within budget: %+v", v.Decision)
	}
	v = check("trial", 8)
	if !v.Allowed() || v.Kind != toolgate.KindShadowDenied || v.ShadowKind != toolgate.KindLimit || v.Rule != "/tools/trial/limits/0" {
		t.Fatalf("trial over budget: %+v", v.Decision)
	}
}
