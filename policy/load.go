package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/toolgate/toolgate/redact"
)

// LoadFile reads and compiles the policy document at path. See Load.
func LoadFile(path string) (*Engine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: read %s: %w", path, err)
	}
	return Load(data, path)
}

// Load parses and compiles a policy document. data is JSON when its first
// non-space byte is '{', YAML otherwise; name is the file name used in error
// messages. A document with a "rules" list under one of its tools is in
// the format of PolicyLayer's Intercept and is read with Intercept's
// meaning (see intercept.go and docs/intercept.md). A document that fails validation returns a nil Engine and an
// ErrorList naming every problem found, each with its line and column.
func Load(data []byte, name string) (*Engine, error) {
	if len(data) > MaxDocumentSize {
		return nil, ErrorList{{File: name, Line: 1, Column: 1,
			Message: fmt.Sprintf("document is %d bytes; the limit is %d", len(data), MaxDocumentSize)}}
	}
	root, perr := parse(data)
	if perr != nil {
		return nil, ErrorList{{File: name, Line: perr.line, Column: perr.col, Message: perr.msg}}
	}
	c := &compiler{file: name}
	var e *Engine
	if isIntercept(root) {
		c.merge = true
		e = c.interceptDocument(root)
	} else {
		e = c.document(root)
	}
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool {
			a, b := c.errs[i], c.errs[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		return nil, c.errs
	}
	sum := sha256.Sum256(data)
	e.digest = hex.EncodeToString(sum[:])
	return e, nil
}

type compiler struct {
	file string
	errs ErrorList
	// counters records the first declaration of each counter name.
	counters map[string]*Limit
	// whens counts the when conditions compiled (see MaxWhens).
	whens int
	// merge reads YAML merge keys ("<<: *anchor"), as Intercept's YAML
	// decoder does; set for Intercept documents only.
	merge bool
}

func (c *compiler) errorf(n *yaml.Node, ptr, format string, args ...any) {
	line, col := 1, 1
	if n != nil {
		line, col = n.Line, n.Column
	}
	c.errs = append(c.errs, &FieldError{File: c.file, Line: line, Column: col, Path: ptr, Message: fmt.Sprintf(format, args...)})
}

// escape escapes one JSON Pointer reference token.
func escape(tok string) string {
	if !strings.ContainsAny(tok, "~/") {
		return tok
	}
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return "a string"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return "a " + strings.TrimPrefix(n.Tag, "!!")
	}
	return "a value"
}

// fields walks a mapping node, calling fn for every key, and reports
// duplicate keys and keys fn does not know (fn returns false).
func (c *compiler) fields(n *yaml.Node, ptr string, fn func(key string, k, v *yaml.Node, ptr string) bool) bool {
	if n.Kind != yaml.MappingNode {
		c.errorf(n, ptr, "must be an object, not %s", kindName(n))
		return false
	}
	seen := make(map[string]bool, len(n.Content)/2)
	pairs, merged := n.Content, 0
	if c.merge {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if isMergeKey(n.Content[i]) && !mergeable(resolve(n.Content[i+1])) {
				c.errorf(n.Content[i+1], ptr, "map merge requires map or sequence of maps as the value")
				return false
			}
		}
		pairs, merged = mergedPairs(n)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		k, v := resolve(pairs[i]), resolve(pairs[i+1])
		if i >= len(pairs)-merged && k.Kind == yaml.ScalarNode && seen[k.Value] {
			continue // a merged key the mapping sets itself
		}
		if k.Kind != yaml.ScalarNode {
			c.errorf(k, ptr, "keys must be strings")
			continue
		}
		key := k.Value
		kptr := ptr + "/" + escape(key)
		if seen[key] {
			c.errorf(k, kptr, "duplicate key %q", key)
			continue
		}
		seen[key] = true
		if !fn(key, k, v, kptr) {
			c.errorf(k, kptr, "unknown key %q", key)
		}
	}
	return true
}

// isMergeKey reports whether a mapping key is YAML's merge key "<<".
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Tag == "!!merge"
}

// mergedPairs lists a mapping's keys and values with its merge keys
// expanded as Intercept's YAML decoder (yaml.v3) reads them: the mapping's
// own pairs, then those of each merged mapping (an alias, or a list of
// them, earlier ones first) whose key neither the mapping nor an earlier
// merged mapping has. merged counts the trailing entries (keys and values)
// that came from merging.
// mergeable reports whether v may follow a merge key: a mapping, or a
// list of mappings.
func mergeable(v *yaml.Node) bool {
	if v == nil {
		return false
	}
	if v.Kind == yaml.SequenceNode {
		for _, item := range v.Content {
			if m := resolve(item); m == nil || m.Kind != yaml.MappingNode {
				return false
			}
		}
		return true
	}
	return v.Kind == yaml.MappingNode
}

