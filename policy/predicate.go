package policy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/toolgate/toolgate"
	"gopkg.in/yaml.v3"
)

// Predicate operators.
const (
	opPresent    = "present"
	opAbsent     = "absent"
	opEq         = "eq"
	opNe         = "ne"
	opGt         = "gt"
	opGte        = "gte"
	opLt         = "lt"
	opLte        = "lte"
	opIn         = "in"
	opNotIn      = "not_in"
	opContains   = "contains"
	opStartsWith = "starts_with"
	opEndsWith   = "ends_with"
	opMatches    = "matches"
)

// symbolOps maps the operators of the string form to operator names.
var symbolOps = map[string]string{
	"==": opEq, "!=": opNe, ">": opGt, ">=": opGte, "<": opLt, "<=": opLte,
}

var opSymbols = map[string]string{
	opEq: "==", opNe: "!=", opGt: ">", opGte: ">=", opLt: "<", opLte: "<=",
}

// predicate is one compiled condition on a call.
type predicate struct {
	pointer string   // JSON Pointer of the predicate in the document
	path    string   // as written: "args.amount"
	root    string   // "args" or "identity"
	segs    []string // path below the root
	op      string
	value   any // string, float64, bool, nil or []any for in/not_in
	re      *regexp.Regexp
	text    string // human rendering: "args.amount > 10000"

	requireReason string // precomputed denial texts
	denyReason    string

	// A rule object, PolicyLayer's hosted form {"conditions": [...],
	// "on_deny": "..."}, is read with Intercept's conditions (ic, evaluated
	// by Intercept's own code) instead of path/op/value. names[i] is the
	// pointer reported when conds[i] decides; onDeny, when set, is the
	// text the agent reads.
	conds  []icCond
	names  []string
	onDeny string
}

// predicates reads a list of predicates. Each is either a string
// ("args.reason" or "args.amount > 10000") or an object
// {"path": ..., "op": ..., "value": ...}.
func (c *compiler) predicates(n *yaml.Node, ptr string, _ bool) []predicate {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, ptr, "must be a list of predicates, not %s", kindName(n))
		return nil
	}
	out := make([]predicate, 0, len(n.Content))
	used := map[string]bool{}
	for i, item := range n.Content {
		item = resolve(item)
		iptr := ptr + "/" + strconv.Itoa(i)
		var p predicate
		var ok bool
		switch item.Kind {
		case yaml.ScalarNode:
			if item.Tag != "!!str" {
				c.errorf(item, iptr, "a predicate is a string such as \"args.reason\" or an object {path, op, value}, not %s", kindName(item))
				continue
			}
			p, ok = c.predicateString(item, iptr)
		case yaml.MappingNode:
			if isRuleObject(item) {
				if p, ok = c.ruleObject(item, iptr, ptr, i, used); ok {
					out = append(out, p)
				}
				continue
			}
			p, ok = c.predicateObject(item, iptr)
		default:
			c.errorf(item, iptr, "a predicate is a string such as \"args.reason\" or an object {path, op, value}, not %s", kindName(item))
		}
		if ok {
			p.pointer = iptr
			out = append(out, p)
		}
	}
	return out
}

func (c *compiler) predicateString(n *yaml.Node, ptr string) (predicate, bool) {
	s, ok := c.str(n, ptr)
	if !ok {
		return predicate{}, false
	}
	s = strings.TrimSpace(s)
	p := predicate{op: opPresent}
	fields := strings.Fields(s)
	switch {
	case len(fields) == 1:
		p.path = fields[0]
	case len(fields) >= 3:
		op, known := symbolOps[fields[1]]
		if !known {
			c.errorf(n, ptr, "unknown operator %q in %q (use ==, !=, >, >=, < or <=)", fields[1], s)
			return predicate{}, false
		}
		p.path, p.op = fields[0], op
		lit := strings.TrimSpace(s[strings.Index(s, fields[1])+len(fields[1]):])
		var v any
		if err := json.Unmarshal([]byte(lit), &v); err != nil {
			c.errorf(n, ptr, "the value %s in %q is not a JSON literal (quote strings: \"x\")", lit, s)
			return predicate{}, false
		}
		p.value = v
	default:
		c.errorf(n, ptr, "a predicate string is a path (%q) or \"path op value\" (\"args.amount > 10000\"), not %q", "args.reason", s)
		return predicate{}, false
	}
	if !c.predicatePath(n, ptr, &p) || !c.predicateValue(n, ptr, &p) {
		return predicate{}, false
	}
	return p, true
}

