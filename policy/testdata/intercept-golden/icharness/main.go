//go:build icgolden

// Command icharness records Intercept's decisions on generated call
// sequences, as golden files for toolgate's policy/intercept_golden_test.go.
// It needs an intercept binary, so it is built only with -tags icgolden
// and, under testdata, never by ./... (see ../README.md).
//
//	icharness upstream TOOLS_FILE          a minimal stdio MCP server
//	icharness record -intercept BIN -commit SHA -manifest M.json -out DIR [-only NAME]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "upstream" {
		upstream(os.Args[2])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "record" {
		record(os.Args[2:])
		return
	}
	fmt.Fprintln(os.Stderr, "usage: icharness upstream TOOLS | record ...")
	os.Exit(2)
}

// ---- upstream: a minimal newline-delimited JSON-RPC MCP server ----

func upstream(toolsFile string) {
	data, err := os.ReadFile(toolsFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var tools []map[string]any
	for _, n := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if n == "" {
			continue
		}
		tools = append(tools, map[string]any{"name": n, "description": "test tool",
			"inputSchema": map[string]any{"type": "object", "additionalProperties": true}})
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if json.Unmarshal(in.Bytes(), &m) != nil || len(m.ID) == 0 {
			continue
		}
		resp := map[string]any{"jsonrpc": "2.0", "id": m.ID}
		switch m.Method {
		case "initialize":
			var p struct {
				ProtocolVersion string `json:"protocolVersion"`
			}
			json.Unmarshal(m.Params, &p)
			if p.ProtocolVersion == "" {
				p.ProtocolVersion = "2025-06-18"
			}
			resp["result"] = map[string]any{"protocolVersion": p.ProtocolVersion,
				"capabilities": map[string]any{"tools": map[string]any{}},
				"serverInfo":   map[string]any{"name": "icharness-upstream", "version": "0"}}
		case "tools/list":
			resp["result"] = map[string]any{"tools": tools}
		case "tools/call":
			var p struct {
				Name      string         `json:"name"`
				Arguments map[string]any `json:"arguments"`
			}
			json.Unmarshal(m.Params, &p)
			if p.Arguments["__upstream_error"] == true {
				resp["error"] = map[string]any{"code": -32000, "message": "upstream failure"}
			} else {
				resp["result"] = map[string]any{"content": []any{map[string]any{"type": "text", "text": "upstream-ok:" + p.Name}}}
			}
		case "ping":
			resp["result"] = map[string]any{}
		default:
			resp["error"] = map[string]any{"code": -32601, "message": "method not found"}
		}
		out.Encode(resp)
	}
}

// ---- the golden format (mirrored by toolgate's test) ----

type Golden struct {
	Comment         string     `json:"comment"`
	InterceptCommit string     `json:"intercept_commit"`
	Recorded        string     `json:"recorded"`
	Source          string     `json:"source"`
	Policy          string     `json:"policy"`
	Variant         string     `json:"variant,omitempty"`
	Loads           bool       `json:"loads"`
	LoadError       string     `json:"load_error,omitempty"`
	Sequences       []Sequence `json:"sequences,omitempty"`
}

type Sequence struct {
	Name    string   `json:"name"`
	Offered []string `json:"offered"`
	Listed  []string `json:"listed"`
	Calls   []Call   `json:"calls"`
}

type Call struct {
	Tool          string         `json:"tool"`
	Args          map[string]any `json:"args"`
	Note          string         `json:"note,omitempty"`
	UpstreamError bool           `json:"upstream_error,omitempty"`
	Allowed       bool           `json:"allowed"`
	Denial        string         `json:"denial,omitempty"`
}

type Entry struct {
	Name    string `json:"name"`    // golden file name, without .json
	Source  string `json:"source"`  // where the policy came from
	Policy  string `json:"policy"`  // the policy file, relative to the manifest
	Variant string `json:"variant"` // a transformation applied before use
}

