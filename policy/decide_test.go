package policy

import (
	"reflect"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
)

const seedDoc = `{"version":"1","default":"deny","tools":{"UpdateUser":{"limits":[{"counter":"updateuser_rate","window":"minute","max":30,"scope":"grant"}]}}}`

func mustLoad(t testing.TB, doc string) *Engine {
	t.Helper()
	e, err := Load([]byte(doc), "test")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return e
}

func TestSeedDocument(t *testing.T) {
	e := mustLoad(t, seedDoc)
	d, limits := e.Decide(&toolgate.Call{Tool: "UpdateUser", Identity: toolgate.Anonymous()})
	if d.Action != toolgate.Allow || d.Rule != "/tools/UpdateUser" || d.Kind != KindRule {
		t.Fatalf("UpdateUser: %+v", d)
	}
	want := []Limit{{Pointer: "/tools/UpdateUser/limits/0", Counter: "updateuser_rate", Max: 30, Window: time.Minute, Scope: "grant"}}
	if len(limits) != 1 {
		t.Fatalf("limits %+v", limits)
	}
	got := limits[0]
	got.prefix = ""
	if !reflect.DeepEqual([]Limit{got}, want) {
		t.Fatalf("limits %+v, want %+v", got, want[0])
	}
	if !e.Listed("UpdateUser", nil) {
		t.Fatal("UpdateUser not listed")
	}
	for _, tool := range []string{"DeleteUser", "GetUser", "updateuser", ""} {
		d, l := e.Decide(&toolgate.Call{Tool: tool})
		if d.Action != toolgate.Deny || d.Rule != RuleDefaultDeny || d.Kind != KindDefault || l != nil {
			t.Errorf("%s: %+v %v", tool, d, l)
		}
		if e.Listed(tool, nil) {
			t.Errorf("%s listed", tool)
		}
		if !e.WithOptions(&Options{ListDefaultDenied: true}).Listed(tool, nil) {
			t.Errorf("%s not listed with ListDefaultDenied", tool)
		}
	}
}

func TestNoPolicy(t *testing.T) {
	var e *Engine
	for _, eng := range []*Engine{e, NoPolicy()} {
		d, l := eng.Decide(&toolgate.Call{Tool: "x"})
		if d.Action != toolgate.Deny || d.Rule != RuleNoPolicy || d.Kind != KindNoPolicy || l != nil {
			t.Fatalf("%+v", d)
		}
		if eng.Listed("x", nil) || !eng.CheckInputSchema("x", nil) {
			t.Fatal("nil engine lists or skips schema")
		}
	}
}

const fullDoc = `{
  "version": "1",
  "default": "deny",
  "hide": ["BanUser", "internal_*", "@financial"],
  "all_tools": {"limits": [{"counter": "all", "window": "hour", "max": 1000, "scope": "identity"}]},
  "tools": {
    "UpdateUser": {
      "limits": [{"counter": "updateuser_rate", "window": "minute", "max": 30, "scope": "grant"}],
      "args": {"properties": {"skip_password_checks": {"const": false}}},
      "on_deny": "UpdateUser may not skip password checks"
    },
    "DeleteUser": {"action": "deny"},
    "create_charge": {
      "require": ["args.reason", {"path": "args.currency", "op": "in", "value": ["usd", "eur"]}],
      "deny_if": ["args.amount > 10000", {"path": "args.customer", "op": "starts_with", "value": "test_"}]
    },
    "refund": {"require": ["args.amount <= 100"], "deny_if": [{"path": "identity.labels.team", "op": "ne", "value": "support"}]},
    "clerk_Get*": {"limits": [{"counter": "reads", "window": "minute", "max": 120, "scope": "grant"}]},
    "clerk_*": {"action": "deny", "reason": "clerk writes are off"},
    "*": {"check_input_schema": false},
    "@destructive": {"action": "deny"},
    "list_*": {},
    "Search": {"rate_limit": {"max": 10, "window": 60}}
  }
}`

