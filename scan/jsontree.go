package scan

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/toolgate/toolgate/internal/canonjson"
)

// The classifier reads each schema three times: the property walker, the
// text checks and the canonical form pin hashes. Decoded into maps, a
// schema cost an allocation per object, string and interface value, and
// each reader sorted every object's keys again. A jsonTree holds the
// schemas of one tool as a flat slice of nodes instead, read once: each
// object's members sorted by key once (the last of duplicate keys kept, as
// encoding/json keeps it in a map), and strings without escapes held as
// substrings of one copy of the schema. The tree's slices are reused from
// tool to tool; only the strings outlive it.

// treeKind is the JSON type of a node.
type treeKind uint8

const (
	treeNull treeKind = iota
	treeFalse
	treeTrue
	treeNumber
	treeString
	treeArray
	treeObject
)

// treeNode is one value of a jsonTree.
type treeNode struct {
	// key is the member's key, when the node is an object's member.
	key string
	// str is a string's value, or a number as written.
	str  string
	kind treeKind
	// plain marks a key (plainKey) or a string (plainStr) of printable
	// ASCII but quote and backslash: its canonical form is itself quoted.
	plain uint8
	// kids and n locate an array's elements, or an object's members in
	// key order, in the tree's kids: kids[kids : kids+n].
	kids, n int32
}

// The bits of treeNode.plain.
const (
	plainStr uint8 = 1 << iota
	plainKey
)

// jsonTree holds decoded JSON values as nodes; a value is the index of its
// node.
type jsonTree struct {
	nodes []treeNode
	kids  []int32
	stack []int32 // the members or elements read so far of open values
}

func (t *jsonTree) reset() {
	t.nodes, t.kids, t.stack = t.nodes[:0], t.kids[:0], t.stack[:0]
}

func (t *jsonTree) add(n treeNode) int32 {
	t.nodes = append(t.nodes, n)
	return int32(len(t.nodes) - 1)
}

// children returns the elements of an array or the members of an object,
// in key order (nil for any other value).
func (t *jsonTree) children(n int32) []int32 {
	nd := &t.nodes[n]
	return t.kids[nd.kids : nd.kids+nd.n]
}

// member returns the member of object n with that key, or -1 when it has
// none or n is not an object.
func (t *jsonTree) member(n int32, key string) int32 {
	if t.nodes[n].kind != treeObject {
		return -1
	}
	kids := t.children(n)
	if len(kids) <= 8 {
		for _, k := range kids {
			if t.nodes[k].key == key {
				return k
			}
		}
		return -1
	}
	i, ok := slices.BinarySearchFunc(kids, key, func(k int32, key string) int { return strings.Compare(t.nodes[k].key, key) })
	if !ok {
		return -1
	}
	return kids[i]
}

// kindOf is the kind of node n, treeNull for -1 (an absent member).
func (t *jsonTree) kindOf(n int32) treeKind {
	if n < 0 {
		return treeNull
	}
	return t.nodes[n].kind
}

// strOf is node n's string, and whether it is one.
func (t *jsonTree) strOf(n int32) (string, bool) {
	if n < 0 || t.nodes[n].kind != treeString {
		return "", false
	}
	return t.nodes[n].str, true
}

// close ends the array or object at node at, whose elements or members
// are t.stack[start:].
func (t *jsonTree) close(at int32, start int) {
	kids := t.stack[start:]
	if t.nodes[at].kind == treeObject && len(kids) > 1 {
		kids = t.sortMembers(kids)
	}
	t.nodes[at].kids, t.nodes[at].n = int32(len(t.kids)), int32(len(kids))
	t.kids = append(t.kids, kids...)
	t.stack = t.stack[:start]
}

