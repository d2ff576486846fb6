// Package enforce is the one place a tools/call is decided. Check runs
// every check of a call in one documented order and returns one typed
// Verdict, with the rate-limit quota it reserved for the call:
//
//  1. the policy's rule for the tool: no policy, hide, the rule's or the
//     default's action, require, deny_if, the args schema, the when
//     condition (toolgate.KindNoPolicy, KindHidden, KindDefault,
//     KindRule, KindArgs; when is KindRule);
//  2. the upstream's declared parameters and inputSchema: an argument
//     whose name differs only in case from a parameter, then the schema
//     itself where the policy enables it (KindInputSchema);
//  3. the pin, where the policy says pinned: true (KindPin);
//  4. the rate limits, whose quota is reserved (KindLimit), then the
//     windowed counters (KindLimit): those of an Intercept-format policy
//     and the value counters (increment_from) of toolgate's format, whose
//     argument the policy already checked in step 1 (KindArgs);
//  5. human approval, for action approve (KindApproval); a refusal, or
//     nobody answering in time, gives the reserved quota back.
//
// The first check that refuses decides. Limits come before approval so
// that a human is never asked about a call the limits would refuse
// anyway, and an approval is never spent on one: the quota is held while
// the human decides.
//
// A check the policy puts in shadow mode ("mode": "shadow") records its
// refusal instead of making it: the call is allowed with kind
// toolgate.KindShadowDenied, carrying the would-be refusal (see Check).
//
// The caller forwards an allowed call and calls Verdict.Rollback when the
// upstream never served it, giving the quota back.
package enforce

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/internal/canonjson"
	"github.com/toolgate/toolgate/limit"
	"github.com/toolgate/toolgate/policy"
)

// Approver puts a call to a human. Await returns an Allow decision when
// the call was approved and a Deny decision otherwise (refused, timed out,
// abandoned, or approvals unavailable), each of kind KindApproval and
// naming the approval.
type Approver interface {
	Await(ctx context.Context, eng *policy.Engine, call *toolgate.Call, d toolgate.Decision) toolgate.Decision
}

// Tool is what the pipeline knows of the called tool beyond the call.
type Tool struct {
	// InputSchema is the upstream's compiled inputSchema; nil when it has
	// none or it does not compile.
	InputSchema *policy.Schema
	// Params are the parameter names the tool's inputSchema declares.
	Params *Params
	// Poisoned, when not empty, says why the tool's text was found to
	// carry instructions to the model: the call is refused (the gateway
	// sets it only where the configuration's poisoned setting is hide or
	// deny).
	Poisoned string
	// PinProblem says why the tool fails its pin (changed, or never
	// pinned); empty when it matches its pin.
	PinProblem string
}

// Params are the property names a schema declares at any depth, exactly
// and folded as Go's encoding/json folds them.
type Params struct {
	exact map[string]bool
	fold  map[string]string // folded → one declared name
}

// NewParams collects the names under every "properties" object of a JSON
// Schema document (decoded into any).
func NewParams(schema any) *Params {
	p := &Params{exact: map[string]bool{}, fold: map[string]string{}}
	p.collect(schema)
	return p
}

func (p *Params) collect(doc any) {
	switch v := doc.(type) {
	case map[string]any:
		for k, x := range v {
			if props, ok := x.(map[string]any); ok && k == "properties" {
				for name := range props {
					p.exact[name] = true
					p.fold[canonjson.Fold(name)] = name
				}
			}
			p.collect(x)
		}
	case []any:
		for _, x := range v {
			p.collect(x)
		}
	}
}

// caseVariant finds an argument, at any depth, whose name differs only in
// case from a declared parameter ("Skip_password_checks" for
// "skip_password_checks"). The policy reads names exactly, but a server
// that decodes arguments as Go's encoding/json does would take the variant
// for the parameter: the call would run with an argument no rule judged.
// It returns the argument's JSON Pointer and the declared name.
func (p *Params) caseVariant(v any, path string) (string, string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			ptr := path + "/" + escapePointer(k)
			if !p.exact[k] {
				if exact, ok := p.fold[canonjson.Fold(k)]; ok {
					return ptr, exact
				}
			}
			if q, exact := p.caseVariant(x, ptr); q != "" {
				return q, exact
			}
		}
	case []any:
		for i, x := range v {
			if q, exact := p.caseVariant(x, fmt.Sprintf("%s/%d", path, i)); q != "" {
				return q, exact
			}
		}
	}
	return "", ""
}

func escapePointer(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '~':
			b = append(b, '~', '0')
		case '/':
			b = append(b, '~', '1')
		default:
			b = append(b, s[i])
		}
	}
	return string(b)
}