// ApplyVariant is the transformation toolgate's test applies too.
func ApplyVariant(text, variant string) (string, error) {
	switch variant {
	case "":
		return text, nil
	case "default-deny":
		// The scaffolds' comment: Set to "deny" to reject tool calls not listed.
		if !strings.Contains(text, "\ndefault: \"allow\"\n") {
			return "", fmt.Errorf("no default: \"allow\" line")
		}
		return strings.Replace(text, "\ndefault: \"allow\"\n", "\ndefault: \"deny\"\n", 1), nil
	case "uncomment-global", "uncomment-global-reindented":
		// The scaffolds' comment: Uncomment to apply a global rate limit.
		lines := strings.Split(text, "\n")
		found := false
		for i, l := range lines {
			if !strings.HasPrefix(l, "  # Uncomment to apply a global rate limit") {
				continue
			}
			for j := i + 1; j < len(lines) && j <= i+4; j++ {
				if !strings.HasPrefix(lines[j], "  # ") {
					break
				}
				rest := strings.TrimPrefix(lines[j], "  # ")
				if variant == "uncomment-global" {
					lines[j] = "  " + rest
				} else {
					lines[j] = "    " + rest
				}
				found = true
			}
		}
		if !found {
			return "", fmt.Errorf("no commented global rate limit")
		}
		return strings.Join(lines, "\n"), nil
	}
	return "", fmt.Errorf("unknown variant %q", variant)
}

// ---- the policy, as the generator reads it ----

type polDoc struct {
	Default string             `yaml:"default"`
	Hide    []string           `yaml:"hide"`
	Tools   map[string]polTool `yaml:"tools"`
}
type polTool struct {
	Rules []polRule `yaml:"rules"`
}
type polRule struct {
	Name       string    `yaml:"name"`
	Action     string    `yaml:"action"`
	RateLimit  string    `yaml:"rate_limit"`
	Conditions []polCond `yaml:"conditions"`
	State      *polState `yaml:"state"`
}
type polCond struct {
	Path  string `yaml:"path"`
	Op    string `yaml:"op"`
	Value any    `yaml:"value"`
}
type polState struct {
	Counter       string `yaml:"counter"`
	Window        string `yaml:"window"`
	Increment     int    `yaml:"increment"`
	IncrementFrom string `yaml:"increment_from"`
}

const unlisted = "unlisted_tool"

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func regexSample(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		return string(re.Rune)
	case syntax.OpCharClass:
		if len(re.Rune) > 0 {
			return string(re.Rune[0])
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return "a"
	case syntax.OpCapture, syntax.OpPlus:
		return regexSample(re.Sub[0])
	case syntax.OpRepeat:
		return strings.Repeat(regexSample(re.Sub[0]), re.Min)
	case syntax.OpConcat:
		var b strings.Builder
		for _, s := range re.Sub {
			b.WriteString(regexSample(s))
		}
		return b.String()
	case syntax.OpAlternate:
		return regexSample(re.Sub[0])
	}
	return ""
}

// values returns, for a condition, a value that makes it true, one that
// makes it false, and one of the other type (string for number, number
// for string), each possibly nil when there is none.
func values(c polCond) (sat, fail, mismatch any) {
	switch c.Op {
	case "eq", "neq":
		var other any
		switch v := c.Value.(type) {
		case string:
			other, mismatch = v+"-other", 7
		case bool:
			other, mismatch = !v, strconv.FormatBool(v)
		default:
			if f, ok := num(v); ok {
				other, mismatch = f+1, fmt.Sprint(c.Value)
			} else {
				other = "other"
			}
		}
		if c.Op == "eq" {
			return c.Value, other, mismatch
		}
		return other, c.Value, mismatch
	case "in", "not_in":
		list, _ := c.Value.([]any)
		var first any = "x"
		if len(list) > 0 {
			first = list[0]
		}
		if f, ok := num(first); ok {
			mismatch = fmt.Sprint(f)
		} else {
			mismatch = 7
		}
		if c.Op == "in" {
			return first, "zz-not-listed", mismatch
		}
		return "zz-not-listed", first, mismatch
	case "lt", "lte", "gt", "gte":
		f, _ := num(c.Value)
		switch c.Op {
		case "lt":
			sat, fail = f-1, f
		case "lte":
			sat, fail = f, f+1
		case "gt":
			sat, fail = f+1, f
		case "gte":
			sat, fail = f, f-1
		}
		return sat, fail, fmt.Sprint(sat)
	case "regex":
		s, _ := c.Value.(string)
		re, err := regexp.Compile(s)
		if err != nil {
			return "x", "y", 7
		}
		if p, err := syntax.Parse(s, syntax.Perl); err == nil {
			if v := regexSample(p.Simplify()); re.MatchString(v) {
				sat = v
			}
		}
		for _, cand := range []string{"", "ZZZ!", "0", "\n"} {
			if !re.MatchString(cand) {
				fail = cand
				break
			}
		}
		return sat, fail, 7
	case "contains":
		if s, ok := c.Value.(string); ok {
			return "a" + s + "b", "zz", []any{s}
		}
		return []any{c.Value}, []any{"zz"}, c.Value
	case "exists":
		if c.Value == true {
			return "present", nil, nil
		}
		return nil, "present", nil
	}
	return nil, nil, nil
}