// sortMembers sorts members by key, keeping document order among equal
// keys, and keeps only the last of each key.
func (t *jsonTree) sortMembers(m []int32) []int32 {
	less := func(a, b int32) bool { return t.nodes[a].key < t.nodes[b].key }
	if len(m) <= 12 {
		for i := 1; i < len(m); i++ {
			for j := i; j > 0 && less(m[j], m[j-1]); j-- {
				m[j], m[j-1] = m[j-1], m[j]
			}
		}
	} else {
		slices.SortStableFunc(m, func(a, b int32) int { return strings.Compare(t.nodes[a].key, t.nodes[b].key) })
	}
	out := m[:0]
	for i, k := range m {
		if i+1 < len(m) && t.nodes[m[i+1]].key == t.nodes[k].key {
			continue
		}
		out = append(out, k)
	}
	return out
}

// errNotUTF8 is decodeJSON's error for bytes that are not UTF-8.
var errNotUTF8 = errors.New("not valid UTF-8")

// parse adds the value raw holds to the tree, as decodeJSON decodes it:
// the first value, what follows ignored. The tree's reader takes what the
// one-pass reader (fastDecode) takes; encoding/json reads the rest, and
// says what is wrong.
func (t *jsonTree) parse(raw []byte) (int32, error) {
	nodes, kids := len(t.nodes), len(t.kids)
	p := treeParser{r: jsonReader{b: raw}, s: string(raw), t: t}
	// The reader checks the UTF-8 of the strings it reads (the rest of
	// what it reads is ASCII), and what follows the value is checked
	// here: all of raw is, as decodeJSON checks it first.
	if n, ok := p.value(); ok && utf8.Valid(raw[p.r.i:]) {
		return n, nil
	}
	t.nodes, t.kids, t.stack = t.nodes[:nodes], t.kids[:kids], t.stack[:0]
	if !utf8.Valid(raw) {
		return -1, errNotUTF8
	}
	v, err := decodeJSONStd(raw)
	if err != nil {
		return -1, err
	}
	return t.fromAny(v), nil
}

// treeParser reads JSON into a tree.
type treeParser struct {
	r jsonReader
	s string // r.b as a string, of which strings are substrings
	t *jsonTree
}

// value reads the value at r.i, as jsonReader.value does.
func (p *treeParser) value() (int32, bool) {
	r, t := &p.r, p.t
	r.space()
	if r.i >= len(r.b) {
		return -1, false
	}
	switch c := r.b[r.i]; c {
	case '{', '[':
		end, kind := byte('}'), treeObject
		if c == '[' {
			end, kind = ']', treeArray
		}
		if r.depth++; r.depth > maxJSONDepth {
			return -1, false
		}
		r.i++
		at := t.add(treeNode{kind: kind})
		start := len(t.stack)
		r.space()
		if r.i < len(r.b) && r.b[r.i] == end {
			r.i++
			r.depth--
			t.close(at, start)
			return at, true
		}
		for {
			var key string
			var plain uint8
			if kind == treeObject {
				r.space()
				k, ascii, ok := p.str()
				if !ok {
					return -1, false
				}
				r.space()
				if r.i >= len(r.b) || r.b[r.i] != ':' {
					return -1, false
				}
				r.i++
				key = k
				if ascii {
					plain = plainKey
				}
			}
			v, ok := p.value()
			if !ok {
				return -1, false
			}
			t.nodes[v].key = key
			t.nodes[v].plain |= plain
			t.stack = append(t.stack, v)
			r.space()
			if r.i >= len(r.b) {
				return -1, false
			}
			if r.b[r.i] == ',' {
				r.i++
				continue
			}
			if r.b[r.i] != end {
				return -1, false
			}
			r.i++
			r.depth--
			t.close(at, start)
			return at, true
		}
	case '"':
		s, ascii, ok := p.str()
		n := treeNode{kind: treeString, str: s}
		if ascii {
			n.plain = plainStr
		}
		return t.add(n), ok
	case 't':
		return t.add(treeNode{kind: treeTrue}), r.lit("true")
	case 'f':
		return t.add(treeNode{kind: treeFalse}), r.lit("false")
	case 'n':
		return t.add(treeNode{kind: treeNull}), r.lit("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			start := r.i
			if !r.number() {
				return -1, false
			}
			return t.add(treeNode{kind: treeNumber, str: p.s[start:r.i]}), true
		}
	}
	return -1, false
}

