// Package posdoc parses the documents people write for toolgate (the
// configuration, policies in toolgate's JSON or YAML or Intercept's YAML,
// policy test files) into one node tree with exact positions, under the
// same bounds and with the same error style, so that every later check can
// say where, as file:line:column, a problem is.
//
// A document whose first non-space character is '{' is read as JSON
// through encoding/json (JSON's own escapes and numbers, exactly), into
// gopkg.in/yaml.v3 nodes; any other as YAML. Lines and columns are 1-based,
// columns counted in characters.
package posdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Bounds of every document.
const (
	// MaxDepth is the deepest nesting of objects and arrays accepted.
	MaxDepth = 64
	// MaxNodes bounds the values of a document once YAML aliases are
	// expanded, so that a small file cannot expand into a huge one.
	MaxNodes = 200_000
)

// Error is a problem that stops a document from being read, with its
// position.
type Error struct {
	Line, Column int
	Message      string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message) }

// Options adjust Parse.
type Options struct {
	// StrictJSON reads a document that starts with '{' as JSON only; by
	// default one that is not valid JSON is read as YAML (whose flow
	// style looks like JSON: {listen: ":8080"}), and only reported as
	// invalid JSON when it is not valid YAML either.
	StrictJSON bool
}

// IsJSON reports whether data is read as JSON: its first non-space
// character is '{'.
func IsJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '{'
}

// Parse reads data, a single JSON or YAML document, into a node tree. It
// returns a nil root for an empty document. Aliases are left in the tree,
// checked: none is unknown, and following them the document neither nests
// deeper than MaxDepth nor holds more than MaxNodes values.
func Parse(data []byte, opts Options) (*yaml.Node, *Error) {
	lines := NewLines(data)
	if IsJSON(data) {
		if opts.StrictJSON || json.Valid(data) {
			return parseJSON(data, lines)
		}
		root, err := parseYAML(data, lines)
		if err != nil {
			// Neither: the author meant JSON, so say where it breaks.
			_, jerr := parseJSON(data, lines)
			if jerr != nil {
				return nil, jerr
			}
			return nil, err
		}
		return root, nil
	}
	return parseYAML(data, lines)
}

// Lines converts byte offsets in a document to lines and columns.
type Lines struct {
	data  []byte
	start []int // byte offset of each line's start
}

// NewLines indexes the lines of data.
func NewLines(data []byte) *Lines {
	l := &Lines{data: data, start: []int{0}}
	for i, b := range data {
		if b == '\n' {
			l.start = append(l.start, i+1)
		}
	}
	return l
}

