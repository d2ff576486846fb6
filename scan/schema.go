package scan

import (
	"encoding/json"
	"strings"
)

// prop is one property of an input schema, at any depth.
type prop struct {
	path   string   // "user.email", "items[].id"
	name   string   // the property's own name
	toks   []string // its words
	joined string   // its words joined with no separator ("primaryemailaddressid")
	typ    string   // JSON Schema type ("" when absent or several)
	format string
	desc   string
	depth  int // 1 for top-level properties
	// freeForm is an object with no declared properties whose other
	// properties are not forbidden: arbitrary JSON.
	freeForm bool
	// maxLength reports whether a string has a maxLength.
	maxLength bool
	isConst   bool
	// enum reports whether the value is one of a listed set.
	enum bool
	// enumEnds is the first listed value that deletes or ends something
	// ("delete", "remove_all"), or "".
	enumEnds string
	// enumWrites is the first listed value whose first word is a verb
	// that writes or worse ("create", "change_plan"), or "".
	enumWrites string
	// enumHTML reports whether "html" is one of the listed values (a
	// content type: "text", "html").
	enumHTML bool
	// readOnly: the property or one that holds it is described as
	// read-only (Microsoft Graph's navigation properties): the service
	// fills it, the caller does not.
	readOnly bool
	// wrapper: the property only carries a request's parts, read as
	// top-level properties (see wrapperNames); it is no value itself.
	wrapper bool
}

// walker collects the properties of a schema, following local $refs once
// each and never more than maxNodes nodes or maxDepth levels deep.
type walker struct {
	t        *jsonTree
	root     int32
	props    []prop
	top      int
	nodes    int
	problems []string
	refs     map[string]bool
	capped   bool
	// wrapped is set while the properties of a request wrapper (see
	// wrapperNames) are walked as top-level ones.
	wrapped bool
	// readOnly counts the read-only properties being walked.
	readOnly int
}

// wrapperNames are top-level objects that only carry a request's parts,
// as servers generated from an HTTP API declare them ("body": {"subject",
// "attendees"}, "path": {"app_token"}, "params": {"page_size"}): their
// properties are the tool's arguments and are read as top-level ones
// (depth 1). They still do not count toward the top-level properties of
// the params signal, which counts what the caller sees first.
var wrapperNames = set("body", "requestbody", "params", "parameters", "path", "query", "data", "request", "payload")

func (w *walker) problem(msg string) {
	for _, p := range w.problems {
		if p == msg {
			return
		}
	}
	w.problems = append(w.problems, msg)
}

// resolve follows a local $ref ("#/$defs/x", "#/definitions/x") of the
// object s.
func (w *walker) resolve(s int32) (int32, bool) {
	ref, ok := w.t.strOf(w.t.member(s, "$ref"))
	if !ok {
		return s, true
	}
	if w.refs[ref] {
		w.problem("inputSchema: $ref " + quoteShort(ref, 60) + " refers back to itself; followed once")
		return -1, false
	}
	if !strings.HasPrefix(ref, "#") {
		w.problem("inputSchema: $ref " + quoteShort(ref, 60) + " is not local; not followed")
		return -1, false
	}
	cur := w.root
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#"), "/")[1:] {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if w.t.kindOf(cur) != treeObject {
			cur = -1
			break
		}
		cur = w.t.member(cur, tok)
	}
	if w.t.kindOf(cur) != treeObject {
		w.problem("inputSchema: $ref " + quoteShort(ref, 60) + " does not resolve")
		return -1, false
	}
	if w.refs == nil {
		w.refs = map[string]bool{}
	}
	w.refs[ref] = true
	return cur, true
}

