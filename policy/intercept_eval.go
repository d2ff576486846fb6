package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/limit"
)

// CounterUse is one counter an allowed call of an Intercept-format policy
// adds to, in the order Intercept reserves them (the tool's rules, then
// the "*" rules). The caller reserves them all before forwarding the call
// (see ReserveCounters), and releases them when the upstream fails.
type CounterUse struct {
	// Pointer is the state block (or rate_limit) in the document.
	Pointer string
	// Key is the counter: <tool>.<counter>, or _global.<counter> for "*".
	Key string
	// Amount is what the call adds: the rule's increment, or the value of
	// its increment_from argument.
	Amount int64
	// Max is the most the counter may reach.
	Max int64
	// Window is the calendar-aligned window: a minute, an hour or a day.
	Window time.Duration
	// Reason is the denial text when the counter has no room.
	Reason string
	// Problem, when set, refuses the call: the increment_from argument is
	// missing, not a number, or negative.
	Problem string
	// Shadow marks a value counter of toolgate's format in shadow mode: it
	// counts in a budget of its own, and a refusal is recorded, not
	// enforced.
	Shadow bool
	// Required refuses the call when there is no counter store, where an
	// Intercept counter counts nothing (as Intercept does without a
	// state store): set for the value counters of toolgate's format, a
	// budget that must not be skipped.
	Required bool
}

// InternalPolicyError is the text Intercept gives a call it cannot decide
// (a counter unavailable, an increment it cannot read). toolgate adds what
// went wrong after it.
const InternalPolicyError = "Internal policy error"

// Format reports the format the document was written in: FormatToolgate
// or FormatIntercept.
func (e *Engine) Format() string {
	if e != nil && e.ic != nil {
		return FormatIntercept
	}
	return FormatToolgate
}

// EvaluateState is Evaluate reading the counters an Intercept-format
// document's conditions refer to (state.<tool>.<counter>) from counters.
// For toolgate's own format it is Evaluate. Evaluate itself, having no
// counters, lets every state condition pass, as Intercept does without a
// state store.
func (e *Engine) EvaluateState(ctx context.Context, c *toolgate.Call, counters limit.Counters) Outcome {
	if e == nil || e.ic == nil {
		return e.Evaluate(c)
	}
	return e.ic.evaluate(ctx, c, counters)
}

// evaluate decides a call in Intercept's order: hide, default deny for an
// unlisted tool, then the tool's rules and the "*" rules in order, the
// first refusal deciding; an allowed call carries the counters to reserve.
func (d *icDoc) evaluate(ctx context.Context, c *toolgate.Call, counters limit.Counters) Outcome {
	if d.hideAll || d.hide[c.Tool] {
		return Outcome{Decision: toolgate.Decision{Action: toolgate.Deny, Rule: RuleHidden, Kind: KindHidden,
			Reason: fmt.Sprintf("Tool %q is hidden by policy", c.Tool)}}
	}
	t := d.tools[c.Tool]
	if d.defaultDeny && t == nil {
		return Outcome{Decision: toolgate.Decision{Action: toolgate.Deny, Rule: RuleDefaultDeny, Kind: KindDefault,
			Reason: fmt.Sprintf("Tool %q is not permitted by policy", c.Tool)}}
	}
	rules := d.rulesFor(t)
	var approve *icRule // the first require_approval rule
	for _, r := range rules {
		if r.deny || !r.holds(ctx, c, counters) {
			reason := r.onDeny
			if reason == "" {
				reason = fmt.Sprintf("Denied by rule %q", r.name)
			}
			return Outcome{Decision: toolgate.Decision{Action: toolgate.Deny, Rule: r.pointer, Kind: KindRule, Reason: reason}}
		}
		if r.approve && approve == nil {
			approve = r
		}
	}
	o := Outcome{Decision: toolgate.Decision{Action: toolgate.Allow, Rule: RuleDefaultAllow, Kind: KindDefault}}
	if t != nil {
		o.Decision = toolgate.Decision{Action: toolgate.Allow, Rule: "/tools/" + escape(t.name), Kind: KindRule}
	}
	if approve != nil {
		// A human decides once every rule passed; the counters are
		// reserved meanwhile, as for toolgate's approve action.
		o.Decision = toolgate.Decision{Action: toolgate.Approve, Rule: approve.pointer, Kind: KindApproval,
			Reason: fmt.Sprintf("Tool %q requires approval by rule %q", c.Tool, approve.name)}
	}
	for _, r := range rules {
		if r.state == nil {
			continue
		}
		u := CounterUse{Pointer: r.state.pointer, Key: r.state.key, Max: r.state.limit, Window: r.state.window, Reason: r.onDeny}
		if u.Reason == "" {
			u.Reason = "Rate limit exceeded for " + r.name
		}
		u.Amount, u.Problem = r.state.amount(c.Args)
		if u.Problem == "" && !r.state.hasLimit {
			continue // Intercept reserves only counters a lt/lte condition bounds
		}
		o.Counters = append(o.Counters, u)
		if u.Problem != "" {
			break
		}
	}
	return o
}