// Pipeline holds what the checks need besides the call: the rate limiter
// and the approver. A nil Approvals refuses every call that needs one.
type Pipeline struct {
	Limiter   limit.Limiter
	Approvals Approver
	Logger    *slog.Logger
	// Counters hold the windowed counters of Intercept-format policies;
	// nil counts nothing and lets every state condition pass, as
	// Intercept does without a state store.
	Counters limit.Counters
}

// Verdict is the outcome of Check: the decision, and the quota reserved
// for an allowed call.
type Verdict struct {
	toolgate.Decision
	reserved []policy.Limit
	call     *toolgate.Call
	limiter  limit.Limiter
	held     []limit.Reservation // windowed counters: Intercept's, value counters
	counters limit.Counters
}

// Counted reports whether the call holds reservations on the windowed
// counters: an Intercept-format policy's, or value counters.
func (v *Verdict) Counted() bool { return len(v.held) > 0 }

// ReleaseCounters gives back what the call added to the windowed counters
// (an Intercept-format policy's, and value counters): for a call the
// upstream answered with an error, which Intercept does not count. The
// rate-limit quota stays taken.
func (v *Verdict) ReleaseCounters(ctx context.Context) error {
	if len(v.held) == 0 {
		return nil
	}
	err := policy.ReleaseCounters(ctx, v.counters, v.held)
	v.held = nil
	return err
}

// Rollback gives back the quota reserved for the call, for a call the
// upstream never served. It is a no-op for a refused call.
func (v *Verdict) Rollback(ctx context.Context) error {
	err := v.ReleaseCounters(ctx)
	if len(v.reserved) == 0 {
		return err
	}
	if rerr := policy.Rollback(ctx, v.limiter, v.call, v.reserved); err == nil {
		err = rerr
	}
	v.reserved = nil
	return err
}

// Check decides call against eng (nil: no policy) in the order of the
// package documentation.
//
// Shadow mode: a check the policy puts in shadow mode records its refusal
// instead of making it (policy.Engine.Evaluate). The first such refusal
// is kept, the shadowed checks after it are skipped (enforcement would
// never have reached them), and the enforced checks still run, since the
// call is really forwarded. A call that passes every enforced check gets
// a decision of kind shadow_denied carrying the would-be refusal. The
// upstream's parameters and inputSchema are always enforced: they guard
// the server's own contract, not a rule of the policy. Shadowed limits
// count in budgets of their own; shadowed approval asks nobody.
func (p *Pipeline) Check(ctx context.Context, eng *policy.Engine, call *toolgate.Call, tool *Tool) *Verdict {
	v := &Verdict{call: call, limiter: p.Limiter, counters: p.Counters}
	if tool == nil {
		tool = &Tool{}
	}
	// 1. The policy's rule: nil engine → (no policy), hide, action,
	// require, deny_if, args, when.
	o := eng.EvaluateState(ctx, call, p.Counters)
	d := o.Decision
	if d.Action != toolgate.Allow && d.Action != toolgate.Approve {
		v.Decision = d
		return v
	}
	shadow := o.Shadow
	// A poisoned tool is refused whatever the policy allows: its text
	// was kept from the agent.
	if tool.Poisoned != "" {
		v.Decision = deny(policy.RulePoisoned, toolgate.KindPoisoned, tool.Poisoned)
		return v
	}
	// 2. The upstream's parameters and inputSchema.
	if tool.Params != nil {
		if ptr, exact := tool.Params.caseVariant(call.Args, ""); ptr != "" {
			v.Decision = deny(policy.RuleInputSchema, toolgate.KindInputSchema,
				fmt.Sprintf("argument %s differs only in case from the tool's parameter %q; spell it exactly", ptr, exact))
			return v
		}
	}
	if tool.InputSchema != nil && eng.CheckInputSchema(call.Tool, call.Categories) {
		if ae := tool.InputSchema.Validate(call.Args); ae != nil {
			v.Decision = deny(policy.RuleInputSchema, toolgate.KindInputSchema, argumentReason(ae)+" (the tool's input schema)")
			return v
		}
	}
	// 3. The pin.
	if tool.PinProblem != "" && eng.Pinned(call.Tool, call.Categories) {
		pd := deny(policy.RulePinned, toolgate.KindPin, tool.PinProblem)
		if !o.ShadowPin {
			v.Decision = pd
			return v
		}
		if shadow == nil {
			shadow = &pd
		}
	}
	// 4. The rate limits: quota reserved now, held while a human decides.
	// The enforced limits first, all or none; then the shadowed ones, all
	// or none, unless a shadowed check already refused.
	enforced, shadowed := splitLimits(o.Limits)
	countersEnforced, countersShadowed := splitCounters(o.Counters)
	if call.Continues != "" {
		// The retry of a call that asked for input: the first call
		// counted, once, for the limits and the counters.
		enforced, shadowed, countersEnforced, countersShadowed = nil, nil, nil, nil
	}
	if len(enforced) > 0 {
		ld, err := policy.Enforce(ctx, p.Limiter, call, enforced)
		if err != nil {
			p.logger().Error("rate limiter failed", "err", err)
			v.Decision = deny(enforced[0].Pointer, toolgate.KindLimit, "the rate limiter is unavailable, so the call is refused")
			return v
		}
		if !ld.Allowed() {
			v.Decision = ld
			return v
		}
		v.reserved = enforced
	}
	if len(shadowed) > 0 && shadow == nil {
		ld, err := policy.Enforce(ctx, p.Limiter, call, shadowed)
		switch {
		case err != nil:
			p.logger().Warn("rate limiter failed on a shadowed limit", "err", err)
			ld.Reason = "the rate limiter is unavailable, so the call would be refused"
			shadow = &ld
		case !ld.Allowed():
			shadow = &ld
		default:
			v.reserved = append(v.reserved, shadowed...)
		}
	}
	// 4b. The windowed counters: those of an Intercept-format policy,
	// after its rules (which may read them) passed, and the value
	// counters (increment_from) of toolgate's format; reserved the same
	// way, the enforced ones all or none, then the shadowed ones.
	if len(countersEnforced) > 0 {
		held, cd, err := policy.ReserveCounters(ctx, p.Counters, countersEnforced)
		if err != nil {
			p.logger().Error("counters failed", "err", err)
		}
		if !cd.Allowed() {
			if rerr := v.Rollback(ctx); rerr != nil {
				p.logger().Warn("giving back rate-limit quota failed", "tool", call.Tool, "err", rerr)
			}
			v.Decision = cd
			return v
		}
		v.held = held
	}
	if len(countersShadowed) > 0 && shadow == nil {
		held, cd, err := policy.ReserveCounters(ctx, p.Counters, countersShadowed)
		if err != nil {
			p.logger().Warn("counters failed on a shadowed value counter", "err", err)
		}
		if cd.Allowed() {
			v.held = append(v.held, held...)
		} else {
			shadow = &cd
		}
	}
	// 5. Human approval.
	if d.Action == toolgate.Approve && o.ShadowApproval {
		if shadow == nil {
			r := o.ShadowApprovalRefusal()
			shadow = &r
		}
		d = toolgate.Decision{Action: toolgate.Allow, Rule: d.Rule, Kind: toolgate.KindRule}
	}
	if d.Action == toolgate.Approve {
		if p.Approvals == nil {
			d = toolgate.Decision{Action: toolgate.Deny, Rule: d.Rule, Kind: toolgate.KindApproval,
				Reason: "the policy requires a human's approval, but approvals are not configured on this gateway"}
		} else {
			d = p.Approvals.Await(ctx, eng, call, d)
		}
		if !d.Allowed() {
			if err := v.Rollback(ctx); err != nil {
				p.logger().Warn("giving back rate-limit quota failed", "tool", call.Tool, "err", err)
			}
			v.Decision = d
			return v
		}
	}
	if shadow != nil {
		approvalID := d.ApprovalID
		d = policy.Shadowed(*shadow)
		d.ApprovalID = approvalID
	}
	v.Decision = d
	return v
}

