package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Tool is one tool definition as MCP's tools/list returns it. The schemas
// and annotations are kept as raw JSON, so that any definition, however
// odd, can be classified and pinned exactly as the server sent it. A
// tools/list result's "tools" array unmarshals directly into []Tool.
type Tool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title,omitempty"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"inputSchema,omitempty"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	Annotations  json.RawMessage `json:"annotations,omitempty"`
}

// Problem is something wrong with a tool list or a tool definition that
// the scanner reports instead of failing: a missing or duplicate name, a
// field of the wrong type, a schema it could not read.
type Problem struct {
	// Tool is the tool's name ("" when it has none).
	Tool string `json:"tool,omitempty"`
	// Index is the tool's position in the list (from 0), or -1.
	Index int `json:"index"`
	// Message says what is wrong.
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Tool != "" {
		return fmt.Sprintf("tool %d (%q): %s", p.Index, p.Tool, p.Message)
	}
	if p.Index >= 0 {
		return fmt.Sprintf("tool %d: %s", p.Index, p.Message)
	}
	return p.Message
}

// ToolList is a tools/list result as read by ParseToolList: the tools,
// what was wrong with them, and what the document says about where it came
// from (the fixtures under shared/fixtures/toollists carry "server").
type ToolList struct {
	Server   string
	Tools    []Tool
	Problems []Problem
}

// ParseToolList reads a tools/list result in any of these shapes: a
// result object {"tools": [...]}, a JSON-RPC response {"result": {"tools":
// [...]}}, a captured fixture {"server": ..., "tools": [...]}, or a bare
// array of tools. A tool whose fields have the wrong types is kept with the
// fields that could be read and reported as a Problem, as are tools without
// a name and duplicate names. Only a document that is not JSON, or holds no
// tool array, is an error.
func ParseToolList(data []byte) (*ToolList, error) {
	data = bytes.TrimSpace(data)
	if list, ok := parseToolListFast(data); ok {
		return list, nil
	}
	return parseToolListStd(data)
}

