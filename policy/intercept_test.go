package policy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit/memory"
)

// icStep is one call and what Intercept's documentation says happens to it.
type icStep struct {
	tool   string
	args   map[string]any
	times  int    // the call is made this many times (1 when 0), each with the outcome below
	allow  bool   // allowed
	reason string // the denial text, when refused
	at     string // the clock, RFC 3339, when set
	failed bool   // the upstream answers with an error: the counters are given back
}

// icRun plays steps against the example file, with counters in memory
// and the clock set by the steps.
func icRun(t *testing.T, file string, steps []icStep) {
	t.Helper()
	e, err := LoadFile("../docs/examples/intercept/" + file)
	if err != nil {
		t.Fatal(err)
	}
	if e.Format() != FormatIntercept {
		t.Fatalf("%s read as %s", file, e.Format())
	}
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	counters := memory.NewCounters(func() time.Time { return now })
	ctx := context.Background()
	for i, s := range steps {
		if s.at != "" {
			if now, err = time.Parse(time.RFC3339, s.at); err != nil {
				t.Fatal(err)
			}
		}
		n := max(s.times, 1)
		for k := 0; k < n; k++ {
			c := &toolgate.Call{Tool: s.tool, Args: s.args}
			o := e.EvaluateState(ctx, c, counters)
			d := o.Decision
			if d.Allowed() {
				held, cd, err := ReserveCounters(ctx, counters, o.Counters)
				if err != nil {
					t.Fatal(err)
				}
				d = cd
				if s.failed {
					if err := ReleaseCounters(ctx, counters, held); err != nil {
						t.Fatal(err)
					}
				}
			}
			if d.Allowed() != s.allow || (!s.allow && d.Reason != s.reason) {
				t.Fatalf("step %d (%s %v), call %d of %d: allowed %v %q (rule %s), want allowed %v %q",
					i, s.tool, s.args, k+1, n, d.Allowed(), d.Reason, d.Rule, s.allow, s.reason)
			}
		}
	}
}

