package policy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toolgate/toolgate"
)

func TestLoadTestsErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []wantErr
	}{
		{"empty", "", []wantErr{{1, 1, "", "empty"}}},
		{"no policy, no cases", "description: x\n", []wantErr{{1, 1, "", `"policy"`}, {1, 1, "", `"cases"`}}},
		{"unknown key", "policy: p.yaml\ncases: []\npolcy: x\n", []wantErr{{2, 8, "/cases", "at least one"}, {3, 1, "/polcy", `unknown key "polcy"`}}},
		{"cases not a list", "policy: p.yaml\ncases: {}\n", []wantErr{{2, 8, "/cases", "must be a list"}}},
		{"case without call and expect", "policy: p.yaml\ncases:\n  - name: a\n", []wantErr{{3, 5, "/cases/0", `"expect"`}, {3, 5, "/cases/0", `"call"`}}},
		{"bad decision and kind", "policy: p.yaml\ncases:\n  - name: a\n    call: {tool: t}\n    expect: {decision: denied, kind: rate_limited}\n",
			[]wantErr{{5, 24, "/cases/0/expect/decision", `decision must be "allow" or "deny", not "denied"`}, {5, 38, "/cases/0/expect/kind", `unknown decision kind "rate_limited"`}}},
		{"expectation without decision or kind", "policy: p.yaml\ncases:\n  - name: a\n    call: {tool: t}\n    expect: {rule: /tools/t}\n",
			[]wantErr{{5, 13, "/cases/0/expect", `needs "decision" or "kind"`}}},
		{"repeat", "policy: p.yaml\ncases:\n  - {name: a, call: {tool: t}, repeat: 0, expect: {kind: limit}}\n",
			[]wantErr{{3, 40, "/cases/0/repeat", "between 1 and"}}},
		{"duplicate names", "policy: p.yaml\ncases:\n  - {name: a, call: {tool: t}, expect: {kind: rule}}\n  - {name: a, call: {tool: t}, expect: {kind: rule}}\n",
			[]wantErr{{4, 5, "/cases/1/name", `another case, /cases/0, has the name "a"`}}},
		{"call problems", "policy: p.yaml\ncases:\n  - name: a\n    call: {args: [1], categories: [risky], input_schema: {type: 3}}\n    expect: {kind: rule}\n",
			[]wantErr{{4, 11, "/cases/0/call", `missing required key "tool"`}, {4, 18, "/cases/0/call/args", "args must be an object"}, {4, 36, "/cases/0/call/categories/0", `unknown risk category "risky"`}, {4, 58, "/cases/0/call/input_schema", "does not compile"}}},
		{"identity labels are strings", "policy: p.yaml\nidentity: {subject: a, labels: {team: 3}}\ncases:\n  - {name: a, call: {tool: t}, expect: {kind: rule}}\n",
			[]wantErr{{2, 39, "/identity/labels/team", "must be a string"}}},
		{"approval", "policy: p.yaml\ncases:\n  - {name: a, call: {tool: t}, approval: yes, expect: {kind: rule}}\n",
			[]wantErr{{3, 42, "/cases/0/approval", `approval must be "approve" or "deny"`}}},
		{"inline policy errors are positioned in the test file", "policy:\n  version: \"1\"\n  default: maybe\n  mode: dry\ncases:\n  - {name: a, call: {tool: t}, expect: {kind: rule}}\n",
			[]wantErr{{3, 12, "/policy/default", `not "maybe"`}, {4, 9, "/policy/mode", `not "dry"`}}},
		{"JSON", `{"policy": "p.json", "cases": [{"name": "a", "call": {"tool": "t"}, "expect": {"decision": "maybe"}}]}`,
			[]wantErr{{1, 92, "/cases/0/expect/decision", `not "maybe"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf, err := LoadTests([]byte(tt.doc), "p")
			if err == nil {
				t.Fatalf("loaded: %+v", tf)
			}
			var list ErrorList
			if !errors.As(err, &list) || toolgate.ErrorCode(err) != toolgate.Invalid {
				t.Fatalf("error %T %v: want an ErrorList", err, err)
			}
			if len(list) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(list), len(tt.want), err)
			}
			for i, w := range tt.want {
				g := list[i]
				if g.Line != w.line || g.Column != w.col || g.Path != w.path || !strings.Contains(g.Message, w.msg) || g.File != "p" {
					t.Errorf("error %d: got %d:%d %s %q, want %d:%d %s %q", i, g.Line, g.Column, g.Path, g.Message, w.line, w.col, w.path, w.msg)
				}
			}
		})
	}
}

func TestLoadTestsValues(t *testing.T) {
	tf, err := LoadTests([]byte(`policy: {version: "1", default: allow}
identity: {subject: alice, grant: g1, labels: {team: support}}
cases:
  - name: first
    call: {tool: t, server: s, args: {n: 3, tags: [a]}, categories: [write]}
    expect: {decision: allow, kind: shadow_denied, shadow_kind: limit, rule: /tools/t, reason: x}
  - name: second
    identity: {subject: bob}
    before: [{tool: u, identity: {subject: carol}}]
    call: {tool: t, input_schema: {type: object}}
    repeat: 3
    approval: approve
    expect: {kind: limit}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if tf.Policy == nil || tf.PolicyPath != "" || len(tf.Cases) != 2 {
		t.Fatalf("file = %+v", tf)
	}
	a, b := tf.Cases[0], tf.Cases[1]
	if a.Name != "first" || a.Line != 4 || a.Repeat != 1 || a.Approve || a.Call.Tool != "t" || a.Call.Server != "s" ||
		a.Call.Identity.Subject != "alice" || a.Call.Identity.Labels["team"] != "support" || a.Call.Categories[0] != "write" ||
		a.Call.Args["n"] != json.Number("3") {
		t.Errorf("first case = %+v, call %+v", a, a.Call)
	}
	if want := (Expectation{Decision: toolgate.Allow, Kind: toolgate.KindShadowDenied, ShadowKind: toolgate.KindLimit, Rule: "/tools/t", Reason: "x"}); a.Expect != want {
		t.Errorf("expectation = %+v, want %+v", a.Expect, want)
	}
	if b.Repeat != 3 || !b.Approve || b.Call.Identity.Subject != "bob" || b.Call.InputSchema == nil ||
		len(b.Before) != 1 || b.Before[0].Identity.Subject != "carol" {
		t.Errorf("second case = %+v, call %+v", b, b.Call)
	}
}

func TestLoadTestFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := "cases:\n  - {name: a, call: {tool: t}, expect: {kind: rule}}\n"
	tf, err := LoadTestFile(write("ok.test.yaml", "policy: ok.policy.json\n"+cases))
	if err == nil {
		t.Fatalf("a missing policy file loaded: %+v", tf)
	}
	if toolgate.ErrorCode(err) != toolgate.NotFound || !strings.Contains(toolgate.ErrorMessage(err), "ok.policy.json not found") {
		t.Fatalf("missing policy: %v (%s)", err, toolgate.ErrorCode(err))
	}
	write("ok.policy.json", `{"version":"1","default":"allow"}`)
	if tf, err = LoadTestFile(filepath.Join(dir, "ok.test.yaml")); err != nil || tf.Policy == nil {
		t.Fatalf("load: %v", err)
	}
	write("bad.policy.json", `{"version":"1","default":"maybe"}`)
	_, err = LoadTestFile(write("bad.test.yaml", "policy: bad.policy.json\n"+cases))
	var list ErrorList
	if !errors.As(err, &list) || list[0].File != filepath.Join(dir, "bad.policy.json") || list[0].Path != "/default" {
		t.Fatalf("bad policy: %v", err)
	}
	if _, err = LoadTestFile(filepath.Join(dir, "none.yaml")); toolgate.ErrorCode(err) != toolgate.NotFound {
		t.Fatalf("missing test file: %v", err)
	}
}

func FuzzLoadTests(f *testing.F) {
	f.Add([]byte("policy: p.yaml\ncases:\n  - {name: a, call: {tool: t, args: {x: 1}}, repeat: 2, expect: {decision: deny, kind: limit}}\n"))
	f.Add([]byte(`{"policy": {"version": "1", "default": "deny", "mode": "shadow"}, "cases": [{"name": "a", "call": {"tool": "t", "input_schema": {"type": "object"}}, "expect": {"kind": "shadow_denied"}}]}`))
	f.Add([]byte("policy: p\nidentity: {subject: s, labels: {a: b}}\ncases:\n  - name: x\n    before: [{tool: a}]\n    call: {tool: b, identity: {grant: g}}\n    approval: approve\n    expect: {decision: allow}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("{"))
	if files, _ := filepath.Glob("../docs/examples/policy-test/*.test.yaml"); len(files) > 0 {
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := LoadTests(data, "fuzz")
		if err != nil {
			if tf != nil {
				t.Fatal("test file and error")
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("not a non-empty ErrorList: %v", err)
			}
			for _, e := range list {
				if e.Line < 1 || e.Column < 1 {
					t.Fatalf("error without a position: %+v", e)
				}
			}
			return
		}
		if len(tf.Cases) == 0 || (tf.Policy == nil) == (tf.PolicyPath == "") {
			t.Fatalf("loaded without cases or with neither or both policies: %+v", tf)
		}
		for _, c := range tf.Cases {
			if c.Call == nil || c.Call.Identity == nil || c.Repeat < 1 || (c.Expect.Decision == "" && c.Expect.Kind == "") {
				t.Fatalf("incomplete case: %+v", c)
			}
		}
	})
}
