package policy

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// This file reads the policy format of PolicyLayer's open-source proxy
// Intercept (its POLICY.md): tools.<name>.rules[], each rule evaluated in
// order with conditions over args.* and state.<scope>.<counter>, plus
// stateful counters in calendar-aligned windows. Its meaning differs from
// toolgate's own format in ways a compiled rule cannot express (ordered
// rules whose first refusal names the message, the "*" key as rules added
// to every tool, conditions reading counters, amounts per call, missing
// values failing every operator), so such a document compiles into an
// icDoc that the Engine consults instead of its own rules. The validation
// messages are Intercept's, each positioned at the value at fault.

// FormatToolgate and FormatIntercept name the formats Engine.Format reports.
const (
	FormatToolgate  = "toolgate"
	FormatIntercept = "intercept"
)

// icDoc is a compiled Intercept document.
type icDoc struct {
	defaultDeny bool
	hideAll     bool
	hide        map[string]bool
	tools       map[string]*icTool // the listed tools, "*" excepted
	wild        *icTool            // the "*" key's rules, or nil
}

type icTool struct {
	name  string
	rules []*icRule
}

type icRule struct {
	name    string
	pointer string // /tools/<name>/rules/<i>
	deny    bool
	// approve: action require_approval, which toolgate runs as its
	// approve action; approvalTimeout is its approval_timeout (0: the
	// default), how long the approval request stays open.
	approve         bool
	approvalTimeout time.Duration
	onDeny          string
	conds           []icCond
	state           *icState
}

type icCond struct {
	path  string
	args  []string // the segments after "args.", or nil for a state path
	key   string   // the counter key after "state.", for a state path
	op    string
	value any
	re    *regexp.Regexp
	at    *yaml.Node // the path's node, for errors found later
}

type icState struct {
	pointer   string
	counter   string
	key       string // <scope>.<counter>, the store's key
	window    time.Duration
	increment int64
	from      []string // increment_from's segments after "args."
	fromText  string
	limit     int64 // the most the counter may reach
	hasLimit  bool  // a lt/lte condition on the rule's own counter sets limit
}

// isIntercept reports whether a parsed document is written in Intercept's
// format: some entry under tools has a "rules" key, which toolgate's own
// format never has.
func isIntercept(root *yaml.Node) bool {
	root = resolve(root)
	if root == nil || root.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if resolve(root.Content[i]).Value != "tools" {
			continue
		}
		tools := resolve(root.Content[i+1])
		if tools == nil || tools.Kind != yaml.MappingNode {
			return false
		}
		for j := 1; j < len(tools.Content); j += 2 {
			t := resolve(tools.Content[j])
			if t == nil || t.Kind != yaml.MappingNode {
				continue
			}
			for k := 0; k+1 < len(t.Content); k += 2 {
				if resolve(t.Content[k]).Value == "rules" {
					return true
				}
			}
		}
	}
	return false
}

var icOps = map[string]bool{
	"eq": true, "neq": true, "in": true, "not_in": true, "lt": true, "lte": true,
	"gt": true, "gte": true, "regex": true, "contains": true, "exists": true,
}

func icWindow(s string) (time.Duration, bool) {
	switch s {
	case "minute":
		return time.Minute, true
	case "hour":
		return time.Hour, true
	case "day":
		return 24 * time.Hour, true
	}
	return 0, false
}