// Pos returns the line and column of the byte offset off.
func (l *Lines) Pos(off int) (line, col int) {
	off = max(0, min(off, len(l.data)))
	lo, hi := 0, len(l.start)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if l.start[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, utf8.RuneCount(l.data[l.start[lo]:off]) + 1
}

// Text returns the text of a 1-based line, with its line break; nil when
// there is no such line.
func (l *Lines) Text(line int) []byte {
	if line < 1 || line > len(l.start) {
		return nil
	}
	end := len(l.data)
	if line < len(l.start) {
		end = l.start[line]
	}
	return l.data[l.start[line-1]:end]
}

// Count is the number of lines.
func (l *Lines) Count() int { return len(l.start) }

type jsonParser struct {
	data  []byte
	dec   *json.Decoder
	lines *Lines
}

func parseJSON(data []byte, lines *Lines) (*yaml.Node, *Error) {
	p := &jsonParser{data: data, dec: json.NewDecoder(bytes.NewReader(data)), lines: lines}
	p.dec.UseNumber()
	n, err := p.value(1)
	if err != nil {
		return nil, err
	}
	off := p.skip(int(p.dec.InputOffset()))
	if _, err := p.dec.Token(); err != io.EOF {
		l, c := lines.Pos(off)
		return nil, &Error{l, c, "invalid JSON: unexpected data after the end of the document"}
	}
	return n, nil
}

// skip returns the offset of the next token at or after off.
func (p *jsonParser) skip(off int) int {
	for off < len(p.data) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

func (p *jsonParser) errAt(off int, err error) *Error {
	msg := err.Error()
	// A Decoder's offsets are not always absolute; a full Unmarshal of the
	// document reports the first syntax error at its absolute offset.
	var se *json.SyntaxError
	if uerr := json.Unmarshal(p.data, new(any)); errors.As(uerr, &se) {
		err, msg = uerr, se.Error()
		off = int(se.Offset)
		if off > 0 && off < len(p.data) {
			off-- // Offset is just past the offending byte
		}
		if strings.HasPrefix(msg, "unexpected end of JSON input") {
			err = io.ErrUnexpectedEOF
		}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		off = len(p.data)
		msg = "unexpected end of the document"
	}
	l, c := p.lines.Pos(off)
	return &Error{l, c, "invalid JSON: " + strings.TrimPrefix(msg, "json: ")}
}

func (p *jsonParser) token() (json.Token, int, *Error) {
	start := p.skip(int(p.dec.InputOffset()))
	tok, err := p.dec.Token()
	if err != nil {
		return nil, start, p.errAt(start, err)
	}
	return tok, start, nil
}

func (p *jsonParser) node(kind yaml.Kind, tag, value string, off int) *yaml.Node {
	l, c := p.lines.Pos(off)
	return &yaml.Node{Kind: kind, Tag: tag, Value: value, Line: l, Column: c}
}

func (p *jsonParser) value(depth int) (*yaml.Node, *Error) {
	tok, off, err := p.token()
	if err != nil {
		return nil, err
	}
	return p.valueFrom(tok, off, depth)
}

func (p *jsonParser) valueFrom(tok json.Token, off, depth int) (*yaml.Node, *Error) {
	switch t := tok.(type) {
	case json.Delim:
		if t != '{' && t != '[' {
			l, c := p.lines.Pos(off)
			return nil, &Error{l, c, fmt.Sprintf("invalid JSON: unexpected %q", string(t))}
		}
		if depth > MaxDepth {
			l, c := p.lines.Pos(off)
			return nil, &Error{l, c, fmt.Sprintf("the document nests deeper than %d levels", MaxDepth)}
		}
		if t == '{' {
			n := p.node(yaml.MappingNode, "!!map", "", off)
			for {
				tok, koff, err := p.token()
				if err != nil {
					return nil, err
				}
				if d, ok := tok.(json.Delim); ok && d == '}' {
					return n, nil
				}
				key, _ := tok.(string)
				k := p.node(yaml.ScalarNode, "!!str", key, koff)
				k.Style = yaml.DoubleQuotedStyle
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, k, v)
			}
		}
		n := p.node(yaml.SequenceNode, "!!seq", "", off)
		for {
			tok, eoff, err := p.token()
			if err != nil {
				return nil, err
			}
			if d, ok := tok.(json.Delim); ok && d == ']' {
				return n, nil
			}
			v, err := p.valueFrom(tok, eoff, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
	case string:
		n := p.node(yaml.ScalarNode, "!!str", t, off)
		n.Style = yaml.DoubleQuotedStyle
		return n, nil
	case json.Number:
		// As YAML tags the same numbers: integer syntax is !!int at any
		// size, and whoever reads it checks its range.
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return p.node(yaml.ScalarNode, tag, string(t), off), nil
	case bool:
		return p.node(yaml.ScalarNode, "!!bool", strconv.FormatBool(t), off), nil
	case nil:
		return p.node(yaml.ScalarNode, "!!null", "null", off), nil
	}
	l, c := p.lines.Pos(off)
	return nil, &Error{l, c, "invalid JSON"}
}

func parseYAML(data []byte, lines *Lines) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(err, lines)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		line, col := extra.Line, extra.Column
		if line == 0 {
			line, col = 1, 1
		}
		return nil, &Error{line, col, "the file holds several YAML documents; toolgate reads exactly one"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(err, lines)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	nodes := 0
	if err := check(root, 1, &nodes); err != nil {
		return nil, err
	}
	return root, nil
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns a yaml.v3 syntax error into an Error. yaml.v3 reports
// the line only (and no line at all for the first one), so the column is
// 1, except for a tab in the indentation, which is found.
func yamlError(err error, lines *Lines) *Error {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if strings.Contains(msg, "cannot start any token") {
		if l, c, ok := findTab(lines); ok {
			return &Error{l, c, "invalid YAML: tab characters must not be used for indentation"}
		}
	}
	return &Error{line, 1, "invalid YAML: " + msg}
}

// findTab finds the first tab used in indentation.
func findTab(lines *Lines) (int, int, bool) {
	for i := 1; i <= lines.Count(); i++ {
		for j, b := range lines.Text(i) {
			if b == '\t' {
				return i, j + 1, true
			}
			if b != ' ' {
				break
			}
		}
	}
	return 0, 0, false
}

// check enforces MaxDepth and MaxNodes, following aliases.
func check(n *yaml.Node, depth int, nodes *int) *Error {
	*nodes++
	if *nodes > MaxNodes {
		return &Error{n.Line, n.Column, fmt.Sprintf("the document is too large once its aliases are expanded (more than %d values)", MaxNodes)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return &Error{n.Line, n.Column, "unknown alias"}
		}
		return check(n.Alias, depth, nodes)
	case yaml.MappingNode, yaml.SequenceNode:
		if depth > MaxDepth {
			return &Error{n.Line, n.Column, fmt.Sprintf("the document nests deeper than %d levels", MaxDepth)}
		}
		for _, c := range n.Content {
			if err := check(c, depth+1, nodes); err != nil {
				return err
			}
		}
	}
	return nil
}
