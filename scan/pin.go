package scan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/toolgate/toolgate/internal/canonjson"
)

// pinned is the part of a tool a pin covers, in canonical form.
type pinned struct {
	Name         string `json:"name"`
	Title        string `json:"title,omitempty"`
	Description  string `json:"description,omitempty"`
	InputSchema  any    `json:"inputSchema,omitempty"`
	OutputSchema any    `json:"outputSchema,omitempty"`
	Annotations  any    `json:"annotations,omitempty"`
}

// canonicalRaw decodes raw JSON so that it re-encodes canonically (sorted
// keys, no insignificant space, numbers as written). Raw bytes that are not
// JSON are kept as a string, so they still count in the hash.
func canonicalRaw(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return "invalid JSON: " + string(raw)
	}
	return v
}

// Canonical returns the tool's definition as canonical JSON: the fields
// name, title, description, inputSchema, outputSchema and annotations,
// object keys sorted, no insignificant space, numbers as written. It is
// what Pin hashes.
func Canonical(t Tool) []byte {
	var tr jsonTree
	b := make([]byte, 0, 256+len(t.Description)+len(t.InputSchema)+len(t.OutputSchema)+len(t.Annotations))
	b = appendCanonicalHeader(b, &t)
	for _, f := range [...]struct {
		name string
		raw  []byte
	}{{"inputSchema", t.InputSchema}, {"outputSchema", t.OutputSchema}, {"annotations", t.Annotations}} {
		if len(f.raw) == 0 {
			continue
		}
		if v, err := tr.parse(f.raw); err == nil {
			b = appendCanonicalField(b, f.name, &tr, v, nil)
		} else {
			b = appendCanonicalField(b, f.name, nil, -1, f.raw)
		}
	}
	return append(b, '}')
}

// pin is Pin of the canonical form texts wrote, made in one allocation.
func (c *classifier) pin() string {
	sum := sha256.Sum256(c.canon)
	var b [len("sha256:") + 2*sha256.Size]byte
	copy(b[:], "sha256:")
	hex.Encode(b[len("sha256:"):], sum[:])
	return string(b[:])
}

// appendCanonicalField appends a schema or the annotations to a canonical
// form: the field named name, node v of t — nothing when it is null — or,
// when the field is not JSON (t nil), its raw bytes as a string, as
// canonicalRaw keeps them.
func appendCanonicalField(dst []byte, name string, t *jsonTree, v int32, raw []byte) []byte {
	if t != nil && t.kindOf(v) == treeNull {
		return dst
	}
	dst = append(dst, `,"`...)
	dst = append(dst, name...)
	dst = append(dst, `":`...)
	if t == nil {
		return canonjson.AppendGoString(dst, "invalid JSON: "+string(raw))
	}
	return t.appendCanon(dst, v)
}

// appendCanonicalHeader appends the canonical form's name, title and
// description: all but the closing brace when the tool has no schema and
// no annotations.
func appendCanonicalHeader(b []byte, t *Tool) []byte {
	b = append(b, `{"name":`...)
	b = canonjson.AppendGoString(b, t.Name)
	if t.Title != "" {
		b = append(b, `,"title":`...)
		b = canonjson.AppendGoString(b, t.Title)
	}
	if t.Description != "" {
		b = append(b, `,"description":`...)
		b = canonjson.AppendGoString(b, t.Description)
	}
	return b
}