func (c *compiler) predicateObject(n *yaml.Node, ptr string) (predicate, bool) {
	p := predicate{op: opPresent}
	var (
		ok        = true
		havePath  bool
		haveValue bool
		valueNode *yaml.Node
	)
	c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		switch key {
		case "path":
			havePath = true
			s, sok := c.str(v, fptr)
			ok = ok && sok
			p.path = s
		case "op":
			s, sok := c.str(v, fptr)
			if !sok {
				ok = false
				return true
			}
			if sym, isSym := symbolOps[s]; isSym {
				s = sym
			}
			switch s {
			case opPresent, opAbsent, opEq, opNe, opGt, opGte, opLt, opLte, opIn, opNotIn,
				opContains, opStartsWith, opEndsWith, opMatches:
				p.op = s
			case "exists":
				p.op = opPresent
			default:
				c.errorf(v, fptr, "unknown operator %q (use present, absent, eq, ne, gt, gte, lt, lte, in, not_in, contains, starts_with, ends_with or matches)", s)
				ok = false
			}
		case "value":
			haveValue = true
			valueNode = v
			val, vok := c.toValue(v, fptr)
			ok = ok && vok
			p.value = normalize(val)
		default:
			return false
		}
		return true
	})
	if !ok {
		return predicate{}, false
	}
	if !havePath {
		c.errorf(n, ptr, `missing required key "path"`)
		return predicate{}, false
	}
	needsValue := p.op != opPresent && p.op != opAbsent
	if needsValue && !haveValue {
		c.errorf(n, ptr, "operator %q needs a value", p.op)
		return predicate{}, false
	}
	if !needsValue && haveValue {
		c.errorf(valueNode, ptr+"/value", "operator %q takes no value", p.op)
		return predicate{}, false
	}
	at := n
	if valueNode != nil {
		at = valueNode
	}
	if !c.predicatePath(n, ptr, &p) || !c.predicateValue(at, ptr, &p) {
		return predicate{}, false
	}
	return p, true
}

// normalize turns json.Number into float64, recursively in lists.
func normalize(v any) any {
	switch t := v.(type) {
	case json.Number:
		f, _ := t.Float64()
		return f
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = normalize(x)
		}
		return out
	}
	return v
}

func (c *compiler) predicatePath(n *yaml.Node, ptr string, p *predicate) bool {
	parts := strings.Split(p.path, ".")
	switch parts[0] {
	case "args", "identity":
	default:
		c.errorf(n, ptr, "predicate path %q must start with \"args\" or \"identity\"", p.path)
		return false
	}
	for _, s := range parts[1:] {
		if s == "" {
			c.errorf(n, ptr, "predicate path %q has an empty segment", p.path)
			return false
		}
	}
	p.root, p.segs = parts[0], parts[1:]
	if p.root == "identity" {
		ok := len(p.segs) == 1 && (p.segs[0] == "subject" || p.segs[0] == "grant" || p.segs[0] == "policy") ||
			len(p.segs) == 2 && p.segs[0] == "labels"
		if !ok {
			c.errorf(n, ptr, "identity paths are identity.subject, identity.grant, identity.policy or identity.labels.NAME, not %q", p.path)
			return false
		}
	}
	return true
}

