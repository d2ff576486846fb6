package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toolgate/toolgate"
)

type wantErr struct {
	line, col int
	path      string
	msg       string // substring
}

func checkErrors(t *testing.T, doc string, want []wantErr) {
	t.Helper()
	e, err := Load([]byte(doc), "p")
	if err == nil {
		t.Fatalf("loaded: %v", e)
	}
	if e != nil {
		t.Fatal("engine returned with an error")
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("not an ErrorList: %T %v", err, err)
	}
	if toolgate.ErrorCode(err) != toolgate.Invalid {
		t.Fatalf("code %s", toolgate.ErrorCode(err))
	}
	if len(list) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(list), len(want), err)
	}
	for i, w := range want {
		g := list[i]
		if g.Line != w.line || g.Column != w.col || g.Path != w.path || !strings.Contains(g.Message, w.msg) || g.File != "p" {
			t.Errorf("error %d: got %d:%d %s %q, want %d:%d %s %q", i, g.Line, g.Column, g.Path, g.Message, w.line, w.col, w.path, w.msg)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []wantErr
	}{
		{"malformed JSON", "{\n  \"version\": \"1\",\n  \"default\": deny\n}", []wantErr{{3, 14, "", "invalid character 'd'"}}},
		{"truncated JSON", `{"version": "1"`, []wantErr{{1, 16, "", "unexpected end"}}},
		{"trailing JSON", `{"version":"1","default":"deny"} {}`, []wantErr{{1, 34, "", "after the end"}}},
		{"malformed YAML", "version: \"1\"\ndefault: [deny\n", []wantErr{{1, 1, "", "invalid YAML: did not find expected"}}},
		{"two YAML documents", "version: \"1\"\ndefault: deny\n---\nversion: \"1\"\n", []wantErr{{3, 1, "", "several YAML documents"}}},
		{"empty", "", []wantErr{{1, 1, "", "empty"}}},
		{"not an object", "- a\n- b\n", []wantErr{{1, 1, "", "must be an object"}}},
		{"version 2", `{"version": "2", "default": "deny"}`, []wantErr{{1, 13, "/version", `unsupported version "2"`}}},
		{"version number", `{"version": 1, "default": "deny"}`, []wantErr{{1, 13, "/version", "not a number"}}},
		{"missing version and default", `{}`, []wantErr{{1, 1, "", `"version"`}, {1, 1, "", `"default"`}}},
		{"unknown keys", "{\"version\":\"1\",\"default\":\"deny\",\n\"tool\": {},\n\"tools\": {\"a\": {\"deny\": true}}}",
			[]wantErr{{2, 1, "/tool", `unknown key "tool"`}, {3, 17, "/tools/a/deny", `unknown key "deny"`}}},
		{"wrong types", `{"version":"1","default":"deny","hide":"x","tools":{"a":{"on_deny":5,"limits":{}}}}`,
			[]wantErr{{1, 40, "/hide", "must be a list"}, {1, 68, "/tools/a/on_deny", "must be a string"}, {1, 79, "/tools/a/limits", "must be a list"}}},
		{"bad windows", "version: \"1\"\ndefault: deny\ntools:\n  a:\n    limits:\n      - {counter: c, window: fortnight, max: 1}\n      - {counter: d, window: -5, max: 1}\n      - {counter: e, window: \"0s\", max: 1}\n",
			[]wantErr{{6, 30, "/tools/a/limits/0/window", "invalid window"}, {7, 30, "/tools/a/limits/1/window", "window must be"}, {8, 30, "/tools/a/limits/2/window", "window must be"}}},
		{"bad limit", `{"version":"1","default":"deny","all_tools":{"limits":[{"counter":"c","max":1.5,"scope":"team"}]}}`,
			[]wantErr{{1, 56, "/all_tools/limits/0", `missing required key "window"`}, {1, 77, "/all_tools/limits/0/max", "whole number"}, {1, 89, "/all_tools/limits/0/scope", "scope must be"}}},
		{"counter mismatch", `{"version":"1","default":"deny","tools":{"a":{"limits":[{"counter":"c","window":"minute","max":1}]},"b":{"limits":[{"counter":"c","window":"hour","max":1}]}}}`,
			[]wantErr{{1, 116, "/tools/b/limits/0", "must agree"}}},
		{"when and a bad approval", `{"version":"1","default":"deny","tools":{"a":{"action":"approve","when":"true","approval":{"timeout":"soon","by":1}}}}`,
			[]wantErr{{1, 102, "/tools/a/approval/timeout", "timeout must be a duration"}, {1, 109, "/tools/a/approval/by", "unknown key"}}},
		{"bad args schema", "version: \"1\"\ndefault: deny\ntools:\n  a:\n    args:\n      properties:\n        x: {type: 5}\n",
			[]wantErr{{7, 19, "/tools/a/args/properties/x/type", "not a valid JSON Schema"}}},
		{"bad patterns", `{"version":"1","default":"deny","hide":["@secret"],"tools":{"@bogus":{},"a[":{},"":{}}}`,
			[]wantErr{{1, 41, "/hide/0", "unknown risk category"}, {1, 61, "/tools/@bogus", "unknown risk category"}, {1, 73, "/tools/a[", "invalid pattern"}, {1, 81, "/tools/", "must not be empty"}}},
		{"overlapping globs", `{"version":"1","default":"deny","tools":{"a*":{},"a?":{},"b*":{}}}`,
			[]wantErr{{1, 50, "/tools/a?", "equally specific"}}},
		{"bad predicates", `{"version":"1","default":"deny","tools":{"a":{"require":[5,"amount > 1","args.a ~ 3",{"path":"args.a","op":"gt"},{"path":"args.a","op":"matches","value":"("}]}}}`,
			[]wantErr{{1, 58, "/tools/a/require/0", "a predicate is a string"}, {1, 60, "/tools/a/require/1", `must start with "args"`}, {1, 73, "/tools/a/require/2", "unknown operator"}, {1, 86, "/tools/a/require/3", "needs a value"}, {1, 154, "/tools/a/require/4", "invalid regular expression"}}},
		{"duplicate key", "{\"version\":\"1\",\"default\":\"deny\",\"default\":\"allow\"}", []wantErr{{1, 33, "/default", "duplicate key"}}},
		{"reason and on_deny", `{"version":"1","default":"deny","tools":{"a":{"on_deny":"x","reason":"y"}}}`, []wantErr{{1, 61, "/tools/a/reason", "keep one"}}},
		{"too deep", strings.Repeat("[", 100), []wantErr{{1, 1, "", "invalid YAML"}}},
		{"too deep JSON", `{"version":"1","default":"deny","tools":{"a":{"args":` + strings.Repeat(`{"not":`, 70) + `{}` + strings.Repeat("}", 70) + `}}}`,
			[]wantErr{{1, 0, "", "deeper than 64"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "too deep JSON" {
				_, err := Load([]byte(tt.doc), "p")
				if err == nil || !strings.Contains(err.Error(), "deeper than 64") {
					t.Fatalf("got %v", err)
				}
				return
			}
			checkErrors(t, tt.doc, tt.want)
		})
	}
}

func TestLoadTooLarge(t *testing.T) {
	doc := `{"version":"1","default":"deny","description":"` + strings.Repeat("x", MaxDocumentSize) + `"}`
	checkErrors(t, doc, []wantErr{{1, 1, "", "the limit is 1048576"}})
}

func TestLoadYAMLAndJSONAgree(t *testing.T) {
	y := mustLoad(t, "version: \"1\"\ndefault: deny\ntools:\n  UpdateUser:\n    limits:\n      - counter: updateuser_rate\n        window: minute\n        max: 30\n        scope: grant\n")
	j := mustLoad(t, seedDoc)
	c := &toolgate.Call{Tool: "UpdateUser"}
	dy, ly := y.Decide(c)
	dj, lj := j.Decide(c)
	if dy != dj || fmt.Sprint(ly) != fmt.Sprint(lj) {
		t.Fatalf("yaml %+v %v\njson %+v %v", dy, ly, dj, lj)
	}
}

func TestLoadJSONEscapes(t *testing.T) {
	e := mustLoad(t, "{\n\t\"version\": \"1\",\n\t\"default\": \"deny\",\n\t\"tools\": {\"a\\/b\": {}, \"caf\\u00e9\": {}}\n}")
	for _, tool := range []string{"a/b", "café"} {
		if d, _ := e.Decide(&toolgate.Call{Tool: tool}); d.Action != toolgate.Allow {
			t.Errorf("%s: %+v", tool, d)
		}
	}
	if d, _ := e.Decide(&toolgate.Call{Tool: "a/b"}); d.Rule != "/tools/a~1b" {
		t.Errorf("pointer not escaped: %s", d.Rule)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(p, []byte(seedDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(p); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	os.WriteFile(p, []byte(`{"version":"2","default":"deny"}`), 0o600)
	_, err = LoadFile(p)
	var list ErrorList
	if !errors.As(err, &list) || list[0].File != p {
		t.Fatalf("file name not in errors: %v", err)
	}
}

func TestLoadYAMLBombs(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := 0; i < 8; i++ {
		n := fmt.Sprintf("b%d", i)
		bomb += fmt.Sprintf("%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	_, err := Load([]byte(bomb), "p")
	if err == nil || !strings.Contains(err.Error(), "aliases are expanded") {
		t.Fatalf("alias bomb: %v", err)
	}
	deep := "version: \"1\"\ndefault: deny\ntools:\n  a:\n    args: " + strings.Repeat("{not: ", 80) + "{}" + strings.Repeat("}", 80) + "\n"
	_, err = Load([]byte(deep), "p")
	if err == nil || !strings.Contains(err.Error(), "deeper than 64") {
		t.Fatalf("deep YAML: %v", err)
	}
}