// icString reads a scalar as Intercept's YAML decoder does for a string
// field: any scalar's text; null is "".
func (c *compiler) icString(n *yaml.Node, ptr string) (string, bool) {
	if isNull(n) {
		return "", true
	}
	if n.Kind != yaml.ScalarNode {
		c.errorf(n, ptr, "must be a string, not %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

// interceptDocument compiles an Intercept document into an Engine.
func (c *compiler) interceptDocument(root *yaml.Node) *Engine {
	e := &Engine{name: c.file, hideExact: map[string]bool{}, exact: map[string]*rule{}, defaultAllow: true}
	d := &icDoc{hide: map[string]bool{}, tools: map[string]*icTool{}}
	e.ic = d
	haveVersion := false
	var toolsNode *yaml.Node
	ok := c.fields(root, "", func(key string, k, v *yaml.Node, ptr string) bool {
		switch key {
		case "version":
			haveVersion = true
			if s, ok := c.icString(v, ptr); ok && s != "1" {
				c.errorf(v, ptr, "version must be %q, got %q", "1", s)
			}
		case "description":
			e.description, _ = c.icString(v, ptr)
		case "default":
			if s, ok := c.icString(v, ptr); ok {
				switch s {
				case "", "allow":
				case "deny":
					d.defaultDeny = true
					e.defaultAllow = false
				default:
					c.errorf(v, ptr, "default must be %q or %q, got %q", "allow", "deny", s)
				}
			}
		case "hide":
			e.refs = append(e.refs, c.icHide(d, v, ptr)...)
		case "tools":
			toolsNode = v
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	if !haveVersion {
		c.errorf(root, "/version", "version must be %q, got %q", "1", "")
	}
	if toolsNode != nil && !isNull(toolsNode) {
		c.fields(toolsNode, "/tools", func(key string, k, v *yaml.Node, ptr string) bool {
			t := c.icTool(key, v, ptr)
			if key == "*" {
				d.wild = t
			} else {
				d.tools[key] = t
				e.refs = append(e.refs, ToolRef{Name: key, Pointer: ptr, Line: k.Line, Column: k.Column})
			}
			return true
		})
		c.icStateRefs(d)
	}
	return e
}

func (c *compiler) icHide(d *icDoc, n *yaml.Node, ptr string) (refs []ToolRef) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, ptr, "must be a list of tool names, not %s", kindName(n))
		return
	}
	for i, item := range n.Content {
		item = resolve(item)
		iptr := ptr + "/" + strconv.Itoa(i)
		name, ok := c.icString(item, iptr)
		if !ok {
			continue
		}
		switch {
		case strings.TrimSpace(name) == "":
			c.errorf(item, iptr, "entry must not be empty")
		case d.hide[name]:
			c.errorf(item, iptr, "duplicate entry %q", name)
		default:
			d.hide[name] = true
			d.hideAll = d.hideAll || name == "*"
			if name != "*" {
				refs = append(refs, ToolRef{Name: name, Pointer: iptr, Line: item.Line, Column: item.Column})
			}
		}
	}
	return refs
}

func (c *compiler) icTool(name string, n *yaml.Node, ptr string) *icTool {
	t := &icTool{name: name}
	if isNull(n) {
		return t
	}
	var rulesNode *yaml.Node
	c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		if key != "rules" {
			return false
		}
		rulesNode = v
		return true
	})
	if rulesNode == nil || isNull(rulesNode) {
		return t
	}
	rptr := ptr + "/rules"
	if rulesNode.Kind != yaml.SequenceNode {
		c.errorf(rulesNode, rptr, "must be a list of rules, not %s", kindName(rulesNode))
		return t
	}
	scope := name
	if name == "*" {
		scope = "_global"
	}
	counters := map[string]int{}
	for i, item := range rulesNode.Content {
		item = resolve(item)
		iptr := rptr + "/" + strconv.Itoa(i)
		r := c.icRule(scope, item, iptr)
		if r == nil {
			continue
		}
		if r.state != nil {
			if prev, dup := counters[r.state.counter]; dup {
				c.errorf(item, iptr, "duplicate state counter %q (also used by rules[%d])", r.state.counter, prev)
			} else {
				counters[r.state.counter] = i
			}
		}
		t.rules = append(t.rules, r)
	}
	return t
}

// icRule compiles one rule; nil when it is not a mapping.
func (c *compiler) icRule(scope string, n *yaml.Node, ptr string) *icRule {
	r := &icRule{pointer: ptr}
	var (
		action, rateLimit    string
		actionNode, rateNode *yaml.Node
		condsNode, stateNode *yaml.Node
		timeoutNode          *yaml.Node
		haveOnDeny           bool
	)
	if !c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		switch key {
		case "name":
			r.name, _ = c.icString(v, fptr)
		case "action":
			action, _ = c.icString(v, fptr)
			actionNode = v
		case "rate_limit":
			rateLimit, _ = c.icString(v, fptr)
			rateNode = v
		case "conditions":
			if !isNull(v) {
				condsNode = v
			}
		case "on_deny":
			r.onDeny, _ = c.icString(v, fptr)
			haveOnDeny = r.onDeny != ""
		case "state":
			if !isNull(v) {
				stateNode = v
			}
		case "approval_timeout":
			if !isNull(v) {
				timeoutNode = v
			}
		default:
			return false
		}
		return true
	}) {
		return nil
	}
	if timeoutNode != nil {
		tptr := ptr + "/approval_timeout"
		if action != "require_approval" {
			c.errorf(timeoutNode, tptr, "approval_timeout is only valid with action %q", "require_approval")
		} else if d, msg := icApprovalTimeout(timeoutNode); msg != "" {
			c.errorf(timeoutNode, tptr, "%s", msg)
		} else {
			r.approvalTimeout = d
		}
	}
	if condsNode != nil && condsNode.Kind != yaml.SequenceNode {
		c.errorf(condsNode, ptr+"/conditions", "must be a list of conditions, not %s", kindName(condsNode))
		return nil
	}
	hasConds := condsNode != nil && len(condsNode.Content) > 0
	if rateLimit != "" {
		count, window, msg := icParseRate(rateLimit)
		bad := msg != ""
		if bad {
			c.errorf(rateNode, ptr+"/rate_limit", "%s", msg)
		}
		if hasConds || stateNode != nil {
			c.errorf(rateNode, ptr+"/rate_limit", "rate_limit cannot be combined with conditions or state; use separate rules or the full syntax instead")
			bad = true
		}
		if action == "deny" || action == "require_approval" {
			c.errorf(rateNode, ptr+"/rate_limit", "rate_limit cannot be used with action %q", action)
			bad = true
		}
		if bad {
			return nil
		}
		// The shorthand: at most count per window on the counter
		// _rate_<window>, counted one per call.
		counter := "_rate_" + window
		key := scope + "." + counter
		w, _ := icWindow(window)
		r.conds = []icCond{{path: "state." + key, key: key, op: "lte", value: count}}
		r.state = &icState{pointer: ptr + "/rate_limit", counter: counter, key: key, window: w, increment: 1,
			limit: int64(count), hasLimit: true}
		if !haveOnDeny {
			r.onDeny = fmt.Sprintf("Rate limit of %d per %s reached. Try again later.", count, window)
		}
		if r.name == "" {
			c.errorf(n, ptr, "rule must have a name")
		}
		return r
	}
	if r.name == "" {
		c.errorf(n, ptr, "rule must have a name")
	}
	switch action {
	case "", "evaluate":
	case "deny":
		r.deny = true
	case "require_approval":
		r.approve = true
	default:
		c.errorf(actionNode, ptr+"/action", "action must be %q, %q or %q, got %q", "evaluate", "deny", "require_approval", action)
	}
	if r.deny && hasConds {
		c.errorf(condsNode, ptr+"/conditions", "deny rules must not have conditions")
	}
	if r.approve && hasConds {
		// What conditions would mean on such a rule (which calls need
		// approval, or which pass without it) is not settled: refuse
		// rather than guess on a safety rule.
		c.errorf(condsNode, ptr+"/conditions", "require_approval rules must not have conditions in toolgate; give the approval its own rule")
	}
	if r.approve && stateNode != nil {
		c.errorf(stateNode, ptr+"/state", "require_approval rules must not have a state block; count the calls in a rule of their own")
	}
	if !r.deny && (action == "" || action == "evaluate") && !hasConds {
		at, aptr := n, ptr
		if condsNode != nil {
			at, aptr = condsNode, ptr+"/conditions"
		}
		c.errorf(at, aptr, "evaluate rules must have at least one condition")
	}
	if condsNode != nil {
		for j, cn := range condsNode.Content {
			if cond, ok := c.icCondition(resolve(cn), fmt.Sprintf("%s/conditions/%d", ptr, j)); ok {
				r.conds = append(r.conds, cond)
			}
		}
	}
	if stateNode != nil {
		r.state = c.icStateBlock(scope, stateNode, ptr+"/state")
		if r.state != nil {
			r.state.limit, r.state.hasLimit = icLimit(r.conds, r.state.key)
		}
	}
	return r
}