func setPath(args map[string]any, path string, v any, remove bool) {
	segs := strings.Split(strings.TrimPrefix(path, "args."), ".")
	m := args
	for _, s := range segs[:len(segs)-1] {
		next, ok := m[s].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[s] = next
		}
		m = next
	}
	if remove {
		delete(m, segs[len(segs)-1])
	} else {
		m[segs[len(segs)-1]] = v
	}
}

func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

func rulesOf(d *polDoc, tool string) []polRule {
	var rs []polRule
	if t, ok := d.Tools[tool]; ok {
		rs = append(rs, t.Rules...)
	}
	if tool != "*" {
		rs = append(rs, d.Tools["*"].Rules...)
	}
	return rs
}

// base returns arguments satisfying every args condition of the tool's
// rules and the "*" rules (the first condition on a path decides).
func base(d *polDoc, tool string) map[string]any {
	args := map[string]any{}
	seen := map[string]bool{}
	for _, r := range rulesOf(d, tool) {
		for _, c := range r.Conditions {
			if !strings.HasPrefix(c.Path, "args.") || seen[c.Path] {
				continue
			}
			seen[c.Path] = true
			sat, _, _ := values(c)
			if c.Op == "exists" && c.Value != true {
				continue
			}
			if sat != nil {
				setPath(args, c.Path, sat, false)
			}
		}
		if r.State != nil && strings.HasPrefix(r.State.IncrementFrom, "args.") && !seen[r.State.IncrementFrom] {
			seen[r.State.IncrementFrom] = true
			setPath(args, r.State.IncrementFrom, 1, false)
		}
	}
	return args
}

func limitOf(r polRule, scope string) (float64, bool) {
	if r.RateLimit != "" {
		n, _ := strconv.Atoi(strings.SplitN(r.RateLimit, "/", 2)[0])
		return float64(n), true
	}
	if r.State == nil {
		return 0, false
	}
	for _, c := range r.Conditions {
		if c.Path != "state."+scope+"."+r.State.Counter {
			continue
		}
		f, ok := num(c.Value)
		if !ok {
			continue
		}
		if c.Op == "lt" {
			return math.Trunc(f) - 1, true
		}
		if c.Op == "lte" {
			return math.Trunc(f), true
		}
	}
	return 0, false
}