// str reads the string at r.i: a substring of the input when it has no
// escape, else as jsonReader.str decodes it. ascii reports a substring of
// printable ASCII, which has no quote or backslash.
func (p *treeParser) str() (s string, ascii, ok bool) {
	r := &p.r
	b := r.b
	if r.i >= len(b) || b[r.i] != '"' {
		return "", false, false
	}
	start := r.i + 1
	if j, ascii := strRun(b, start); j < len(b) && b[j] == '"' && (ascii || utf8.Valid(b[start:j])) {
		r.i = j + 1
		return p.s[start:j], ascii, true
	}
	s, ok = r.str()
	return s, false, ok
}

// fromAny adds a value decoded by decodeJSONStd to the tree.
func (t *jsonTree) fromAny(v any) int32 {
	switch v := v.(type) {
	case bool:
		if v {
			return t.add(treeNode{kind: treeTrue})
		}
		return t.add(treeNode{kind: treeFalse})
	case string:
		return t.add(treeNode{kind: treeString, str: v})
	case json.Number:
		return t.add(treeNode{kind: treeNumber, str: string(v)})
	case []any:
		at := t.add(treeNode{kind: treeArray})
		start := len(t.stack)
		for _, x := range v {
			n := t.fromAny(x)
			t.stack = append(t.stack, n)
		}
		t.close(at, start)
		return at
	case map[string]any:
		at := t.add(treeNode{kind: treeObject})
		start := len(t.stack)
		for k, x := range v {
			n := t.fromAny(x)
			t.nodes[n].key = k
			t.stack = append(t.stack, n)
		}
		t.close(at, start)
		return at
	}
	return t.add(treeNode{kind: treeNull})
}

// appendCanon appends node n in canonical form: as encoding/json's
// Encoder writes the decoded value with SetEscapeHTML(false), object keys
// sorted, no insignificant space, numbers as written.
func (t *jsonTree) appendCanon(dst []byte, n int32) []byte {
	nd := &t.nodes[n]
	switch nd.kind {
	case treeNull:
		return append(dst, "null"...)
	case treeFalse:
		return append(dst, "false"...)
	case treeTrue:
		return append(dst, "true"...)
	case treeNumber:
		return append(dst, nd.str...)
	case treeString:
		return appendCanonStr(dst, nd.str, nd.plain&plainStr != 0)
	case treeArray:
		dst = append(dst, '[')
		for i, k := range t.children(n) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = t.appendCanon(dst, k)
		}
		return append(dst, ']')
	}
	dst = append(dst, '{')
	for i, k := range t.children(n) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCanonStr(dst, t.nodes[k].key, t.nodes[k].plain&plainKey != 0)
		dst = append(dst, ':')
		dst = t.appendCanon(dst, k)
	}
	return append(dst, '}')
}

// toAny is node n as decodeJSON decodes it (for tests and the few readers
// of decoded values).
func (t *jsonTree) toAny(n int32) any {
	if n < 0 {
		return nil
	}
	nd := &t.nodes[n]
	switch nd.kind {
	case treeFalse:
		return false
	case treeTrue:
		return true
	case treeNumber:
		return json.Number(nd.str)
	case treeString:
		return nd.str
	case treeArray:
		a := make([]any, 0, nd.n)
		for _, k := range t.children(n) {
			a = append(a, t.toAny(k))
		}
		return a
	case treeObject:
		m := make(map[string]any, nd.n)
		for _, k := range t.children(n) {
			m[t.nodes[k].key] = t.toAny(k)
		}
		return m
	}
	return nil
}

// appendCanonStr appends s as a JSON string in canonical form: as it is,
// quoted, when plain (printable ASCII but quote and backslash).
func appendCanonStr(dst []byte, s string, plain bool) []byte {
	if !plain {
		return canonjson.AppendGoString(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
