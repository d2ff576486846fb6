package clientconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Kind says how a client starts a server.
type Kind string

const (
	// Stdio entries name a command the client starts.
	Stdio Kind = "stdio"
	// Remote entries name a URL the client connects to.
	Remote Kind = "remote"
	// Disabled entries are turned off in the client ("disabled": true).
	Disabled Kind = "disabled"
	// Unknown entries have neither a command nor a URL.
	Unknown Kind = "unknown"
)

// File is one client configuration file as read.
type File struct {
	Location
	// Data is the file's bytes as read.
	Data []byte
	// Mode is the file's permission bits.
	Mode    fs.FileMode
	Entries []Entry
}

// Entry is one server of a client file.
type Entry struct {
	// Project is the project path of a Claude Code local-scope server in
	// ~/.claude.json, empty elsewhere.
	Project string
	Name    string
	Kind    Kind
	// Pointer is the entry's JSON Pointer in the file, for messages.
	Pointer string
	Command string
	Args    []string
	Env     map[string]string
	Cwd     string
	URL     string

	start, end int // the entry's object in File.Data
}

// Argv is the entry's command and its arguments.
func (e *Entry) Argv() []string {
	return append([]string{e.Command}, e.Args...)
}

// Error is a file that is not what its client expects: not JSON, or a
// value of the wrong type. It names the file and, when known, the JSON
// Pointer of the value.
type Error struct {
	Path    string
	Pointer string
	Err     error
}

