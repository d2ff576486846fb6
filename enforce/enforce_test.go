package enforce

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit/memory"
	"github.com/toolgate/toolgate/policy"
)

// fakeApprover stands in for a human at the pipeline's own seam: it
// answers every approval with its verdict and counts the questions.
type fakeApprover struct {
	approve bool
	asked   int
}

func (f *fakeApprover) Await(_ context.Context, _ *policy.Engine, _ *toolgate.Call, d toolgate.Decision) toolgate.Decision {
	f.asked++
	if f.approve {
		return toolgate.Decision{Action: toolgate.Allow, Rule: d.Rule, Kind: toolgate.KindApproval, ApprovalID: "ap_1"}
	}
	return toolgate.Decision{Action: toolgate.Deny, Rule: d.Rule, Kind: toolgate.KindApproval, ApprovalID: "ap_1", Reason: "denied by alice"}
}

const testPolicy = `{"version":"1","default":"deny","hide":["Secret"],"tools":{
	"echo":{},
	"Off":{"action":"deny","on_deny":"never"},
	"Refund":{"require":["args.reason"],"deny_if":["args.amount > 100"]},
	"UpdateUser":{"args":{"properties":{"skip_password_checks":{"const":false}}}},
	"Pinned":{"pinned":true},
	"Limited":{"limits":[{"counter":"l","window":"hour","max":1,"scope":"session"}]},
	"Held":{"action":"approve","limits":[{"counter":"h","window":"hour","max":1,"scope":"session"}]},
	"Cond":{"when":"!has(args.password)","limits":[{"counter":"c","window":"hour","max":1,"scope":"session"}]}}}`

func load(t *testing.T, doc string) *policy.Engine {
	t.Helper()
	eng, err := policy.Load([]byte(doc), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func call(tool string, args map[string]any) *toolgate.Call {
	return &toolgate.Call{Tool: tool, Server: "s", Args: args, Identity: toolgate.Anonymous(), Session: "s-1"}
}

func schemaTool(t *testing.T, schema string) *Tool {
	t.Helper()
	sch, err := policy.CompileSchema(json.RawMessage(schema))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal([]byte(schema), &doc); err != nil {
		t.Fatal(err)
	}
	return &Tool{InputSchema: sch, Params: NewParams(doc)}
}

// Every kind of decision, in the pipeline's order, without HTTP.
func TestCheckKinds(t *testing.T) {
	eng := load(t, testPolicy)
	userSchema := `{"type":"object","properties":{"user_id":{"type":"string"},"skip_password_checks":{"type":"boolean"}},"required":["user_id"]}`
	tests := []struct {
		name   string
		eng    *policy.Engine
		call   *toolgate.Call
		tool   *Tool
		action toolgate.Action
		kind   toolgate.Kind
		rule   string
		reason string
	}{
		{"no policy", nil, call("echo", nil), nil, toolgate.Deny, toolgate.KindNoPolicy, "(no policy)", "no policy"},
		{"hidden", eng, call("Secret", nil), nil, toolgate.Deny, toolgate.KindHidden, "(hidden)", ""},
		{"default deny", eng, call("Other", nil), nil, toolgate.Deny, toolgate.KindDefault, "(default deny)", ""},
		{"rule deny", eng, call("Off", nil), nil, toolgate.Deny, toolgate.KindRule, "/tools/Off", "never"},
		{"require", eng, call("Refund", map[string]any{"amount": 5.0}), nil, toolgate.Deny, toolgate.KindRule, "/tools/Refund/require/0", ""},
		{"deny_if", eng, call("Refund", map[string]any{"amount": 500.0, "reason": "x"}), nil, toolgate.Deny, toolgate.KindRule, "/tools/Refund/deny_if/0", ""},
		{"args schema", eng, call("UpdateUser", map[string]any{"user_id": "u", "skip_password_checks": true}), schemaTool(t, userSchema),
			toolgate.Deny, toolgate.KindArgs, "/tools/UpdateUser/args/properties/skip_password_checks/const", "skip_password_checks"},
		{"case variant of a parameter", eng, call("UpdateUser", map[string]any{"user_id": "u", "Skip_password_checks": true}), schemaTool(t, userSchema),
			toolgate.Deny, toolgate.KindInputSchema, "(input schema)", `argument /Skip_password_checks differs only in case from the tool's parameter "skip_password_checks"`},
		{"input schema", eng, call("UpdateUser", map[string]any{"skip_password_checks": false}), schemaTool(t, userSchema),
			toolgate.Deny, toolgate.KindInputSchema, "(input schema)", "user_id"},
		{"when, before the input schema", eng, call("Cond", map[string]any{"password": "hunter2"}), schemaTool(t, userSchema),
			toolgate.Deny, toolgate.KindRule, "/tools/Cond/when", "the condition at /tools/Cond/when is false"},
		{"pin problem under pinned", eng, call("Pinned", nil), &Tool{PinProblem: "changed since it was pinned"},
			toolgate.Deny, toolgate.KindPin, "(pinned)", "changed since it was pinned"},
		{"pin problem, not pinned", eng, call("echo", nil), &Tool{PinProblem: "changed since it was pinned"},
			toolgate.Allow, toolgate.KindRule, "/tools/echo", ""},
		{"allowed", eng, call("UpdateUser", map[string]any{"user_id": "u"}), schemaTool(t, userSchema),
			toolgate.Allow, toolgate.KindRule, "/tools/UpdateUser", ""},
	}
	p := &Pipeline{Limiter: memory.New(nil), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := p.Check(context.Background(), tt.eng, tt.call, tt.tool)
			if v.Action != tt.action || v.Kind != tt.kind || v.Rule != tt.rule || !strings.Contains(v.Reason, tt.reason) {
				t.Fatalf("verdict = %+v, want %s %s %s (reason with %q)", v.Decision, tt.action, tt.kind, tt.rule, tt.reason)
			}
		})
	}
}