func TestDecide(t *testing.T) {
	e := mustLoad(t, fullDoc)
	support := &toolgate.Identity{Subject: "s", Labels: map[string]string{"team": "support"}}
	tests := []struct {
		name   string
		call   toolgate.Call
		action toolgate.Action
		rule   string
		kind   toolgate.Kind
		reason string
		limits []string
	}{
		{"exact allow with limits", toolgate.Call{Tool: "UpdateUser"}, toolgate.Allow, "/tools/UpdateUser", KindRule, "",
			[]string{"/all_tools/limits/0", "/tools/UpdateUser/limits/0"}},
		{"args schema fails, on_deny shown", toolgate.Call{Tool: "UpdateUser", Args: map[string]any{"skip_password_checks": true}},
			toolgate.Deny, "/tools/UpdateUser/args/properties/skip_password_checks/const", KindArgs, "UpdateUser may not skip password checks", nil},
		{"args schema passes", toolgate.Call{Tool: "UpdateUser", Args: map[string]any{"skip_password_checks": false}},
			toolgate.Allow, "/tools/UpdateUser", KindRule, "", []string{"/all_tools/limits/0", "/tools/UpdateUser/limits/0"}},
		{"hidden exact", toolgate.Call{Tool: "BanUser"}, toolgate.Deny, RuleHidden, KindHidden, `tool "BanUser" is not available`, nil},
		{"hidden glob", toolgate.Call{Tool: "internal_debug"}, toolgate.Deny, RuleHidden, KindHidden, "", nil},
		{"hidden category", toolgate.Call{Tool: "pay", Categories: []string{"financial"}}, toolgate.Deny, RuleHidden, KindHidden, "", nil},
		{"action deny", toolgate.Call{Tool: "DeleteUser"}, toolgate.Deny, "/tools/DeleteUser", KindRule,
			`tool "DeleteUser" is denied by policy rule /tools/DeleteUser`, nil},
		{"require present missing", toolgate.Call{Tool: "create_charge", Args: map[string]any{"currency": "usd"}},
			toolgate.Deny, "/tools/create_charge/require/0", KindRule, "argument args.reason is required", nil},
		{"require in fails", toolgate.Call{Tool: "create_charge", Args: map[string]any{"reason": "r", "currency": "gbp"}},
			toolgate.Deny, "/tools/create_charge/require/1", KindRule, `policy requires args.currency in ["usd","eur"]`, nil},
		{"deny_if gt", toolgate.Call{Tool: "create_charge", Args: map[string]any{"reason": "r", "currency": "usd", "amount": 20000.0}},
			toolgate.Deny, "/tools/create_charge/deny_if/0", KindRule, "denied by policy because args.amount > 10000", nil},
		{"deny_if starts_with", toolgate.Call{Tool: "create_charge", Args: map[string]any{"reason": "r", "currency": "usd", "customer": "test_1"}},
			toolgate.Deny, "/tools/create_charge/deny_if/1", KindRule, "", nil},
		{"deny_if not met", toolgate.Call{Tool: "create_charge", Args: map[string]any{"reason": "r", "currency": "usd", "amount": 10000}},
			toolgate.Allow, "/tools/create_charge", KindRule, "", []string{"/all_tools/limits/0"}},
		{"require lte missing value", toolgate.Call{Tool: "refund", Identity: support},
			toolgate.Deny, "/tools/refund/require/0", KindRule, "policy requires args.amount <= 100", nil},
		{"identity label", toolgate.Call{Tool: "refund", Args: map[string]any{"amount": 5}, Identity: &toolgate.Identity{}},
			toolgate.Deny, "/tools/refund/deny_if/0", KindRule, "", nil},
		{"identity label ok", toolgate.Call{Tool: "refund", Args: map[string]any{"amount": 5}, Identity: support},
			toolgate.Allow, "/tools/refund", KindRule, "", []string{"/all_tools/limits/0"}},
		{"longest glob wins", toolgate.Call{Tool: "clerk_GetUser"}, toolgate.Allow, "/tools/clerk_Get*", KindRule, "",
			[]string{"/all_tools/limits/0", "/tools/clerk_Get*/limits/0"}},
		{"shorter glob", toolgate.Call{Tool: "clerk_UpdateUser"}, toolgate.Deny, "/tools/clerk_*", KindRule, "clerk writes are off", nil},
		{"catch-all glob beats category", toolgate.Call{Tool: "drop", Categories: []string{"destructive"}}, toolgate.Allow, "/tools/*", KindRule, "",
			[]string{"/all_tools/limits/0"}},
		{"rate_limit short form", toolgate.Call{Tool: "Search"}, toolgate.Allow, "/tools/Search", KindRule, "",
			[]string{"/all_tools/limits/0", "/tools/Search/rate_limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, limits := e.Decide(&tt.call)
			if d.Action != tt.action || d.Rule != tt.rule || d.Kind != tt.kind || (tt.reason != "" && d.Reason != tt.reason) {
				t.Fatalf("got %+v\nwant action %s rule %s kind %s reason %q", d, tt.action, tt.rule, tt.kind, tt.reason)
			}
			if d.Action == toolgate.Deny && d.Reason == "" {
				t.Fatal("denial without a reason")
			}
			var ptrs []string
			for _, l := range limits {
				ptrs = append(ptrs, l.Pointer)
			}
			if !reflect.DeepEqual(ptrs, tt.limits) {
				t.Fatalf("limits %v, want %v", ptrs, tt.limits)
			}
		})
	}
}

