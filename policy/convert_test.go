package policy

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/toolgate/toolgate"
)

// sampleArgs are the arguments every tool of a converted document is
// called with: present, missing, on either side of each bound, of the
// wrong type.
var sampleArgs = []string{
	`{}`, `{"amount": 100}`, `{"amount": 60000}`, `{"amount": "100"}`, `{"currency": "usd", "amount": 10}`,
	`{"currency": "gbp", "amount": 10}`, `{"branch": "main"}`, `{"branch": "feat/x"}`, `{"state": "draft"}`,
	`{"state": "open"}`, `{"region": "eu"}`, `{"region": "asia"}`, `{"role": "admin"}`, `{"role": "dev"}`,
	`{"n": 50}`, `{"n": 0}`, `{"n": 150}`, `{"labels": ["safe"]}`, `{"labels": ["x"]}`, `{"reason": "r"}`,
	`{"reason": null}`, `{"meta": {"team": "core", "size": 2}}`, `{"meta": {"team": "core", "size": 9}}`,
	`{"path": "/work/project/a"}`, `{"path": "/etc/passwd"}`, `{"force": true}`, `{"a": 5}`, `{"a": 50}`,
	`{"name": "report.pdf"}`, `{"name": "tmp_report.txt"}`, `{"to": "a@ok.example"}`, `{"note": "x"}`,
	`{"path": "/tmp/work/project/a"}`, `{"path": "/work/project/a", "force": true}`, `{"path": "/work/project/a", "force": null}`,
	`{"name": "report.pdf", "note": "q3"}`, `{"name": "Report.pdf", "note": "q3"}`, `{"name": "report.pdf.exe", "note": "q3"}`,
	// Each passes create_charge's require, so that its deny_if decides.
	`{"amount": 10, "currency": "usd", "meta": {"team": "core", "size": 2}, "region": "eu", "role": "dev"}`,
	`{"amount": 10, "currency": "usd", "meta": {"team": "core", "size": 2}, "region": "us", "role": "dev"}`,
	`{"amount": 10, "currency": "usd", "meta": {"team": "core", "size": 2}, "role": "dev"}`,
	`{"amount": 10, "currency": "usd", "meta": {"team": "core", "size": 2}, "region": "eu", "role": "admin"}`,
	`{"amount": 10, "currency": "usd", "meta": {"team": "core", "size": 2}, "region": "eu"}`,
	`{"amount": 10, "currency": "usd", "meta": {"team": "core", "size": 7}, "region": "eu", "role": "dev"}`,
	// And label's.
	`{"labels": ["safe"], "n": 20, "branch": "main"}`, `{"labels": ["safe"], "n": 20, "branch": "main", "force": false}`,
	`{"labels": ["safe"], "n": 10, "branch": "main"}`, `{"labels": ["safe"], "n": 20, "branch": "dev"}`,
}

// sameDecisions calls every tool of tools (and two no document names)
// with every sample under a and b and reports where they differ: the
// action, the kind of check that decided, and, when withReason, the text
// a rule gives the agent.
func sameDecisions(t *testing.T, a, b *Engine, tools []string, withReason bool) {
	t.Helper()
	tools = append(slices.Clone(tools), "unlisted_tool", "other")
	for _, tool := range tools {
		for _, s := range sampleArgs {
			var args map[string]any
			if err := json.Unmarshal([]byte(s), &args); err != nil {
				t.Fatal(err)
			}
			call := func() *toolgate.Call { return &toolgate.Call{Tool: tool, Args: args, Identity: toolgate.Anonymous()} }
			da, _ := a.Decide(call())
			db, _ := b.Decide(call())
			// The texts of the default and of hiding are each format's own.
			sameText := da.Reason == db.Reason || da.Kind != KindRule || !withReason
			sameKind := da.Kind == db.Kind || da.Action != toolgate.Deny
			if da.Action != db.Action || !sameKind || !sameText {
				t.Errorf("%s %s: %s %q (%s) became %s %q (%s)", tool, s, da.Action, da.Reason, da.Rule, db.Action, db.Reason, db.Rule)
			}
		}
	}
}

func convert(t *testing.T, e *Engine, to string) (*Engine, []Loss, string) {
	t.Helper()
	out, lost, err := Convert(e, to)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(out, "converted."+to)
	if err != nil {
		t.Fatalf("the converted document does not load: %v\n%s", err, out)
	}
	return back, lost, string(out)
}

func lossPointers(lost []Loss) []string {
	var ps []string
	for _, l := range lost {
		ps = append(ps, l.Pointer)
	}
	return ps
}

