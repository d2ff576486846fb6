package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"

	"github.com/toolgate/toolgate/internal/canonjson"
)

// Marker replaces every masked value.
const Marker = "[REDACTED]"

// Unencodable is what Args returns for arguments that are not JSON (a
// channel, a function, a NaN).
const Unencodable = `{"error":"[UNENCODABLE]"}`

// Bounds on what is inspected. A value nested deeper than MaxDepth, or
// met after MaxNodes values, is masked whole: what is not inspected is not
// shown. So is an object or array that contains itself (only Go code can
// build one).
const (
	MaxDepth = 256
	MaxNodes = 1 << 21
)

// Redactor masks secrets by key name, by value shape and at the members
// its pointers name. It is immutable and safe for concurrent use. A nil
// *Redactor applies the key name and value shape rules only.
type Redactor struct {
	pointers []string
	root     *trie
}

// New returns a Redactor that also masks the members the RFC 6901 JSON
// Pointers name (see ParsePointer), such as "/password" or
// "/profile/ssn". A pointer to a member that a call does not have masks
// nothing. With no pointers it returns nil, the default Redactor.
func New(pointers ...string) (*Redactor, error) {
	if len(pointers) == 0 {
		return nil, nil
	}
	r := &Redactor{pointers: slices.Clone(pointers), root: &trie{}}
	for _, p := range pointers {
		toks, err := ParsePointer(p)
		if err != nil {
			return nil, err
		}
		r.root.add(toks)
	}
	return r, nil
}

// Pointers returns the pointers r was built with, in order.
func (r *Redactor) Pointers() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.pointers)
}

func (r *Redactor) trie() *trie {
	if r == nil {
		return nil
	}
	return r.root
}

// Args returns args as JSON, secrets masked: object keys sorted at every
// depth, no HTML escaping, a nil map as {}. Arguments that cannot be
// encoded as JSON give Unencodable. args is not modified.
func (r *Redactor) Args(args map[string]any) json.RawMessage {
	if args == nil {
		return json.RawMessage("{}")
	}
	e := encoder{walk: walk{nodes: MaxNodes}, buf: make([]byte, 0, 256)}
	e.value(args, r.trie(), 0)
	if e.err != nil {
		return json.RawMessage(Unencodable)
	}
	return e.buf
}

// JSON returns the JSON document raw with secrets masked, encoded as Args
// encodes (keys sorted; of duplicate keys the last one is kept, as
// encoding/json does). It fails on input that is not one JSON value.
func (r *Redactor) JSON(raw []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("redact: %w", err)
	}
	if _, err := d.Token(); err == nil {
		return nil, fmt.Errorf("redact: data after the JSON value")
	}
	e := encoder{walk: walk{nodes: MaxNodes}, buf: make([]byte, 0, len(raw)+16)}
	e.value(v, r.trie(), 0)
	if e.err != nil {
		return nil, fmt.Errorf("redact: %w", e.err)
	}
	return e.buf, nil
}

// walk is the state of one walk: the values left to inspect, and the
// objects and arrays being inspected, to stop at a cycle.
type walk struct {
	nodes int
	path  []uintptr
}

// enter reports whether v, an object or an array, may be inspected: it
// is within the bounds and not inside itself. When it returns true, the
// caller calls leave once done with v.
func (w *walk) enter(v any, n, depth int) bool {
	if depth > MaxDepth || w.nodes < 0 {
		return false
	}
	if n == 0 {
		w.path = append(w.path, 0)
		return true
	}
	p := reflect.ValueOf(v).Pointer()
	if slices.Contains(w.path, p) {
		return false
	}
	w.path = append(w.path, p)
	return true
}

func (w *walk) leave() { w.path = w.path[:len(w.path)-1] }

// Value returns v with secrets masked, v being what encoding/json decodes
// into an any: map[string]any, []any, string, float64 or json.Number, bool
// or nil. v is not modified; the result shares the parts of v that hold
// nothing to mask. Values of other types are returned as they are.
func (r *Redactor) Value(v any) any {
	w := walk{nodes: MaxNodes}
	out, _ := w.value(v, r.trie(), 0)
	return out
}

