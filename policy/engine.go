package policy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/redact"
)

// The literal rule names of decisions no document rule made.
const (
	RuleDefaultDeny  = "(default deny)"
	RuleDefaultAllow = "(default allow)"
	RuleHidden       = "(hidden)"
	RuleNoPolicy     = "(no policy)"
	// RuleInputSchema names the upstream's own inputSchema, which is not
	// part of the policy document.
	RuleInputSchema = "(input schema)"
	// RulePinned names the pin a tool failed under pinned: true.
	RulePinned = "(pinned)"
	// RulePoisoned names the refusal of a tool whose text carries
	// instructions to the model (the configuration's poisoned setting).
	RulePoisoned = "(poisoned)"
)

// The kinds of decision the engine makes (see toolgate.Kind).
const (
	KindRule     = toolgate.KindRule
	KindDefault  = toolgate.KindDefault
	KindHidden   = toolgate.KindHidden
	KindNoPolicy = toolgate.KindNoPolicy
	KindArgs     = toolgate.KindArgs
	KindLimit    = toolgate.KindLimit
	KindApproval = toolgate.KindApproval
)

// Options tune how an Engine answers. A nil *Options means the defaults.
type Options struct {
	// ListDefaultDenied lists in tools/list the tools that only
	// "default": "deny" refuses (by default they are left out).
	ListDefaultDenied bool
}

// Engine is a compiled policy document. It is immutable and safe for
// concurrent use. A nil *Engine is valid and denies every call with the rule
// "(no policy)".
type Engine struct {
	name         string
	digest       string // SHA-256 (hex) of the document
	description  string // the document's description, for Convert
	defaultAllow bool
	checkSchema  bool
	pinned       bool
	// shadow: "mode": "shadow" on the document; its refusals are
	// recorded, not enforced (see Evaluate).
	shadow bool
	opts   Options

	hideAll   bool
	hideExact map[string]bool
	hideGlobs []string
	hideCats  [nCats]bool

	exact map[string]*rule
	globs []*rule // by precedence: most literal characters, then name
	cats  [nCats]*rule

	allTools []Limit
	// allValues are the all_tools value counters (increment_from), split
	// from allTools by finish.
	allValues []Limit

	// refs are the tool names and patterns the document writes, in its
	// order (see Unmatched).
	refs []ToolRef

	// ic is set for a document in Intercept's format: it decides calls
	// instead of the fields above (see intercept.go).
	ic *icDoc
}

type rule struct {
	name        string
	pointer     string
	literal     int
	deny        bool
	onDeny      string
	denyReason  string // precomputed reason for action deny
	require     []predicate
	denyIf      []predicate
	args        *Schema
	argsPointer string
	when        *condition // nil when the rule has no when
	own         []Limit
	limits      []Limit // all_tools limits, then own: returned by Decide
	// values are the value counters (increment_from) of the all_tools
	// limits, then of own: Evaluate turns them into Outcome.Counters.
	values      []Limit
	checkSchema int8 // -1 inherit, 0 off, 1 on
	pinned      int8 // -1 inherit, 0 off, 1 on
	mode        int8 // -1 inherit, 0 enforce, 1 shadow
	shadow      bool // the resolved mode: the rule's, else the document's
	approve     bool // action approve: a human decides each call
	// approvalTimeout is how long a call waits for the decision (0: the default).
	approvalTimeout time.Duration
	// timeout bounds the upstream call (0: the server's own timeout).
	timeout time.Duration
	// redact masks the rule's redact pointers (nil: none).
	redact *redact.Redactor
}

// NoPolicy returns the engine of a grant without a policy: it denies every
// call with the rule "(no policy)". It is the nil *Engine.
func NoPolicy() *Engine { return nil }

// WithOptions returns a copy of e that answers according to opts (nil for
// the defaults). The copy shares the compiled rules.
func (e *Engine) WithOptions(opts *Options) *Engine {
	if e == nil {
		return nil
	}
	c := *e
	c.opts = Options{}
	if opts != nil {
		c.opts = *opts
	}
	return &c
}

// Name returns the name the document was loaded under.
func (e *Engine) Name() string {
	if e == nil {
		return ""
	}
	return e.name
}

// Digest returns the SHA-256 (lowercase hex) of the document the engine
// was loaded from: the policy's version in the audit log. "" for the nil
// Engine.
func (e *Engine) Digest() string {
	if e == nil {
		return ""
	}
	return e.digest
}