// approvalTimeout is the approval_timeout of the first require_approval
// rule that applies to a call of tool; 0 when there is none or it sets
// none.
func (d *icDoc) approvalTimeout(tool string) time.Duration {
	t := d.tools[tool]
	if d.defaultDeny && t == nil {
		return 0
	}
	for _, r := range d.rulesFor(t) {
		if r.approve {
			return r.approvalTimeout
		}
	}
	return 0
}

// rulesFor lists the rules that apply to a call of t (nil: an unlisted
// tool): t's own, then the "*" rules.
func (d *icDoc) rulesFor(t *icTool) []*icRule {
	var own []*icRule
	if t != nil {
		own = t.rules
	}
	if d.wild == nil || len(d.wild.rules) == 0 || t == d.wild {
		return own
	}
	if len(own) == 0 {
		return d.wild.rules
	}
	return append(own[:len(own):len(own)], d.wild.rules...)
}

// amount is what a call adds to the counter. A fraction counts as the next
// whole number, so that small amounts cannot slip through uncounted.
func (s *icState) amount(args map[string]any) (int64, string) {
	if s.from == nil {
		return s.increment, ""
	}
	v, ok := icArg(args, s.from)
	if !ok {
		return 0, fmt.Sprintf("%s: the counter's increment %s is missing", InternalPolicyError, s.fromText)
	}
	f, ok := icNumber(v)
	switch {
	case !ok || math.IsNaN(f):
		return 0, fmt.Sprintf("%s: the counter's increment %s is not a number", InternalPolicyError, s.fromText)
	case f < 0:
		return 0, fmt.Sprintf("%s: the counter's increment %s is negative", InternalPolicyError, s.fromText)
	case f > math.MaxInt64/2:
		return 0, fmt.Sprintf("%s: the counter's increment %s is too large", InternalPolicyError, s.fromText)
	}
	return int64(math.Ceil(f)), ""
}

// holds reports whether every condition of the rule holds.
func (r *icRule) holds(ctx context.Context, c *toolgate.Call, counters limit.Counters) bool {
	for i := range r.conds {
		if !r.conds[i].holds(ctx, c, counters) {
			return false
		}
	}
	return true
}