func TestConvertIntercept(t *testing.T) {
	tests := []struct {
		file   string
		lossy  []string // the pointers reported, in order
		tools  []string
		reason bool // the agent reads the same text
	}{
		{"operators.yaml", nil, []string{"op_eq", "op_neq", "op_in", "op_not_in", "op_lt", "op_gte", "op_regex", "op_contains", "op_exists", "op_nested"}, true},
		{"allowlist.yaml", nil, []string{"read_file", "write_file", "delete_file"}, true},
		{"wrap.yaml", []string{"/tools/echo/rules/0/rate_limit"}, []string{"echo", "add", "DeleteUser"}, true},
		{"github.yaml", []string{"/tools/create_issue/rules/0/rate_limit", "/tools/*/rules/0/rate_limit", "/tools/create_pull_request/rules/0/rate_limit"},
			[]string{"create_issue", "create_pull_request", "delete_repository", "transfer_repository", "list_webhooks"}, true},
		{"stripe.yaml", []string{"/tools/create_charge/rules/1", "/tools/*/rules/0", "/tools/create_refund/rules/1"},
			[]string{"create_charge", "create_refund", "delete_customer"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			e, err := LoadFile("../docs/examples/intercept/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			back, lost, out := convert(t, e, ConvertToJSON)
			if back.Format() != FormatToolgate {
				t.Fatalf("converted to %s", back.Format())
			}
			if got := lossPointers(lost); !slices.Equal(got, tt.lossy) {
				t.Errorf("losses %q, want %q", lost, tt.lossy)
			}
			if tt.file == "stripe.yaml" {
				// The counters are gone; what is left decides alike.
				tt.tools = []string{"create_refund", "delete_customer"}
			}
			sameDecisions(t, e, back, tt.tools, tt.reason)
			if t.Failed() {
				t.Log(out)
			}
		})
	}
}

const convertibleDoc = `{
  "version": "1",
  "description": "every construct both formats have",
  "default": "deny",
  "hide": ["drop_table", "debug"],
  "tools": {
    "list_files": {},
    "read_file": {
      "require": ["args.path", {"path": "args.path", "op": "starts_with", "value": "/work/project/"}],
      "deny_if": ["args.force"]
    },
    "upload": {
      "require": [{"path": "args.name", "op": "ends_with", "value": ".pdf"}, {"path": "args.name", "op": "matches", "value": "^[a-z.]+$"}],
      "deny_if": [{"path": "args.note", "op": "absent"}],
      "on_deny": "Only PDF reports, with a note."
    },
    "create_charge": {
      "require": ["args.amount <= 50000", {"path": "args.currency", "op": "in", "value": ["usd", "eur"]},
                  {"conditions": [{"path": "args.meta.team", "op": "eq", "value": "core"}, {"path": "args.meta.size", "op": "lt", "value": 5}]}],
      "deny_if": [{"path": "args.region", "op": "ne", "value": "eu"}, {"path": "args.role", "op": "not_in", "value": ["dev", "ops"]}]
    },
    "label": {
      "require": [{"path": "args.labels", "op": "contains", "value": "safe"}, "args.n > 10", "args.branch == \"main\""],
      "deny_if": [{"conditions": [{"path": "args.force", "op": "exists", "value": true}], "on_deny": "Never forced."}]
    },
    "delete_repo": {"action": "deny", "on_deny": "Deleting is done by hand."},
    "delete_user": {"action": "deny"}
  }
}`

func TestConvertToolgate(t *testing.T) {
	e := mustLoad(t, convertibleDoc)
	ic, lost, out := convert(t, e, ConvertToYAML)
	if len(lost) != 0 {
		t.Errorf("losses: %q", lost)
	}
	if ic.Format() != FormatIntercept {
		t.Fatalf("converted to %s", ic.Format())
	}
	tools := []string{"list_files", "read_file", "upload", "create_charge", "label", "delete_repo", "delete_user", "drop_table", "debug"}
	sameDecisions(t, e, ic, tools, true)
	// And back: Intercept's YAML to toolgate's JSON decides the same again.
	again, lost, _ := convert(t, ic, ConvertToJSON)
	if len(lost) != 0 {
		t.Errorf("losses back: %q", lost)
	}
	sameDecisions(t, e, again, tools, true)
	if t.Failed() {
		t.Log(out)
	}
	if !strings.Contains(out, "description: every construct both formats have") {
		t.Errorf("description not carried:\n%s", out)
	}
}

func TestConvertToolgateLosses(t *testing.T) {
	e := mustLoad(t, `{
  "version": "1", "default": "allow", "mode": "shadow", "pinned": true,
  "hide": ["admin_*", "@destructive"],
  "all_tools": {"limits": [{"counter": "c", "window": "minute", "max": 5, "scope": "grant"}]},
  "tools": {
    "clerk_*": {"action": "deny"},
    "@financial": {"action": "deny"},
    "t": {
      "action": "approve",
      "require": ["identity.labels.team == \"ops\"", "args.items.0.id", {"path": "args.state", "op": "ne", "value": "draft"}, "args.reason"],
      "deny_if": ["args.amount > 10", {"conditions": [{"path": "args.a", "op": "gt", "value": 1}]}],
      "args": {"required": ["x"]},
      "when": "args.x == 1",
      "limits": [{"counter": "g", "window": "hour", "max": 3, "scope": "global"}, {"counter": "s", "window": "90s", "max": 3, "scope": "global"}],
      "redact": ["/secret"], "timeout": "5s", "mode": "enforce"
    }
  }
}`)
	_, lost, out := convert(t, e, ConvertToYAML)
	want := []string{"/all_tools", "/hide", "/hide", "/mode", "/pinned", "/tools/@financial", "/tools/clerk_*",
		"/tools/t/action", "/tools/t/args", "/tools/t/deny_if/0", "/tools/t/deny_if/args.a-gt",
		"/tools/t/limits/0", "/tools/t/limits/1", "/tools/t/redact", "/tools/t/require/0", "/tools/t/require/1",
		"/tools/t/require/2", "/tools/t/timeout", "/tools/t/when"}
	if got := lossPointers(lost); !slices.Equal(got, want) {
		t.Errorf("losses:\n got %q\nwant %q", got, want)
	}
	// What was convertible is there: require args.reason and the global hourly limit.
	for _, s := range []string{"path: args.reason", "rate_limit: 3/hour", "default: allow"} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q in\n%s", s, out)
		}
	}
}