// finish precomputes what Decide returns.
func (e *Engine) finish() {
	e.allTools, e.allValues = splitValues(e.allTools)
	if e.shadow {
		e.allTools = shadowLimits(e.allTools)
		e.allValues = shadowLimits(e.allValues)
	}
	each := func(r *rule) {
		if r == nil {
			return
		}
		r.shadow = r.mode == 1 || (r.mode < 0 && e.shadow)
		if r.shadow {
			r.own = shadowLimits(r.own)
		}
		calls, values := splitValues(r.own)
		if len(e.allTools)+len(calls) > 0 {
			r.limits = make([]Limit, 0, len(e.allTools)+len(calls))
			r.limits = append(append(r.limits, e.allTools...), calls...)
		}
		if len(e.allValues)+len(values) > 0 {
			r.values = make([]Limit, 0, len(e.allValues)+len(values))
			r.values = append(append(r.values, e.allValues...), values...)
		}
		r.denyReason = r.onDeny
		if r.denyReason == "" {
			r.denyReason = fmt.Sprintf("tool %q is denied by policy rule %s", r.name, r.pointer)
		}
	}
	for _, r := range e.exact {
		each(r)
	}
	for _, r := range e.globs {
		each(r)
	}
	for _, r := range e.cats {
		each(r)
	}
}

func hasCat(categories []string, cat int) bool {
	for _, c := range categories {
		if catIndex(c) == cat {
			return true
		}
	}
	return false
}

// hidden reports whether hide covers the tool.
func (e *Engine) hidden(tool string, categories []string) bool {
	if e.hideAll || e.hideExact[tool] {
		return true
	}
	for _, g := range e.hideGlobs {
		if globMatch(g, tool) {
			return true
		}
	}
	for _, c := range categories {
		if i := catIndex(c); i >= 0 && e.hideCats[i] {
			return true
		}
	}
	return false
}

// match finds the rule for a tool: an exact name, else the most specific
// glob, else a risk category (destructive, financial, write, read).
func (e *Engine) match(tool string, categories []string) *rule {
	if r, ok := e.exact[tool]; ok {
		return r
	}
	for _, r := range e.globs {
		if globMatch(r.name, tool) {
			return r
		}
	}
	if len(categories) > 0 {
		for i, r := range e.cats {
			if r != nil && hasCat(categories, i) {
				return r
			}
		}
	}
	return nil
}

func (r *rule) denied(reason, ptr string, kind toolgate.Kind) toolgate.Decision {
	if r.onDeny != "" {
		reason = r.onDeny
	}
	return toolgate.Decision{Action: toolgate.Deny, Rule: ptr, Kind: kind, Reason: reason}
}

// Outcome is everything the policy document says about one call. The
// enforcement pipeline (package enforce) completes it with the checks that
// need more than the document: the input schema, the pin, the limiter and
// the approver.
type Outcome struct {
	// Decision is what the policy enforces: Allow, Approve or Deny.
	Decision toolgate.Decision
	// Shadow is the first refusal a check in shadow mode would have made
	// (Action Deny, with the refusing check's kind, rule and reason); nil
	// when none did. The call goes on to the checks that are enforced.
	Shadow *toolgate.Decision
	// Limits are the limits an allowed or approved call takes from,
	// all_tools limits first, then the rule's own; Limit.Shadow marks
	// those in shadow mode. Once Shadow is set the shadowed limits are
	// left out: enforcement would never have reached them. The slice is
	// shared and must not be modified.
	Limits []Limit
	// ShadowApproval is set when Decision.Action is Approve but the rule is
	// in shadow mode: nobody is asked; the would-be hold is recorded.
	ShadowApproval bool
	// ShadowPin is set when a pin refusal of the call is to be recorded
	// rather than enforced: the rule that matches the tool, or else the
	// document, is in shadow mode.
	ShadowPin bool
	// Counters are the windowed counters an allowed call of an
	// Intercept-format document adds to (nil for toolgate's format).
	Counters []CounterUse
}

