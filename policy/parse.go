package policy

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

// Limits on what Load accepts.
const (
	// MaxDocumentSize is the largest policy document Load accepts, in bytes.
	MaxDocumentSize = 1 << 20
	// MaxDepth is the deepest nesting of objects and arrays Load accepts.
	MaxDepth = 64
	// maxNodes bounds the nodes visited, aliases expanded, in a YAML document.
	maxNodes = 200_000
)

// isJSON reports whether data is a JSON document: its first non-space byte
// is '{'.
func isJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '{'
}

// parse turns data into a node tree: JSON through encoding/json (so JSON's
// own escapes and number syntax are honoured exactly), anything else through
// gopkg.in/yaml.v3. Positions are 1-based lines and columns in runes.
func parse(data []byte) (*yaml.Node, *posError) {
	if isJSON(data) {
		return parseJSON(data)
	}
	return parseYAML(data)
}

// posError is a parse error with its position.
type posError struct {
	line, col int
	msg       string
}

// lineIndex converts byte offsets to line and column.
type lineIndex struct {
	data  []byte
	start []int // byte offset of each line's start
}

func newLineIndex(data []byte) *lineIndex {
	li := &lineIndex{data: data, start: []int{0}}
	for i, b := range data {
		if b == '\n' {
			li.start = append(li.start, i+1)
		}
	}
	return li
}

func (li *lineIndex) pos(off int) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > len(li.data) {
		off = len(li.data)
	}
	lo, hi := 0, len(li.start)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if li.start[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, utf8.RuneCount(li.data[li.start[lo]:off]) + 1
}

type jsonParser struct {
	data []byte
	dec  *json.Decoder
	li   *lineIndex
}

func parseJSON(data []byte) (*yaml.Node, *posError) {
	p := &jsonParser{data: data, dec: json.NewDecoder(bytes.NewReader(data)), li: newLineIndex(data)}
	p.dec.UseNumber()
	n, perr := p.value(1)
	if perr != nil {
		return nil, perr
	}
	off := p.skip(int(p.dec.InputOffset()))
	if _, err := p.dec.Token(); err != io.EOF {
		l, c := p.li.pos(off)
		return nil, &posError{l, c, "unexpected data after the end of the JSON document"}
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

func (p *jsonParser) errAt(off int, err error) *posError {
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
		msg = "unexpected end of the JSON document"
	}
	l, c := p.li.pos(off)
	return &posError{l, c, "invalid JSON: " + msg}
}

func (p *jsonParser) token() (json.Token, int, *posError) {
	start := p.skip(int(p.dec.InputOffset()))
	tok, err := p.dec.Token()
	if err != nil {
		return nil, start, p.errAt(start, err)
	}
	return tok, start, nil
}

func (p *jsonParser) node(kind yaml.Kind, tag, value string, off int) *yaml.Node {
	l, c := p.li.pos(off)
	return &yaml.Node{Kind: kind, Tag: tag, Value: value, Line: l, Column: c, Style: yaml.DoubleQuotedStyle}
}

func (p *jsonParser) value(depth int) (*yaml.Node, *posError) {
	tok, off, perr := p.token()
	if perr != nil {
		return nil, perr
	}
	return p.valueFrom(tok, off, depth)
}

func (p *jsonParser) valueFrom(tok json.Token, off, depth int) (*yaml.Node, *posError) {
	switch t := tok.(type) {
	case json.Delim:
		if t != '{' && t != '[' {
			l, c := p.li.pos(off)
			return nil, &posError{l, c, fmt.Sprintf("invalid JSON: unexpected %q", string(t))}
		}
		if depth > MaxDepth {
			l, c := p.li.pos(off)
			return nil, &posError{l, c, fmt.Sprintf("document nests deeper than %d levels", MaxDepth)}
		}
		if t == '{' {
			n := p.node(yaml.MappingNode, "!!map", "", off)
			for {
				tok, koff, perr := p.token()
				if perr != nil {
					return nil, perr
				}
				if d, ok := tok.(json.Delim); ok && d == '}' {
					return n, nil
				}
				key, _ := tok.(string)
				k := p.node(yaml.ScalarNode, "!!str", key, koff)
				v, perr := p.value(depth + 1)
				if perr != nil {
					return nil, perr
				}
				n.Content = append(n.Content, k, v)
			}
		}
		n := p.node(yaml.SequenceNode, "!!seq", "", off)
		for {
			tok, eoff, perr := p.token()
			if perr != nil {
				return nil, perr
			}
			if d, ok := tok.(json.Delim); ok && d == ']' {
				return n, nil
			}
			v, perr := p.valueFrom(tok, eoff, depth+1)
			if perr != nil {
				return nil, perr
			}
			n.Content = append(n.Content, v)
		}
	case string:
		return p.node(yaml.ScalarNode, "!!str", t, off), nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		n := p.node(yaml.ScalarNode, tag, string(t), off)
		n.Style = 0
		return n, nil
	case bool:
		n := p.node(yaml.ScalarNode, "!!bool", strconv.FormatBool(t), off)
		n.Style = 0
		return n, nil
	case nil:
		n := p.node(yaml.ScalarNode, "!!null", "null", off)
		n.Style = 0
		return n, nil
	}
	l, c := p.li.pos(off)
	return nil, &posError{l, c, "invalid JSON"}
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func parseYAML(data []byte) (*yaml.Node, *posError) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &posError{1, 1, "the document is empty"}
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &posError{extra.Line, extra.Column, "a policy file holds one YAML document; found another"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &posError{1, 1, "the document is empty"}
	}
	root := doc.Content[0]
	nodes := 0
	if perr := checkYAML(root, 1, &nodes); perr != nil {
		return nil, perr
	}
	return root, nil
}

func yamlError(err error) *posError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			line = n
		}
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, m[0]), ": ")
	}
	return &posError{line, 1, "invalid YAML: " + msg}
}

// checkYAML enforces MaxDepth and the node budget, following aliases.
func checkYAML(n *yaml.Node, depth int, nodes *int) *posError {
	*nodes++
	if *nodes > maxNodes {
		return &posError{n.Line, n.Column, fmt.Sprintf("document has more than %d values once aliases are expanded", maxNodes)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return &posError{n.Line, n.Column, "unknown alias"}
		}
		return checkYAML(n.Alias, depth, nodes)
	case yaml.MappingNode, yaml.SequenceNode:
		if depth > MaxDepth {
			return &posError{n.Line, n.Column, fmt.Sprintf("document nests deeper than %d levels", MaxDepth)}
		}
		for _, c := range n.Content {
			if perr := checkYAML(c, depth+1, nodes); perr != nil {
				return perr
			}
		}
	}
	return nil
}

// resolve follows YAML aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < MaxDepth; i++ {
		n = n.Alias
	}
	return n
}