// Limits are reserved on allow, refuse beyond their budget, and Rollback
// gives the quota back for a call the upstream never served.
func TestCheckLimitsAndRollback(t *testing.T) {
	eng := load(t, testPolicy)
	p := &Pipeline{Limiter: memory.New(nil)}
	ctx := context.Background()
	v := p.Check(ctx, eng, call("Limited", nil), nil)
	if !v.Allowed() {
		t.Fatalf("first call: %+v", v.Decision)
	}
	if v2 := p.Check(ctx, eng, call("Limited", nil), nil); v2.Allowed() || v2.Kind != toolgate.KindLimit || v2.RetryAfter <= 0 {
		t.Fatalf("second call: %+v", v2.Decision)
	}
	if err := v.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if v3 := p.Check(ctx, eng, call("Limited", nil), nil); !v3.Allowed() {
		t.Fatalf("after rollback: %+v", v3.Decision)
	}
}

// A call its when condition denies takes no quota.
func TestCheckWhenBeforeLimits(t *testing.T) {
	eng := load(t, testPolicy)
	p := &Pipeline{Limiter: memory.New(nil)}
	ctx := context.Background()
	for range 3 {
		if v := p.Check(ctx, eng, call("Cond", map[string]any{"password": "x"}), nil); v.Allowed() || v.Rule != "/tools/Cond/when" {
			t.Fatalf("with a password: %+v", v.Decision)
		}
	}
	if v := p.Check(ctx, eng, call("Cond", nil), nil); !v.Allowed() {
		t.Fatalf("the denied calls took quota: %+v", v.Decision)
	}
}

// Limits come before approval: a call the limits refuse is never put to a
// human, so no approval is spent on it; a call the human refuses gives its
// quota back; a call without approvals configured is refused and gives its
// quota back too.
func TestCheckApprovalAfterLimits(t *testing.T) {
	eng := load(t, testPolicy)
	ctx := context.Background()

	human := &fakeApprover{approve: false}
	p := &Pipeline{Limiter: memory.New(nil), Approvals: human}
	v := p.Check(ctx, eng, call("Held", nil), nil)
	if v.Allowed() || v.Kind != toolgate.KindApproval || v.ApprovalID != "ap_1" || human.asked != 1 {
		t.Fatalf("refused by the human: %+v (asked %d)", v.Decision, human.asked)
	}
	human.approve = true
	v = p.Check(ctx, eng, call("Held", nil), nil)
	if !v.Allowed() || v.Kind != toolgate.KindApproval || v.ApprovalID != "ap_1" || human.asked != 2 {
		t.Fatalf("approved after a refusal that gave the quota back: %+v (asked %d)", v.Decision, human.asked)
	}
	v = p.Check(ctx, eng, call("Held", nil), nil)
	if v.Allowed() || v.Kind != toolgate.KindLimit || human.asked != 2 {
		t.Fatalf("over the limit: %+v; the human was asked %d times, want 2", v.Decision, human.asked)
	}

	p = &Pipeline{Limiter: memory.New(nil)}
	v = p.Check(ctx, eng, call("Held", nil), nil)
	if v.Allowed() || v.Kind != toolgate.KindApproval || !strings.Contains(v.Reason, "approvals are not configured") {
		t.Fatalf("no approver: %+v", v.Decision)
	}
	p.Approvals = &fakeApprover{approve: true}
	if v = p.Check(ctx, eng, call("Held", nil), nil); !v.Allowed() {
		t.Fatalf("the refused call kept its quota: %+v", v.Decision)
	}
}
