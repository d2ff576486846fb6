package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// This file converts a compiled document between Intercept's format and
// toolgate's own, where a construct has the same meaning in both (the
// table is in docs/intercept.md#converting). What cannot be carried over
// is listed, one Loss per construct, never dropped silently.

// Loss is one construct of the source document a conversion could not
// carry over exactly.
type Loss struct {
	// Pointer is the construct in the source document.
	Pointer string
	// Message says what was dropped or approximated, and why.
	Message string
}

func (l Loss) String() string { return l.Pointer + ": " + l.Message }

// The targets of Convert.
const (
	ConvertToJSON = "json" // toolgate's JSON, from an Intercept document
	ConvertToYAML = "yaml" // Intercept's YAML, from a toolgate document
)

// Convert writes e, loaded from an Intercept document, as toolgate's JSON
// (to "json"), or, loaded from a toolgate document, as Intercept's YAML
// (to "yaml"). It returns the document and what it could not convert.
func Convert(e *Engine, to string) ([]byte, []Loss, error) {
	if e == nil {
		return nil, nil, fmt.Errorf("policy: convert: no policy")
	}
	switch to {
	case ConvertToJSON:
		if e.ic == nil {
			return nil, nil, fmt.Errorf("policy: convert: %s is already in toolgate's format; --to json converts an Intercept policy", e.name)
		}
		return e.ic.toToolgate(e.description)
	case ConvertToYAML:
		if e.ic != nil {
			return nil, nil, fmt.Errorf("policy: convert: %s is already in Intercept's format; --to yaml converts a toolgate policy", e.name)
		}
		return e.toIntercept()
	}
	return nil, nil, fmt.Errorf("policy: convert: unknown target %q (use json or yaml)", to)
}

// icWindows names the windows Intercept's counters have.
var icWindows = map[time.Duration]string{time.Minute: "minute", time.Hour: "hour", 24 * time.Hour: "day"}

// ---- Intercept → toolgate ----

func (d *icDoc) toToolgate(description string) ([]byte, []Loss, error) {
	var lost []Loss
	loss := func(ptr, format string, args ...any) {
		lost = append(lost, Loss{ptr, fmt.Sprintf(format, args...)})
	}
	doc := tgOutDoc{Version: "1", Description: description, Default: "allow"}
	if d.defaultDeny {
		doc.Default = "deny"
	}
	var hide []string
	for name := range d.hide {
		if name != "*" && classify(name).kind != patExact {
			loss("/hide", "%q is a pattern in toolgate's format, a name in Intercept's; not hidden", name)
			continue
		}
		hide = append(hide, name)
	}
	sort.Strings(hide)
	doc.Hide = hide
	tools := map[string]tgOutTool{}
	names := make([]string, 0, len(d.tools))
	for name := range d.tools {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if classify(name).kind != patExact {
			loss("/tools/"+escape(name), "%q is a pattern in toolgate's format, a name in Intercept's; left out", name)
			continue
		}
		tools[name] = d.toolToToolgate(d.rulesFor(d.tools[name]), loss)
	}
	if !d.defaultDeny && d.wild != nil && len(d.wild.rules) > 0 {
		// An unlisted tool gets the "*" rules alone. Under default deny it
		// is refused before them, and a "*" rule would let it in.
		tools["*"] = d.toolToToolgate(d.wild.rules, func(string, string, ...any) {})
	}
	doc.Tools = tools
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, nil, fmt.Errorf("policy: convert: %w", err)
	}
	return buf.Bytes(), dedupLosses(lost), nil
}

