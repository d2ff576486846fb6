package policy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit/limittest"
	"github.com/toolgate/toolgate/limit/memory"
)

// spendDoc caps the amount charged per grant and UTC day, in cents.
const spendDoc = `{
  "version": "1",
  "default": "allow",
  "tools": {
    "create_charge": {
      "limits": [
        {"counter": "daily_spend", "window": "day", "max": 5000000000, "increment_from": "args.charge.amount", "scope": "grant"},
        {"counter": "charges", "window": "minute", "max": 100, "scope": "grant"}
      ]
    },
    "create_payout": {
      "limits": [{"counter": "daily_spend", "window": "day", "max": 5000000000, "increment_from": "args.total", "scope": "grant"}]
    }
  }
}`

func TestValueCounterErrors(t *testing.T) {
	doc := func(limit string) string {
		return "version: \"1\"\ndefault: allow\ntools:\n  t:\n    limits:\n      - " + limit + "\n"
	}
	tests := []struct {
		name  string
		limit string
		want  []wantErr
	}{
		{"window not calendar", `{counter: s, window: 90s, max: 10, increment_from: args.a}`,
			[]wantErr{{6, 30, "/tools/t/limits/0/window", `counts in calendar windows: window must be "minute", "hour" or "day", got "90s"`}}},
		{"window in seconds", `{counter: s, window: 7200, max: 10, increment_from: args.a}`,
			[]wantErr{{6, 30, "/tools/t/limits/0/window", `got "7200"`}}},
		{"window missing", `{counter: s, max: 10, increment_from: args.a}`,
			[]wantErr{{6, 9, "/tools/t/limits/0", `missing required key "window"`}}},
		{"max zero", `{counter: s, window: day, max: 0, increment_from: args.a}`,
			[]wantErr{{6, 40, "/tools/t/limits/0/max", "max of a value counter must be between 1 and 9007199254740992, got 0"}}},
		{"max negative", `{counter: s, window: day, max: -5, increment_from: args.a}`,
			[]wantErr{{6, 40, "/tools/t/limits/0/max", "between 1 and"}}},
		{"max too large", `{counter: s, window: day, max: 9007199254740993, increment_from: args.a}`,
			[]wantErr{{6, 40, "/tools/t/limits/0/max", "got 9007199254740993"}}},
		{"max a fraction", `{counter: s, window: day, max: 10.5, increment_from: args.a}`,
			[]wantErr{{6, 40, "/tools/t/limits/0/max", "max must be a whole number"}}},
		{"large max without increment_from", `{counter: s, window: day, max: 5000000000}`,
			[]wantErr{{6, 40, "/tools/t/limits/0/max", "max must be between 1 and 1000000000"}}},
		{"increment_from not args", `{counter: s, window: day, max: 10, increment_from: amount}`,
			[]wantErr{{6, 60, "/tools/t/limits/0/increment_from", `increment_from must start with "args.", got "amount"`}}},
		{"increment_from empty segment", `{counter: s, window: day, max: 10, increment_from: args.a..b}`,
			[]wantErr{{6, 60, "/tools/t/limits/0/increment_from", "has an empty segment"}}},
		{"increment_from bare args", `{counter: s, window: day, max: 10, increment_from: "args."}`,
			[]wantErr{{6, 60, "/tools/t/limits/0/increment_from", "has an empty segment"}}},
		{"increment_from not a string", `{counter: s, window: day, max: 10, increment_from: [args.a]}`,
			[]wantErr{{6, 60, "/tools/t/limits/0/increment_from", "must be a string"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, doc(tt.limit), tt.want)
		})
	}
	t.Run("shared with a count of calls", func(t *testing.T) {
		checkErrors(t, `{"version": "1", "default": "allow", "tools": {
"a": {"limits": [{"counter": "s", "window": "day", "max": 10}]},
"b": {"limits": [{"counter": "s", "window": "day", "max": 10, "increment_from": "args.x"}]}}}`,
			[]wantErr{{3, 18, "/tools/b/limits/0", "declared at /tools/a/limits/0 as a count of calls; here as a value counter"}})
	})
}