// MaxApprovalTimeout is the longest approval_timeout an Intercept rule
// may set.
const MaxApprovalTimeout = 7 * 24 * time.Hour

// icApprovalTimeout reads approval_timeout: a Go duration such as "30m"
// or "1h30m", more than zero and at most MaxApprovalTimeout.
func icApprovalTimeout(n *yaml.Node) (time.Duration, string) {
	if n.Kind != yaml.ScalarNode {
		return 0, "approval_timeout must be a duration such as \"30m\", not " + kindName(n)
	}
	d, err := time.ParseDuration(n.Value)
	switch {
	case err != nil:
		return 0, fmt.Sprintf("approval_timeout must be a duration such as %q or %q, got %q", "30m", "1h30m", n.Value)
	case d <= 0 || d > MaxApprovalTimeout:
		return 0, fmt.Sprintf("approval_timeout must be more than zero and at most %s, got %q", "168h", n.Value)
	}
	return d, ""
}

// icParseRate reads "N/window"; msg is Intercept's message when it cannot.
func icParseRate(s string) (count int, window, msg string) {
	n, w, ok := strings.Cut(s, "/")
	if !ok {
		return 0, "", fmt.Sprintf("rate_limit must be in the format \"N/window\" (e.g. \"5/hour\"), got %q", s)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count <= 0 {
		return 0, "", fmt.Sprintf("rate_limit count must be a positive integer, got %q", n)
	}
	if _, ok := icWindow(w); !ok {
		return 0, "", fmt.Sprintf("rate_limit window must be %q, %q, or %q, got %q", "minute", "hour", "day", w)
	}
	return count, w, ""
}

func (c *compiler) icCondition(n *yaml.Node, ptr string) (icCond, bool) {
	var cond icCond
	var pathNode, opNode, valueNode *yaml.Node
	if !c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		switch key {
		case "path":
			cond.path, _ = c.icString(v, fptr)
			pathNode = v
		case "op":
			cond.op, _ = c.icString(v, fptr)
			opNode = v
		case "value":
			valueNode = v
		default:
			return false
		}
		return true
	}) {
		return cond, false
	}
	ok := true
	if pathNode == nil {
		pathNode = n
	}
	cond.at = pathNode
	if opNode == nil {
		opNode = n
	}
	switch {
	case strings.HasPrefix(cond.path, "args."):
		cond.args = strings.Split(strings.TrimPrefix(cond.path, "args."), ".")
	case strings.HasPrefix(cond.path, "state."):
		cond.key = strings.TrimPrefix(cond.path, "state.")
	default:
		c.errorf(pathNode, ptr+"/path", "path must start with %q or %q, got %q", "args.", "state.", cond.path)
		ok = false
	}
	if !icOps[cond.op] {
		c.errorf(opNode, ptr+"/op", "unknown operator %q", cond.op)
		ok = false
	}
	vptr := ptr + "/value"
	at := valueNode
	if at == nil {
		at = n
	} else if err := valueNode.Decode(&cond.value); err != nil {
		c.errorf(valueNode, vptr, "invalid value: %v", err)
		return cond, false
	}
	switch cond.op {
	case "in", "not_in":
		if _, isList := cond.value.([]any); !isList {
			c.errorf(at, vptr, "operator %q requires a list value", cond.op)
			ok = false
		}
	case "lt", "lte", "gt", "gte":
		if _, isNum := icNumber(cond.value); !isNum || (valueNode != nil && resolve(valueNode).Tag == "!!str") {
			c.errorf(at, vptr, "operator %q requires a numeric value", cond.op)
			ok = false
		}
	case "exists":
		if _, isBool := cond.value.(bool); !isBool {
			c.errorf(at, vptr, "operator %q requires a boolean value", cond.op)
			ok = false
		}
	case "regex":
		s, isStr := cond.value.(string)
		if !isStr {
			c.errorf(at, vptr, "regex value must be a string")
			ok = false
			break
		}
		re, err := regexp.Compile(s)
		if err != nil {
			c.errorf(at, vptr, "invalid regex %q: %v", s, err)
			ok = false
			break
		}
		cond.re = re
	}
	return cond, ok
}