func mergedPairs(n *yaml.Node) (pairs []*yaml.Node, merged int) {
	return mergedPairsDepth(n, 0)
}

func mergedPairsDepth(n *yaml.Node, depth int) (pairs []*yaml.Node, merged int) {
	var sources []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMergeKey(n.Content[i]) {
			v := resolve(n.Content[i+1])
			if v != nil && v.Kind == yaml.SequenceNode {
				for _, item := range v.Content {
					sources = append(sources, resolve(item))
				}
			} else {
				sources = append(sources, v)
			}
			continue
		}
		pairs = append(pairs, n.Content[i], n.Content[i+1])
	}
	if len(sources) == 0 {
		return n.Content, 0
	}
	own := len(pairs)
	have := map[string]bool{}
	for i := 0; i < own; i += 2 {
		if k := resolve(pairs[i]); k.Kind == yaml.ScalarNode {
			have[k.Value] = true
		}
	}
	for _, m := range sources {
		if m == nil || m.Kind != yaml.MappingNode || depth >= MaxDepth {
			continue
		}
		inner, _ := mergedPairsDepth(m, depth+1) // a merged mapping's own merges
		for i := 0; i+1 < len(inner); i += 2 {
			k := resolve(inner[i])
			if k.Kind != yaml.ScalarNode || have[k.Value] {
				continue
			}
			have[k.Value] = true
			pairs = append(pairs, inner[i], inner[i+1])
		}
	}
	return pairs, len(pairs) - own
}