// The calls a value counter allows, refuses, and refuses for its argument,
// reserved as the pipeline does (Evaluate, then ReserveCounters).
func TestValueCounters(t *testing.T) {
	ctx := context.Background()
	e, err := Load([]byte(spendDoc), "spend.json")
	if err != nil {
		t.Fatal(err)
	}
	clock := limittest.NewClock(time.Date(2026, 3, 4, 22, 0, 0, 0, time.UTC))
	counters := memory.NewCounters(clock.Now)
	alice := &toolgate.Identity{Subject: "alice", Grant: "g1"}
	bob := &toolgate.Identity{Subject: "bob", Grant: "g2"}
	charge := func(id *toolgate.Identity, amount any) map[string]any {
		return map[string]any{"charge": map[string]any{"amount": amount}}
	}
	steps := []struct {
		name   string
		id     *toolgate.Identity
		tool   string
		args   map[string]any
		action toolgate.Action
		kind   toolgate.Kind
		rule   string
		reason string // substring
	}{
		{"most of the budget", alice, "create_charge", charge(alice, 4_000_000_000.0), toolgate.Allow, KindRule, "/tools/create_charge", ""},
		{"a payout shares it", alice, "create_payout", map[string]any{"total": json.Number("900000000")}, toolgate.Allow, KindRule, "/tools/create_payout", ""},
		{"over the rest", alice, "create_charge", charge(alice, 100_000_001.0), toolgate.Deny, KindLimit, "/tools/create_charge/limits/0",
			"limit of 5000000000 per day on args.charge.amount reached: this call adds 100000001"},
		{"exactly the rest", alice, "create_charge", charge(alice, 99_999_999.5), toolgate.Allow, KindRule, "/tools/create_charge", ""},
		{"nothing left", alice, "create_charge", charge(alice, 1.0), toolgate.Deny, KindLimit, "/tools/create_charge/limits/0", "per day"},
		{"zero still passes", alice, "create_charge", charge(alice, 0.0), toolgate.Allow, KindRule, "/tools/create_charge", ""},
		{"another grant has its own", bob, "create_charge", charge(bob, 5_000_000_000.0), toolgate.Allow, KindRule, "/tools/create_charge", ""},
		{"missing", bob, "create_charge", map[string]any{"charge": map[string]any{}}, toolgate.Deny, KindArgs, "/tools/create_charge/limits/0/increment_from",
			"argument args.charge.amount is missing; the limit at /tools/create_charge/limits/0 counts it"},
		{"parent not an object", bob, "create_charge", map[string]any{"charge": "x"}, toolgate.Deny, KindArgs, "/tools/create_charge/limits/0/increment_from", "is missing"},
		{"null", bob, "create_charge", charge(bob, nil), toolgate.Deny, KindArgs, "/tools/create_charge/limits/0/increment_from", "is missing"},
		{"a string", bob, "create_charge", charge(bob, "10"), toolgate.Deny, KindArgs, "/tools/create_charge/limits/0/increment_from", "args.charge.amount must be a number"},
		{"negative", bob, "create_charge", charge(bob, -5.0), toolgate.Deny, KindArgs, "/tools/create_charge/limits/0/increment_from", "must not be negative"},
		{"too large", bob, "create_charge", charge(bob, 1e300), toolgate.Deny, KindArgs, "/tools/create_charge/limits/0/increment_from", "larger than any budget"},
		{"overflowing number", bob, "create_charge", charge(bob, json.Number("1e400")), toolgate.Deny, KindArgs, "/tools/create_charge/limits/0/increment_from", "must be a number"},
	}
	for _, s := range steps {
		call := &toolgate.Call{Tool: s.tool, Args: s.args, Identity: s.id}
		o := e.EvaluateState(ctx, call, counters)
		d := o.Decision
		if d.Allowed() {
			for _, l := range o.Limits {
				if l.Value() {
					t.Fatalf("%s: value counter %s among the rate limits", s.name, l.Pointer)
				}
			}
			_, rd, err := ReserveCounters(ctx, counters, o.Counters)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if !rd.Allowed() {
				d = rd
			}
		}
		if d.Action != s.action || d.Kind != s.kind || d.Rule != s.rule || !strings.Contains(d.Reason, s.reason) {
			t.Fatalf("%s: got %s %s %s %q, want %s %s %s %q", s.name, d.Action, d.Kind, d.Rule, d.Reason, s.action, s.kind, s.rule, s.reason)
		}
	}
	// The budget starts again at 00:00 UTC.
	clock.Set(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC))
	o := e.EvaluateState(ctx, &toolgate.Call{Tool: "create_charge", Args: charge(alice, 5_000_000_000.0), Identity: alice}, counters)
	if _, rd, err := ReserveCounters(ctx, counters, o.Counters); err != nil || !rd.Allowed() {
		t.Fatalf("the next day: %+v %v", rd, err)
	}
}

