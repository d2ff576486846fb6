package replay_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/policy"
	"github.com/toolgate/toolgate/replay"
)

// record appends events through a real audit log on a SQLite store and
// reads them back, as the CLI does.
func record(t *testing.T, events []*audit.Event) []*audit.Event {
	t.Helper()
	ctx := context.Background()
	s, err := audit.OpenSQLite(ctx, filepath.Join(t.TempDir(), "store.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(ctx, audit.Options{Primary: s, Instance: "test", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { l.Close() }) // it closes s
	got, err := s.Query(ctx, audit.Filter{Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func call(i int, tool string, d audit.Decision, rule string, mode audit.ArgsMode, args string) *audit.Event {
	e := &audit.Event{Kind: audit.KindDecision, Time: t0.Add(time.Duration(i) * time.Second), Method: "tools/call",
		Tool: tool, Server: "srv", Subject: "alice", Grant: "g1", Labels: map[string]string{"team": "ops"},
		Policy: "old", Decision: d, DecisionKind: toolgate.KindRule, Rule: rule, ArgsMode: mode}
	if args != "" {
		e.Args = json.RawMessage(args)
	}
	if d != audit.Allowed {
		e.DecisionKind = toolgate.KindDefault
	}
	return e
}

// passThrough is the decision event of a request no policy governs.
func passThrough(i int, method string, what func(*audit.Event)) *audit.Event {
	e := &audit.Event{Kind: audit.KindDecision, Time: t0.Add(time.Duration(i) * time.Second), Method: method,
		Server: "srv", Subject: "alice", Grant: "g1", Policy: "old", Decision: audit.Allowed, Rule: "(no policy)"}
	what(e)
	return e
}

// refused is the decision event of a tools/call refused before the
// pipeline.
func refused(i int, tool string, d audit.Decision) *audit.Event {
	return &audit.Event{Kind: audit.KindDecision, Time: t0.Add(time.Duration(i) * time.Second), Method: "tools/call",
		Tool: tool, Subject: "alice", Grant: "g1", Policy: "old", Decision: d, Reason: "refused"}
}

func load(t *testing.T, doc string) *policy.Engine {
	t.Helper()
	eng, err := policy.Load([]byte(doc), "candidate.json")
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// The candidate denies echo, allows add (before refused by default), and
// refunds only up to 100 (a check on an argument's value).
const candidate = `{"version":"1","default":"deny","tools":{
  "echo":{"action":"deny"},
  "add":{},
  "refund":{"deny_if":["args.amount > 100"]},
  "ask":{"action":"approve"},
  "limited":{"limits":[{"max":2,"window":"1m"}]}}}`

func TestRun(t *testing.T) {
	F, R, K := audit.ArgsFull, audit.ArgsRedacted, audit.ArgsKeys
	events := record(t, []*audit.Event{
		call(1, "echo", audit.Allowed, "/tools/echo", F, `{"text":"hi"}`),
		call(2, "echo", audit.Allowed, "/tools/echo", R, `{"text":"[REDACTED]"}`),
		call(3, "add", audit.Denied, "(default deny)", F, `{"a":1,"b":2}`),
		call(4, "refund", audit.Allowed, "/tools/refund", F, `{"amount":500}`),
		call(5, "refund", audit.Allowed, "/tools/refund", F, `{"amount":50}`),
		call(6, "refund", audit.Allowed, "/tools/refund", R, `{"amount":"[REDACTED]"}`),
		call(7, "refund", audit.Allowed, "/tools/refund", K, `["amount"]`),
		call(8, "refund", audit.Allowed, "/tools/refund", R, `{"amount":20}`), // nothing masked: exact
		call(9, "ask", audit.Allowed, "/tools/ask", K, `["x"]`),
		call(10, "limited", audit.Allowed, "/tools/limited", F, `{}`),
		call(11, "limited", audit.Allowed, "/tools/limited", F, `{}`),
		call(12, "limited", audit.Allowed, "/tools/limited", F, `{}`), // third in a minute
		call(75, "limited", audit.Allowed, "/tools/limited", F, `{}`), // a minute later: budget back
		call(80, "gone", audit.Denied, "(default deny)", F, ""),
		audit.Admin(audit.ActionPolicyLoaded, "toolgate", "old", "sha256:x"),
		// Not decided by the pipeline, so not replayed: were they, the
		// read would be allowed→denied and the unknown add denied→allowed.
		passThrough(81, "resources/read", func(e *audit.Event) { e.Resource = "file:///notes.txt" }),
		passThrough(82, "prompts/get", func(e *audit.Event) { e.Prompt = "greet" }),
		refused(83, "add", audit.UnknownName),
		refused(84, "add", audit.InvalidRequest),
	})
	r := replay.Run(context.Background(), load(t, candidate), events, replay.Options{Examples: 1})
	checks := []struct {
		name      string
		got, want int
	}{
		{"read", r.Read, 14},
		{"replayed", r.Replayed, 12},
		{"unchanged", r.Unchanged, 6},
		{"allowed→denied", r.AllowedToDenied, 4}, // echo ×2, refund 500, limited third
		{"denied→allowed", r.DeniedToAllowed, 1}, // add
		{"allowed→approval", r.Changes["allowed_to_approval"], 1},
		{"not replayable: redacted", r.NotReplayable[replay.NotRedacted], 1},
		{"not replayable: keys", r.NotReplayable[replay.NotKeys], 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	wantTool := []replay.Count{
		{Change: "allowed_to_approval", Key: "ask", Count: 1},
		{Change: "allowed_to_denied", Key: "echo", Count: 2},
		{Change: "allowed_to_denied", Key: "limited", Count: 1},
		{Change: "allowed_to_denied", Key: "refund", Count: 1},
		{Change: "denied_to_allowed", Key: "add", Count: 1},
	}
	if !equal(r.ByTool, wantTool) {
		t.Errorf("by tool = %+v\nwant %+v", r.ByTool, wantTool)
	}
	wantRule := map[string]int{"/tools/echo": 2, "/tools/add": 1, "/tools/refund/deny_if/0": 1, "/tools/ask": 1}
	for _, c := range r.ByRule {
		if c.Change == "allowed_to_denied" && c.Key == "/tools/limited/limits/0" {
			continue
		}
		if wantRule[c.Key] != c.Count {
			t.Errorf("by rule %s %s = %d, want %d", c.Change, c.Key, c.Count, wantRule[c.Key])
		}
	}
	// One example of each change, the oldest; one of each reason.
	byChange := map[string]replay.Example{}
	for _, x := range r.Examples {
		if _, dup := byChange[x.Change]; dup {
			t.Errorf("two examples of %s", x.Change)
		}
		byChange[x.Change] = x
	}
	if x := byChange["allowed_to_denied"]; x.Seq != 1 || x.Tool != "echo" || x.Subject != "alice" ||
		x.New == nil || x.New.Decision != audit.Denied || x.New.Rule != "/tools/echo" || x.Old.Rule != "/tools/echo" {
		t.Errorf("allowed→denied example = %+v", x)
	}
	if x := byChange["denied_to_allowed"]; x.Tool != "add" || x.New == nil || x.New.Rule != "/tools/add" {
		t.Errorf("denied→allowed example = %+v", x)
	}
	if x := byChange["not_replayable:args_redacted"]; x.Seq != 6 || x.Detail != "/tools/refund/deny_if/0 reads argument values" {
		t.Errorf("redacted example = %+v", x)
	}
	if len(r.Examples) != 5 {
		t.Errorf("%d examples, want 5", len(r.Examples))
	}
}

func TestNotReplayable(t *testing.T) {
	upstream := call(1, "echo", audit.InvalidArgs, "(input schema)", audit.ArgsFull, `{"x":1}`)
	upstream.DecisionKind = toolgate.KindInputSchema
	tests := []struct {
		name   string
		policy string
		event  *audit.Event
		reason string // "" when it is replayed
	}{
		{"keys, rule reads values", `{"version":"1","default":"deny","tools":{"echo":{"require":["args.x"]}}}`,
			call(1, "echo", audit.Allowed, "/tools/echo", audit.ArgsKeys, `["x"]`), replay.NotKeys},
		{"keys, rule reads no value", `{"version":"1","default":"deny","tools":{"echo":{}}}`,
			call(1, "echo", audit.Allowed, "/tools/echo", audit.ArgsKeys, `["x"]`), ""},
		{"redacted, when reads args", `{"version":"1","default":"deny","tools":{"echo":{"when":"args.x == \"a\""}}}`,
			call(1, "echo", audit.Allowed, "/tools/echo", audit.ArgsRedacted, `{"x":"[REDACTED]"}`), replay.NotRedacted},
		{"redacted, when reads identity", `{"version":"1","default":"deny","tools":{"echo":{"when":"identity.labels.team == \"ops\""}}}`,
			call(1, "echo", audit.Allowed, "/tools/echo", audit.ArgsRedacted, `{"x":"[REDACTED]"}`), ""},
		{"redacted, masked deep", `{"version":"1","default":"deny","tools":{"echo":{"args":{"type":"object"}}}}`,
			call(1, "echo", audit.Allowed, "/tools/echo", audit.ArgsRedacted, `{"x":[{"y":"[REDACTED]"}]}`), replay.NotRedacted},
		{"full, marker is a value", `{"version":"1","default":"deny","tools":{"echo":{"require":["args.x"]}}}`,
			call(1, "echo", audit.Allowed, "/tools/echo", audit.ArgsFull, `{"x":"[REDACTED]"}`), ""},
		{"args not an object", `{"version":"1","default":"deny","tools":{"echo":{}}}`,
			call(1, "echo", audit.Allowed, "/tools/echo", audit.ArgsFull, `[1]`), replay.NotArgs},
		{"intercept, condition on args", "version: \"1\"\ntools:\n  echo:\n    rules:\n      - name: small\n        conditions:\n          - {path: args.x, op: lte, value: 10}\n",
			call(1, "echo", audit.Allowed, "/tools/echo", audit.ArgsRedacted, `{"x":"[REDACTED]"}`), replay.NotRedacted},
		{"intercept, no condition on args", "version: \"1\"\ntools:\n  echo:\n    rules:\n      - name: limited\n        rate_limit: 2/day\n",
			call(1, "echo", audit.Allowed, "/tools/echo", audit.ArgsKeys, `["x"]`), ""},
		{"input schema refusal, candidate allows", `{"version":"1","default":"deny","tools":{"echo":{}}}`, upstream, replay.NotUpstream},
		{"input schema refusal, candidate denies", `{"version":"1","default":"deny","tools":{"echo":{"action":"deny"}}}`, upstream, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := replay.Run(context.Background(), load(t, tt.policy), record(t, []*audit.Event{tt.event}), replay.Options{})
			if tt.reason == "" {
				if r.Replayed != 1 || len(r.NotReplayable) != 0 {
					t.Fatalf("replayed %d, not replayable %v; want it replayed", r.Replayed, r.NotReplayable)
				}
				return
			}
			if r.Replayed != 0 || r.NotReplayable[tt.reason] != 1 {
				t.Fatalf("replayed %d, not replayable %v; want 1 %s", r.Replayed, r.NotReplayable, tt.reason)
			}
			if replay.ReasonText[tt.reason] == "" {
				t.Errorf("no text for %s", tt.reason)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	r := replay.Run(context.Background(), load(t, candidate), nil, replay.Options{Examples: 3})
	if r.Read != 0 || r.Replayed != 0 || len(r.Changes) != 0 || r.ByTool == nil || r.Examples == nil {
		t.Fatalf("report = %+v", r)
	}
}

func equal(a, b []replay.Count) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
