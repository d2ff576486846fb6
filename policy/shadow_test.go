package policy

import (
	"strings"
	"testing"

	"github.com/toolgate/toolgate"
)

func TestModeErrors(t *testing.T) {
	checkErrors(t, `{"version":"1","default":"deny","mode":"dry-run"}`,
		[]wantErr{{1, 40, "/mode", `mode must be "enforce" or "shadow", not "dry-run"`}})
	checkErrors(t, "version: \"1\"\ndefault: deny\ntools:\n  a:\n    mode: true\n",
		[]wantErr{{5, 11, "/tools/a/mode", "must be a string, not a boolean"}})
	checkErrors(t, "version: \"1\"\ndefault: deny\ntools:\n  a:\n    mode: Shadow\n",
		[]wantErr{{5, 11, "/tools/a/mode", `not "Shadow"`}})
}

const shadowDoc = `{"version":"1","default":"deny","mode":"shadow","hide":["Secret"],
	"all_tools":{"limits":[{"counter":"all","window":"hour","max":5}]},
	"tools":{
		"Off":{"action":"deny","on_deny":"never"},
		"Kept":{"action":"deny","mode":"enforce","on_deny":"kept"},
		"Held":{"action":"approve"},
		"Refund":{"require":["args.reason"],"limits":[{"counter":"r","window":"hour","max":1}]}}}`

const ruleShadowDoc = `{"version":"1","default":"deny","hide":["Secret"],
	"tools":{
		"New":{"mode":"shadow","deny_if":["args.amount > 100"],"on_deny":"too much"},
		"Old":{"deny_if":["args.amount > 100"]}}}`

// What Evaluate and Decide record and enforce in shadow mode, per check.
func TestShadowDecide(t *testing.T) {
	doc := mustLoad(t, shadowDoc)
	rule := mustLoad(t, ruleShadowDoc)
	tests := []struct {
		name       string
		eng        *Engine
		tool       string
		args       map[string]any
		action     toolgate.Action
		kind       toolgate.Kind
		shadowKind toolgate.Kind
		rule       string
		reason     string
	}{
		{"hidden, document shadow", doc, "Secret", nil, toolgate.Allow, toolgate.KindShadowDenied, KindHidden, RuleHidden, `tool "Secret" is not available`},
		{"default deny, document shadow", doc, "Other", nil, toolgate.Allow, toolgate.KindShadowDenied, KindDefault, RuleDefaultDeny, "default deny"},
		{"action deny, document shadow", doc, "Off", nil, toolgate.Allow, toolgate.KindShadowDenied, KindRule, "/tools/Off", "never"},
		{"rule mode enforce beats the document", doc, "Kept", nil, toolgate.Deny, KindRule, "", "/tools/Kept", "kept"},
		{"require, document shadow", doc, "Refund", nil, toolgate.Allow, toolgate.KindShadowDenied, KindRule, "/tools/Refund/require/0", "reason"},
		{"approval, document shadow", doc, "Held", nil, toolgate.Allow, toolgate.KindShadowDenied, KindApproval, "/tools/Held", "nobody was asked"},
		{"passes, document shadow", doc, "Refund", map[string]any{"reason": "x"}, toolgate.Allow, KindRule, "", "/tools/Refund", ""},
		{"rule shadow records", rule, "New", map[string]any{"amount": 500}, toolgate.Allow, toolgate.KindShadowDenied, KindRule, "/tools/New/deny_if/0", "too much"},
		{"rule shadow passes", rule, "New", map[string]any{"amount": 5}, toolgate.Allow, KindRule, "", "/tools/New", ""},
		{"other rules enforced", rule, "Old", map[string]any{"amount": 500}, toolgate.Deny, KindRule, "", "/tools/Old/deny_if/0", ""},
		{"hide enforced under a rule shadow", rule, "Secret", nil, toolgate.Deny, KindHidden, "", RuleHidden, ""},
		{"default enforced under a rule shadow", rule, "Other", nil, toolgate.Deny, KindDefault, "", RuleDefaultDeny, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := tt.eng.Decide(&toolgate.Call{Tool: tt.tool, Args: tt.args, Identity: toolgate.Anonymous()})
			if d.Action != tt.action || d.Kind != tt.kind || d.ShadowKind != tt.shadowKind || d.Rule != tt.rule || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("decision = %+v, want %s %s (%q) %s reason with %q", d, tt.action, tt.kind, tt.shadowKind, tt.rule, tt.reason)
			}
		})
	}
}

// A shadowed limit counts in a budget of its own; once a shadowed check
// refused, the shadowed limits are left out.
func TestShadowLimits(t *testing.T) {
	doc := mustLoad(t, shadowDoc)
	o := doc.Evaluate(&toolgate.Call{Tool: "Refund", Args: map[string]any{"reason": "x"}, Identity: toolgate.Anonymous()})
	if len(o.Limits) != 2 || !o.Limits[0].Shadow || !o.Limits[1].Shadow {
		t.Fatalf("limits = %+v, want all_tools and the rule's, shadowed", o.Limits)
	}
	enforced := Limit{Counter: "r", Scope: ScopeGrant}
	c := &toolgate.Call{Identity: toolgate.Anonymous()}
	if k, e := o.Limits[1].Key(c), enforced.Key(c); k == e || !strings.Contains(k, e) {
		t.Fatalf("shadowed key %q, enforced key %q: want a distinct key built on the same counter", k, e)
	}
	rebuilt := o.Limits[1]
	rebuilt.prefix = ""
	if rebuilt.Key(c) != o.Limits[1].Key(c) {
		t.Fatalf("Key without the precomputed prefix = %q, want %q", rebuilt.Key(c), o.Limits[1].Key(c))
	}
	o = doc.Evaluate(&toolgate.Call{Tool: "Refund", Identity: toolgate.Anonymous()})
	if o.Shadow == nil || len(o.Limits) != 0 {
		t.Fatalf("refused by a shadowed require: shadow %v, limits %+v, want no limits", o.Shadow, o.Limits)
	}
}

func TestShadowListed(t *testing.T) {
	doc := mustLoad(t, shadowDoc)
	rule := mustLoad(t, ruleShadowDoc)
	for _, tc := range []struct {
		eng  *Engine
		tool string
		want bool
	}{
		{doc, "Secret", true},
		{doc, "Other", true},
		{rule, "Secret", false},
		{rule, "Other", false},
		{rule, "New", true},
	} {
		if got := tc.eng.Listed(tc.tool, nil); got != tc.want {
			t.Errorf("%s: Listed(%s) = %v, want %v", tc.eng.Name(), tc.tool, got, tc.want)
		}
	}
}