func (c *compiler) str(n *yaml.Node, ptr string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		c.errorf(n, ptr, "must be a string, not %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

// mode reads "enforce" (0) or "shadow" (1).
func (c *compiler) mode(n *yaml.Node, ptr string) (int8, bool) {
	s, ok := c.str(n, ptr)
	if !ok {
		return 0, false
	}
	switch s {
	case "enforce":
		return 0, true
	case "shadow":
		return 1, true
	}
	c.errorf(n, ptr, `mode must be "enforce" or "shadow", not %q`, s)
	return 0, false
}

func (c *compiler) boolean(n *yaml.Node, ptr string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		c.errorf(n, ptr, "must be true or false, not %s", kindName(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		c.errorf(n, ptr, "must be true or false")
		return false, false
	}
	return b, true
}

func (c *compiler) document(root *yaml.Node) *Engine {
	e := &Engine{
		name:        c.file,
		hideExact:   map[string]bool{},
		exact:       map[string]*rule{},
		checkSchema: true,
	}
	var (
		haveVersion, haveDefault bool
		allToolsNode             *yaml.Node
		toolsNode                *yaml.Node
	)
	ok := c.fields(root, "", func(key string, k, v *yaml.Node, ptr string) bool {
		switch key {
		case "version":
			haveVersion = true
			switch {
			case v.Kind != yaml.ScalarNode || isNull(v):
				c.errorf(v, ptr, `version must be the string "1", not %s`, kindName(v))
			case v.Value != "1":
				c.errorf(v, ptr, `unsupported version %s: only "1" is recognised`, strconv.Quote(v.Value))
			case v.Tag != "!!str":
				c.errorf(v, ptr, `version must be the string "1", not a number (quote it)`)
			}
		case "default":
			haveDefault = true
			if s, ok := c.str(v, ptr); ok {
				switch s {
				case "allow":
					e.defaultAllow = true
				case "deny":
				default:
					c.errorf(v, ptr, `default must be "allow" or "deny", not %q`, s)
				}
			}
		case "hide":
			if !isNull(v) {
				c.hide(e, v, ptr)
			}
		case "all_tools":
			allToolsNode = v
		case "tools":
			toolsNode = v
		case "check_input_schema":
			if b, ok := c.boolean(v, ptr); ok {
				e.checkSchema = b
			}
		case "pinned":
			if b, ok := c.boolean(v, ptr); ok {
				e.pinned = b
			}
		case "mode":
			if m, ok := c.mode(v, ptr); ok {
				e.shadow = m == 1
			}
		case "description":
			e.description, _ = c.str(v, ptr)
		default:
			return false
		}
		return true
	})
	if !ok {
		return nil
	}
	if !haveVersion {
		c.errorf(root, "", `missing required key "version" (use "1")`)
	}
	if !haveDefault {
		c.errorf(root, "", `missing required key "default" ("allow" or "deny")`)
	}
	if allToolsNode != nil && !isNull(allToolsNode) {
		c.fields(allToolsNode, "/all_tools", func(key string, k, v *yaml.Node, ptr string) bool {
			if key != "limits" {
				return false
			}
			if !isNull(v) {
				e.allTools = c.limits(v, ptr, "")
			}
			return true
		})
	}
	if toolsNode != nil && !isNull(toolsNode) {
		c.fields(toolsNode, "/tools", func(key string, k, v *yaml.Node, ptr string) bool {
			c.tool(e, key, k, v, ptr)
			return true
		})
	}
	c.sortGlobs(e, toolsNode)
	e.finish()
	return e
}

func (c *compiler) hide(e *Engine, n *yaml.Node, ptr string) {
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, ptr, "must be a list of tool names, not %s", kindName(n))
		return
	}
	for i, item := range n.Content {
		item = resolve(item)
		iptr := ptr + "/" + strconv.Itoa(i)
		name, ok := c.str(item, iptr)
		if !ok {
			continue
		}
		switch p := classify(name); p.kind {
		case patExact:
			e.hideExact[name] = true
			e.refs = append(e.refs, ToolRef{Name: name, Pointer: iptr, Line: item.Line, Column: item.Column})
		case patGlob:
			if name == "*" {
				e.hideAll = true
			}
			if _, err := path.Match(name, ""); err != nil {
				c.errorf(item, iptr, "invalid pattern %q: %v", name, err)
				continue
			}
			e.hideGlobs = append(e.hideGlobs, name)
			if name != "*" {
				e.refs = append(e.refs, ToolRef{Name: name, Pointer: iptr, Line: item.Line, Column: item.Column, Glob: true})
			}
		case patCategory:
			if p.cat < 0 {
				c.errorf(item, iptr, "unknown risk category %q (use @read, @write, @destructive or @financial)", name)
				continue
			}
			e.hideCats[p.cat] = true
		case patInvalid:
			c.errorf(item, iptr, "tool name must not be empty")
		}
	}
}

func (c *compiler) tool(e *Engine, name string, k, v *yaml.Node, ptr string) {
	p := classify(name)
	r := &rule{name: name, pointer: ptr, literal: p.literal, checkSchema: -1, pinned: -1, mode: -1}
	switch p.kind {
	case patInvalid:
		c.errorf(k, ptr, "tool name must not be empty")
		return
	case patCategory:
		if p.cat < 0 {
			c.errorf(k, ptr, "unknown risk category %q (use @read, @write, @destructive or @financial)", name)
			return
		}
	case patGlob:
		if _, err := path.Match(name, ""); err != nil {
			c.errorf(k, ptr, "invalid pattern %q: %v", name, err)
			return
		}
		if name != "*" {
			e.refs = append(e.refs, ToolRef{Name: name, Pointer: ptr, Line: k.Line, Column: k.Column, Glob: true})
		}
	case patExact:
		e.refs = append(e.refs, ToolRef{Name: name, Pointer: ptr, Line: k.Line, Column: k.Column})
	}
	var (
		ownLimits []Limit
		rateLimit []Limit
		reasonKey string
	)
	if isNull(v) {
		v = &yaml.Node{Kind: yaml.MappingNode, Line: v.Line, Column: v.Column}
	}
	c.fields(v, ptr, func(key string, kn, vn *yaml.Node, fptr string) bool {
		switch key {
		case "require":
			r.require = c.predicates(vn, fptr, true)
		case "deny_if":
			r.denyIf = c.predicates(vn, fptr, false)
		case "limits":
			if !isNull(vn) {
				ownLimits = c.limits(vn, fptr, "")
			}
		case "rate_limit":
			rateLimit = c.rateLimit(vn, fptr, name)
		case "on_deny", "reason":
			if reasonKey != "" {
				c.errorf(kn, fptr, "%q and %q both set the denial message; keep one", reasonKey, key)
				return true
			}
			reasonKey = key
			if s, ok := c.str(vn, fptr); ok {
				r.onDeny = s
			}
		case "action":
			if s, ok := c.str(vn, fptr); ok {
				switch s {
				case "allow":
				case "deny":
					r.deny = true
				case "approve":
					r.approve = true
				default:
					c.errorf(vn, fptr, `action must be "allow", "deny" or "approve", not %q`, s)
				}
			}
		case "args":
			r.argsPointer = fptr
			r.args = c.argsSchema(vn, fptr)
		case "check_input_schema":
			if b, ok := c.boolean(vn, fptr); ok {
				r.checkSchema = 0
				if b {
					r.checkSchema = 1
				}
			}
		case "pinned":
			if b, ok := c.boolean(vn, fptr); ok {
				r.pinned = 0
				if b {
					r.pinned = 1
				}
			}
		case "when":
			r.when = c.when(vn, fptr)
		case "approval":
			c.approval(r, vn, fptr)
		case "timeout":
			r.timeout = c.timeout(vn, fptr)
		case "mode":
			if m, ok := c.mode(vn, fptr); ok {
				r.mode = m
			}
		case "redact":
			r.redact = c.redact(vn, fptr)
		case "description":
			c.str(vn, fptr)
		default:
			return false
		}
		return true
	})
	r.own = append(ownLimits, rateLimit...)
	switch p.kind {
	case patExact:
		e.exact[name] = r
	case patGlob:
		e.globs = append(e.globs, r)
	case patCategory:
		e.cats[p.cat] = r
	}
}

// sortGlobs orders globs by precedence and reports pairs of equally specific
// globs that provably overlap.
func (c *compiler) sortGlobs(e *Engine, toolsNode *yaml.Node) {
	sort.SliceStable(e.globs, func(i, j int) bool {
		a, b := e.globs[i], e.globs[j]
		if a.literal != b.literal {
			return a.literal > b.literal
		}
		return a.name < b.name
	})
	for i := 0; i < len(e.globs); i++ {
		for j := i + 1; j < len(e.globs) && e.globs[j].literal == e.globs[i].literal; j++ {
			a, b := e.globs[i], e.globs[j]
			if overlap(a.name, b.name) {
				c.errorf(keyNode(toolsNode, b.name), b.pointer,
					"patterns %q and %q are equally specific and can match the same tool; make one more specific", a.name, b.name)
			}
		}
	}
}

// overlap reports whether two globs provably match a common name: one
// matches the other's literal form (its metacharacters taken as text).
func overlap(a, b string) bool {
	la, lb := literalForm(a), literalForm(b)
	ma, _ := path.Match(a, lb)
	mb, _ := path.Match(b, la)
	return ma || mb
}

// literalForm replaces every wildcard of a glob by a character it matches,
// giving one name the glob matches.
func literalForm(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*':
		case '?':
			b.WriteByte('x')
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteByte(p[i])
			}
		case '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return p
			}
			cls := p[i+1 : i+j]
			i += j
			if len(cls) > 0 && cls[0] != '^' {
				b.WriteByte(cls[0])
			} else {
				b.WriteByte('\x00')
			}
		default:
			b.WriteByte(p[i])
		}
	}
	return b.String()
}