func TestCategories(t *testing.T) {
	e := mustLoad(t, `{"version":"1","default":"allow","tools":{
		"@read": {"limits": [{"counter": "r", "window": "minute", "max": 100}]},
		"@write": {"action": "deny"},
		"@destructive": {"action": "deny", "on_deny": "no destruction"}}}`)
	d, _ := e.Decide(&toolgate.Call{Tool: "x", Categories: []string{"read", "destructive"}})
	if d.Rule != "/tools/@destructive" || d.Reason != "no destruction" {
		t.Fatalf("destructive should beat read: %+v", d)
	}
	d, l := e.Decide(&toolgate.Call{Tool: "x", Categories: []string{"Read"}})
	if d.Rule != "/tools/@read" || len(l) != 1 {
		t.Fatalf("read: %+v", d)
	}
	d, l = e.Decide(&toolgate.Call{Tool: "x"})
	if d.Action != toolgate.Allow || d.Rule != RuleDefaultAllow || d.Kind != KindDefault || l != nil {
		t.Fatalf("default allow: %+v", d)
	}
}

func TestListed(t *testing.T) {
	e := mustLoad(t, fullDoc)
	for tool, want := range map[string]bool{
		"UpdateUser":     true,
		"DeleteUser":     true, // explicitly denied: listed so the agent reads why
		"BanUser":        false,
		"internal_x":     false,
		"anything_else":  true, // matched by "*"
		"clerk_Whatever": true,
	} {
		if got := e.Listed(tool, nil); got != want {
			t.Errorf("Listed(%s) = %v, want %v", tool, got, want)
		}
	}
	hideAll := mustLoad(t, `{"version":"1","default":"allow","hide":["*"],"tools":{"a":{}}}`)
	if hideAll.Listed("a", nil) {
		t.Error(`hide "*" listed a`)
	}
	if d, _ := hideAll.Decide(&toolgate.Call{Tool: "a"}); d.Rule != RuleHidden {
		t.Errorf(`hide "*": %+v`, d)
	}
}

func TestCheckInputSchema(t *testing.T) {
	e := mustLoad(t, `{"version":"1","default":"allow","check_input_schema":false,"tools":{"a":{"check_input_schema":true},"b":{}}}`)
	if !e.CheckInputSchema("a", nil) || e.CheckInputSchema("b", nil) || e.CheckInputSchema("c", nil) {
		t.Fatal("check_input_schema not honoured")
	}
	e = mustLoad(t, fullDoc)
	if !e.CheckInputSchema("UpdateUser", nil) || e.CheckInputSchema("other", nil) {
		t.Fatal("check_input_schema per glob not honoured")
	}
}

func TestPredicates(t *testing.T) {
	call := func(args map[string]any) *toolgate.Call { return &toolgate.Call{Tool: "t", Args: args} }
	tests := []struct {
		pred string
		args map[string]any
		want bool
	}{
		{`"args.a"`, map[string]any{"a": 1}, true},
		{`"args.a"`, map[string]any{"a": nil}, false},
		{`"args.a"`, nil, false},
		{`{"path":"args.a","op":"absent"}`, nil, true},
		{`"args.a == \"x\""`, map[string]any{"a": "x"}, true},
		{`"args.a != \"x\""`, map[string]any{"a": "y"}, true},
		{`"args.a >= 3"`, map[string]any{"a": 3}, true},
		{`"args.a < 3"`, map[string]any{"a": "2"}, false},
		{`"args.a > \"b\""`, map[string]any{"a": "c"}, true},
		{`"args.a.b.0 == true"`, map[string]any{"a": map[string]any{"b": []any{true}}}, true},
		{`{"path":"args.a","op":"not_in","value":[1,2]}`, map[string]any{"a": 3.0}, true},
		{`{"path":"args.a","op":"contains","value":"ell"}`, map[string]any{"a": "hello"}, true},
		{`{"path":"args.a","op":"contains","value":2}`, map[string]any{"a": []any{1.0, 2.0}}, true},
		{`{"path":"args.a","op":"ends_with","value":"@x.com"}`, map[string]any{"a": "u@x.com"}, true},
		{`{"path":"args.a","op":"matches","value":"^user_[0-9]+$"}`, map[string]any{"a": "user_12"}, true},
		{`{"path":"args.a","op":"matches","value":"^user_[0-9]+$"}`, map[string]any{"a": "admin"}, false},
		{`{"path":"args.a","op":"eq","value":{"k":[1]}}`, map[string]any{"a": map[string]any{"k": []any{1.0}}}, true},
		{`{"path":"args.a","op":">","value":1}`, map[string]any{"a": 2}, true},
	}
	for _, tt := range tests {
		e := mustLoad(t, `{"version":"1","default":"deny","tools":{"t":{"require":[`+tt.pred+`]}}}`)
		d, _ := e.Decide(call(tt.args))
		if got := d.Action == toolgate.Allow; got != tt.want {
			t.Errorf("%s with %v: holds=%v, want %v (%+v)", tt.pred, tt.args, got, tt.want, d)
		}
	}
}