// Evaluate checks a call against the policy document. It does no I/O.
//
// Order: no policy, hide, the matching rule (action deny, then require,
// deny_if, args and when, in that order), then the default. A when that
// is false denies with the rule's on_deny (else a reason naming it); one
// that fails to evaluate (a missing key, a type mismatch, the cost limit)
// denies with a reason naming the rule, never an argument's value.
//
// Shadow mode: hide and the default are the document's checks, so they
// follow the document's mode; the rule's checks follow the rule's mode,
// which is the document's unless the rule sets its own. A check in shadow
// mode that would refuse is recorded in Outcome.Shadow (the first one
// only) and the call goes on to the checks that are enforced.
func (e *Engine) Evaluate(c *toolgate.Call) Outcome {
	if e == nil {
		return Outcome{Decision: toolgate.Decision{Action: toolgate.Deny, Rule: RuleNoPolicy, Kind: KindNoPolicy,
			Reason: "no policy is attached to this grant, so every call is denied"}}
	}
	if e.ic != nil {
		return e.ic.evaluate(context.Background(), c, nil)
	}
	var o Outcome
	if e.hidden(c.Tool, c.Categories) {
		d := toolgate.Decision{Action: toolgate.Deny, Rule: RuleHidden, Kind: KindHidden,
			Reason: fmt.Sprintf("tool %q is not available", c.Tool)}
		if !e.shadow {
			return Outcome{Decision: d}
		}
		o.Shadow = &d
	}
	r := e.match(c.Tool, c.Categories)
	if r == nil {
		o.ShadowPin = e.shadow
		if e.defaultAllow {
			o.Decision = toolgate.Decision{Action: toolgate.Allow, Rule: RuleDefaultAllow, Kind: KindDefault}
			o.Limits = e.allTools
			return o.counted(c, e.allValues).trim()
		}
		d := toolgate.Decision{Action: toolgate.Deny, Rule: RuleDefaultDeny, Kind: KindDefault,
			Reason: fmt.Sprintf("tool %q is not allowed by the policy (default deny)", c.Tool)}
		if !e.shadow {
			return Outcome{Decision: d}
		}
		if o.Shadow == nil {
			o.Shadow = &d
		}
		o.Decision = toolgate.Decision{Action: toolgate.Allow, Rule: RuleDefaultDeny, Kind: KindDefault}
		o.Limits = e.allTools
		return o.counted(c, e.allValues).trim()
	}
	if d, refused := r.check(c); refused {
		if !r.shadow {
			return Outcome{Decision: d}
		}
		if o.Shadow == nil {
			o.Shadow = &d
		}
	}
	o.ShadowPin = r.shadow
	o.Limits = r.limits
	if r.approve {
		o.Decision = toolgate.Decision{Action: toolgate.Approve, Rule: r.pointer, Kind: KindApproval,
			Reason: fmt.Sprintf("tool %q needs a human's approval", c.Tool)}
		o.ShadowApproval = r.shadow
	} else {
		o.Decision = toolgate.Decision{Action: toolgate.Allow, Rule: r.pointer, Kind: KindRule}
	}
	return o.counted(c, r.values).trim()
}

// trim leaves the shadowed limits and value counters out once a shadowed
// check refused.
func (o Outcome) trim() Outcome {
	if o.Shadow == nil || len(o.Limits)+len(o.Counters) == 0 {
		return o
	}
	var kept []Limit
	for _, l := range o.Limits {
		if !l.Shadow {
			kept = append(kept, l)
		}
	}
	o.Limits = kept
	var uses []CounterUse
	for _, u := range o.Counters {
		if !u.Shadow {
			uses = append(uses, u)
		}
	}
	o.Counters = uses
	return o
}

// check runs the rule's own checks: action deny, require, deny_if, args,
// when. It returns the first refusal.
func (r *rule) check(c *toolgate.Call) (toolgate.Decision, bool) {
	if r.deny {
		return toolgate.Decision{Action: toolgate.Deny, Rule: r.pointer, Kind: KindRule, Reason: r.denyReason}, true
	}
	for _, list := range [2]struct {
		ps      []predicate
		require bool
	}{{r.require, true}, {r.denyIf, false}} {
		for i := range list.ps {
			if ptr, reason, own, fired := list.ps[i].fires(c, list.require); fired {
				if own {
					return toolgate.Decision{Action: toolgate.Deny, Rule: ptr, Kind: KindRule, Reason: reason}, true
				}
				return r.denied(reason, ptr, KindRule), true
			}
		}
	}
	if r.args != nil {
		if ae := r.args.Validate(c.Args); ae != nil {
			return r.denied(ae.Error(), r.argsPointer+ae.keyword, KindArgs), true
		}
	}
	if r.when != nil {
		if ok, evalErr := r.when.eval(c, time.Now()); !ok {
			if evalErr != "" {
				return toolgate.Decision{Action: toolgate.Deny, Rule: r.when.pointer, Kind: KindRule, Reason: evalErr}, true
			}
			return r.denied(r.when.falseReason, r.when.pointer, KindRule), true
		}
	}
	return toolgate.Decision{}, false
}