// A tool whose name holds a dot ("graph.eigenvector") keeps its other
// rules, but its limit is a loss: Intercept splits state.<tool>.<counter>
// at the dots and would refuse the policy.
func TestConvertDottedToolLimit(t *testing.T) {
	e := mustLoad(t, `{"version": "1", "default": "allow", "tools": {
  "graph.eigenvector": {"limits": [{"counter": "m", "window": "minute", "max": 30, "scope": "global"}], "require": ["args.node"]},
  "plain": {"limits": [{"counter": "m", "window": "minute", "max": 30, "scope": "global"}]}
}}`)
	_, lost, out := convert(t, e, ConvertToYAML)
	if got, want := lossPointers(lost), []string{"/tools/graph.eigenvector/limits/0", "/tools/plain/limits/0"}; !slices.Equal(got, want) {
		t.Errorf("losses: got %q, want %q", got, want)
	}
	if !strings.Contains(lost[0].Message, "holds a dot") {
		t.Errorf("the dotted tool's loss says %q", lost[0].Message)
	}
	if strings.Count(out, "rate_limit: 30/minute") != 1 || !strings.Contains(out, "path: args.node") {
		t.Errorf("converted:\n%s", out)
	}
}

func TestConvertErrors(t *testing.T) {
	tg := mustLoad(t, `{"version":"1","default":"deny"}`)
	ic := mustLoad(t, "version: \"1\"\ntools:\n  t:\n    rules: []\n")
	for _, tt := range []struct {
		e    *Engine
		to   string
		want string
	}{
		{tg, ConvertToJSON, "already in toolgate's format"},
		{ic, ConvertToYAML, "already in Intercept's format"},
		{tg, "toml", `unknown target "toml"`},
		{nil, ConvertToJSON, "no policy"},
	} {
		if _, _, err := Convert(tt.e, tt.to); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Convert(%s): %v, want %q", tt.to, err, tt.want)
		}
	}
}

// FuzzConvert: whatever loads converts (to the other format) into a
// document that loads.
func FuzzConvert(f *testing.F) {
	f.Add([]byte(convertibleDoc))
	f.Add([]byte(ruleObjectDoc))
	f.Add([]byte(fullDoc))
	for _, name := range []string{"operators.yaml", "allowlist.yaml", "github.yaml", "stripe.yaml"} {
		if data, err := os.ReadFile("../docs/examples/intercept/" + name); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Load(data, "fuzz")
		if err != nil {
			return
		}
		to := ConvertToYAML
		if e.Format() == FormatIntercept {
			to = ConvertToJSON
		}
		out, _, err := Convert(e, to)
		if err != nil {
			t.Fatalf("Convert: %v", err)
		}
		if _, err := Load(out, "converted"); err != nil {
			t.Fatalf("the converted document does not load: %v\n%s\nfrom\n%s", err, out, data)
		}
	})
}