func (c *compiler) icStateBlock(scope string, n *yaml.Node, ptr string) *icState {
	s := &icState{pointer: ptr, increment: 1}
	var windowText string
	var windowNode *yaml.Node
	if !c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		switch key {
		case "counter":
			s.counter, _ = c.icString(v, fptr)
		case "window":
			windowText, _ = c.icString(v, fptr)
			windowNode = v
		case "increment":
			if isNull(v) {
				break
			}
			i, err := strconv.ParseInt(v.Value, 10, 64)
			switch {
			case v.Kind != yaml.ScalarNode || v.Tag != "!!int" || err != nil:
				c.errorf(v, fptr, "increment must be a whole number, not %s", kindName(v))
			case i < 0:
				c.errorf(v, fptr, "increment must not be negative, got %d", i)
			case i > 0:
				s.increment = i
			}
		case "increment_from":
			s.fromText, _ = c.icString(v, fptr)
			if s.fromText == "" {
				break
			}
			if !strings.HasPrefix(s.fromText, "args.") {
				c.errorf(v, fptr, "increment_from must start with %q, got %q", "args.", s.fromText)
				break
			}
			s.from = strings.Split(strings.TrimPrefix(s.fromText, "args."), ".")
		default:
			return false
		}
		return true
	}) {
		return nil
	}
	if s.counter == "" {
		c.errorf(n, ptr, "counter must not be empty")
	}
	w, ok := icWindow(windowText)
	if !ok {
		at := windowNode
		if at == nil {
			at = n
		}
		c.errorf(at, ptr+"/window", "window must be %q, %q, or %q, got %q", "minute", "hour", "day", windowText)
	}
	s.window = w
	s.key = scope + "." + s.counter
	return s
}