func TestLimitKey(t *testing.T) {
	c := &toolgate.Call{Session: "s1", Identity: &toolgate.Identity{Subject: "alice", Grant: "g1"}}
	for scope, want := range map[string]string{
		"grant": "n|grant|g1", "identity": "n|identity|alice", "session": "n|session|s1", "global": "n|global|",
	} {
		l := Limit{Counter: "n", Scope: scope}
		if got := l.Key(c); got != want {
			t.Errorf("%s: %q, want %q", scope, got, want)
		}
	}
	a := Limit{Counter: "a|grant|x", Scope: "grant"}
	b := Limit{Counter: "a", Scope: "grant"}
	if a.Key(&toolgate.Call{}) == b.Key(&toolgate.Call{Identity: &toolgate.Identity{Grant: "x|grant|"}}) {
		t.Error("counter names can forge keys")
	}
	if k := (&Limit{Counter: "n", Scope: "grant"}).Key(&toolgate.Call{}); k != "n|grant|" {
		t.Errorf("nil identity: %q", k)
	}
}

func TestSharedCounter(t *testing.T) {
	e := mustLoad(t, `{"version":"1","default":"deny","tools":{
		"a":{"limits":[{"counter":"shared","window":"minute","max":5}]},
		"b":{"limits":[{"counter":"shared","window":60,"max":5}]}}}`)
	c := &toolgate.Call{Identity: &toolgate.Identity{Grant: "g"}}
	c.Tool = "a"
	_, la := e.Decide(c)
	c.Tool = "b"
	_, lb := e.Decide(c)
	if la[0].Key(c) != lb[0].Key(c) {
		t.Fatal("same counter name does not share a key")
	}
}

func TestPinned(t *testing.T) {
	e := mustLoad(t, `{"version":"1","default":"allow","pinned":true,"tools":{"a":{"pinned":false},"b":{}}}`)
	if e.Pinned("a", nil) || !e.Pinned("b", nil) || !e.Pinned("c", nil) {
		t.Fatal("pinned not honoured per rule and document")
	}
	if mustLoad(t, `{"version":"1","default":"allow"}`).Pinned("x", nil) {
		t.Fatal("pinned is on by default")
	}
	if _, err := Load([]byte(`{"version":"1","default":"allow","pinned":"yes"}`), "p.json"); err == nil {
		t.Fatal("a non-boolean pinned was accepted")
	}
}

func TestApprove(t *testing.T) {
	e := mustLoad(t, `{"version":"1","default":"deny","tools":{
		"DeleteUser":{"action":"approve","approval":{"timeout":"90s"},"args":{"required":["user_id"]},
			"limits":[{"counter":"deletes","window":"hour","max":5,"scope":"grant"}]},
		"@destructive":{"action":"approve"}}}`)
	call := &toolgate.Call{Tool: "DeleteUser", Args: map[string]any{"user_id": "u"}, Identity: toolgate.Anonymous()}
	d, limits := e.Decide(call)
	if d.Action != toolgate.Approve || d.Rule != "/tools/DeleteUser" || d.Kind != KindApproval || len(limits) != 1 {
		t.Fatalf("approve decision: %+v %v", d, limits)
	}
	// The rule's other checks come first: a bad call never reaches a human.
	if d, _ := e.Decide(&toolgate.Call{Tool: "DeleteUser", Identity: toolgate.Anonymous()}); d.Action != toolgate.Deny || d.Kind != KindArgs {
		t.Fatalf("args before approval: %+v", d)
	}
	if got := e.ApprovalTimeout("DeleteUser", nil); got != 90*time.Second {
		t.Errorf("timeout = %v", got)
	}
	if got := e.ApprovalTimeout("DropTable", []string{"destructive"}); got != DefaultApprovalTimeout {
		t.Errorf("default timeout = %v", got)
	}
	if d, _ := e.Decide(&toolgate.Call{Tool: "DropTable", Categories: []string{"destructive"}, Identity: toolgate.Anonymous()}); d.Action != toolgate.Approve || d.Rule != "/tools/@destructive" {
		t.Errorf("category approve: %+v", d)
	}
}
