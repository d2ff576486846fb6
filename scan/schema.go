package scan

import (
	"encoding/json"
	"sort"
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
}

// walker collects the properties of a schema, following local $refs once
// each and never more than maxNodes nodes or maxDepth levels deep.
type walker struct {
	root     any
	props    []prop
	top      int
	nodes    int
	problems []string
	refs     map[string]bool
	capped   bool
	names    []string // sorted property names of the objects being walked
}

func (w *walker) problem(msg string) {
	for _, p := range w.problems {
		if p == msg {
			return
		}
	}
	w.problems = append(w.problems, msg)
}

// resolve follows a local $ref ("#/$defs/x", "#/definitions/x").
func (w *walker) resolve(s map[string]any) (map[string]any, bool) {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s, true
	}
	if w.refs[ref] {
		w.problem("inputSchema: $ref " + quoteShort(ref, 60) + " refers back to itself; followed once")
		return nil, false
	}
	if !strings.HasPrefix(ref, "#") {
		w.problem("inputSchema: $ref " + quoteShort(ref, 60) + " is not local; not followed")
		return nil, false
	}
	var cur any = w.root
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#"), "/")[1:] {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			cur = nil
			break
		}
		cur = m[tok]
	}
	target, ok := cur.(map[string]any)
	if !ok {
		w.problem("inputSchema: $ref " + quoteShort(ref, 60) + " does not resolve")
		return nil, false
	}
	if w.refs == nil {
		w.refs = map[string]bool{}
	}
	w.refs[ref] = true
	return target, true
}

// object walks a schema that describes an object's properties.
func (w *walker) object(v any, path string, depth int) {
	s, ok := v.(map[string]any)
	if !ok {
		if depth == 0 && v != nil {
			if _, isBool := v.(bool); !isBool {
				w.problem("inputSchema is not an object")
			}
		}
		return
	}
	if depth >= maxDepth {
		w.problem("inputSchema: nesting deeper than 64 levels; not followed")
		return
	}
	s, ok = w.resolve(s)
	if !ok {
		return
	}
	if ref, ok := s["$ref"].(string); ok && w.refs[ref] {
		defer delete(w.refs, ref)
	}
	if depth == 0 {
		if t, ok := s["type"].(string); ok && t != "object" {
			w.problem("inputSchema: type is " + quoteShort(t, 20) + ", not object")
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		// w.names is a stack: the properties of nested objects are
		// sorted above these, which this slice keeps reading even if the
		// buffer grows.
		start := len(w.names)
		for name := range props {
			w.names = append(w.names, name)
		}
		names := w.names[start:]
		sort.Strings(names)
		defer func() { w.names = w.names[:start] }()
		for _, name := range names {
			if w.nodes >= maxNodes {
				if !w.capped {
					w.capped = true
					w.problem("inputSchema: more than 20000 schema nodes; the rest was not read")
				}
				return
			}
			w.nodes++
			if depth == 0 {
				w.top++
			}
			w.property(name, props[name], path, depth+1)
		}
	} else if props, ok := s["properties"]; ok && props != nil {
		w.problem("inputSchema: properties is not an object")
	}
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		if list, ok := s[key].([]any); ok {
			for _, sub := range list {
				w.object(sub, path, depth+1)
			}
		}
	}
}

// property records one property and walks what it contains.
func (w *walker) property(name string, v any, parent string, depth int) {
	path := name
	if parent != "" {
		path = parent + "." + name
	}
	toks := tokens(name, 16)
	p := prop{path: path, name: name, toks: toks, joined: strings.Join(toks, ""), depth: depth}
	s, ok := v.(map[string]any)
	if ok {
		if r, ok := w.resolve(s); ok {
			s = r
			if ref, ok := v.(map[string]any)["$ref"].(string); ok {
				defer delete(w.refs, ref)
			}
		} else {
			s = nil
		}
	}
	var sv schemaView
	if s != nil {
		sv = viewSchema(s)
		p.typ = typeOfValue(sv.typ)
		p.format, _ = sv.format.(string)
		p.desc, _ = sv.desc.(string)
		p.maxLength, p.isConst, p.enum = sv.hasMaxLength, sv.hasConst, sv.hasEnum
		if vals, ok := sv.enum.([]any); ok {
			p.enumEnds = endingValue(vals)
		}
		if p.typ == "object" || p.typ == "" {
			hasProps := sv.hasProps
			ap, hasAP := sv.ap, sv.hasAP
			forbidden := hasAP && ap == false
			hasRef := sv.hasRef
			hasComb := sv.hasAnyOf
			if !hasProps && !forbidden && !hasRef && !hasComb && p.typ == "object" {
				p.freeForm = true
			}
			if !hasProps && hasAP {
				if _, isObj := ap.(map[string]any); isObj && len(ap.(map[string]any)) == 0 {
					p.freeForm = true
				}
			}
		}
	}
	w.props = append(w.props, p)
	if s == nil {
		return
	}
	// A property's own properties, or those of its allOf/anyOf/oneOf
	// branches ("price": {"anyOf": [{"properties": ...}]}).
	if sv.hasProps || sv.hasAllOf || sv.hasAnyOf || sv.hasOneOf {
		w.object(s, path, depth)
	}
	if items, ok := sv.items.(map[string]any); ok {
		w.object(items, path+"[]", depth+1)
	}
}

// schemaView holds the members of a property's schema that the walker
// reads (nil and false when absent).
type schemaView struct {
	typ, format, desc, ap, items, enum               any
	hasMaxLength, hasConst, hasEnum, hasProps, hasAP bool
	hasRef, hasAnyOf, hasAllOf, hasOneOf             bool
}

// viewKeys are the members schemaView holds.
var viewKeys = [...]string{"type", "format", "description", "maxLength", "const", "enum", "properties",
	"additionalProperties", "$ref", "anyOf", "allOf", "oneOf", "items"}

// viewSchema reads the members of s the walker needs: for the usual small
// schema, in one pass over it rather than a lookup per member.
func viewSchema(s map[string]any) schemaView {
	var v schemaView
	set := func(k string, x any) {
		switch k {
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
			v.ap, v.hasAP = x, true
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
	if len(s) <= len(viewKeys) {
		for k, x := range s {
			set(k, x)
		}
		return v
	}
	for _, k := range viewKeys {
		if x, ok := s[k]; ok {
			set(k, x)
		}
	}
	return v
}

// typeOfValue is the type a schema's "type" member (v) names: "" when it
// is absent, or names several types besides null.
func typeOfValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		var one string
		for _, x := range t {
			if x, ok := x.(string); ok && x != "null" {
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
	"prune", "kill", "terminate", "cancel", "rm", "del", "uninstall", "discard", "flush", "rewrite", "overwrite", "replace")

// endingValue is the first of an enum's values whose first word deletes
// data, ends a process or replaces a whole content ("delete",
// "remove_all", "rewrite"), or "".
func endingValue(vals []any) string {
	for _, v := range vals {
		if s, ok := v.(string); ok && len(s) <= 64 {
			if toks := tokens(s, 2); len(toks) > 0 && endingVerbsEnum[toks[0]] {
				return s
			}
		}
	}
	return ""
}
