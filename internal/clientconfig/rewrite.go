package clientconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Change gives one entry of a file a new command and arguments.
type Change struct {
	// Entry is one of the file's Entries.
	Entry   *Entry
	Command string
	Args    []string
}

// Rewrite returns the file's bytes with each change applied. Only the
// changed entries' objects are rewritten, and in them only "command" and
// "args" ("args" is added after "command" when missing); every other byte
// of the file stays as it was. A multi-line entry is indented as the file
// indents it; a one-line entry stays on one line.
func (f *File) Rewrite(changes []Change) ([]byte, error) {
	cs := append([]Change(nil), changes...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].Entry.start > cs[j].Entry.start })
	out := append([]byte(nil), f.Data...)
	last := len(out) + 1
	for _, c := range cs {
		e := c.Entry
		if e == nil || e.end > len(f.Data) || e.start >= e.end {
			return nil, errors.New("clientconfig: change of an entry not in the file")
		}
		if e.end > last {
			return nil, fmt.Errorf("clientconfig: %s: two changes of one entry", e.Pointer)
		}
		repl, err := f.rewriteEntry(e, c.Command, c.Args)
		if err != nil {
			return nil, err
		}
		out = append(out[:e.start:e.start], append(repl, out[e.end:]...)...)
		last = e.start
	}
	if !json.Valid(out) {
		return nil, fmt.Errorf("clientconfig: %s: the rewritten file is not valid JSON", f.Path)
	}
	return out, nil
}

// rewriteEntry returns the entry's object with a new command and args.
func (f *File) rewriteEntry(e *Entry, command string, args []string) ([]byte, error) {
	fields, err := members(f.Data, e.start, e.end)
	if err != nil {
		return nil, &Error{Path: f.Path, Pointer: e.Pointer, Err: errors.New("want an object")}
	}
	if args == nil {
		args = []string{}
	}
	cmdJSON, err := marshal(command)
	if err != nil {
		return nil, err
	}
	argsJSON, err := marshal(args)
	if err != nil {
		return nil, err
	}
	hasArgs := find(fields, "args") != nil
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	put := func(key string, val []byte) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		k, _ := marshal(key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	for _, m := range fields {
		switch m.key {
		case "command":
			put(m.key, cmdJSON)
			if !hasArgs {
				put("args", argsJSON)
				hasArgs = true
			}
		case "args":
			put(m.key, argsJSON)
		default:
			put(m.key, f.Data[m.start:m.end])
		}
	}
	if find(fields, "command") == nil {
		put("command", cmdJSON)
		if !hasArgs {
			put("args", argsJSON)
		}
	}
	b.WriteByte('}')
	var out bytes.Buffer
	orig := f.Data[e.start:e.end]
	if !bytes.Contains(orig, []byte("\n")) {
		if err := json.Compact(&out, b.Bytes()); err != nil {
			return nil, err
		}
		return oneLine(out.Bytes()), nil
	}
	prefix := lineIndent(f.Data, e.start)
	if err := json.Indent(&out, b.Bytes(), prefix, indentUnit(orig, prefix)); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// marshal encodes v as JSON without escaping <, > and &.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// lineIndent is the leading white space of the line holding data[at].
func lineIndent(data []byte, at int) string {
	start := bytes.LastIndexByte(data[:at], '\n') + 1
	end := start
	for end < at && (data[end] == ' ' || data[end] == '\t') {
		end++
	}
	return string(data[start:end])
}

// indentUnit is what the object obj indents its members by, beyond
// prefix: its first member's line's indent less prefix; two spaces when
// that cannot be told.
func indentUnit(obj []byte, prefix string) string {
	for _, line := range strings.Split(string(obj), "\n")[1:] {
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" {
			continue
		}
		ind := line[:len(line)-len(trimmed)]
		if strings.HasPrefix(ind, prefix) && len(ind) > len(prefix) {
			return ind[len(prefix):]
		}
		break
	}
	return "  "
}

// oneLine spaces compact JSON as people write it on one line: a space
// after each ':' and ',' outside strings.
func oneLine(compact []byte) []byte {
	out := make([]byte, 0, len(compact)+len(compact)/8)
	inString, escaped := false, false
	for _, c := range compact {
		out = append(out, c)
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ':' || c == ','):
			out = append(out, ' ')
		}
	}
	return out
}
