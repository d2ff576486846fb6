package policy

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/toolgate/toolgate"
)

const ruleObjectDoc = `{
  "version": "1",
  "default": "deny",
  "tools": {
    "create_charge": {
      "require": [
        "args.reason",
        {"conditions": [{"path": "args.currency", "op": "in", "value": ["usd", "eur"]},
                        {"path": "args.customer", "op": "exists", "value": true}]}
      ],
      "deny_if": [
        {"conditions": [{"path": "args.amount", "op": "gt", "value": 100}], "on_deny": "Refund exceeds the policy limit."},
        {"conditions": [{"path": "args.customer", "op": "regex", "value": "^test_"}, {"path": "args.live", "op": "eq", "value": true}]},
        {"conditions": [{"path": "args.amount", "op": "gt", "value": 50}]},
        {"conditions": [{"path": "args.tags", "op": "contains", "value": "blocked"}]},
        {"conditions": [{"path": "args.meta.region", "op": "neq", "value": "eu"}]}
      ]
    },
    "refund": {
      "on_deny": "Refunds are limited.",
      "deny_if": [{"conditions": [{"path": "args.amount", "op": "gte", "value": 10}]},
                  {"conditions": [{"path": "args.note", "op": "exists", "value": false}], "on_deny": "Say why."}]
    }
  }
}`

func TestRuleObjects(t *testing.T) {
	e := mustLoad(t, ruleObjectDoc)
	ok := map[string]any{"reason": "r", "currency": "usd", "customer": "cus_1", "amount": 10.0, "meta": map[string]any{"region": "eu"}}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range ok {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
				continue
			}
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		tool   string
		args   map[string]any
		action toolgate.Action
		rule   string
		reason string
	}{
		{"allowed", "create_charge", ok, toolgate.Allow, "/tools/create_charge", ""},
		{"bare predicate beside rule objects", "create_charge", with("reason", nil), toolgate.Deny, "/tools/create_charge/require/0", "argument args.reason is required"},
		{"require: first failing condition names the rule", "create_charge", with("currency", "gbp"), toolgate.Deny,
			"/tools/create_charge/require/args.currency-in", `policy requires args.currency in ["usd","eur"]`},
		{"require: missing value fails in", "create_charge", with("currency", nil), toolgate.Deny,
			"/tools/create_charge/require/args.currency-in", `policy requires args.currency in ["usd","eur"]`},
		{"require: exists true fails on a missing value", "create_charge", with("customer", nil), toolgate.Deny,
			"/tools/create_charge/require/args.customer-exists", "policy requires args.customer exists true"},
		{"deny_if: on_deny is what the agent reads", "create_charge", with("amount", 101.0), toolgate.Deny,
			"/tools/create_charge/deny_if/args.amount-gt", "Refund exceeds the policy limit."},
		{"deny_if: at the limit passes", "create_charge", with("amount", 50.0), toolgate.Allow, "/tools/create_charge", ""},
		{"deny_if: a repeated name carries the entry's index", "create_charge", with("amount", 60.0), toolgate.Deny,
			"/tools/create_charge/deny_if/args.amount-gt-2", "denied by policy because args.amount gt 50"},
		{"deny_if: missing value fails gt", "create_charge", with("amount", nil), toolgate.Allow, "/tools/create_charge", ""},
		{"deny_if: all conditions hold", "create_charge", with("customer", "test_9", "live", true), toolgate.Deny,
			"/tools/create_charge/deny_if/args.customer-regex", `denied by policy because args.customer regex "^test_" and args.live eq true`},
		{"deny_if: one condition fails", "create_charge", with("customer", "test_9", "live", false), toolgate.Allow, "/tools/create_charge", ""},
		{"deny_if: contains in a list", "create_charge", with("tags", []any{"a", "blocked"}), toolgate.Deny,
			"/tools/create_charge/deny_if/args.tags-contains", `denied by policy because args.tags contains "blocked"`},
		{"deny_if: neq on a nested path", "create_charge", with("meta", map[string]any{"region": "us"}), toolgate.Deny,
			"/tools/create_charge/deny_if/args.meta.region-neq", `denied by policy because args.meta.region neq "eu"`},
		{"deny_if: missing value fails neq too", "create_charge", with("meta", nil), toolgate.Allow, "/tools/create_charge", ""},
		{"rule on_deny replaces a generated text", "refund", map[string]any{"amount": 10, "note": "n"}, toolgate.Deny,
			"/tools/refund/deny_if/args.amount-gte", "Refunds are limited."},
		{"entry on_deny wins over the rule's", "refund", map[string]any{"amount": 1}, toolgate.Deny,
			"/tools/refund/deny_if/args.note-exists", "Say why."},
		{"refund allowed", "refund", map[string]any{"amount": 1, "note": "n"}, toolgate.Allow, "/tools/refund", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := e.Decide(&toolgate.Call{Tool: tt.tool, Args: tt.args, Identity: toolgate.Anonymous()})
			if d.Action != tt.action || d.Rule != tt.rule || d.Reason != tt.reason {
				t.Errorf("got %v %s %q, want %v %s %q", d.Action, d.Rule, d.Reason, tt.action, tt.rule, tt.reason)
			}
		})
	}
	if got := e.ReadsArgs("refund", nil); got != "/tools/refund/deny_if/args.amount-gte" {
		t.Errorf("ReadsArgs = %q", got)
	}
}