func (c *compiler) predicateValue(n *yaml.Node, ptr string, p *predicate) bool {
	p.value = normalize(p.value)
	switch p.op {
	case opGt, opGte, opLt, opLte:
		switch p.value.(type) {
		case float64, string:
		default:
			c.errorf(n, ptr, "operator %q compares numbers or strings, not %v", p.op, p.value)
			return false
		}
	case opIn, opNotIn:
		if _, ok := p.value.([]any); !ok {
			c.errorf(n, ptr, "operator %q needs a list value", p.op)
			return false
		}
	case opStartsWith, opEndsWith:
		if _, ok := p.value.(string); !ok {
			c.errorf(n, ptr, "operator %q needs a string value", p.op)
			return false
		}
	case opMatches:
		s, ok := p.value.(string)
		if !ok {
			c.errorf(n, ptr, "operator %q needs a regular expression string", p.op)
			return false
		}
		re, err := regexp.Compile(s)
		if err != nil {
			c.errorf(n, ptr, "invalid regular expression %q: %v", s, err)
			return false
		}
		p.re = re
	}
	p.text = p.render()
	if p.op == opPresent {
		p.requireReason = "argument " + p.path + " is required"
	} else {
		p.requireReason = "policy requires " + p.text
	}
	p.denyReason = "denied by policy because " + p.text
	return true
}

func (p *predicate) render() string {
	switch p.op {
	case opPresent:
		return p.path + " is present"
	case opAbsent:
		return p.path + " is absent"
	}
	v, _ := json.Marshal(p.value)
	if sym, ok := opSymbols[p.op]; ok {
		return fmt.Sprintf("%s %s %s", p.path, sym, v)
	}
	return fmt.Sprintf("%s %s %s", p.path, strings.ReplaceAll(p.op, "_", " "), v)
}

// lookup finds the value a predicate path names in a call.
func (p *predicate) lookup(c *toolgate.Call) (any, bool) {
	if p.root == "identity" {
		id := c.Identity
		if id == nil {
			return nil, false
		}
		switch p.segs[0] {
		case "subject":
			return id.Subject, true
		case "grant":
			return id.Grant, true
		case "policy":
			return id.Policy, true
		case "labels":
			v, ok := id.Labels[p.segs[1]]
			return v, ok
		}
		return nil, false
	}
	var cur any = c.Args
	if c.Args == nil {
		cur = map[string]any(nil)
	}
	for _, s := range p.segs {
		switch t := cur.(type) {
		case map[string]any:
			v, ok := t[s]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			cur = t[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// holds evaluates the predicate. A missing (or null) value satisfies only
// absent, ne and not_in; a value of the wrong type makes comparisons false.
func (p *predicate) holds(c *toolgate.Call) bool {
	v, ok := p.lookup(c)
	if ok && v == nil && p.op != opEq && p.op != opNe {
		ok = false // null counts as absent
	}
	switch p.op {
	case opPresent:
		return ok
	case opAbsent:
		return !ok
	}
	if !ok {
		return p.op == opNe || p.op == opNotIn // a missing value equals nothing
	}
	switch p.op {
	case opEq:
		return equal(v, p.value)
	case opNe:
		return !equal(v, p.value)
	case opGt, opGte, opLt, opLte:
		cmp, ok := compare(v, p.value)
		if !ok {
			return false
		}
		switch p.op {
		case opGt:
			return cmp > 0
		case opGte:
			return cmp >= 0
		case opLt:
			return cmp < 0
		}
		return cmp <= 0
	case opIn, opNotIn:
		in := false
		for _, x := range p.value.([]any) {
			if equal(v, x) {
				in = true
				break
			}
		}
		return in == (p.op == opIn)
	case opContains:
		switch t := v.(type) {
		case string:
			s, ok := p.value.(string)
			return ok && strings.Contains(t, s)
		case []any:
			for _, x := range t {
				if equal(x, p.value) {
					return true
				}
			}
		}
		return false
	case opStartsWith:
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, p.value.(string))
	case opEndsWith:
		s, ok := v.(string)
		return ok && strings.HasSuffix(s, p.value.(string))
	case opMatches:
		s, ok := v.(string)
		return ok && p.re.MatchString(s)
	}
	return false
}

// number converts the numeric types a decoded call may carry to float64.
func number(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case int32:
		return float64(t), true
	case uint64:
		return float64(t), true
	case float32:
		return float64(t), true
	}
	return 0, false
}

func compare(a, b any) (int, bool) {
	if x, ok := number(a); ok {
		y, ok := number(b)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	if x, ok := a.(string); ok {
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	}
	return 0, false
}

func equal(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}