// Shadowed turns a would-be refusal into the decision that records it: the
// call is allowed, with kind shadow_denied, the refusal's rule and reason,
// and its kind in ShadowKind.
func Shadowed(refusal toolgate.Decision) toolgate.Decision {
	return toolgate.Decision{Action: toolgate.Allow, Rule: refusal.Rule, Kind: toolgate.KindShadowDenied,
		Reason: refusal.Reason, ShadowKind: refusal.Kind, RetryAfter: refusal.RetryAfter}
}

// Decide is Evaluate seen from the document alone, as one decision: a
// refusal, an approval to ask for, or an allowed call (of kind
// shadow_denied when a check in shadow mode would have refused it). For an
// allowed call it also returns the limits that apply, all_tools limits
// first, then the rule's own; the caller takes them (see Enforce) before
// forwarding the call. The returned slice is shared and must not be
// modified. The gateway decides with enforce.Pipeline.Check, which also
// checks the input schema, the pin, the limits and approval.
func (e *Engine) Decide(c *toolgate.Call) (toolgate.Decision, []Limit) {
	o := e.Evaluate(c)
	switch {
	case o.Decision.Action == toolgate.Deny:
		return o.Decision, nil
	case o.Shadow != nil:
		return Shadowed(*o.Shadow), o.Limits
	case o.ShadowApproval:
		return Shadowed(o.ShadowApprovalRefusal()), o.Limits
	}
	return o.Decision, o.Limits
}

// ShadowApprovalRefusal is the would-be refusal recorded for a call whose
// rule in shadow mode would have asked a human: the call was not held.
func (o Outcome) ShadowApprovalRefusal() toolgate.Decision {
	return toolgate.Decision{Action: toolgate.Deny, Rule: o.Decision.Rule, Kind: KindApproval,
		Reason: o.Decision.Reason + "; in shadow mode nobody was asked"}
}

// ApprovalTimeout is how long a call to the tool waits for a human decision
// when the policy says action approve: the matching rule's approval.timeout
// (for an Intercept document, the approval_timeout of the first
// require_approval rule that applies), else DefaultApprovalTimeout.
func (e *Engine) ApprovalTimeout(tool string, categories []string) time.Duration {
	if e != nil && e.ic != nil {
		if d := e.ic.approvalTimeout(tool); d > 0 {
			return d
		}
		return DefaultApprovalTimeout
	}
	if e != nil {
		if r := e.match(tool, categories); r != nil && r.approvalTimeout > 0 {
			return r.approvalTimeout
		}
	}
	return DefaultApprovalTimeout
}

// Timeout is how long the gateway waits for the upstream server to answer
// a call to the tool: the matching rule's timeout, or 0 when the rule sets
// none (or no rule matches), meaning the server's configured timeout.
func (e *Engine) Timeout(tool string, categories []string) time.Duration {
	if e == nil {
		return 0
	}
	if r := e.match(tool, categories); r != nil {
		return r.timeout
	}
	return 0
}

// Redactor returns how the arguments of a call to the tool are masked
// wherever the call is written down: the redact package's rules (key
// names, value shapes) plus the matching rule's redact pointers. It is
// nil, the package's rules alone, when the rule lists none or no rule
// matches. Its Pointers method lists the rule's pointers.
func (e *Engine) Redactor(tool string, categories []string) *redact.Redactor {
	if e == nil {
		return nil
	}
	if r := e.match(tool, categories); r != nil {
		return r.redact
	}
	return nil
}