// object walks a schema (node v) that describes an object's properties.
func (w *walker) object(v int32, path string, depth int) {
	t := w.t
	if k := t.kindOf(v); k != treeObject {
		if depth == 0 && k != treeNull && k != treeFalse && k != treeTrue {
			w.problem("inputSchema is not an object")
		}
		return
	}
	if depth >= maxDepth {
		w.problem("inputSchema: nesting deeper than 64 levels; not followed")
		return
	}
	s, ok := w.resolve(v)
	if !ok {
		return
	}
	// The members read here, in one pass.
	ref, typ, props, allOf, anyOf, oneOf := int32(-1), int32(-1), int32(-1), int32(-1), int32(-1), int32(-1)
	for _, x := range t.children(s) {
		switch t.nodes[x].key {
		case "$ref":
			ref = x
		case "type":
			typ = x
		case "properties":
			props = x
		case "allOf":
			allOf = x
		case "anyOf":
			anyOf = x
		case "oneOf":
			oneOf = x
		}
	}
	if ref, ok := t.strOf(ref); ok && w.refs[ref] {
		defer delete(w.refs, ref)
	}
	if depth == 0 && !w.wrapped {
		if typ, ok := t.strOf(typ); ok && typ != "object" {
			w.problem("inputSchema: type is " + quoteShort(typ, 20) + ", not object")
		}
	}
	if t.kindOf(props) == treeObject {
		// The members are in key order.
		for _, k := range t.children(props) {
			if w.nodes >= maxNodes {
				if !w.capped {
					w.capped = true
					w.problem("inputSchema: more than 20000 schema nodes; the rest was not read")
				}
				return
			}
			w.nodes++
			if depth == 0 && !w.wrapped {
				w.top++
			}
			w.property(t.nodes[k].key, k, path, depth+1)
		}
	} else if props >= 0 && t.kindOf(props) != treeNull {
		w.problem("inputSchema: properties is not an object")
	}
	// allOf's branches describe this object's own properties, read at its
	// depth; anyOf's and oneOf's are alternatives, read one level down.
	for i, list := range [...]int32{allOf, anyOf, oneOf} {
		if t.kindOf(list) == treeArray {
			d := depth + 1
			if i == 0 {
				d = depth
			}
			for _, sub := range t.children(list) {
				w.object(sub, path, d)
			}
		}
	}
}

// property records one property (node v) and walks what it contains.
func (w *walker) property(name string, v int32, parent string, depth int) {
	t := w.t
	path := name
	if parent != "" {
		path = parent + "." + name
	}
	toks := tokens(name, 16)
	p := prop{path: path, name: name, toks: toks, joined: strings.Join(toks, ""), depth: depth}
	s := int32(-1)
	if t.kindOf(v) == treeObject {
		if r, ok := w.resolve(v); ok {
			s = r
			if ref, ok := t.strOf(t.member(v, "$ref")); ok {
				defer delete(w.refs, ref)
			}
		}
	}
	var sv schemaView
	if s >= 0 {
		sv = viewSchema(t, s)
		p.typ = typeOfValue(t, sv.typ)
		p.format, _ = t.strOf(sv.format)
		p.desc, _ = t.strOf(sv.desc)
		p.maxLength, p.isConst, p.enum = sv.hasMaxLength, sv.hasConst, sv.hasEnum
		if t.kindOf(sv.enum) == treeArray {
			p.enumEnds = endingValue(t, sv.enum)
			p.enumWrites = writingValue(t, sv.enum)
			p.enumHTML = enumHolds(t, sv.enum, "html")
		}
		if p.typ == "object" || p.typ == "" {
			hasProps := sv.hasProps
			hasAP := sv.ap >= 0
			forbidden := t.kindOf(sv.ap) == treeFalse
			hasRef := sv.hasRef
			hasComb := sv.hasAnyOf
			if !hasProps && !forbidden && !hasRef && !hasComb && p.typ == "object" {
				p.freeForm = true
			}
			if !hasProps && hasAP {
				if t.kindOf(sv.ap) == treeObject && t.nodes[sv.ap].n == 0 {
					p.freeForm = true
				}
			}
		}
	}
	p.readOnly = w.readOnly > 0 || readOnlyDesc(p.desc)
	w.props = append(w.props, p)
	if s < 0 {
		return
	}
	if p.readOnly {
		w.readOnly++
		defer func() { w.readOnly-- }()
	}
	// A property's own properties, or those of its allOf/anyOf/oneOf
	// branches ("price": {"anyOf": [{"properties": ...}]}).
	if sv.hasProps || sv.hasAllOf || sv.hasAnyOf || sv.hasOneOf {
		if !w.wrapped && (sv.hasProps || sv.hasAllOf) && p.wrapsRequest() {
			w.props[len(w.props)-1].wrapper = true
			w.wrapped = true
			w.object(s, path, 0)
			w.wrapped = false
		} else {
			w.object(s, path, depth)
		}
	}
	if t.kindOf(sv.items) == treeObject {
		w.object(sv.items, path+"[]", depth+1)
	}
}