func keyNode(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]); k.Value == key {
			return k
		}
	}
	return m
}

// toValue converts a node to the value encoding/json would produce with
// UseNumber: map[string]any, []any, string, json.Number, bool or nil.
func (c *compiler) toValue(n *yaml.Node, ptr string) (any, bool) {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		ok := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				c.errorf(k, ptr, "keys must be strings")
				ok = false
				continue
			}
			kptr := ptr + "/" + escape(k.Value)
			if _, dup := m[k.Value]; dup {
				c.errorf(k, kptr, "duplicate key %q", k.Value)
				ok = false
				continue
			}
			v, vok := c.toValue(n.Content[i+1], kptr)
			ok = ok && vok
			m[k.Value] = v
		}
		return m, ok
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		ok := true
		for i, item := range n.Content {
			v, vok := c.toValue(item, ptr+"/"+strconv.Itoa(i))
			ok = ok && vok
			s = append(s, v)
		}
		return s, ok
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				c.errorf(n, ptr, "invalid boolean %q", n.Value)
				return nil, false
			}
			return b, true
		case "!!int":
			if _, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				return json.Number(n.Value), true
			}
			var i int64
			if err := n.Decode(&i); err != nil {
				// Too large for int64: keep it as a float if it is decimal.
				if f, ferr := strconv.ParseFloat(n.Value, 64); ferr == nil && !math.IsInf(f, 0) {
					return json.Number(n.Value), true
				}
				c.errorf(n, ptr, "invalid number %q", n.Value)
				return nil, false
			}
			return json.Number(strconv.FormatInt(i, 10)), true
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				c.errorf(n, ptr, "invalid number %q", n.Value)
				return nil, false
			}
			if _, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return json.Number(n.Value), true
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
		}
		return n.Value, true
	}
	c.errorf(n, ptr, "unsupported value")
	return nil, false
}