// Listed reports whether tools/list shows the tool: false for hidden tools
// and, unless Options.ListDefaultDenied, for tools only "default": "deny"
// refuses; true for tools a rule denies, so the agent can read why a call
// is refused. A document in shadow mode lists every tool: hide and the
// default are recorded, not enforced, so the agent sees what it would
// without the document.
func (e *Engine) Listed(tool string, categories []string) bool {
	if e == nil {
		return false
	}
	if e.shadow {
		return true // shadow mode never changes what the agent sees
	}
	if e.ic != nil {
		// Intercept leaves out hidden tools only; default: deny refuses
		// unlisted tools at call time.
		return !e.ic.hideAll && !e.ic.hide[tool]
	}
	if e.hidden(tool, categories) {
		return false
	}
	if e.match(tool, categories) != nil || e.defaultAllow {
		return true
	}
	return e.opts.ListDefaultDenied
}

// CheckInputSchema reports whether calls to the tool must also be checked
// against the upstream tool's own inputSchema: the matching rule's
// check_input_schema, else the document's, else true.
func (e *Engine) CheckInputSchema(tool string, categories []string) bool {
	if e == nil {
		return true
	}
	if r := e.match(tool, categories); r != nil && r.checkSchema >= 0 {
		return r.checkSchema == 1
	}
	return e.checkSchema
}

// Pinned reports whether calls to the tool are refused when its definition
// differs from the pinned one (or was never pinned): the matching rule's
// pinned, else the document's, else false.
func (e *Engine) Pinned(tool string, categories []string) bool {
	if e == nil {
		return false
	}
	if r := e.match(tool, categories); r != nil && r.pinned >= 0 {
		return r.pinned == 1
	}
	return e.pinned
}

// String describes the engine for logs.
func (e *Engine) String() string {
	if e == nil {
		return "policy (none)"
	}
	if e.ic != nil {
		n := 0
		for _, t := range e.ic.tools {
			n += len(t.rules)
		}
		if e.ic.wild != nil {
			n += len(e.ic.wild.rules)
		}
		return fmt.Sprintf("policy %s (Intercept format): default %s, %d tools, %d rules", e.name,
			map[bool]string{true: "deny", false: "allow"}[e.ic.defaultDeny], len(e.ic.tools), n)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "policy %s: default %s, %d rules", e.name, map[bool]string{true: "allow", false: "deny"}[e.defaultAllow],
		len(e.exact)+len(e.globs)+countCats(e.cats))
	return b.String()
}

func countCats(cats [nCats]*rule) int {
	n := 0
	for _, r := range cats {
		if r != nil {
			n++
		}
	}
	return n
}

// ReadsArgs returns the JSON Pointer of the first check that reads the
// values of a call's arguments for a call of tool: a require or deny_if
// predicate on args, the args schema, a when that refers to args, or a
// value counter (increment_from), of the rule the tool matches or of
// all_tools (toolgate's format); a condition on args or a
// counter incremented by an argument, of the tool's or the "*" rules
// (Intercept's format). It returns "" when the decision cannot depend on
// argument values: the tool is hidden, no rule matches, or the rule reads
// none. policy replay uses it to tell which recorded calls, whose
// arguments were masked, cannot be decided again faithfully.
func (e *Engine) ReadsArgs(tool string, categories []string) string {
	if e == nil {
		return ""
	}
	if e.ic != nil {
		return e.ic.readsArgs(tool)
	}
	if e.hidden(tool, categories) {
		return ""
	}
	r := e.match(tool, categories)
	if r == nil {
		if e.defaultAllow && len(e.allValues) > 0 {
			return e.allValues[0].Pointer + "/increment_from"
		}
		return ""
	}
	if r.deny {
		return "" // action deny refuses before any argument is read
	}
	for _, ps := range [][]predicate{r.require, r.denyIf} {
		for _, p := range ps {
			if p.root == "args" {
				return p.pointer
			}
		}
	}
	if r.args != nil {
		return r.argsPointer
	}
	if r.when != nil && r.when.readsArgs {
		return r.when.pointer
	}
	if len(r.values) > 0 {
		return r.values[0].Pointer + "/increment_from"
	}
	return ""
}

func (d *icDoc) readsArgs(tool string) string {
	if d.hideAll || d.hide[tool] {
		return ""
	}
	t := d.tools[tool]
	if d.defaultDeny && t == nil {
		return ""
	}
	for _, r := range d.rulesFor(t) {
		for _, c := range r.conds {
			if c.args != nil {
				return r.pointer
			}
		}
		if r.state != nil && r.state.from != nil {
			return r.pointer
		}
	}
	return ""
}