func (e *Error) Error() string {
	if e.Pointer != "" {
		return fmt.Sprintf("%s: %s: %v", e.Path, e.Pointer, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Read reads and parses the file at loc. A missing file is an error
// wrapping fs.ErrNotExist.
func Read(loc Location) (*File, error) {
	data, err := os.ReadFile(loc.Path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(loc.Path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(loc, data)
	if err != nil {
		return nil, err
	}
	f.Mode = st.Mode().Perm()
	return f, nil
}

// Parse parses a client file's bytes. A file with no servers has no
// entries; anything that is not strict JSON, or a server list or entry of
// the wrong type, is an *Error.
func Parse(loc Location, data []byte) (*File, error) {
	f := &File{Location: loc, Data: data, Mode: 0o600}
	if len(bytes.TrimSpace(data)) == 0 {
		return f, nil // an empty file: a client would start with {}
	}
	if err := syntax(data); err != nil {
		return nil, &Error{Path: loc.Path, Err: err}
	}
	top, err := members(data, 0, len(data))
	if err != nil {
		return nil, &Error{Path: loc.Path, Err: fmt.Errorf("not a JSON object: %w", err)}
	}
	add := func(project, ptr string, m *member) error {
		entries, err := f.entries(project, ptr, m)
		f.Entries = append(f.Entries, entries...)
		return err
	}
	switch loc.Layout {
	case MCPServers, ClaudeCodeUser:
		if m := find(top, "mcpServers"); m != nil {
			if err := add("", "/mcpServers", m); err != nil {
				return nil, err
			}
		}
		if loc.Layout == ClaudeCodeUser {
			if err := f.claudeProjects(top); err != nil {
				return nil, err
			}
		}
	case VSCodeServers:
		if m := find(top, "servers"); m != nil {
			if err := add("", "/servers", m); err != nil {
				return nil, err
			}
		}
	case VSCodeSettings:
		if m := find(top, "mcp"); m != nil {
			mcp, err := f.object("/mcp", m)
			if err != nil {
				return nil, err
			}
			if s := find(mcp, "servers"); s != nil {
				if err := add("", "/mcp/servers", s); err != nil {
					return nil, err
				}
			}
		}
	}
	return f, nil
}

// claudeProjects reads the local-scope servers of ~/.claude.json.
func (f *File) claudeProjects(top []member) error {
	pm := find(top, "projects")
	if pm == nil {
		return nil
	}
	projects, err := f.object("/projects", pm)
	if err != nil {
		return err
	}
	for i := range projects {
		p := &projects[i]
		ptr := "/projects/" + pointerToken(p.key)
		if bytes.Equal(bytes.TrimSpace(f.Data[p.start:p.end]), []byte("null")) {
			continue
		}
		fields, err := f.object(ptr, p)
		if err != nil {
			return err
		}
		if m := find(fields, "mcpServers"); m != nil {
			entries, err := f.entries(p.key, ptr+"/mcpServers", m)
			f.Entries = append(f.Entries, entries...)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// entries reads a server list: an object of name → entry.
func (f *File) entries(project, ptr string, m *member) ([]Entry, error) {
	if isNull(f.Data[m.start:m.end]) {
		return nil, nil
	}
	list, err := f.object(ptr, m)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for i := range list {
		e, err := f.entry(project, ptr+"/"+pointerToken(list[i].key), &list[i])
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

// entry reads one server entry, checking the types of the keys it uses.
func (f *File) entry(project, ptr string, m *member) (Entry, error) {
	e := Entry{Project: project, Name: m.key, Pointer: ptr, start: m.start, end: m.end}
	fields, err := f.object(ptr, m)
	if err != nil {
		return e, err
	}
	str := func(key string, dst *string) error {
		if v := find(fields, key); v != nil {
			if err := json.Unmarshal(f.Data[v.start:v.end], dst); err != nil {
				return &Error{Path: f.Path, Pointer: ptr + "/" + key, Err: errors.New("want a string")}
			}
		}
		return nil
	}
	for _, k := range []struct {
		key string
		dst *string
	}{{"command", &e.Command}, {"cwd", &e.Cwd}, {"url", &e.URL}} {
		if err := str(k.key, k.dst); err != nil {
			return e, err
		}
	}
	for _, key := range []string{"serverUrl", "httpUrl"} { // Windsurf, Gemini CLI
		if e.URL == "" {
			if err := str(key, &e.URL); err != nil {
				return e, err
			}
		}
	}
	if v := find(fields, "args"); v != nil && !isNull(f.Data[v.start:v.end]) {
		if err := json.Unmarshal(f.Data[v.start:v.end], &e.Args); err != nil {
			return e, &Error{Path: f.Path, Pointer: ptr + "/args", Err: errors.New("want an array of strings")}
		}
	}
	if v := find(fields, "env"); v != nil && !isNull(f.Data[v.start:v.end]) {
		if err := json.Unmarshal(f.Data[v.start:v.end], &e.Env); err != nil {
			return e, &Error{Path: f.Path, Pointer: ptr + "/env", Err: errors.New("want an object of strings")}
		}
	}
	disabled := false
	if v := find(fields, "disabled"); v != nil {
		if err := json.Unmarshal(f.Data[v.start:v.end], &disabled); err != nil {
			return e, &Error{Path: f.Path, Pointer: ptr + "/disabled", Err: errors.New("want true or false")}
		}
	}
	switch {
	case disabled:
		e.Kind = Disabled
	case e.Command != "":
		e.Kind = Stdio
	case e.URL != "":
		e.Kind = Remote
	default:
		e.Kind = Unknown
	}
	return e, nil
}

// object reads the members of m's value, which must be an object.
func (f *File) object(ptr string, m *member) ([]member, error) {
	list, err := members(f.Data, m.start, m.end)
	if err != nil {
		return nil, &Error{Path: f.Path, Pointer: ptr, Err: errors.New("want an object")}
	}
	return list, nil
}

// member is one key of a JSON object and where its value is.
type member struct {
	key        string
	start, end int // the value's bytes
}

// members reads the object in data[start:end] and returns its members with
// their values' offsets in data. It fails on anything but one object.
func members(data []byte, start, end int) ([]member, error) {
	src := data[start:end]
	dec := json.NewDecoder(bytes.NewReader(src))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		e := int(dec.InputOffset())
		s := e - len(raw)
		if s < 0 || !bytes.Equal(src[s:e], raw) {
			return nil, fmt.Errorf("cannot locate the value of %q", key)
		}
		out = append(out, member{key: key, start: start + s, end: start + e})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("data after the object")
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	return out, nil
}

// find returns the last member named key (the one JSON decoders keep), or
// nil.
func find(list []member, key string) *member {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].key == key {
			return &list[i]
		}
	}
	return nil
}

func isNull(b []byte) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("null")) }

// pointerToken escapes a key for a JSON Pointer.
func pointerToken(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// syntax reports where data is not valid JSON, by line and column.
func syntax(data []byte) error {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return nil
	}
	off := min(max(int(se.Offset)-1, 0), len(data)) // the offending byte
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("line %d, column %d: not valid JSON: %v", line, col, se)
}