// toolToToolgate converts the rules that apply to one tool, in order:
// each evaluate rule becomes a require rule object, which refuses the call
// in the same cases with the same text.
func (d *icDoc) toolToToolgate(rules []*icRule, loss func(ptr, format string, args ...any)) tgOutTool {
	var out tgOutTool
	for i, r := range rules {
		text := r.onDeny
		if text == "" {
			text = fmt.Sprintf("Denied by rule %q", r.name)
		}
		if r.deny {
			out.Action, out.OnDeny, out.Approval = "deny", text, nil
			if i > 0 {
				loss(r.pointer, "action deny refuses before every other check in toolgate's format, so a call an earlier rule refused reads this rule's text")
			}
			break
		}
		if r.approve {
			// toolgate's approve asks once the rule's other checks pass,
			// as Intercept asks once every rule passed.
			if out.Action == "" {
				out.Action = "approve"
				if r.approvalTimeout > 0 {
					out.Approval = &tgOutApproval{Timeout: r.approvalTimeout.String()}
				}
			}
			continue
		}
		if r.state != nil {
			if !strings.HasSuffix(r.state.pointer, "/rate_limit") {
				loss(r.pointer, "state counters (state blocks, increment_from, state.* conditions) have no toolgate equivalent; rule left out")
				continue
			}
			out.Limits = append(out.Limits, tgOutLimit{Counter: r.state.key, Window: icWindows[r.state.window],
				Max: r.state.limit, Scope: ScopeGlobal})
			loss(r.state.pointer, "approximated by a global limit: toolgate spreads the quota over the window instead of resetting it at the UTC minute, hour or day, and its denial text differs")
			continue
		}
		obj := tgOutRuleObject{OnDeny: text}
		for _, c := range r.conds {
			obj.Conditions = append(obj.Conditions, icOutCond{c.path, c.op, c.value})
		}
		out.Require = append(out.Require, obj)
	}
	return out
}

// The shapes Convert writes, in the order a person reads them.
type tgOutDoc struct {
	Version          string               `json:"version"`
	Description      string               `json:"description,omitempty"`
	Default          string               `json:"default"`
	CheckInputSchema bool                 `json:"check_input_schema"` // off, as Intercept has no such check
	Hide             []string             `json:"hide,omitempty"`
	Tools            map[string]tgOutTool `json:"tools,omitempty"`
}

type tgOutTool struct {
	Action   string            `json:"action,omitempty"`
	Approval *tgOutApproval    `json:"approval,omitempty"`
	OnDeny   string            `json:"on_deny,omitempty"`
	Require  []tgOutRuleObject `json:"require,omitempty"`
	Limits   []tgOutLimit      `json:"limits,omitempty"`
}

type tgOutApproval struct {
	Timeout string `json:"timeout,omitempty"`
}

type tgOutRuleObject struct {
	Conditions []icOutCond `json:"conditions"`
	OnDeny     string      `json:"on_deny"`
}

type tgOutLimit struct {
	Counter string `json:"counter"`
	Window  string `json:"window"`
	Max     int64  `json:"max"`
	Scope   string `json:"scope"`
}