func generate(d *polDoc) []Sequence {
	var listed []string
	for n := range d.Tools {
		if n != "*" {
			listed = append(listed, n)
		}
	}
	sort.Strings(listed)
	offeredSet := map[string]bool{unlisted: true}
	for _, n := range listed {
		offeredSet[n] = true
	}
	for _, h := range d.Hide {
		if h != "*" {
			offeredSet[h] = true
		}
	}
	var offered []string
	for n := range offeredSet {
		offered = append(offered, n)
	}
	sort.Strings(offered)

	var seqs []Sequence
	s := Sequence{Name: "list, then each offered tool once", Offered: offered}
	for _, n := range offered {
		s.Calls = append(s.Calls, Call{Tool: n, Args: base(d, n)})
	}
	seqs = append(seqs, s)

	tools := append([]string{}, listed...)
	if _, ok := d.Tools["*"]; ok {
		tools = append(tools, "*")
	}
	for _, tn := range tools {
		target := tn
		if tn == "*" {
			target = unlisted
			if d.Default == "deny" && len(listed) > 0 {
				target = listed[0]
			}
		}
		for ri, r := range d.Tools[tn].Rules {
			for ci, c := range r.Conditions {
				if !strings.HasPrefix(c.Path, "args.") {
					continue
				}
				sat, fail, mismatch := values(c)
				b := base(d, target)
				s := Sequence{Name: fmt.Sprintf("%s: rule %d %q, condition %d: %s %s %v", tn, ri, r.Name, ci, c.Path, c.Op, c.Value), Offered: offered}
				add := func(note string, v any, remove bool) {
					a := clone(b)
					setPath(a, c.Path, v, remove)
					s.Calls = append(s.Calls, Call{Tool: target, Args: a, Note: note})
				}
				if sat != nil || (c.Op == "exists" && c.Value != true) {
					add("condition true", sat, sat == nil)
				}
				if fail != nil || c.Op == "exists" {
					add("condition false", fail, fail == nil)
				}
				add("argument missing", nil, true)
				add("argument null", nil, false)
				if mismatch != nil {
					add("other type", mismatch, false)
				}
				seqs = append(seqs, s)
			}
			// conditions on another tool's counter: alternate calls
			// to that tool and this one
			for ci, c := range r.Conditions {
				parts := strings.SplitN(c.Path, ".", 3)
				if len(parts) < 3 || parts[0] != "state" || parts[1] == tn || (tn == "*" && parts[1] == "_global") {
					continue
				}
				other := parts[1]
				if other == "_global" {
					other = unlisted
				}
				s := Sequence{Name: fmt.Sprintf("%s: rule %d %q, condition %d: %s %s %v, with calls to %s", tn, ri, r.Name, ci, c.Path, c.Op, c.Value, other), Offered: offered}
				for i := 0; i < 8; i++ {
					s.Calls = append(s.Calls, Call{Tool: other, Args: base(d, other)}, Call{Tool: target, Args: base(d, target)})
				}
				seqs = append(seqs, s)
			}
			// counters
			scope := tn
			if tn == "*" {
				scope = "_global"
			}
			if r.State == nil && r.RateLimit == "" {
				continue
			}
			lim, has := limitOf(r, scope)
			b := base(d, target)
			amount := 1.0
			if r.State != nil && r.State.Increment > 0 {
				amount = float64(r.State.Increment)
			}
			if r.State != nil && r.State.IncrementFrom != "" {
				v, _ := resolve(b, r.State.IncrementFrom)
				amount, _ = num(v)
			}
			n := 5
			if has && amount > 0 {
				n = int(lim/amount) + 2
			}
			if n > 250 {
				n = 250
			}
			s := Sequence{Name: fmt.Sprintf("%s: rule %d %q: the counter to its limit and past it", tn, ri, r.Name), Offered: offered}
			callTool := func(i int) string {
				if tn == "*" && len(listed) > 0 && i%2 == 1 {
					return listed[(i/2)%len(listed)]
				}
				return target
			}
			fa := clone(b)
			fa["__upstream_error"] = true
			s.Calls = append(s.Calls, Call{Tool: target, Args: fa, Note: "the upstream fails: the counter is given back", UpstreamError: true})
			for i := 0; i < n; i++ {
				t := callTool(i)
				a := b
				if t != target {
					a = base(d, t)
				}
				s.Calls = append(s.Calls, Call{Tool: t, Args: clone(a)})
			}
			seqs = append(seqs, s)
			if r.State != nil && r.State.IncrementFrom != "" {
				s := Sequence{Name: fmt.Sprintf("%s: rule %d %q: increment_from amounts", tn, ri, r.Name), Offered: offered}
				for _, v := range []struct {
					note string
					val  any
					rm   bool
				}{{"amount missing", nil, true}, {"amount a string", "5", false}, {"amount a fraction", 2.5, false},
					{"amount zero", 0, false}, {"amount negative", -5, false}, {"amount null", nil, false}, {"amount 1", 1, false}} {
					a := clone(b)
					setPath(a, r.State.IncrementFrom, v.val, v.rm)
					s.Calls = append(s.Calls, Call{Tool: target, Args: a, Note: v.note})
				}
				seqs = append(seqs, s)
				// Fractions: Intercept counts int64(amount).
				fs := Sequence{Name: fmt.Sprintf("%s: rule %d %q: fractional amounts", tn, ri, r.Name), Offered: offered}
				n := 12
				if has && lim+2 < 60 {
					n = int(lim) + 2
				}
				for i := 0; i < n; i++ {
					a := clone(b)
					setPath(a, r.State.IncrementFrom, 0.5, false)
					fs.Calls = append(fs.Calls, Call{Tool: target, Args: a, Note: "amount 0.5"})
				}
				seqs = append(seqs, fs)
			}
		}
	}
	return seqs
}