// schemaView holds the members of a property's schema that the walker
// reads: their nodes (-1 when absent), and whether some are present.
type schemaView struct {
	typ, format, desc, ap, items, enum   int32
	hasMaxLength, hasConst, hasEnum      bool
	hasProps, hasRef, hasAnyOf, hasAllOf bool
	hasOneOf                             bool
}

// viewSchema reads the members of object s the walker needs, in one pass
// over them.
func viewSchema(t *jsonTree, s int32) schemaView {
	v := schemaView{typ: -1, format: -1, desc: -1, ap: -1, items: -1, enum: -1}
	for _, x := range t.children(s) {
		switch t.nodes[x].key {
		case "type":
			v.typ = x
		case "format":
			v.format = x
		case "description":
			v.desc = x
		case "maxLength":
			v.hasMaxLength = true
		case "const":
			v.hasConst = true
		case "enum":
			v.enum, v.hasEnum = x, true
		case "properties":
			v.hasProps = true
		case "additionalProperties":
			v.ap = x
		case "$ref":
			v.hasRef = true
		case "anyOf":
			v.hasAnyOf = true
		case "allOf":
			v.hasAllOf = true
		case "oneOf":
			v.hasOneOf = true
		case "items":
			v.items = x
		}
	}
	return v
}

// typeOfValue is the type a schema's "type" member (node n) names: "" when
// it is absent, or names several types besides null.
func typeOfValue(t *jsonTree, n int32) string {
	switch t.kindOf(n) {
	case treeString:
		return t.nodes[n].str
	case treeArray:
		var one string
		for _, x := range t.children(n) {
			if x, ok := t.strOf(x); ok && x != "null" {
				if one != "" {
					return ""
				}
				one = x
			}
		}
		return one
	}
	return ""
}