func (cond *icCond) holds(ctx context.Context, c *toolgate.Call, counters limit.Counters) bool {
	var (
		val    any
		exists bool
	)
	if cond.args == nil {
		if counters == nil {
			return true // no counters: state conditions pass, as in Intercept
		}
		n, err := counters.Value(ctx, cond.key)
		if err != nil {
			return false
		}
		val, exists = n, true
	} else {
		val, exists = icArg(c.Args, cond.args)
	}
	if cond.op == "exists" {
		want, _ := cond.value.(bool)
		return (exists && val != nil) == want
	}
	if !exists {
		return false
	}
	switch cond.op {
	case "eq":
		return icEqual(val, cond.value)
	case "neq":
		return !icEqual(val, cond.value)
	case "in":
		return icIn(val, cond.value)
	case "not_in":
		return !icIn(val, cond.value)
	case "lt", "lte", "gt", "gte":
		a, aok := icNumber(val)
		b, bok := icNumber(cond.value)
		if !aok || !bok {
			return false
		}
		switch cond.op {
		case "lt":
			return a < b
		case "lte":
			return a <= b
		case "gt":
			return a > b
		}
		return a >= b
	case "regex":
		s, ok := val.(string)
		return ok && cond.re != nil && cond.re.MatchString(s)
	case "contains":
		if s, ok := val.(string); ok {
			want, ok := cond.value.(string)
			return ok && strings.Contains(s, want)
		}
		if list, ok := val.([]any); ok {
			for _, item := range list {
				if icEqual(item, cond.value) {
					return true
				}
			}
		}
	}
	return false
}

// icArg walks dotted segments through the arguments.
func icArg(args map[string]any, segs []string) (any, bool) {
	var cur any = args
	for _, s := range segs {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[s]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// icEqual compares as Intercept does: numerically when both are numbers,
// else by their default text form.
func icEqual(a, b any) bool {
	af, aok := icNumber(a)
	bf, bok := icNumber(b)
	if aok && bok {
		return af == bf
	}
	return fmt.Sprint(plain(a)) == fmt.Sprint(plain(b))
}

func icIn(v, list any) bool {
	items, ok := list.([]any)
	if !ok {
		return false
	}
	for _, item := range items {
		if icEqual(v, item) {
			return true
		}
	}
	return false
}

// plain turns json.Numbers into float64, as encoding/json decodes numbers
// without UseNumber, so that a value's text form is the same however the
// arguments were decoded.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = plain(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = plain(e)
		}
		return s
	}
	return v
}

// ReserveCounters reserves every counter in order for an allowed call.
// When one has no room (or a use carries a Problem, or the store fails),
// the reservations already made are released and a denial is returned:
// kind limit with the counter's Reason, or the problem's text. On success
// it returns the reservations, to be released if the upstream fails.
func ReserveCounters(ctx context.Context, counters limit.Counters, uses []CounterUse) ([]limit.Reservation, toolgate.Decision, error) {
	var held []limit.Reservation
	refuse := func(u *CounterUse, reason string, err error) ([]limit.Reservation, toolgate.Decision, error) {
		ReleaseCounters(ctx, counters, held)
		return nil, toolgate.Decision{Action: toolgate.Deny, Rule: u.Pointer, Kind: KindLimit, Reason: reason}, err
	}
	for i := range uses {
		u := &uses[i]
		if u.Problem != "" {
			return refuse(u, u.Problem, nil)
		}
		if counters == nil {
			if u.Required {
				return refuse(u, "the counter store is unavailable, so the call is refused", nil)
			}
			continue // no store: nothing is counted, as in Intercept
		}
		r, ok, _, err := counters.Reserve(ctx, u.Key, u.Amount, u.Max, u.Window)
		if err != nil {
			reason := InternalPolicyError + ": the counters are unavailable"
			if u.Required {
				reason = "the counter store is unavailable, so the call is refused"
			}
			return refuse(u, reason, fmt.Errorf("policy: counter %s: %w", u.Key, err))
		}
		if !ok {
			return refuse(u, u.Reason, nil)
		}
		held = append(held, r)
	}
	return held, toolgate.Decision{Action: toolgate.Allow, Kind: KindLimit}, nil
}

// ReleaseCounters releases reservations, for a call the upstream did not
// serve; it returns the first error.
func ReleaseCounters(ctx context.Context, counters limit.Counters, held []limit.Reservation) error {
	var first error
	for _, r := range held {
		if err := counters.Release(context.WithoutCancel(ctx), r); err != nil && first == nil {
			first = fmt.Errorf("policy: release counter %s: %w", r.Key, err)
		}
	}
	return first
}