// splitCounters separates the enforced counters from the shadowed value
// counters. When none is shadowed it returns uses itself.
func splitCounters(uses []policy.CounterUse) (enforced, shadowed []policy.CounterUse) {
	for i := range uses {
		if uses[i].Shadow {
			for _, u := range uses {
				if u.Shadow {
					shadowed = append(shadowed, u)
				} else {
					enforced = append(enforced, u)
				}
			}
			return enforced, shadowed
		}
	}
	return uses, nil
}

// splitLimits separates the enforced limits from the shadowed ones. When
// none is shadowed it returns limits itself.
func splitLimits(limits []policy.Limit) (enforced, shadowed []policy.Limit) {
	n := 0
	for i := range limits {
		if limits[i].Shadow {
			n++
		}
	}
	if n == 0 {
		return limits, nil
	}
	if n == len(limits) {
		return nil, limits
	}
	enforced = make([]policy.Limit, 0, len(limits)-n)
	shadowed = make([]policy.Limit, 0, n)
	for _, l := range limits {
		if l.Shadow {
			shadowed = append(shadowed, l)
		} else {
			enforced = append(enforced, l)
		}
	}
	return enforced, shadowed
}

func (p *Pipeline) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.Default()
	}
	return p.Logger
}

func deny(rule string, kind toolgate.Kind, reason string) toolgate.Decision {
	return toolgate.Decision{Action: toolgate.Deny, Rule: rule, Kind: kind, Reason: reason}
}

// argumentReason names the argument a schema check failed on, never its
// value.
func argumentReason(ae *policy.ArgError) string {
	if ae.Path == "" || ae.Path == "/" {
		return "arguments: " + ae.Message
	}
	return "argument " + ae.Path + ": " + ae.Message
}