// Without a counter store a value counter refuses the call: a budget is
// never skipped.
func TestValueCounterNeedsStore(t *testing.T) {
	e, err := Load([]byte(spendDoc), "spend.json")
	if err != nil {
		t.Fatal(err)
	}
	o := e.Evaluate(&toolgate.Call{Tool: "create_payout", Args: map[string]any{"total": 1.0}})
	_, d, _ := ReserveCounters(context.Background(), nil, o.Counters)
	if d.Allowed() || d.Kind != KindLimit || !strings.Contains(d.Reason, "counter store is unavailable") {
		t.Fatalf("got %+v", d)
	}
}

// all_tools value counters apply to every allowed call, default allow
// included; in shadow mode a bad argument is recorded, not enforced.
func TestValueCounterAllToolsAndShadow(t *testing.T) {
	e, err := Load([]byte(`{"version": "1", "default": "allow", "mode": "shadow",
  "all_tools": {"limits": [{"counter": "tokens", "window": "hour", "max": 1000, "increment_from": "args.tokens", "scope": "global"}]}}`), "p")
	if err != nil {
		t.Fatal(err)
	}
	o := e.Evaluate(&toolgate.Call{Tool: "anything", Args: map[string]any{"tokens": 10.0}})
	if !o.Decision.Allowed() || len(o.Counters) != 1 || !o.Counters[0].Shadow || o.Counters[0].Amount != 10 || !strings.HasPrefix(o.Counters[0].Key, valueKeyPrefix+shadowKeyPrefix) {
		t.Fatalf("got %+v", o)
	}
	o = e.Evaluate(&toolgate.Call{Tool: "anything", Args: map[string]any{}})
	if !o.Decision.Allowed() || o.Shadow == nil || o.Shadow.Kind != KindArgs || len(o.Counters) != 0 {
		t.Fatalf("missing argument in shadow mode: %+v", o)
	}
	if got := e.ReadsArgs("anything", nil); got != "/all_tools/limits/0/increment_from" {
		t.Fatalf("ReadsArgs = %q", got)
	}
}

// The example of docs/policy.md, as its text tells it.
func TestValueCounterDocExample(t *testing.T) {
	ctx := context.Background()
	e, err := LoadFile("../docs/examples/policy/spend-cap.json")
	if err != nil {
		t.Fatal(err)
	}
	counters := memory.NewCounters(limittest.NewClock(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)).Now)
	id := &toolgate.Identity{Subject: "alice", Grant: "g1"}
	do := func(tool string, args map[string]any) toolgate.Decision {
		t.Helper()
		o := e.EvaluateState(ctx, &toolgate.Call{Tool: tool, Args: args, Identity: id}, counters)
		if !o.Decision.Allowed() {
			return o.Decision
		}
		_, d, err := ReserveCounters(ctx, counters, o.Counters)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed() {
			return o.Decision
		}
		return d
	}
	steps := []struct {
		tool  string
		args  map[string]any
		allow bool
		kind  toolgate.Kind
	}{
		{"create_charge", map[string]any{"amount": 600000.0, "currency": "usd"}, true, KindRule},
		{"create_payout", map[string]any{"amount": 300000.0}, true, KindRule},
		{"create_charge", map[string]any{"amount": 100001.0, "currency": "usd"}, false, KindLimit},
		{"create_charge", map[string]any{"amount": 100000.0, "currency": "usd"}, true, KindRule},
		{"create_payout", map[string]any{"amount": 1.0}, false, KindLimit},
		{"create_charge", map[string]any{"currency": "usd"}, false, KindArgs},
	}
	for i, s := range steps {
		if d := do(s.tool, s.args); d.Allowed() != s.allow || d.Kind != s.kind {
			t.Fatalf("step %d (%s %v): %+v, want allowed %v kind %s", i, s.tool, s.args, d, s.allow, s.kind)
		}
	}
}