// canonical re-encodes a decoded JSON value with sorted keys and no
// insignificant space (encoding/json sorts map keys).
func canonical(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// endingVerbsEnum delete data, end processes or replace whole contents
// (a write "mode" of "rewrite"). Revoking a permission or blocking a user
// is an access change, not lost data.
var endingVerbsEnum = set("delete", "remove", "destroy", "drop", "purge", "wipe", "erase", "truncate", "clear", "clean", "stop", "down",
	"prune", "kill", "terminate", "cancel", "rm", "del", "uninstall", "discard", "flush", "rewrite", "overwrite", "replace",
	// ends a session or a window, and only when the tool is on one
	// (endingAction): closing an issue loses nothing
	"close")

// endingValue is the first of an enum's values (the elements of array
// vals) whose first word deletes data, ends a process or replaces a whole
// content ("delete", "remove_all", "rewrite"), or "" (a "close" or a
// "clear" only when no other value qualifies).
func endingValue(t *jsonTree, vals int32) string {
	found := ""
	for _, v := range t.children(vals) {
		if s, ok := t.strOf(v); ok && endingWord(s) {
			if weakEnding(s) == "" {
				return s
			}
			if found == "" {
				found = s
			}
		}
	}
	return found
}

// writingValue is the first of the listed values whose first word is a
// verb that writes or worse, or "".
func writingValue(t *jsonTree, vals int32) string {
	for _, v := range t.children(vals) {
		if s, ok := t.strOf(v); ok && writingWord(s) {
			return s
		}
	}
	return ""
}

// writingWord reports whether a value's first word is a verb that
// writes or worse ("create", "change_plan"; not "list", "ticker"), or a
// later word is one that is not also a noun ("order_cancel",
// "position_close"; not "big_orders", "trade_data").
func writingWord(s string) bool {
	return writingClass(s) != verbNone
}

// writingClass is the class of the worst verb of writingWord in s, or
// verbNone.
func writingClass(s string) verbClass {
	if len(s) > 64 {
		return verbNone
	}
	toks := tokens(s, 4)
	class := verbNone
	for i, t := range toks {
		v := verbs[t]
		switch {
		case i == 0 && len(toks) > 1 && (objectBefore(t, toks[1]) || (nounishVerbs[t] || marketNouns[t]) && laterPlainVerb(toks[1:])):
			// "trade_data", "order_cancel": the noun of a word of its
			// data or of a later verb ("post_message" still posts)
			continue
		case i == 0 && verbRank[v] > verbRank[verbRead]:
		case i > 0 && !nounishVerbs[t] && !marketNouns[t] && verbRank[v] > verbRank[verbWeakWrite]:
		default:
			continue
		}
		if verbRank[v] > verbRank[class] {
			class = v
		}
	}
	return class
}

// wrapsRequest reports whether a top-level object only carries a
// request's parts (see wrapperNames), given that it declares properties.
func (p *prop) wrapsRequest() bool {
	return p.depth == 1 && (p.typ == "object" || p.typ == "") && (wrapperNames[p.joined] || len(p.toks) > 1 && p.toks[len(p.toks)-1] == "request")
}

// readOnlyDesc reports whether a description says "read-only", in any
// case, as containsFoldASCII would, looking only around its hyphens.
func readOnlyDesc(d string) bool {
	for off := 0; ; {
		i := strings.IndexByte(d[off:], '-')
		if i < 0 {
			return false
		}
		i += off
		if i >= 4 && i+5 <= len(d) && strings.EqualFold(d[i-4:i], "read") && strings.EqualFold(d[i+1:i+5], "only") {
			return true
		}
		off = i + 1
	}
}

// enumHolds reports whether the enum vals lists want, in any case.
func enumHolds(t *jsonTree, vals int32, want string) bool {
	for _, v := range t.children(vals) {
		if s, ok := t.strOf(v); ok && strings.EqualFold(s, want) {
			return true
		}
	}
	return false
}

// endingString is endingValue over plain strings (the values a
// description quotes).
func endingString(vals []string) string {
	found := ""
	for _, s := range vals {
		if endingWord(s) {
			if weakEnding(s) == "" {
				return s
			}
			if found == "" {
				found = s
			}
		}
	}
	return found
}

// closingWord reports whether a value's first word is "close", which
// ends something only on a session or a window.
func closingWord(s string) bool {
	return weakEnding(s) == "close"
}

// weakEnding is a value's first word when it is "close" (which ends
// something only on a session or a window) or "clear" (which loses
// nothing kept on a console or a monitor), or "": an enum's values that
// delete are preferred to those.
func weakEnding(s string) string {
	toks := tokens(s, 1)
	if len(toks) > 0 && (toks[0] == "close" || toks[0] == "clear") {
		return toks[0]
	}
	return ""
}

// endingWord reports whether a value's first word deletes data, ends a
// process or replaces a whole content.
func endingWord(s string) bool {
	if len(s) > 64 {
		return false
	}
	toks := tokens(s, 2)
	return len(toks) > 0 && endingVerbsEnum[toks[0]]
}