// DefaultApprovalTimeout is how long a call waits for a human decision when
// the rule's approval.timeout does not say.
const DefaultApprovalTimeout = 15 * time.Minute

// approval reads a rule's approval settings: {timeout}.
func (c *compiler) approval(r *rule, n *yaml.Node, ptr string) {
	if isNull(n) {
		return
	}
	c.fields(n, ptr, func(key string, k, v *yaml.Node, fptr string) bool {
		if key != "timeout" {
			return false
		}
		d, _ := parseWindow(v)
		if d <= 0 {
			c.errorf(v, fptr, `timeout must be a duration such as "15m", a number of seconds, or "minute"/"hour"`)
			return true
		}
		r.approvalTimeout = d
		return true
	})
}

// MaxRedact is the most pointers one rule's redact list may hold.
const MaxRedact = 256

// redact reads a rule's redact list: RFC 6901 JSON Pointers into the
// call's arguments whose values are masked wherever the call is written
// down (approvals, the audit log). null means none.
func (c *compiler) redact(n *yaml.Node, ptr string) *redact.Redactor {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, ptr, `redact must be a list of JSON Pointers such as ["/password", "/profile/ssn"], not %s`, kindName(n))
		return nil
	}
	if len(n.Content) > MaxRedact {
		c.errorf(n, ptr, "redact lists %d pointers; the limit is %d", len(n.Content), MaxRedact)
		return nil
	}
	ptrs := make([]string, 0, len(n.Content))
	seen := make(map[string]bool, len(n.Content))
	ok := true
	for i, item := range n.Content {
		item = resolve(item)
		iptr := ptr + "/" + strconv.Itoa(i)
		p, sok := c.str(item, iptr)
		if !sok {
			ok = false
			continue
		}
		if _, err := redact.ParsePointer(p); err != nil {
			c.errorf(item, iptr, "invalid JSON Pointer: %v", err)
			ok = false
			continue
		}
		if seen[p] {
			c.errorf(item, iptr, "duplicate pointer %q", p)
			ok = false
			continue
		}
		seen[p] = true
		ptrs = append(ptrs, p)
	}
	if !ok || len(ptrs) == 0 {
		return nil
	}
	rd, err := redact.New(ptrs...)
	if err != nil { // every pointer parsed above
		c.errorf(n, ptr, "%v", err)
		return nil
	}
	return rd
}

// MaxTimeout is the longest per-tool timeout Load accepts.
const MaxTimeout = 24 * time.Hour

// timeout reads a rule's upstream call timeout: a Go duration ("45s",
// "1m30s") or a number of seconds, more than zero and at most MaxTimeout.
// null means unset (0).
func (c *compiler) timeout(n *yaml.Node, ptr string) time.Duration {
	if isNull(n) {
		return 0
	}
	const want = `timeout must be a duration such as "45s" or a number of seconds`
	if n.Kind != yaml.ScalarNode {
		c.errorf(n, ptr, "%s, not %s", want, kindName(n))
		return 0
	}
	v := strings.TrimSpace(n.Value)
	var d time.Duration
	switch n.Tag {
	case "!!int", "!!float", "!!str":
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			if math.IsNaN(f) || f <= 0 || f > MaxTimeout.Seconds() {
				c.errorf(n, ptr, "timeout must be more than zero and at most %s, got %s seconds", MaxTimeout, v)
				return 0
			}
			d = time.Duration(f * float64(time.Second))
			break
		}
		if n.Tag != "!!str" {
			c.errorf(n, ptr, "%s, not %q", want, v)
			return 0
		}
		pd, err := time.ParseDuration(v)
		if err != nil {
			c.errorf(n, ptr, "%s, not %q", want, v)
			return 0
		}
		d = pd
	default:
		c.errorf(n, ptr, "%s, not %s", want, kindName(n))
		return 0
	}
	if d <= 0 || d > MaxTimeout {
		c.errorf(n, ptr, "timeout must be more than zero and at most %s, got %q", MaxTimeout, v)
		return 0
	}
	return d
}