func TestInterceptExamples(t *testing.T) {
	charge := func(amount any, currency string) map[string]any {
		return map[string]any{"amount": amount, "currency": currency}
	}
	tests := []struct {
		file  string
		name  string
		steps []icStep
	}{
		{"github.yaml", "rate_limit with on_deny: 5 an hour, the 6th refused, the next hour open again", []icStep{
			{tool: "create_issue", times: 5, allow: true},
			{tool: "create_issue", reason: "No more than 5 new issues an hour"},
			{tool: "create_issue", at: "2026-03-04T10:59:59Z", reason: "No more than 5 new issues an hour"},
			{tool: "create_issue", at: "2026-03-04T11:00:00Z", times: 5, allow: true},
		}},
		{"github.yaml", "rate_limit without on_deny: the generated message", []icStep{
			{tool: "create_pull_request", times: 3, allow: true},
			{tool: "create_pull_request", reason: "Rate limit of 3 per hour reached. Try again later."},
		}},
		{"github.yaml", "hidden and denied tools", []icStep{
			{tool: "transfer_repository", reason: `Tool "transfer_repository" is hidden by policy`},
			{tool: "delete_repository", reason: "Deleting a repository is not allowed from an agent"},
			{tool: "get_file_contents", allow: true}, // unlisted, default allow
		}},
		{"github.yaml", `"*" counts every tool under _global: the 61st call of a minute is refused`, []icStep{
			{tool: "get_file_contents", times: 57, allow: true},
			{tool: "create_issue", times: 3, allow: true},
			{tool: "get_file_contents", reason: "Rate limit of 60 per minute reached. Try again later."},
			{tool: "create_issue", reason: "Rate limit of 60 per minute reached. Try again later."},
			{tool: "get_file_contents", at: "2026-03-04T10:01:00Z", allow: true},
		}},
		{"github.yaml", "a refused call takes nothing: the hour's issues are not spent by the minute's refusals", []icStep{
			{tool: "get_file_contents", times: 60, allow: true},
			{tool: "create_issue", times: 4, reason: "Rate limit of 60 per minute reached. Try again later."},
			{tool: "create_issue", at: "2026-03-04T10:01:00Z", times: 5, allow: true},
		}},
		{"github.yaml", "a failed upstream call is given back", []icStep{
			{tool: "create_issue", times: 10, allow: true, failed: true},
			{tool: "create_issue", times: 5, allow: true},
			{tool: "create_issue", reason: "No more than 5 new issues an hour"},
		}},
		{"stripe.yaml", "single charge cap, currencies, rule order", []icStep{
			{tool: "create_charge", args: charge(50000, "usd"), allow: true},
			{tool: "create_charge", args: charge(50001, "usd"), reason: "A single charge may not exceed $500.00"},
			{tool: "create_charge", args: charge(100, "gbp"), reason: "Only usd and eur are accepted"},
			// Both rules fail: the first in order names the refusal.
			{tool: "create_charge", args: charge(90000, "gbp"), reason: "A single charge may not exceed $500.00"},
			// A missing argument fails every operator.
			{tool: "create_charge", args: map[string]any{"currency": "usd"}, reason: "A single charge may not exceed $500.00"},
		}},
		{"stripe.yaml", "daily spend by amount, reset at 00:00 UTC", []icStep{
			{tool: "create_charge", args: charge(50000, "eur"), times: 19, allow: true, at: "2026-03-04T23:40:00Z"},
			{tool: "create_charge", args: charge(40000.5, "eur"), allow: true, at: "2026-03-04T23:41:00Z"}, // 990001
			{tool: "create_charge", args: charge(10000, "eur"), reason: "The daily cap of $10,000.00 is spent"},
			{tool: "create_charge", args: charge(9999, "eur"), allow: true}, // exactly 1000000
			{tool: "create_charge", args: charge(1, "eur"), reason: "The daily cap of $10,000.00 is spent"},
			{tool: "create_charge", args: charge(1, "eur"), at: "2026-03-04T23:59:59Z", reason: "The daily cap of $10,000.00 is spent"},
			{tool: "create_charge", args: charge(50000, "eur"), at: "2026-03-05T00:00:00Z", allow: true},
		}},
		{"stripe.yaml", "docs/intercept.md: the 20th charge of 50000 reaches the cap exactly", []icStep{
			{tool: "create_charge", args: charge(50000, "usd"), times: 20, allow: true},
			{tool: "create_charge", args: charge(1, "usd"), reason: "The daily cap of $10,000.00 is spent"},
			{tool: "create_charge", args: charge(1, "usd"), at: "2026-03-05T00:00:00Z", allow: true},
		}},
		{"stripe.yaml", "an increment that is missing or negative refuses the call", []icStep{
			{tool: "create_charge", args: charge(-50000, "usd"), reason: "Internal policy error: the counter's increment args.amount is negative"},
			{tool: "create_charge", args: charge("100", "usd"), reason: "A single charge may not exceed $500.00"},
		}},
		{"stripe.yaml", "a counter bounded by lt 3 allows 2, then the reservation refuses with its own default message", []icStep{
			{tool: "create_refund", args: map[string]any{"amount": 500}, times: 2, allow: true},
			{tool: "create_refund", args: map[string]any{"amount": 500}, reason: "Rate limit exceeded for refunds per day"},
			{tool: "create_refund", args: map[string]any{"amount": 50000}, reason: "Refunds over $100.00 are done by hand"},
		}},
		{"stripe.yaml", "deny without on_deny; the global counter's condition", []icStep{
			{tool: "delete_customer", reason: `Denied by rule "keep customers"`},
			{tool: "list_customers", times: 60, allow: true},
			{tool: "list_customers", reason: "At most 60 calls a minute"},
		}},
		{"allowlist.yaml", `default deny: listed tools only, "*" rescues none`, []icStep{
			{tool: "read_file", args: map[string]any{"path": "/etc/passwd"}, allow: true},
			{tool: "delete_file", reason: `Tool "delete_file" is not permitted by policy`},
			{tool: "write_file", args: map[string]any{"path": "/work/project/a.go"}, allow: true},
			{tool: "write_file", args: map[string]any{"path": "/etc/passwd"}, reason: "Writes are allowed under /work/project/ only"},
			{tool: "read_file", args: map[string]any{"path": "a", "force": true}, reason: `Denied by rule "never forced"`},
			{tool: "read_file", args: map[string]any{"path": "a", "force": nil}, allow: true}, // null counts as absent
		}},
		{"operators.yaml", "each operator", []icStep{
			{tool: "op_eq", args: map[string]any{"branch": "main"}, allow: true},
			{tool: "op_eq", args: map[string]any{"branch": "dev"}, reason: `Denied by rule "eq"`},
			{tool: "op_neq", args: map[string]any{"state": "open"}, allow: true},
			{tool: "op_neq", args: map[string]any{"state": "draft"}, reason: `Denied by rule "neq"`},
			{tool: "op_neq", reason: `Denied by rule "neq"`}, // missing: refused
			{tool: "op_in", args: map[string]any{"region": "eu"}, allow: true},
			{tool: "op_in", args: map[string]any{"region": "ap"}, reason: `Denied by rule "in"`},
			{tool: "op_not_in", args: map[string]any{"role": "dev"}, allow: true},
			{tool: "op_not_in", args: map[string]any{"role": "admin"}, reason: `Denied by rule "not_in"`},
			{tool: "op_not_in", reason: `Denied by rule "not_in"`},
			{tool: "op_lt", args: map[string]any{"n": 99.5}, allow: true},
			{tool: "op_lt", args: map[string]any{"n": 100}, reason: `Denied by rule "lt"`},
			{tool: "op_lt", args: map[string]any{"n": "5"}, reason: `Denied by rule "lt"`}, // a string is no number
			{tool: "op_gte", args: map[string]any{"n": 1}, allow: true},
			{tool: "op_regex", args: map[string]any{"branch": "feat/x"}, allow: true},
			{tool: "op_regex", args: map[string]any{"branch": "fix/feat/x"}, reason: `Denied by rule "regex"`},
			{tool: "op_contains", args: map[string]any{"labels": []any{"a", "safe"}}, allow: true},
			{tool: "op_contains", args: map[string]any{"labels": "unsafe-ish"}, allow: true}, // substring
			{tool: "op_contains", args: map[string]any{"labels": []any{"unsafe"}}, reason: `Denied by rule "contains"`},
			{tool: "op_exists", args: map[string]any{"reason": "x"}, allow: true},
			{tool: "op_exists", args: map[string]any{"reason": nil}, reason: `Denied by rule "exists"`},
			{tool: "op_nested", args: map[string]any{"meta": map[string]any{"team": "core", "size": 3}}, allow: true},
			{tool: "op_nested", args: map[string]any{"meta": map[string]any{"team": "core", "size": 4}}, reason: `Denied by rule "nested and"`},
			{tool: "op_nested", args: map[string]any{"meta": "core"}, reason: `Denied by rule "nested and"`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.name, func(t *testing.T) { icRun(t, tt.file, tt.steps) })
	}
}

func TestInterceptListed(t *testing.T) {
	gh, err := LoadFile("../docs/examples/intercept/github.yaml")
	if err != nil {
		t.Fatal(err)
	}
	allow, err := LoadFile("../docs/examples/intercept/allowlist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	all, err := Load([]byte("version: \"1\"\nhide: [\"*\"]\ntools:\n  a:\n    rules: []\n"), "all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		e    *Engine
		tool string
		want bool
	}{
		{gh, "list_webhooks", false},
		{gh, "create_issue", true},
		{gh, "delete_repository", true}, // denied, still listed
		{gh, "anything_else", true},
		{allow, "delete_file", true}, // Intercept lists what default: deny refuses
		{all, "a", false},
	}
	for _, tt := range tests {
		if got := tt.e.Listed(tt.tool, nil); got != tt.want {
			t.Errorf("%s: Listed(%s) = %v, want %v", tt.e.Name(), tt.tool, got, tt.want)
		}
	}
	if gh.CheckInputSchema("create_issue", nil) {
		t.Error("the upstream input schema is checked for an Intercept document")
	}
}

// Intercept's own scaffolds list every tool with rules: [] and no
// default: they load and allow everything.
func TestInterceptScaffold(t *testing.T) {
	doc := "version: \"1\"\ndescription: \"Policy for some/server\"\ndefault: \"allow\"\ntools:\n    #  a comment\n    list_things:\n        rules: []\n    make_thing:\n        rules: []\n\n  # \"*\":\n  #   rules: []\n"
	e, err := Load([]byte(doc), "scaffold.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"list_things", "make_thing", "other"} {
		if d, _ := e.Decide(&toolgate.Call{Tool: tool}); !d.Allowed() {
			t.Errorf("%s: %+v", tool, d)
		}
	}
}

func TestInterceptValidation(t *testing.T) {
	const head = "version: \"1\"\ntools:\n  t:\n    rules:\n"
	tests := []struct {
		name string
		doc  string
		want []string // file:line:col: path: message
	}{
		{"version", "version: \"2\"\ntools:\n  t:\n    rules: []\n",
			[]string{`p.yaml:1:10: /version: version must be "1", got "2"`}},
		{"version missing", "tools:\n  t:\n    rules: []\n",
			[]string{`p.yaml:1:1: /version: version must be "1", got ""`}},
		{"default", "version: \"1\"\ndefault: block\ntools:\n  t:\n    rules: []\n",
			[]string{`p.yaml:2:10: /default: default must be "allow" or "deny", got "block"`}},
		{"hide", "version: \"1\"\nhide: [a, \" \", a]\ntools:\n  t:\n    rules: []\n",
			[]string{`p.yaml:2:11: /hide/1: entry must not be empty`, `p.yaml:2:16: /hide/2: duplicate entry "a"`}},
		{"rule name", head + "      - action: deny\n",
			[]string{`p.yaml:5:9: /tools/t/rules/0: rule must have a name`}},
		{"action", head + "      - name: x\n        action: allow\n",
			[]string{`p.yaml:6:17: /tools/t/rules/0/action: action must be "evaluate", "deny" or "require_approval", got "allow"`}},
		{"approval_timeout malformed", head + "      - name: x\n        action: require_approval\n        approval_timeout: soon\n",
			[]string{`p.yaml:7:27: /tools/t/rules/0/approval_timeout: approval_timeout must be a duration such as "30m" or "1h30m", got "soon"`}},
		{"approval_timeout without unit", head + "      - {name: x, action: require_approval, approval_timeout: 300}\n",
			[]string{`p.yaml:5:63: /tools/t/rules/0/approval_timeout: approval_timeout must be a duration such as "30m" or "1h30m", got "300"`}},
		{"approval_timeout not positive", head + "      - {name: x, action: require_approval, approval_timeout: -5m}\n      - {name: y, action: require_approval, approval_timeout: 0s}\n      - {name: z, action: require_approval, approval_timeout: 200h}\n",
			[]string{`p.yaml:5:63: /tools/t/rules/0/approval_timeout: approval_timeout must be more than zero and at most 168h, got "-5m"`,
				`p.yaml:6:63: /tools/t/rules/1/approval_timeout: approval_timeout must be more than zero and at most 168h, got "0s"`,
				`p.yaml:7:63: /tools/t/rules/2/approval_timeout: approval_timeout must be more than zero and at most 168h, got "200h"`}},
		{"approval_timeout a list", head + "      - {name: x, action: require_approval, approval_timeout: [5m]}\n",
			[]string{`p.yaml:5:63: /tools/t/rules/0/approval_timeout: approval_timeout must be a duration such as "30m", not a list`}},
		{"approval_timeout without require_approval", head + "      - {name: x, action: deny, approval_timeout: 5m}\n",
			[]string{`p.yaml:5:51: /tools/t/rules/0/approval_timeout: approval_timeout is only valid with action "require_approval"`}},
		{"require_approval with conditions or state", head + "      - name: x\n        action: require_approval\n        conditions: [{path: args.a, op: exists, value: true}]\n        state: {counter: c, window: day}\n      - {name: y, action: require_approval, rate_limit: 5/hour}\n",
			[]string{`p.yaml:7:21: /tools/t/rules/0/conditions: require_approval rules must not have conditions in toolgate; give the approval its own rule`,
				`p.yaml:8:16: /tools/t/rules/0/state: require_approval rules must not have a state block; count the calls in a rule of their own`,
				`p.yaml:9:57: /tools/t/rules/1/rate_limit: rate_limit cannot be used with action "require_approval"`}},
		{"deny with conditions", head + "      - name: x\n        action: deny\n        conditions:\n          - {path: args.a, op: exists, value: true}\n",
			[]string{`p.yaml:8:11: /tools/t/rules/0/conditions: deny rules must not have conditions`}},
		{"evaluate without conditions", head + "      - name: x\n",
			[]string{`p.yaml:5:9: /tools/t/rules/0: evaluate rules must have at least one condition`}},
		{"condition", head + "      - name: x\n        conditions:\n          - {path: amount, op: between, value: 1}\n",
			[]string{`p.yaml:7:20: /tools/t/rules/0/conditions/0/path: path must start with "args." or "state.", got "amount"`,
				`p.yaml:7:32: /tools/t/rules/0/conditions/0/op: unknown operator "between"`}},
		{"values", head + "      - name: x\n        conditions:\n          - {path: args.a, op: in, value: a}\n          - {path: args.a, op: lt, value: \"5\"}\n          - {path: args.a, op: exists, value: yes}\n          - {path: args.a, op: regex, value: 5}\n          - {path: args.a, op: regex, value: \"(\"}\n",
			[]string{`p.yaml:7:43: /tools/t/rules/0/conditions/0/value: operator "in" requires a list value`,
				`p.yaml:8:43: /tools/t/rules/0/conditions/1/value: operator "lt" requires a numeric value`,
				`p.yaml:9:47: /tools/t/rules/0/conditions/2/value: operator "exists" requires a boolean value`,
				`p.yaml:10:46: /tools/t/rules/0/conditions/3/value: regex value must be a string`,
				"p.yaml:11:46: /tools/t/rules/0/conditions/4/value: invalid regex \"(\": error parsing regexp: missing closing ): `(`"}},
		{"state", head + "      - name: x\n        conditions: [{path: args.a, op: exists, value: true}]\n        state: {counter: \"\", window: week, increment_from: amount}\n",
			[]string{`p.yaml:7:16: /tools/t/rules/0/state: counter must not be empty`,
				`p.yaml:7:38: /tools/t/rules/0/state/window: window must be "minute", "hour", or "day", got "week"`,
				`p.yaml:7:60: /tools/t/rules/0/state/increment_from: increment_from must start with "args.", got "amount"`}},
		{"state reference", head + "      - name: x\n        conditions: [{path: state.t.count, op: lte, value: 5}]\n",
			[]string{`p.yaml:6:29: /tools/t/rules/0/conditions/0/path: condition references state.t.count but no matching state block found`}},
		{"rate_limit", head + "      - {name: a, rate_limit: 0/hour}\n      - {name: b, rate_limit: 5/week}\n      - {name: c, rate_limit: 5/hour, action: deny}\n      - {name: d, rate_limit: 5/hour, state: {counter: x, window: day}}\n      - {name: e, rate_limit: often}\n",
			[]string{`p.yaml:5:31: /tools/t/rules/0/rate_limit: rate_limit count must be a positive integer, got "0"`,
				`p.yaml:6:31: /tools/t/rules/1/rate_limit: rate_limit window must be "minute", "hour", or "day", got "week"`,
				`p.yaml:7:31: /tools/t/rules/2/rate_limit: rate_limit cannot be used with action "deny"`,
				`p.yaml:8:31: /tools/t/rules/3/rate_limit: rate_limit cannot be combined with conditions or state; use separate rules or the full syntax instead`,
				`p.yaml:9:31: /tools/t/rules/4/rate_limit: rate_limit must be in the format "N/window" (e.g. "5/hour"), got "often"`}},
		{"duplicate counter", head + "      - {name: a, rate_limit: 5/hour}\n      - {name: b, rate_limit: 9/hour}\n",
			[]string{`p.yaml:6:9: /tools/t/rules/1: duplicate state counter "_rate_hour" (also used by rules[0])`}},
		{"unknown key", head + "      - {name: a, rate_limit: 5/hour, on_denied: x}\n",
			[]string{`p.yaml:5:39: /tools/t/rules/0/on_denied: unknown key "on_denied"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.doc), "p.yaml")
			if err == nil {
				t.Fatal("loaded")
			}
			var got []string
			for _, fe := range err.(ErrorList) {
				got = append(got, fe.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// A toolgate document is never read as Intercept's, nor the reverse.
func TestInterceptDetection(t *testing.T) {
	tests := []struct {
		doc  string
		want string
	}{
		{"version: \"1\"\ndefault: deny\ntools:\n  a: {}\n", FormatToolgate},
		{"version: \"1\"\ntools:\n  a:\n    rules: []\n", FormatIntercept},
		{`{"version":"1","tools":{"a":{"rules":[{"name":"x","action":"deny"}]}}}`, FormatIntercept},
		{"version: \"1\"\ndefault: deny\ntools:\n  a: {}\n  b:\n    rules: []\n", FormatIntercept},
	}
	for _, tt := range tests {
		e, err := Load([]byte(tt.doc), "d")
		if err != nil {
			t.Fatalf("%s: %v", tt.doc, err)
		}
		if e.Format() != tt.want {
			t.Errorf("%s: format %s, want %s", tt.doc, e.Format(), tt.want)
		}
	}
	// Without any rules list the document is toolgate's, which needs a
	// default: the error says so rather than allowing everything.
	if _, err := Load([]byte("version: \"1\"\ntools: {}\n"), "d"); err == nil || !strings.Contains(err.Error(), `missing required key "default"`) {
		t.Fatalf("got %v", err)
	}
}

// require_approval asks a human once every rule of the call passed; its
// approval_timeout is how long the request stays open.
func TestInterceptRequireApproval(t *testing.T) {
	e, err := LoadFile("../docs/examples/intercept/approval.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tool   string
		args   map[string]any
		action toolgate.Action
		kind   toolgate.Kind
		rule   string
		reason string
	}{
		{"DeleteUser", map[string]any{"user_id": "user_1"}, toolgate.Approve, KindApproval, "/tools/DeleteUser/rules/0",
			`Tool "DeleteUser" requires approval by rule "a human approves deletions"`},
		{"DeleteUser", map[string]any{"user_id": "admin"}, toolgate.Deny, KindRule, "/tools/DeleteUser/rules/1", "Only user_ ids can be deleted"},
		{"GetUser", map[string]any{"user_id": "user_1"}, toolgate.Allow, KindRule, "/tools/GetUser", ""},
		{"BanUser", nil, toolgate.Deny, KindDefault, RuleDefaultDeny, `Tool "BanUser" is not permitted by policy`},
	}
	for _, tt := range tests {
		d := e.Evaluate(&toolgate.Call{Tool: tt.tool, Args: tt.args}).Decision
		if d.Action != tt.action || d.Kind != tt.kind || d.Rule != tt.rule || d.Reason != tt.reason {
			t.Errorf("%s %v: got %s %s %s %q, want %s %s %s %q", tt.tool, tt.args, d.Action, d.Kind, d.Rule, d.Reason, tt.action, tt.kind, tt.rule, tt.reason)
		}
	}
	if got := e.ApprovalTimeout("DeleteUser", nil); got != 30*time.Minute {
		t.Errorf("ApprovalTimeout(DeleteUser) = %s, want 30m", got)
	}
	if got := e.ApprovalTimeout("GetUser", nil); got != DefaultApprovalTimeout {
		t.Errorf("ApprovalTimeout(GetUser) = %s, want the default", got)
	}

	// A "*" rule holds every listed tool; without approval_timeout the
	// default applies.
	w, err := Load([]byte("version: \"1\"\ntools:\n  a:\n    rules: []\n  \"*\":\n    rules:\n      - {name: everything, action: require_approval}\n"), "w.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"a", "b"} {
		if d := w.Evaluate(&toolgate.Call{Tool: tool}).Decision; d.Action != toolgate.Approve || d.Rule != "/tools/*/rules/0" {
			t.Errorf("%s under a \"*\" require_approval: %+v", tool, d)
		}
		if got := w.ApprovalTimeout(tool, nil); got != DefaultApprovalTimeout {
			t.Errorf("ApprovalTimeout(%s) = %s", tool, got)
		}
	}

	// Converted, the rule becomes toolgate's approve with its timeout.
	out, _, err := Convert(e, ConvertToJSON)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"action": "approve"`) || !strings.Contains(string(out), `"timeout": "30m0s"`) {
		t.Fatalf("converted:\n%s", out)
	}
	c, err := Load(out, "converted.json")
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Evaluate(&toolgate.Call{Tool: "DeleteUser", Args: map[string]any{"user_id": "user_1"}}).Decision; d.Action != toolgate.Approve {
		t.Errorf("converted DeleteUser: %+v", d)
	}
	if d := c.Evaluate(&toolgate.Call{Tool: "DeleteUser", Args: map[string]any{"user_id": "admin"}}).Decision; d.Action != toolgate.Deny || d.Reason != "Only user_ ids can be deleted" {
		t.Errorf("converted DeleteUser admin: %+v", d)
	}
	if got := c.ApprovalTimeout("DeleteUser", nil); got != 30*time.Minute {
		t.Errorf("converted ApprovalTimeout = %s", got)
	}
}

// TestInterceptMergeKeys: Intercept's YAML decoder (yaml.v3) reads merge
// keys, so an Intercept document may share rules through "<<: *anchor";
// the mapping's own keys win over merged ones, and earlier merged
// mappings over later ones. toolgate's own format still refuses "<<".
func TestInterceptMergeKeys(t *testing.T) {
	const doc = `version: "1"
tools:
  a:
    rules:
      - &small
        name: "small"
        conditions:
          - path: args.n
            op: lte
            value: 10
        on_deny: "small only"
  b:
    rules:
      - <<: *small
        on_deny: "b: small only"
  c:
    rules:
      - <<: [{name: "c", on_deny: "c first"}, *small]
`
	e, err := Load([]byte(doc), "merge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tool   string
		n      int
		reason string // "" when allowed
	}{
		{"a", 10, ""},
		{"a", 11, "small only"},
		{"b", 5, ""},
		{"b", 11, "b: small only"},
		{"c", 11, "c first"},
	}
	for _, tt := range tests {
		d := e.EvaluateState(context.Background(), &toolgate.Call{Tool: tt.tool, Args: map[string]any{"n": tt.n}}, nil).Decision
		if d.Allowed() != (tt.reason == "") || d.Reason != tt.reason {
			t.Errorf("%s n=%d: allowed %v %q, want %q", tt.tool, tt.n, d.Allowed(), d.Reason, tt.reason)
		}
	}
	for _, bad := range []string{
		"version: \"1\"\ntools:\n  t:\n    rules:\n      - <<: 5\n        name: x\n        action: deny\n",
		"version: \"1\"\ndefault: allow\ntools:\n  a: &b {}\n  t:\n    <<: *b\n",
	} {
		if _, err := Load([]byte(bad), "bad.yaml"); err == nil {
			t.Errorf("loaded:\n%s", bad)
		}
	}
	if _, err := Load([]byte("version: \"1\"\ndefault: allow\ntools:\n  a: &b {}\n  t: *b\n"), "ok.yaml"); err != nil {
		t.Errorf("toolgate's format without a merge key: %v", err)
	}
}
