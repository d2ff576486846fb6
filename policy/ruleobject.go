package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/toolgate/toolgate"
	"gopkg.in/yaml.v3"
)

// This file reads the rule objects of PolicyLayer's hosted JSON in a
// require or deny_if list:
//
//	{"conditions": [{"path": "args.amount", "op": "gt", "value": 100}],
//	 "on_deny": "Refund exceeds the policy limit."}
//
// Its conditions are Intercept's (the same operators, and a missing value
// fails every operator but exists), so they are compiled and evaluated by
// the code that reads Intercept's format. A deny_if entry fires when all
// its conditions hold; a require entry fails when any does not. The rule
// is reported as PolicyLayer names it, after the deciding condition's path
// and operator: /tools/create_charge/deny_if/args.amount-gt.

// isRuleObject reports whether a mapping in a predicate list is a rule
// object rather than toolgate's {path, op, value}.
func isRuleObject(n *yaml.Node) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch resolve(n.Content[i]).Value {
		case "conditions", "on_deny":
			return true
		}
	}
	return false
}

// ruleObject compiles the rule object n at index i of the list at listPtr.
// used holds the names already given in that list: a name given twice
// is told apart by the entry's index (args.amount-gt-3).
func (c *compiler) ruleObject(n *yaml.Node, ptr, listPtr string, i int, used map[string]bool) (predicate, bool) {
	p := predicate{root: "args"}
	var condsNode *yaml.Node
	ok := true
	c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		switch key {
		case "conditions":
			condsNode = v
		case "on_deny":
			s, sok := c.str(v, fptr)
			ok = ok && sok
			p.onDeny = s
		default:
			return false
		}
		return true
	})
	switch {
	case condsNode == nil:
		c.errorf(n, ptr, `missing required key "conditions" (a list of {path, op, value})`)
		return predicate{}, false
	case condsNode.Kind != yaml.SequenceNode:
		c.errorf(condsNode, ptr+"/conditions", "must be a list of conditions, not %s", kindName(condsNode))
		return predicate{}, false
	case len(condsNode.Content) == 0:
		c.errorf(condsNode, ptr+"/conditions", "a rule needs at least one condition")
		return predicate{}, false
	}
	for j, cn := range condsNode.Content {
		cn = resolve(cn)
		cptr := ptr + "/conditions/" + strconv.Itoa(j)
		cond, cok := c.icCondition(cn, cptr)
		if !cok {
			ok = false
			continue
		}
		if cond.args == nil {
			c.errorf(cond.at, cptr+"/path", "%q reads an Intercept counter; a toolgate document has none (use limits, or write the policy in Intercept's format)", cond.path)
			ok = false
			continue
		}
		p.conds = append(p.conds, cond)
	}
	if !ok {
		return predicate{}, false
	}
	for _, cond := range p.conds {
		name := cond.path + "-" + cond.op
		if used[name] {
			name += "-" + strconv.Itoa(i)
		}
		used[name] = true
		p.names = append(p.names, listPtr+"/"+escape(name))
	}
	p.pointer = p.names[0]
	p.path = p.conds[0].path
	return p, true
}

// icText renders a condition for a denial text: "args.amount gt 100".
func icText(cond *icCond) string {
	v, err := json.Marshal(plain(cond.value))
	if err != nil {
		v = []byte(fmt.Sprint(cond.value))
	}
	return fmt.Sprintf("%s %s %s", cond.path, cond.op, v)
}

// fires reports whether the list entry p refuses the call, as a require
// (it does not hold) or a deny_if (it holds) entry, with the pointer to
// report and the default denial text. own reports that the text is the
// entry's own on_deny, which no rule-wide on_deny replaces.
func (p *predicate) fires(c *toolgate.Call, require bool) (ptr, reason string, own, fired bool) {
	if p.conds == nil {
		if p.holds(c) == require {
			return "", "", false, false
		}
		if require {
			return p.pointer, p.requireReason, false, true
		}
		return p.pointer, p.denyReason, false, true
	}
	ctx := context.Background()
	for j := range p.conds {
		cond := &p.conds[j]
		if cond.holds(ctx, c, nil) {
			continue
		}
		if !require {
			return "", "", false, false // one condition fails: the deny_if entry does not fire
		}
		if p.onDeny != "" {
			return p.names[j], p.onDeny, true, true
		}
		return p.names[j], "policy requires " + icText(cond), false, true
	}
	if require {
		return "", "", false, false
	}
	if p.onDeny != "" {
		return p.names[0], p.onDeny, true, true
	}
	texts := icText(&p.conds[0])
	for j := 1; j < len(p.conds); j++ {
		texts += " and " + icText(&p.conds[j])
	}
	return p.names[0], "denied by policy because " + texts, false, true
}
