package enforce

import (
	"context"
	"strings"
	"testing"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit/memory"
)

// A whole document in shadow mode: every refusal of its own is recorded
// and the call goes through; the upstream's inputSchema is still enforced.
const shadowDocPolicy = `{"version":"1","default":"deny","mode":"shadow","hide":["Secret"],"pinned":true,
	"tools":{
		"Off":{"action":"deny","on_deny":"never"},
		"Held":{"action":"approve"},
		"Refund":{"require":["args.reason"],"limits":[{"counter":"r","window":"hour","max":1,"scope":"session"}]},
		"UpdateUser":{"pinned":false,"args":{"properties":{"skip_password_checks":{"const":false}}}}}}`

func TestShadowDocumentCheck(t *testing.T) {
	eng := load(t, shadowDocPolicy)
	userSchema := `{"type":"object","properties":{"user_id":{"type":"string"},"skip_password_checks":{"type":"boolean"}},"required":["user_id"]}`
	tests := []struct {
		name       string
		call       *toolgate.Call
		tool       *Tool
		action     toolgate.Action
		kind       toolgate.Kind
		shadowKind toolgate.Kind
		rule       string
		reason     string
	}{
		{"hidden", call("Secret", nil), nil, toolgate.Allow, toolgate.KindShadowDenied, toolgate.KindHidden, "(hidden)", "not available"},
		{"default deny", call("Other", nil), nil, toolgate.Allow, toolgate.KindShadowDenied, toolgate.KindDefault, "(default deny)", "default deny"},
		{"action deny", call("Off", nil), nil, toolgate.Allow, toolgate.KindShadowDenied, toolgate.KindRule, "/tools/Off", "never"},
		{"args", call("UpdateUser", map[string]any{"user_id": "u", "skip_password_checks": true}), schemaTool(t, userSchema),
			toolgate.Allow, toolgate.KindShadowDenied, toolgate.KindArgs, "/tools/UpdateUser/args/properties/skip_password_checks/const", "skip_password_checks"},
		{"the first shadowed refusal is the one recorded", call("Secret", nil), &Tool{PinProblem: "never pinned"},
			toolgate.Allow, toolgate.KindShadowDenied, toolgate.KindHidden, "(hidden)", ""},
		{"pin", call("Refund", map[string]any{"reason": "x"}), &Tool{PinProblem: "never pinned"}, toolgate.Allow, toolgate.KindShadowDenied, toolgate.KindPin, "(pinned)", "never pinned"},
		{"input schema stays enforced", call("UpdateUser", map[string]any{"skip_password_checks": false}), schemaTool(t, userSchema),
			toolgate.Deny, toolgate.KindInputSchema, "", "(input schema)", "user_id"},
		{"case variants stay enforced", call("Off", map[string]any{"User_id": "u"}), schemaTool(t, userSchema),
			toolgate.Deny, toolgate.KindInputSchema, "", "(input schema)", "differs only in case"},
		{"clean call", call("UpdateUser", map[string]any{"user_id": "u"}), schemaTool(t, userSchema),
			toolgate.Allow, toolgate.KindRule, "", "/tools/UpdateUser", ""},
	}
	p := &Pipeline{Limiter: memory.New(nil)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := p.Check(context.Background(), eng, tt.call, tt.tool)
			if v.Action != tt.action || v.Kind != tt.kind || v.ShadowKind != tt.shadowKind || v.Rule != tt.rule || !strings.Contains(v.Reason, tt.reason) {
				t.Fatalf("verdict = %+v, want %s %s (%q) %s reason with %q", v.Decision, tt.action, tt.kind, tt.shadowKind, tt.rule, tt.reason)
			}
		})
	}
}

// A pin refusal is recorded when the tool's rule is in shadow mode.
func TestShadowPin(t *testing.T) {
	eng := load(t, `{"version":"1","default":"allow","pinned":true,"tools":{"New":{"mode":"shadow"}}}`)
	p := &Pipeline{Limiter: memory.New(nil)}
	tool := &Tool{PinProblem: "was never pinned"}
	if v := p.Check(context.Background(), eng, call("New", nil), tool); !v.Allowed() || v.Kind != toolgate.KindShadowDenied || v.ShadowKind != toolgate.KindPin || v.Rule != "(pinned)" {
		t.Fatalf("shadowed rule: %+v", v.Decision)
	}
	if v := p.Check(context.Background(), eng, call("Other", nil), tool); v.Allowed() || v.Kind != toolgate.KindPin {
		t.Fatalf("enforced document: %+v", v.Decision)
	}
}