func TestRuleObjectErrors(t *testing.T) {
	doc := func(entry string) string {
		return `{"version":"1","default":"deny","tools":{"a":{"deny_if":[` + entry + `]}}}`
	}
	tests := []struct {
		name  string
		entry string
		want  []wantErr
	}{
		{"no conditions", `{"on_deny":"x"}`, []wantErr{{1, 58, "/tools/a/deny_if/0", `missing required key "conditions"`}}},
		{"conditions not a list", `{"conditions":{}}`, []wantErr{{1, 72, "/tools/a/deny_if/0/conditions", "must be a list of conditions"}}},
		{"empty conditions", `{"conditions":[]}`, []wantErr{{1, 72, "/tools/a/deny_if/0/conditions", "at least one condition"}}},
		{"unknown key", `{"conditions":[{"path":"args.a","op":"exists","value":true}],"name":"x"}`, []wantErr{{1, 119, "/tools/a/deny_if/0/name", `unknown key "name"`}}},
		{"on_deny not a string", `{"conditions":[{"path":"args.a","op":"exists","value":true}],"on_deny":3}`, []wantErr{{1, 129, "/tools/a/deny_if/0/on_deny", "must be a string"}}},
		{"toolgate operator name", `{"conditions":[{"path":"args.a","op":"ne","value":1}]}`, []wantErr{{1, 95, "/tools/a/deny_if/0/conditions/0/op", `unknown operator "ne"`}}},
		{"gt needs a number", `{"conditions":[{"path":"args.a","op":"gt","value":"1"}]}`, []wantErr{{1, 108, "/tools/a/deny_if/0/conditions/0/value", `requires a numeric value`}}},
		{"bad regex", `{"conditions":[{"path":"args.a","op":"regex","value":"("}]}`, []wantErr{{1, 111, "/tools/a/deny_if/0/conditions/0/value", "invalid regex"}}},
		{"state path", `{"conditions":[{"path":"state.a.n","op":"lt","value":3}]}`, []wantErr{{1, 81, "/tools/a/deny_if/0/conditions/0/path", "reads an Intercept counter"}}},
		{"identity path", `{"conditions":[{"path":"identity.subject","op":"eq","value":"x"}]}`, []wantErr{{1, 81, "/tools/a/deny_if/0/conditions/0/path", `path must start with "args."`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, doc(tt.entry), tt.want)
		})
	}
}

// TestRuleObjectDocs decides the calls of docs/policy.md's rule object
// table under the example above it, so that neither can drift from the
// code.
func TestRuleObjectDocs(t *testing.T) {
	data, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	const head = "### Rule objects: PolicyLayer's hosted JSON\n"
	_, rest, ok := strings.Cut(string(data), head)
	if !ok {
		t.Fatal("docs/policy.md has no rule object section")
	}
	_, rest, ok = strings.Cut(rest, "```json\n")
	block, rest, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no json block in the rule object section")
	}
	e := mustLoad(t, block)
	_, table, ok := strings.Cut(rest, "| Call of `create_refund` |")
	if !ok {
		t.Fatal("no table of calls")
	}
	n := 0
	for _, line := range strings.Split(table, "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) != 6 {
			t.Fatalf("row %q has %d cells", line, len(cells))
		}
		cell := func(i int) string { return strings.Trim(strings.TrimSpace(cells[i]), "`") }
		var args map[string]any
		if err := json.Unmarshal([]byte(cell(1)), &args); err != nil {
			t.Fatalf("row %q: %v", line, err)
		}
		d, _ := e.Decide(&toolgate.Call{Tool: "create_refund", Args: args, Identity: toolgate.Anonymous()})
		if string(d.Action) != cell(2) || d.Rule != cell(3) || d.Reason != cell(4) {
			t.Errorf("%s: got %s %s %q, docs say %s %s %q", cell(1), d.Action, d.Rule, d.Reason, cell(2), cell(3), cell(4))
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d rows", n)
	}
}
