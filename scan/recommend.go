package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/policy"
)

// Limits of the recommended policy.
const (
	ReadPerMinute  = 120   // calls per minute per grant for Read tools
	WritePerMinute = 30    // calls per minute per grant for Write tools (PolicyLayer's recommendation)
	BodyMaxLength  = 20000 // maxLength on raw HTML/template strings
	BodyMaxProps   = 50    // maxProperties on free-form objects shown to a frontend
)

type recLimit struct {
	Counter string `json:"counter"`
	Window  string `json:"window"`
	Max     int    `json:"max"`
	Scope   string `json:"scope"`
}

type recRule struct {
	Description string         `json:"description,omitempty"`
	Action      string         `json:"action,omitempty"`
	Limits      []recLimit     `json:"limits,omitempty"`
	Args        map[string]any `json:"args,omitempty"`
	Redact      []string       `json:"redact,omitempty"`
	OnDeny      string         `json:"on_deny,omitempty"`
}

type recPolicy struct {
	Version     string              `json:"version"`
	Default     string              `json:"default"`
	Description string              `json:"description"`
	Tools       map[string]*recRule `json:"tools"`
}

// PolicyKey returns the key a policy rule for the tool uses: the name as
// the agent sees it (prefix + name), with glob characters escaped so the
// key only matches that name. It returns "" for names no key can name (an
// empty name, or one starting with "@", which policies read as a category).
func PolicyKey(prefix, name string) string {
	full := prefix + name
	if name == "" || strings.HasPrefix(full, "@") {
		return ""
	}
	var b strings.Builder
	for _, r := range full {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Recommend writes the recommended policy for the scanned servers, in
// toolgate's policy format, and checks that policy.Load accepts it:
//
//   - "default": "deny";
//   - Read tools allowed, 120 calls per minute per grant;
//   - Write tools allowed, 30 calls per minute per grant; those that send
//     messages or handle personal data (signals messaging, pii) 10, with
//     their personal data and message content redacted (recommend_redact.go);
//   - Destructive and Financial tools "action": "approve": a human decides
//     each call (the args rules below still apply first);
//   - tools whose text carries instructions to the model or hidden
//     characters (signals injection, unicode) denied until reviewed;
//   - args rules: maxLength on raw HTML/template strings, maxProperties on
//     free-form objects shown to a frontend, const false on booleans that
//     turn safety checks off (skip_password_checks).
//
// Output is deterministic: keys sorted, two-space indents.
func Recommend(servers []ServerResult) ([]byte, error) {
	p := recPolicy{Version: "1", Default: "deny",
		Description: "Recommended by toolgate scan: Read 120/min and Write 30/min per grant (messaging and personal-data writes 10/min, their personal data and message content redacted in the audit log); Destructive and Financial need a human's approval; poisoned tools denied; everything else denied.",
		Tools:       map[string]*recRule{}}
	counters := map[string]bool{}
	for _, sr := range servers {
		for i := range sr.Tools {
			r := &sr.Tools[i]
			key := PolicyKey(sr.Prefix, r.Name)
			if key == "" || p.Tools[key] != nil {
				continue
			}
			p.Tools[key] = recommendRule(r, sr.Prefix+r.Name, counters)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("scan: encode policy: %w", err)
	}
	if _, err := policy.Load(b.Bytes(), "recommended policy"); err != nil {
		return nil, fmt.Errorf("scan: the recommended policy does not load: %w", err)
	}
	return b.Bytes(), nil
}

func recommendRule(r *Report, name string, counters map[string]bool) *recRule {
	rule := &recRule{Description: fmt.Sprintf("%s, %s risk%s", r.Category.Title(), r.Risk, signalList(r))}
	if r.Has(SigInjection) || r.Has(SigUnicode) {
		rule.Action = "deny"
		rule.OnDeny = fmt.Sprintf("%s is blocked: its definition carries instructions to the model or hidden characters; an administrator must review it first.", name)
		return rule
	}
	switch r.Category {
	case Destructive, Financial:
		rule.Action = "approve"
	case Read:
		rule.Limits = []recLimit{{Counter: counter(name, counters), Window: "minute", Max: ReadPerMinute, Scope: "grant"}}
	default:
		rule.Limits = []recLimit{{Counter: counter(name, counters), Window: "minute", Max: writeLimit(r), Scope: "grant"}}
	}
	if args := argsRules(r); args != nil {
		rule.Args = args
	}
	rule.Redact = redactPointers(r)
	return rule
}

func signalList(r *Report) string {
	if len(r.Signals) == 0 {
		return ""
	}
	codes := make([]string, len(r.Signals))
	for i, s := range r.Signals {
		codes[i] = s.Code
	}
	return "; signals: " + strings.Join(codes, ", ")
}

// counter names a tool's budget as PolicyLayer does ("UpdateUser" →
// "updateuser_rate"), made unique.
func counter(name string, used map[string]bool) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	base := clip(b.String(), 60) + "_rate"
	c := base
	for i := 2; used[c]; i++ {
		c = fmt.Sprintf("%s_%d", base, i)
	}
	used[c] = true
	return c
}

// argsRules gathers the args schema of the report's guards.
func argsRules(r *Report) map[string]any {
	if len(r.guards) == 0 {
		return nil
	}
	props := map[string]any{}
	for _, g := range r.guards {
		props[g.prop] = g.schema
	}
	return map[string]any{"properties": props}
}

// Coverage says whether an existing policy has a rule for a tool.
type Coverage struct {
	Tool string `json:"tool"` // as the agent sees it (prefixed)
	// Covered is true when a rule of the policy (exact, glob or category)
	// decides the tool; false when only the default does.
	Covered bool `json:"covered"`
	// Decision is what the policy does with a call without arguments:
	// "allow" or "deny".
	Decision string `json:"decision"`
	// Rule is the rule that decided (a JSON Pointer, or "(default deny)"…).
	Rule     string   `json:"rule"`
	Category Category `json:"category"`
	Risk     Risk     `json:"risk"`
}

// CheckCoverage runs each scanned tool through an existing policy, with
// its category, to show which tools the policy leaves to its default.
func CheckCoverage(e *policy.Engine, sr *ServerResult) []Coverage {
	out := make([]Coverage, 0, len(sr.Tools))
	for i := range sr.Tools {
		r := &sr.Tools[i]
		name := sr.Prefix + r.Name
		d, _ := e.Decide(&toolgate.Call{Tool: name, Server: sr.Name, Categories: r.Categories(),
			Args: map[string]any{}, RawArgs: json.RawMessage("{}"), Identity: toolgate.Anonymous()})
		out = append(out, Coverage{Tool: name, Covered: d.Kind != policy.KindDefault && d.Kind != policy.KindNoPolicy,
			Decision: string(d.Action), Rule: d.Rule, Category: r.Category, Risk: r.Risk})
	}
	sort.SliceStable(out, func(i, j int) bool { return !out[i].Covered && out[j].Covered })
	return out
}