// value returns v masked, and whether anything was masked.
func (w *walk) value(v any, t *trie, depth int) (any, bool) {
	w.nodes--
	if w.nodes < 0 {
		return Marker, true
	}
	switch v := v.(type) {
	case map[string]any:
		if !w.enter(v, len(v), depth) {
			return Marker, true
		}
		defer w.leave()
		var out map[string]any
		for k, x := range v {
			c := t.child(k)
			var y any
			changed := true
			if (c != nil && c.mask) || IsSecretKey(k) {
				y = Marker
			} else {
				y, changed = w.value(x, c, depth+1)
			}
			if changed {
				if out == nil {
					out = make(map[string]any, len(v))
					for k2, x2 := range v {
						out[k2] = x2
					}
				}
				out[k] = y
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case []any:
		if !w.enter(v, len(v), depth) {
			return Marker, true
		}
		defer w.leave()
		var out []any
		for i, x := range v {
			c := t.index(i)
			var y any
			changed := true
			if c != nil && c.mask {
				y = Marker
			} else {
				y, changed = w.value(x, c, depth+1)
			}
			if changed {
				if out == nil {
					out = slices.Clone(v)
				}
				out[i] = y
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case string:
		if IsSecretValue(v) {
			return Marker, true
		}
	}
	return v, false
}

// encoder writes a value as JSON with secrets masked.
type encoder struct {
	walk
	buf []byte
	err error
}

func (e *encoder) marker() { e.buf = canonjson.AppendGoString(e.buf, Marker) }

func (e *encoder) value(v any, t *trie, depth int) {
	e.nodes--
	if e.nodes < 0 {
		e.marker()
		return
	}
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		if IsSecretValue(v) {
			e.marker()
			return
		}
		e.buf = canonjson.AppendGoString(e.buf, v)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case float64:
		e.float(v)
	case json.Number:
		if !validNumber(string(v)) {
			e.err = fmt.Errorf("invalid number %q", v)
			return
		}
		e.buf = append(e.buf, v...)
	case map[string]any:
		if !e.enter(v, len(v), depth) {
			e.marker()
			return
		}
		e.object(v, t, depth)
		e.leave()
	case []any:
		if !e.enter(v, len(v), depth) {
			e.marker()
			return
		}
		defer e.leave()
		e.buf = append(e.buf, '[')
		for i, x := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if c := t.index(i); c != nil && c.mask {
				e.marker()
			} else {
				e.value(x, c, depth+1)
			}
		}
		e.buf = append(e.buf, ']')
	default:
		// Another Go type (a struct, []string, int): walk what it
		// encodes to.
		g, err := generic(v)
		if err != nil {
			e.err = err
			return
		}
		e.nodes++
		e.value(g, t, depth)
	}
}

func (e *encoder) object(v map[string]any, t *trie, depth int) {
	var arr [32]string
	keys := arr[:0]
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = canonjson.AppendGoString(e.buf, k)
		e.buf = append(e.buf, ':')
		c := t.child(k)
		if (c != nil && c.mask) || IsSecretKey(k) {
			e.marker()
			continue
		}
		e.value(v[k], c, depth+1)
		if e.err != nil {
			return
		}
	}
	e.buf = append(e.buf, '}')
}

// float appends f as encoding/json does.
func (e *encoder) float(f float64) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		e.err = fmt.Errorf("unsupported value %v", f)
		return
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(e.buf, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	e.buf = b
}

// generic round-trips v through encoding/json into maps, slices, strings,
// bools, nil and json.Number.
func generic(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// validNumber reports whether s is a JSON number.
func validNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	return s == ""
}

// Args masks args by the key name and value shape rules alone; see
// Redactor.Args.
func Args(args map[string]any) json.RawMessage { return (*Redactor)(nil).Args(args) }

// Value masks v by the key name and value shape rules alone; see
// Redactor.Value.
func Value(v any) any { return (*Redactor)(nil).Value(v) }

// JSON masks raw by the key name and value shape rules alone; see
// Redactor.JSON.
func JSON(raw []byte) ([]byte, error) { return (*Redactor)(nil).JSON(raw) }