// icLimit finds the most a counter may reach, as Intercept does: the value
// of the first lt (less one) or lte condition on the rule's own counter.
// Without one the counter is never reserved.
func icLimit(conds []icCond, key string) (int64, bool) {
	for _, c := range conds {
		if c.args != nil || c.key != key {
			continue
		}
		f, ok := icNumber(c.value)
		if !ok {
			continue
		}
		switch c.op {
		case "lt":
			return int64(f) - 1, true
		case "lte":
			return int64(f), true
		}
	}
	return 0, false
}

// icStateRefs reports conditions reading a counter no rule of that tool
// (or of "*", for _global) declares.
func (c *compiler) icStateRefs(d *icDoc) {
	declared := func(scope, counter string) bool {
		t := d.tools[scope]
		if scope == "_global" && t == nil {
			t = d.wild
		}
		if t == nil {
			return false
		}
		for _, r := range t.rules {
			if r.state != nil && r.state.counter == counter {
				return true
			}
		}
		return false
	}
	check := func(t *icTool) {
		if t == nil {
			return
		}
		for _, r := range t.rules {
			for j, cond := range r.conds {
				if cond.args != nil {
					continue
				}
				parts := strings.SplitN(cond.path, ".", 3)
				if len(parts) < 3 || declared(parts[1], parts[2]) {
					continue
				}
				c.errorf(cond.at, fmt.Sprintf("%s/conditions/%d/path", r.pointer, j),
					"condition references state.%s.%s but no matching state block found", parts[1], parts[2])
			}
		}
	}
	for _, t := range d.tools {
		check(t)
	}
	check(d.wild)
}

// icNumber converts a numeric value (from YAML or JSON) to float64.
func icNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := n.Float64()
		return f, err == nil && !math.IsInf(f, 0)
	}
	return 0, false
}