func resolve(args map[string]any, path string) (any, bool) {
	var cur any = args
	for _, s := range strings.Split(strings.TrimPrefix(path, "args."), ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[s]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// ---- driving intercept ----

type proc struct {
	cmd   *exec.Cmd
	in    *json.Encoder
	lines chan []byte
	id    int
}

func (p *proc) request(method string, params any) (map[string]any, error) {
	p.id++
	if err := p.in.Encode(map[string]any{"jsonrpc": "2.0", "id": p.id, "method": method, "params": params}); err != nil {
		return nil, err
	}
	deadline := time.After(15 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return nil, fmt.Errorf("intercept closed its output")
			}
			var m map[string]any
			if json.Unmarshal(l, &m) != nil {
				continue
			}
			if id, _ := m["id"].(float64); int(id) == p.id {
				return m, nil
			}
		case <-deadline:
			return nil, fmt.Errorf("no answer to %s", method)
		}
	}
}

func runSequence(bin, self, policy string, s *Sequence) error {
	dir, err := os.MkdirTemp("", "icseq")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tf := filepath.Join(dir, "tools.txt")
	os.WriteFile(tf, []byte(strings.Join(s.Offered, "\n")+"\n"), 0o600)
	// Stay away from a minute boundary: a sequence takes well under 15s.
	text, _ := os.ReadFile(policy)
	for i := 0; i < 30 && strings.Contains(string(text), "minute") && time.Now().UTC().Second() > 40; i++ {
		time.Sleep(time.Second)
	}
	cmd := exec.Command(bin, "-c", policy, "--state-dir", filepath.Join(dir, "state"), "--log-level", "error", "--", self, "upstream", tf)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
	p := &proc{cmd: cmd, in: json.NewEncoder(stdin), lines: make(chan []byte, 64)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			p.lines <- append([]byte{}, sc.Bytes()...)
		}
		close(p.lines)
	}()
	if _, err := p.request("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "icharness", "version": "0"}}); err != nil {
		return err
	}
	p.in.Encode(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
	m, err := p.request("tools/list", map[string]any{})
	if err != nil {
		return err
	}
	s.Listed = []string{}
	if res, ok := m["result"].(map[string]any); ok {
		tl, _ := res["tools"].([]any)
		for _, t := range tl {
			tm, _ := t.(map[string]any)
			n, _ := tm["name"].(string)
			s.Listed = append(s.Listed, n)
		}
	}
	sort.Strings(s.Listed)
	for i := range s.Calls {
		c := &s.Calls[i]
		m, err := p.request("tools/call", map[string]any{"name": c.Tool, "arguments": c.Args})
		if err != nil {
			return err
		}
		c.Allowed, c.Denial = false, ""
		if e, ok := m["error"].(map[string]any); ok {
			// The upstream's error passed through: the call reached it.
			c.Allowed = c.UpstreamError
			if !c.UpstreamError {
				return fmt.Errorf("unexpected error %v", e)
			}
			continue
		}
		res, _ := m["result"].(map[string]any)
		content, _ := res["content"].([]any)
		text := ""
		if len(content) > 0 {
			cm, _ := content[0].(map[string]any)
			text, _ = cm["text"].(string)
		}
		switch {
		case text == "upstream-ok:"+c.Tool:
			c.Allowed = true
		case strings.HasPrefix(text, "[INTERCEPT POLICY DENIED] "):
			c.Denial = strings.TrimPrefix(text, "[INTERCEPT POLICY DENIED] ")
		default:
			return fmt.Errorf("call %d: unexpected answer %v", i, m)
		}
	}
	return nil
}

