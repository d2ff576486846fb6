package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/toolgate/toolgate"
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
	defaultAllow bool
	checkSchema  bool
	pinned       bool
	opts         Options

	hideAll   bool
	hideExact map[string]bool
	hideGlobs []string
	hideCats  [nCats]bool

	exact map[string]*rule
	globs []*rule // by precedence: most literal characters, then name
	cats  [nCats]*rule

	allTools []Limit
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
	checkSchema int8    // -1 inherit, 0 off, 1 on
	pinned      int8    // -1 inherit, 0 off, 1 on
	approve     bool    // action approve: a human decides each call
	// approvalTimeout is how long a call waits for the decision (0: the default).
	approvalTimeout time.Duration
	// timeout bounds the upstream call (0: the server's own timeout).
	timeout time.Duration
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
	each := func(r *rule) {
		if r == nil {
			return
		}
		if len(e.allTools)+len(r.own) > 0 {
			r.limits = make([]Limit, 0, len(e.allTools)+len(r.own))
			r.limits = append(append(r.limits, e.allTools...), r.own...)
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

// Decide checks a call against the policy. It does no I/O. For an allowed
// call it also returns the limits that apply, all_tools limits first, then
// the rule's own; the caller takes them (see Enforce) before forwarding the
// call. The returned slice is shared and must not be modified.
//
// Order: no policy, hide, the matching rule (action deny, then require,
// deny_if, args and when, in that order), then the default. A when that
// is false denies with the rule's on_deny (else a reason naming it); one
// that fails to evaluate (a missing key, a type mismatch, the cost limit)
// denies with a reason naming the rule, never an argument's value.
func (e *Engine) Decide(c *toolgate.Call) (toolgate.Decision, []Limit) {
	if e == nil {
		return toolgate.Decision{Action: toolgate.Deny, Rule: RuleNoPolicy, Kind: KindNoPolicy,
			Reason: "no policy is attached to this grant, so every call is denied"}, nil
	}
	if e.hidden(c.Tool, c.Categories) {
		return toolgate.Decision{Action: toolgate.Deny, Rule: RuleHidden, Kind: KindHidden,
			Reason: fmt.Sprintf("tool %q is not available", c.Tool)}, nil
	}
	r := e.match(c.Tool, c.Categories)
	if r == nil {
		if e.defaultAllow {
			return toolgate.Decision{Action: toolgate.Allow, Rule: RuleDefaultAllow, Kind: KindDefault}, e.allTools
		}
		return toolgate.Decision{Action: toolgate.Deny, Rule: RuleDefaultDeny, Kind: KindDefault,
			Reason: fmt.Sprintf("tool %q is not allowed by the policy (default deny)", c.Tool)}, nil
	}
	if r.deny {
		return toolgate.Decision{Action: toolgate.Deny, Rule: r.pointer, Kind: KindRule, Reason: r.denyReason}, nil
	}
	for i := range r.require {
		p := &r.require[i]
		if !p.holds(c) {
			return r.denied(p.requireReason, p.pointer, KindRule), nil
		}
	}
	for i := range r.denyIf {
		p := &r.denyIf[i]
		if p.holds(c) {
			return r.denied(p.denyReason, p.pointer, KindRule), nil
		}
	}
	if r.args != nil {
		if ae := r.args.Validate(c.Args); ae != nil {
			return r.denied(ae.Error(), r.argsPointer+ae.keyword, KindArgs), nil
		}
	}
	if r.when != nil {
		if ok, evalErr := r.when.eval(c, time.Now()); !ok {
			if evalErr != "" {
				return toolgate.Decision{Action: toolgate.Deny, Rule: r.when.pointer, Kind: KindRule, Reason: evalErr}, nil
			}
			return r.denied(r.when.falseReason, r.when.pointer, KindRule), nil
		}
	}
	if r.approve {
		return toolgate.Decision{Action: toolgate.Approve, Rule: r.pointer, Kind: KindApproval,
			Reason: fmt.Sprintf("tool %q needs a human's approval", c.Tool)}, r.limits
	}
	return toolgate.Decision{Action: toolgate.Allow, Rule: r.pointer, Kind: KindRule}, r.limits
}

// ApprovalTimeout is how long a call to the tool waits for a human decision
// when the policy says action approve: the matching rule's approval.timeout,
// else DefaultApprovalTimeout.
func (e *Engine) ApprovalTimeout(tool string, categories []string) time.Duration {
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

// Listed reports whether tools/list shows the tool: false for hidden tools
// and, unless Options.ListDefaultDenied, for tools only "default": "deny"
// refuses; true for tools a rule denies, so the agent can read why a call
// is refused.
func (e *Engine) Listed(tool string, categories []string) bool {
	if e == nil || e.hidden(tool, categories) {
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