// Shadowed limits count, in budgets of their own, and never refuse; an
// enforced limit sharing the counter is not charged by shadowed calls.
func TestShadowLimitsCount(t *testing.T) {
	eng := load(t, `{"version":"1","default":"deny","tools":{
		"New":{"mode":"shadow","limits":[{"counter":"shared","window":"hour","max":1,"scope":"session"}]},
		"Old":{"limits":[{"counter":"shared","window":"hour","max":1,"scope":"session"}]}}}`)
	p := &Pipeline{Limiter: memory.New(nil)}
	ctx := context.Background()
	if v := p.Check(ctx, eng, call("New", nil), nil); !v.Allowed() || v.Kind != toolgate.KindRule {
		t.Fatalf("first shadowed call: %+v", v.Decision)
	}
	for i := range 2 {
		v := p.Check(ctx, eng, call("New", nil), nil)
		if !v.Allowed() || v.Kind != toolgate.KindShadowDenied || v.ShadowKind != toolgate.KindLimit || v.Rule != "/tools/New/limits/0" || !strings.Contains(v.Reason, "rate limit of 1 per hour") {
			t.Fatalf("shadowed call %d over the limit: %+v", i+2, v.Decision)
		}
	}
	if v := p.Check(ctx, eng, call("Old", nil), nil); !v.Allowed() || v.Kind != toolgate.KindRule {
		t.Fatalf("the shadowed calls charged the enforced budget: %+v", v.Decision)
	}
	if v := p.Check(ctx, eng, call("Old", nil), nil); v.Allowed() || v.Kind != toolgate.KindLimit {
		t.Fatalf("enforced limit: %+v", v.Decision)
	}
}

// After a shadowed refusal, the shadowed limits are not charged (the
// enforced pipeline would never have reached them), but the enforced ones
// are: the call really goes to the upstream.
func TestShadowRefusalThenLimits(t *testing.T) {
	ctx := context.Background()
	doc := load(t, shadowDocPolicy)
	p := &Pipeline{Limiter: memory.New(nil)}
	if v := p.Check(ctx, doc, call("Refund", nil), nil); v.Kind != toolgate.KindShadowDenied || v.ShadowKind != toolgate.KindRule {
		t.Fatalf("no reason: %+v", v.Decision)
	}
	v := p.Check(ctx, doc, call("Refund", map[string]any{"reason": "x"}), nil)
	if !v.Allowed() || v.Kind != toolgate.KindRule {
		t.Fatalf("the shadow-refused call took shadowed quota: %+v", v.Decision)
	}
	// Rollback gives shadowed quota back too.
	if err := v.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if v := p.Check(ctx, doc, call("Refund", map[string]any{"reason": "x"}), nil); v.Kind != toolgate.KindRule {
		t.Fatalf("after rollback: %+v", v.Decision)
	}

	rule := load(t, `{"version":"1","default":"deny",
		"all_tools":{"limits":[{"counter":"all","window":"hour","max":1,"scope":"session"}]},
		"tools":{"New":{"mode":"shadow","action":"deny"},"Old":{}}}`)
	if v := p.Check(ctx, rule, call("New", nil), nil); v.Kind != toolgate.KindShadowDenied {
		t.Fatalf("shadowed deny: %+v", v.Decision)
	}
	if v := p.Check(ctx, rule, call("Old", nil), nil); v.Allowed() || v.Rule != "/all_tools/limits/0" {
		t.Fatalf("the forwarded call did not count against the enforced all_tools limit: %+v", v.Decision)
	}
	if v := p.Check(ctx, rule, call("New", nil), nil); v.Allowed() || v.Kind != toolgate.KindLimit {
		t.Fatalf("an enforced limit refuses a call of a shadowed rule: %+v", v.Decision)
	}
}

// A rule that would ask a human asks nobody in shadow mode; an enforced
// approval in a shadow document still asks.
func TestShadowApproval(t *testing.T) {
	ctx := context.Background()
	human := &fakeApprover{approve: true}
	p := &Pipeline{Limiter: memory.New(nil), Approvals: human}
	eng := load(t, shadowDocPolicy)
	v := p.Check(ctx, eng, call("Held", nil), nil)
	if !v.Allowed() || v.Kind != toolgate.KindShadowDenied || v.ShadowKind != toolgate.KindApproval || v.Rule != "/tools/Held" || human.asked != 0 {
		t.Fatalf("shadowed approval: %+v, asked %d", v.Decision, human.asked)
	}
	eng = load(t, `{"version":"1","default":"deny","mode":"shadow","hide":["Held"],"tools":{"Held":{"action":"approve","mode":"enforce"}}}`)
	v = p.Check(ctx, eng, call("Held", nil), nil)
	if !v.Allowed() || v.Kind != toolgate.KindShadowDenied || v.ShadowKind != toolgate.KindHidden || v.ApprovalID != "ap_1" || human.asked != 1 {
		t.Fatalf("enforced approval after a shadowed hide: %+v, asked %d", v.Decision, human.asked)
	}
	human.approve = false
	if v = p.Check(ctx, eng, call("Held", nil), nil); v.Allowed() || v.Kind != toolgate.KindApproval {
		t.Fatalf("refused by the human: %+v", v.Decision)
	}
}
