// Package policytest runs policy unit tests (policy.TestFile) through the
// gateway's own decision code, enforce.Pipeline.Check, without HTTP or
// upstream servers. Each case starts with empty rate-limit budgets, so
// cases do not depend on each other or on their order.
package policytest

import (
	"context"
	"fmt"
	"strings"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/enforce"
	"github.com/toolgate/toolgate/limit/memory"
	"github.com/toolgate/toolgate/policy"
)

// Session is the session id every test call is made in.
const Session = "policy-test"

// Result is the outcome of one case.
type Result struct {
	Name   string
	Line   int
	Column int
	// Pass reports whether the decision met every expectation.
	Pass bool
	// Want is the expectation; Got the decision on the case's last call.
	Want policy.Expectation
	Got  toolgate.Decision
	// Mismatches say, one per expectation not met, what was expected and
	// what came instead.
	Mismatches []Mismatch
}

// Mismatch is one expectation a decision did not meet.
type Mismatch struct {
	Field string `json:"field"`
	Want  string `json:"want"`
	Got   string `json:"got"`
}

// Run decides every case of tf and reports them in file order.
func Run(ctx context.Context, tf *policy.TestFile) []Result {
	out := make([]Result, 0, len(tf.Cases))
	for _, tc := range tf.Cases {
		out = append(out, runCase(ctx, tf.Policy, tc))
	}
	return out
}

func runCase(ctx context.Context, eng *policy.Engine, tc *policy.TestCase) Result {
	// Windowed counters in memory, fresh for each case as the limiter is:
	// value counters and Intercept counters count its before calls too.
	p := &enforce.Pipeline{Limiter: memory.New(nil), Counters: memory.NewCounters(nil), Approvals: human{approve: tc.Approve}}
	for _, b := range tc.Before {
		p.Check(ctx, eng, toCall(b), toTool(b))
	}
	var d toolgate.Decision
	for range tc.Repeat {
		d = p.Check(ctx, eng, toCall(tc.Call), toTool(tc.Call)).Decision
	}
	r := Result{Name: tc.Name, Line: tc.Line, Column: tc.Column, Want: tc.Expect, Got: d}
	r.Mismatches = compare(tc.Expect, d)
	r.Pass = len(r.Mismatches) == 0
	return r
}

func compare(want policy.Expectation, got toolgate.Decision) []Mismatch {
	var m []Mismatch
	if want.Decision != "" && want.Decision != got.Action {
		m = append(m, Mismatch{"decision", string(want.Decision), string(got.Action)})
	}
	if want.Kind != "" && want.Kind != got.Kind {
		m = append(m, Mismatch{"kind", string(want.Kind), string(got.Kind)})
	}
	if want.ShadowKind != "" && want.ShadowKind != got.ShadowKind {
		m = append(m, Mismatch{"shadow_kind", string(want.ShadowKind), string(got.ShadowKind)})
	}
	if want.Rule != "" && want.Rule != got.Rule {
		m = append(m, Mismatch{"rule", want.Rule, got.Rule})
	}
	if want.Reason != "" && !strings.Contains(got.Reason, want.Reason) {
		m = append(m, Mismatch{"reason", fmt.Sprintf("containing %q", want.Reason), fmt.Sprintf("%q", got.Reason)})
	}
	return m
}

func toCall(c *policy.TestCall) *toolgate.Call {
	id := *c.Identity
	return &toolgate.Call{Tool: c.Tool, Server: c.Server, Categories: c.Categories, Args: c.Args,
		Identity: &id, Session: Session}
}

func toTool(c *policy.TestCall) *enforce.Tool {
	if c.InputSchema == nil {
		return nil
	}
	return &enforce.Tool{InputSchema: c.InputSchema, Params: enforce.NewParams(c.InputSchemaDoc)}
}

// human stands in for the person who decides approvals: it answers every
// question at once, as the case says.
type human struct{ approve bool }

func (h human) Await(_ context.Context, _ *policy.Engine, _ *toolgate.Call, d toolgate.Decision) toolgate.Decision {
	if h.approve {
		return toolgate.Decision{Action: toolgate.Allow, Rule: d.Rule, Kind: toolgate.KindApproval, ApprovalID: "apr_test"}
	}
	return toolgate.Decision{Action: toolgate.Deny, Rule: d.Rule, Kind: toolgate.KindApproval, ApprovalID: "apr_test",
		Reason: "denied by the test's stand-in human (approval: deny)"}
}