// parseToolListStd is ParseToolList by encoding/json: it reads what
// parseToolListFast leaves to it and words the errors.
func parseToolListStd(data []byte) (*ToolList, error) {
	data = bytes.TrimSpace(data)
	list := &ToolList{}
	var arr []json.RawMessage
	if len(data) > 0 && data[0] == '[' {
		if err := json.Unmarshal(data, &arr); err != nil {
			return nil, fmt.Errorf("scan: tool list: %w", err)
		}
	} else {
		var doc struct {
			Server string          `json:"server"`
			Tools  json.RawMessage `json:"tools"`
			Result *struct {
				Tools json.RawMessage `json:"tools"`
			} `json:"result"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("scan: tool list: %w", err)
		}
		raw := doc.Tools
		if raw == nil && doc.Result != nil {
			raw = doc.Result.Tools
		}
		if raw == nil {
			return nil, fmt.Errorf("scan: tool list: no \"tools\" array (want {\"tools\": [...]}, a JSON-RPC response or an array)")
		}
		if err := json.Unmarshal(raw, &arr); err != nil {
			return nil, fmt.Errorf("scan: tool list: \"tools\": %w", err)
		}
		list.Server = doc.Server
	}
	for i, raw := range arr {
		t, probs := decodeTool(raw, i)
		list.Tools = append(list.Tools, t)
		list.Problems = append(list.Problems, probs...)
	}
	list.Problems = append(list.Problems, CheckNames(list.Tools)...)
	return list, nil
}

// decodeTool reads one tool leniently: each field on its own.
func decodeTool(raw json.RawMessage, i int) (Tool, []Problem) {
	var t Tool
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return t, []Problem{{Index: i, Message: "not a JSON object: " + err.Error()}}
	}
	var f rawToolFields
	for k, v := range fields {
		if p := f.field(k); p != nil {
			*p = v
		}
	}
	return f.tool(i)
}

// rawToolFields are the raw values of the fields of a tool object that the
// scanner reads (nil when absent).
type rawToolFields struct {
	name, title, description, inputSchema, outputSchema, annotations json.RawMessage
}

func (f *rawToolFields) field(key string) *json.RawMessage {
	switch key {
	case "name":
		return &f.name
	case "title":
		return &f.title
	case "description":
		return &f.description
	case "inputSchema":
		return &f.inputSchema
	case "outputSchema":
		return &f.outputSchema
	case "annotations":
		return &f.annotations
	}
	return nil
}

// tool reads the fields leniently: each on its own.
func (f *rawToolFields) tool(i int) (Tool, []Problem) {
	var t Tool
	var probs []Problem
	str := func(key string, v json.RawMessage, dst *string) {
		if v == nil || string(v) == "null" {
			return
		}
		if len(v) > 0 && v[0] == '"' {
			r := jsonReader{b: v}
			if s, ok := r.str(); ok && r.i == len(v) {
				*dst = s
				return
			}
		}
		if err := json.Unmarshal(v, dst); err != nil {
			probs = append(probs, Problem{Index: i, Message: strconv.Quote(key) + " is not a string"})
		}
	}
	str("name", f.name, &t.Name)
	str("title", f.title, &t.Title)
	str("description", f.description, &t.Description)
	obj := func(key string, v json.RawMessage, dst *json.RawMessage) {
		if v == nil || string(v) == "null" {
			return
		}
		if len(v) == 0 || v[0] != '{' {
			probs = append(probs, Problem{Index: i, Message: strconv.Quote(key) + " is not an object"})
		}
		*dst = v
	}
	obj("inputSchema", f.inputSchema, &t.InputSchema)
	obj("outputSchema", f.outputSchema, &t.OutputSchema)
	obj("annotations", f.annotations, &t.Annotations)
	for j := range probs {
		probs[j].Tool = t.Name
	}
	return t, probs
}

// CheckNames reports tools without a name, names that are not valid
// UTF-8, and names used more than once (each repeat after the first).
func CheckNames(tools []Tool) []Problem {
	var probs []Problem
	seen := make(map[string]int, len(tools))
	for i, t := range tools {
		switch {
		case t.Name == "":
			probs = append(probs, Problem{Index: i, Message: "tool has no name"})
			continue
		case !utf8.ValidString(t.Name):
			probs = append(probs, Problem{Tool: t.Name, Index: i, Message: "name is not valid UTF-8"})
		}
		if first, dup := seen[t.Name]; dup {
			probs = append(probs, Problem{Tool: t.Name, Index: i, Message: fmt.Sprintf("duplicate name (first at tool %d)", first)})
			continue
		}
		seen[t.Name] = i
	}
	return probs
}

// parseToolListFast is ParseToolList in one pass over the bytes, for
// documents of the usual shapes. It reports false, for parseToolListStd
// to read the document again, on anything else: invalid JSON, a "tools"
// that is not an array, an element that is not an object, top-level keys
// that encoding/json would match to a field ignoring case.
func parseToolListFast(data []byte) (*ToolList, bool) {
	// The tools keep slices of the document; a copy of it makes them
	// independent of the caller's buffer, as encoding/json's copies did.
	data = bytes.Clone(data)
	r := jsonReader{b: data}
	list := &ToolList{}
	// The tools arrays are read where they are met, in the one pass; the
	// one encoding/json would keep is chosen at the end.
	var tools []Tool
	var probs []Problem
	found := false
	switch {
	case len(data) > 0 && data[0] == '[':
		var ok bool
		if tools, probs, ok = readTools(&r, data); !ok {
			return nil, false
		}
		found = true
	case len(data) > 0 && data[0] == '{':
		var direct, nested []Tool
		var directProbs, nestedProbs []Problem
		hasDirect, hasNested, seenResult := false, false, false
		ok := r.object(func(key string) bool {
			switch key {
			case "server":
				if r.peek() == 'n' {
					return r.lit("null")
				}
				s, ok := r.str()
				list.Server = s
				return ok
			case "tools":
				var ok bool
				direct, directProbs, ok = readTools(&r, data)
				hasDirect = true
				return ok
			case "result":
				if r.peek() == 'n' {
					hasNested = false
					return r.lit("null")
				}
				if seenResult {
					// encoding/json decodes a second result object
					// into the first: left to it.
					return false
				}
				seenResult = true
				return r.object(func(key string) bool {
					if key != "tools" {
						return !strings.EqualFold(key, "tools") && r.skip()
					}
					var ok bool
					nested, nestedProbs, ok = readTools(&r, data)
					hasNested = true
					return ok
				})
			}
			for _, k := range [...]string{"server", "tools", "result"} {
				if strings.EqualFold(key, k) {
					return false
				}
			}
			return r.skip()
		})
		if !ok {
			return nil, false
		}
		switch {
		case hasDirect:
			tools, probs, found = direct, directProbs, true
		case hasNested:
			tools, probs, found = nested, nestedProbs, true
		}
	}
	r.space()
	if !found || r.i != len(data) {
		return nil, false
	}
	list.Tools = tools
	list.Problems = append(probs, CheckNames(tools)...)
	if len(list.Problems) == 0 {
		list.Problems = nil
	}
	return list, true
}

// readTools reads the tools array at r.i (leading space skipped), each
// tool leniently, and steps over it; it reports false on anything
// parseToolListFast leaves to encoding/json.
func readTools(r *jsonReader, data []byte) ([]Tool, []Problem, bool) {
	if r.peek() != '[' {
		return nil, nil, false
	}
	if r.depth++; r.depth > maxJSONDepth {
		return nil, nil, false
	}
	r.i++ // '['
	r.space()
	if r.peek() == ']' {
		r.i++
		r.depth--
		return nil, nil, true
	}
	var tools []Tool
	var probs []Problem
	for i := 0; ; i++ {
		var f rawToolFields
		r.space()
		if r.peek() != '{' {
			return nil, nil, false
		}
		ok := r.object(func(key string) bool {
			r.space()
			start := r.i
			if !r.skip() {
				return false
			}
			if p := f.field(key); p != nil {
				*p = json.RawMessage(data[start:r.i:r.i])
			}
			return true
		})
		if !ok {
			return nil, nil, false
		}
		t, tp := f.tool(i)
		tools = append(tools, t)
		probs = append(probs, tp...)
		r.space()
		if r.peek() == ',' {
			r.i++
			continue
		}
		if r.peek() != ']' {
			return nil, nil, false
		}
		r.i++
		r.depth--
		return tools, probs, true
	}
}