// dedupLosses drops repeats: a "*" rule is converted once per tool.
func dedupLosses(in []Loss) []Loss {
	seen := map[Loss]bool{}
	var out []Loss
	for _, l := range in {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// ---- toolgate → Intercept ----

type icOutDoc struct {
	Version     string               `yaml:"version"`
	Description string               `yaml:"description,omitempty"`
	Default     string               `yaml:"default"`
	Hide        []string             `yaml:"hide,omitempty"`
	Tools       map[string]icOutTool `yaml:"tools"`
}

type icOutTool struct {
	Rules []icOutRule `yaml:"rules"`
}

type icOutRule struct {
	Name            string      `yaml:"name"`
	Action          string      `yaml:"action,omitempty"`
	ApprovalTimeout string      `yaml:"approval_timeout,omitempty"`
	RateLimit       string      `yaml:"rate_limit,omitempty"`
	Conditions      []icOutCond `yaml:"conditions,omitempty"`
	OnDeny          string      `yaml:"on_deny,omitempty"`
}

type icOutCond struct {
	Path  string `yaml:"path" json:"path"`
	Op    string `yaml:"op" json:"op"`
	Value any    `yaml:"value" json:"value"`
}

func (e *Engine) toIntercept() ([]byte, []Loss, error) {
	var lost []Loss
	loss := func(ptr, format string, args ...any) {
		lost = append(lost, Loss{ptr, fmt.Sprintf(format, args...)})
	}
	doc := icOutDoc{Version: "1", Description: e.description, Default: "deny", Tools: map[string]icOutTool{}}
	if e.defaultAllow {
		doc.Default = "allow"
	}
	if e.hideAll {
		doc.Hide = append(doc.Hide, "*")
	}
	for name := range e.hideExact {
		doc.Hide = append(doc.Hide, name)
	}
	sort.Strings(doc.Hide)
	for _, g := range e.hideGlobs {
		if g != "*" {
			loss("/hide", "pattern %q: Intercept hides names, not patterns", g)
		}
	}
	for i, hidden := range e.hideCats {
		if hidden {
			loss("/hide", "risk category @%s: Intercept has no risk categories", catNames[i])
		}
	}
	if e.shadow {
		loss("/mode", "shadow mode: Intercept enforces every rule")
	}
	if e.pinned {
		loss("/pinned", "pins: Intercept does not pin tool definitions")
	}
	if all := append(e.allTools[:len(e.allTools):len(e.allTools)], e.allValues...); len(all) > 0 {
		loss("/all_tools", "all_tools limits count per %s; Intercept's counters are not tied to a caller", all[0].Scope)
	}
	for _, r := range e.globs {
		loss(r.pointer, "pattern %q: Intercept's tools are names; rule left out", r.name)
	}
	for _, r := range e.cats {
		if r != nil {
			loss(r.pointer, "risk category %s: Intercept has no risk categories; rule left out", r.name)
		}
	}
	for name, r := range e.exact {
		doc.Tools[name] = icOutTool{Rules: r.toIntercept(loss)}
	}
	var buf bytes.Buffer
	buf.WriteString("# Converted from toolgate's format by toolgate policy convert.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, nil, fmt.Errorf("policy: convert: %w", err)
	}
	sort.SliceStable(lost, func(i, j int) bool { return lost[i].Pointer < lost[j].Pointer })
	return buf.Bytes(), lost, nil
}

func (r *rule) toIntercept(loss func(ptr, format string, args ...any)) []icOutRule {
	rules := []icOutRule{}
	if r.deny {
		return append(rules, icOutRule{Name: "deny", Action: "deny", OnDeny: r.denyReason})
	}
	if r.approve {
		// Intercept's require_approval: the other rules below still refuse
		// before a human is asked, as toolgate's approve runs its checks
		// first.
		ar := icOutRule{Name: "approval", Action: "require_approval"}
		if r.approvalTimeout > 0 {
			ar.ApprovalTimeout = r.approvalTimeout.String()
		}
		if r.approvalTimeout > MaxApprovalTimeout {
			ar.ApprovalTimeout = ""
			loss(r.pointer+"/approval/timeout", "an approval timeout over %s has no Intercept equivalent; the default applies", MaxApprovalTimeout)
		}
		rules = append(rules, ar)
		loss(r.pointer+"/action", "require_approval: Intercept answers the call at once and lets the agent retry once approved, where toolgate holds the call up to approvals.wait")
	}
	for i := range r.require {
		rules = append(rules, r.predToIntercept(&r.require[i], true, loss)...)
	}
	for i := range r.denyIf {
		rules = append(rules, r.predToIntercept(&r.denyIf[i], false, loss)...)
	}
	if r.args != nil {
		loss(r.argsPointer, "an args schema has no Intercept equivalent")
	}
	if r.when != nil {
		loss(r.when.pointer, "a when (CEL) condition has no Intercept equivalent")
	}
	for _, l := range r.own {
		if l.Value() {
			loss(l.Pointer, "a value counter (increment_from) per %s has no Intercept equivalent here: Intercept's state counters are per tool, not shared or per caller", l.Scope)
			continue
		}
		w, ok := icWindows[l.Window]
		if !ok || l.Scope != ScopeGlobal {
			loss(l.Pointer, "a limit per %s over %s has no Intercept equivalent (its counters are global, over a minute, an hour or a day)", l.Scope, l.Window)
			continue
		}
		if strings.Contains(r.name, ".") {
			// Intercept reads state.<tool>.<counter> up to the first
			// dots: a rate_limit on "graph.eigenvector" names a counter
			// of tool "graph", and Intercept refuses the policy.
			loss(l.Pointer, "a limit on a tool whose name holds a dot has no Intercept equivalent (Intercept splits its state path state.<tool>.<counter> at the dots)")
			continue
		}
		rules = append(rules, icOutRule{Name: "limit " + l.Counter, RateLimit: fmt.Sprintf("%d/%s", l.Max, w)})
		loss(l.Pointer, "approximated by rate_limit: Intercept resets the count at the UTC %s instead of spreading the quota, and its denial text differs", w)
	}
	if r.redact != nil {
		loss(r.pointer+"/redact", "redaction has no Intercept equivalent")
	}
	if r.timeout > 0 {
		loss(r.pointer+"/timeout", "a per-tool timeout has no Intercept equivalent")
	}
	if r.mode == 1 {
		loss(r.pointer+"/mode", "shadow mode: Intercept enforces every rule")
	}
	if r.pinned == 1 {
		loss(r.pointer+"/pinned", "pins: Intercept does not pin tool definitions")
	}
	return rules
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// predToIntercept converts one require (or deny_if) entry into Intercept
// rules that refuse the same calls with the same text; none when it
// cannot, with a loss.
func (r *rule) predToIntercept(p *predicate, require bool, loss func(ptr, format string, args ...any)) []icOutRule {
	if p.conds != nil {
		conds := p.conds
		if !require {
			// A deny_if entry refuses when all its conditions hold; Intercept
			// can only say that of one exists condition, negated.
			if len(conds) != 1 || conds[0].op != "exists" {
				loss(p.pointer, "a deny_if rule object other than one exists condition has no Intercept equivalent (a missing argument fails Intercept's negated operator)")
				return nil
			}
			c := conds[0]
			c.value = !c.value.(bool)
			conds = []icCond{c}
		}
		var out []icOutRule
		for j := range conds {
			text := p.onDeny
			if text == "" {
				text = r.onDeny
			}
			if text == "" && require {
				text = "policy requires " + icText(&p.conds[j])
			} else if text == "" {
				text = "denied by policy because " + icText(&p.conds[0])
			}
			name := strings.TrimPrefix(p.names[j], r.pointer+"/")
			c := conds[j]
			out = append(out, icOutRule{Name: name, Conditions: []icOutCond{{c.path, c.op, c.value}}, OnDeny: text})
		}
		return out
	}
	if p.root != "args" {
		loss(p.pointer, "%s reads the caller's identity; Intercept has none", p.path)
		return nil
	}
	for _, s := range p.segs {
		if digits.MatchString(s) {
			loss(p.pointer, "%s indexes a list; Intercept's paths walk objects only", p.path)
			return nil
		}
	}
	op, value, ok := icOpFor(p, require)
	if !ok {
		if require {
			loss(p.pointer, "%s: Intercept's %s fails on a missing argument where toolgate's holds", p.text, p.op)
		} else {
			loss(p.pointer, "deny_if %s: its negation in Intercept would also refuse a call without the argument", p.text)
		}
		return nil
	}
	text := r.onDeny
	if text == "" {
		text = p.denyReason
		if require {
			text = p.requireReason
		}
	}
	name := strings.TrimPrefix(p.pointer, r.pointer+"/")
	return []icOutRule{{Name: name, Conditions: []icOutCond{{p.path, op, value}}, OnDeny: text}}
}

// icOpFor finds the Intercept condition that holds exactly when the
// predicate lets the call through: the predicate itself for require, its
// negation for deny_if, where the two agree on missing arguments.
func icOpFor(p *predicate, require bool) (string, any, bool) {
	if !require {
		switch p.op {
		case opPresent:
			return "exists", false, true
		case opAbsent:
			return "exists", true, true
		case opNe:
			return "eq", p.value, true
		case opNotIn:
			return "in", p.value, true
		}
		return "", nil, false
	}
	switch p.op {
	case opPresent:
		return "exists", true, true
	case opAbsent:
		return "exists", false, true
	case opEq, opIn, opContains:
		if p.op == opEq && p.value == nil {
			return "", nil, false // null counts as absent in toolgate
		}
		return p.op, p.value, true
	case opGt, opGte, opLt, opLte:
		if _, isNum := p.value.(float64); isNum {
			return p.op, p.value, true
		}
	case opMatches:
		return "regex", p.value, true
	case opStartsWith:
		return "regex", "^" + regexp.QuoteMeta(p.value.(string)), true
	case opEndsWith:
		return "regex", regexp.QuoteMeta(p.value.(string)) + "$", true
	}
	return "", nil, false
}