func record(argv []string) {
	fs := flag.NewFlagSet("record", flag.ExitOnError)
	bin := fs.String("intercept", "intercept", "the intercept binary")
	commit := fs.String("commit", "", "the Intercept commit the binary was built from")
	manifest := fs.String("manifest", "", "the manifest: a JSON list of entries")
	out := fs.String("out", "", "the golden directory")
	only := fs.String("only", "", "record only this entry")
	fs.Parse(argv)
	self, _ := os.Executable()
	data, err := os.ReadFile(*manifest)
	check(err)
	var entries []Entry
	check(json.Unmarshal(data, &entries))
	for _, e := range entries {
		if *only != "" && e.Name != *only {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(filepath.Dir(*manifest), e.Policy))
		check(err)
		text, err := ApplyVariant(string(raw), e.Variant)
		check(err)
		tmp, err := os.CreateTemp("", "icpol*.yaml")
		check(err)
		tmp.WriteString(text)
		tmp.Close()
		g := Golden{
			Comment:         "Intercept's decisions, recorded by icharness (see README.md); toolgate's policy/intercept_golden_test.go replays them",
			InterceptCommit: *commit, Recorded: time.Now().UTC().Format(time.RFC3339),
			Source: e.Source, Policy: e.Policy, Variant: e.Variant,
		}
		v := exec.Command(*bin, "validate", "-c", tmp.Name())
		v.Env = append(os.Environ(), "HOME="+os.TempDir())
		vout, verr := v.CombinedOutput()
		if verr != nil {
			g.LoadError = strings.TrimSpace(string(vout))
		} else {
			g.Loads = true
			var d polDoc
			check(yaml.Unmarshal([]byte(text), &d))
			g.Sequences = generate(&d)
			for i := range g.Sequences {
				if err := runSequence(*bin, self, tmp.Name(), &g.Sequences[i]); err != nil {
					fmt.Fprintf(os.Stderr, "%s: sequence %q: %v\n", e.Name, g.Sequences[i].Name, err)
					os.Exit(1)
				}
			}
		}
		os.Remove(tmp.Name())
		check(os.WriteFile(filepath.Join(*out, e.Name+".json"), marshal(g), 0o644))
		n := 0
		for _, s := range g.Sequences {
			n += len(s.Calls)
		}
		fmt.Printf("%s: loads=%v sequences=%d calls=%d\n", e.Name, g.Loads, len(g.Sequences), n)
	}
}

// marshal writes the golden file indented, with each call on one line.
func marshal(g Golden) []byte {
	seqs := g.Sequences
	g.Sequences = nil
	head, _ := json.MarshalIndent(g, "", "  ")
	if len(seqs) == 0 {
		return append(head, '\n')
	}
	var b strings.Builder
	b.Write(head[:len(head)-2])
	b.WriteString(",\n  \"sequences\": [\n")
	for i, s := range seqs {
		calls := s.Calls
		s.Calls = nil
		name, _ := json.Marshal(s.Name)
		off, _ := json.Marshal(s.Offered)
		lst, _ := json.Marshal(s.Listed)
		fmt.Fprintf(&b, "    {\n      \"name\": %s,\n      \"offered\": %s,\n      \"listed\": %s,\n      \"calls\": [\n", name, off, lst)
		for j, c := range calls {
			cj, _ := json.Marshal(c)
			b.WriteString("        ")
			b.Write(cj)
			if j < len(calls)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString("      ]\n    }")
		if i < len(seqs)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("  ]\n}\n")
	var check any
	if err := json.Unmarshal([]byte(b.String()), &check); err != nil {
		panic(err)
	}
	return []byte(b.String())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