// Pin returns "sha256:" and the hex SHA-256 of the tool's canonical
// definition (see Canonical). Two definitions that differ only in key order
// or white space have the same pin; any other change gives another.
func Pin(t Tool) string {
	sum := sha256.Sum256(Canonical(t))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Change is one difference between two definitions of a tool.
type Change struct {
	// Path is where: "description", "title", "annotations/readOnlyHint",
	// "inputSchema/properties/to" (a JSON Pointer below the field).
	Path string `json:"path"`
	// Kind is "added", "removed" or "changed".
	Kind string `json:"kind"`
	// Old and New are the values, as short JSON ("" when absent).
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
}

func (c Change) String() string {
	switch c.Kind {
	case "added":
		return fmt.Sprintf("%s added: %s", c.Path, c.New)
	case "removed":
		return fmt.Sprintf("%s removed (was %s)", c.Path, c.Old)
	}
	return fmt.Sprintf("%s changed: %s → %s", c.Path, c.Old, c.New)
}

const maxChanges = 50

// Diff says what changed from old to new, field by field and, inside the
// schemas and annotations, key by key: at most 50 changes, in a stable
// order. Equal definitions give nil.
func Diff(old, new Tool) []Change {
	var d differ
	d.value("name", old.Name, new.Name, 0)
	d.value("title", nilIfEmpty(old.Title), nilIfEmpty(new.Title), 0)
	d.value("description", nilIfEmpty(old.Description), nilIfEmpty(new.Description), 0)
	d.value("inputSchema", canonicalRaw(old.InputSchema), canonicalRaw(new.InputSchema), 0)
	d.value("outputSchema", canonicalRaw(old.OutputSchema), canonicalRaw(new.OutputSchema), 0)
	d.value("annotations", canonicalRaw(old.Annotations), canonicalRaw(new.Annotations), 0)
	if d.more > 0 {
		d.out = append(d.out, Change{Path: "…", Kind: "changed", New: fmt.Sprintf("%d more changes", d.more)})
	}
	return d.out
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

type differ struct {
	out  []Change
	more int
}

func (d *differ) emit(c Change) {
	if len(d.out) >= maxChanges {
		d.more++
		return
	}
	d.out = append(d.out, c)
}

func (d *differ) value(path string, a, b any, depth int) {
	switch {
	case a == nil && b == nil:
		return
	case a == nil:
		d.emit(Change{Path: path, Kind: "added", New: short(b)})
		return
	case b == nil:
		d.emit(Change{Path: path, Kind: "removed", Old: short(a)})
		return
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok && depth < maxDepth {
		keys := make([]string, 0, len(am)+len(bm))
		for k := range am {
			keys = append(keys, k)
		}
		for k := range bm {
			if _, ok := am[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			d.value(path+"/"+escapePointer(k), am[k], bm[k], depth+1)
		}
		return
	}
	if string(canonical(a)) != string(canonical(b)) {
		d.emit(Change{Path: path, Kind: "changed", Old: short(a), New: short(b)})
	}
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// short encodes v as JSON of at most 120 bytes.
func short(v any) string {
	b := canonical(v)
	s := string(b)
	if len(s) > 120 {
		s = clip(s, 117) + "…"
	}
	return quoteVisible(s)
}

// quoteVisible escapes characters that would be invisible on a terminal.
func quoteVisible(s string) string {
	var b strings.Builder
	for _, r := range s {
		if hidden(r) != "" {
			fmt.Fprintf(&b, `\u%04X`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// PinsVersion is the version of the pins file format.
const PinsVersion = 1

// Pins records tool definitions by server and tool name, as `toolgate scan
// --pin` writes them and the gateway checks them. Keep the full definition
// so that a changed tool can be shown with what changed.
type Pins struct {
	Version int                              `json:"version"`
	Servers map[string]map[string]PinnedTool `json:"servers"`
}

// PinnedTool is one pinned definition.
type PinnedTool struct {
	Pin  string `json:"pin"`
	Tool Tool   `json:"tool"`
}

// NewPins returns an empty set of pins.
func NewPins() *Pins {
	return &Pins{Version: PinsVersion, Servers: map[string]map[string]PinnedTool{}}
}

// Add pins the tools of a server, replacing earlier pins of the same names.
func (p *Pins) Add(server string, tools ...Tool) {
	if p.Servers == nil {
		p.Servers = map[string]map[string]PinnedTool{}
	}
	m := p.Servers[server]
	if m == nil {
		m = map[string]PinnedTool{}
		p.Servers[server] = m
	}
	for _, t := range tools {
		m[t.Name] = PinnedTool{Pin: Pin(t), Tool: t}
	}
}

// Lookup returns the pin of one tool.
func (p *Pins) Lookup(server, tool string) (PinnedTool, bool) {
	if p == nil {
		return PinnedTool{}, false
	}
	pt, ok := p.Servers[server][tool]
	return pt, ok
}

// PinStatus is the outcome of checking one tool against its pin.
type PinStatus string

// The statuses Check reports.
const (
	PinUnchanged PinStatus = "unchanged"
	PinChanged   PinStatus = "changed"
	PinNew       PinStatus = "new"     // no pin for this tool
	PinMissing   PinStatus = "missing" // pinned, but the server no longer lists it
)

// PinCheck is the result of checking one tool.
type PinCheck struct {
	Server  string    `json:"server"`
	Tool    string    `json:"tool"`
	Status  PinStatus `json:"status"`
	Pinned  string    `json:"pinned,omitempty"`
	Current string    `json:"current,omitempty"`
	Changes []Change  `json:"changes,omitempty"`
}

// Verify checks one tool against its pin: unchanged, changed (with what
// changed) or new. It is cheap when the tool is unchanged (one hash).
func (p *Pins) Verify(server string, t Tool) PinCheck {
	cur := Pin(t)
	pc := PinCheck{Server: server, Tool: t.Name, Current: cur}
	old, ok := p.Lookup(server, t.Name)
	switch {
	case !ok:
		pc.Status = PinNew
	case old.Pin == cur:
		pc.Status, pc.Pinned = PinUnchanged, old.Pin
	default:
		pc.Status, pc.Pinned = PinChanged, old.Pin
		pc.Changes = Diff(old.Tool, t)
		if len(pc.Changes) == 0 { // the stored definition was edited by hand
			pc.Changes = []Change{{Path: "", Kind: "changed", Old: old.Pin, New: cur}}
		}
	}
	return pc
}

// Check checks every tool a server lists against the pins, in list order,
// then reports pinned tools the server no longer lists (sorted by name).
func (p *Pins) Check(server string, tools []Tool) []PinCheck {
	out := make([]PinCheck, 0, len(tools))
	seen := map[string]bool{}
	for _, t := range tools {
		seen[t.Name] = true
		out = append(out, p.Verify(server, t))
	}
	var gone []string
	if p != nil {
		for name := range p.Servers[server] {
			if !seen[name] {
				gone = append(gone, name)
			}
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		out = append(out, PinCheck{Server: server, Tool: name, Status: PinMissing, Pinned: p.Servers[server][name].Pin})
	}
	return out
}

// MarshalPins encodes pins as indented JSON with sorted keys.
func MarshalPins(p *Pins) ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("scan: encode pins: %w", err)
	}
	return append(b, '\n'), nil
}

// ParsePins decodes a pins file.
func ParsePins(data []byte) (*Pins, error) {
	p := NewPins()
	if err := json.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("scan: pins: %w", err)
	}
	if p.Version != PinsVersion {
		return nil, fmt.Errorf("scan: pins: unsupported version %d (want %d)", p.Version, PinsVersion)
	}
	if p.Servers == nil {
		p.Servers = map[string]map[string]PinnedTool{}
	}
	return p, nil
}

// LoadPins reads a pins file written by SavePins.
func LoadPins(path string) (*Pins, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	p, err := ParsePins(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// SavePins writes pins to path atomically (a temporary file renamed).
func SavePins(path string, p *Pins) error {
	data, err := MarshalPins(p)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pins-*.json")
	if err != nil {
		return fmt.Errorf("scan: save pins: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("scan: save pins: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("scan: save pins: %w", err)
	}
	return nil
}
