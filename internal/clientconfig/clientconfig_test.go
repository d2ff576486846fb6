package clientconfig

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const desktop = `{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_x<&>"},
      "x-extra": [1, 2, {"z": null}]
    },
    "docs": {"url": "http://127.0.0.1:9/docs"},
    "off": {"command": "foo", "disabled": true},
    "bare": {"command": "/usr/bin/bare", "note": "a \"quoted\", string: here"}
  },
  "zLast": {"keep": "me"}
}
`

func TestParseKinds(t *testing.T) {
	f, err := Parse(Location{Path: "d.json", Layout: MCPServers}, []byte(desktop))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Kind{}
	for _, e := range f.Entries {
		got[e.Name] = e.Kind
	}
	want := map[string]Kind{"github": Stdio, "docs": Remote, "off": Disabled, "bare": Stdio}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	gh := f.Entries[0]
	if gh.Command != "npx" || !reflect.DeepEqual(gh.Args, []string{"-y", "@modelcontextprotocol/server-github"}) || gh.Env["GITHUB_PERSONAL_ACCESS_TOKEN"] != "ghp_x<&>" || gh.Pointer != "/mcpServers/github" {
		t.Fatalf("github entry %+v", gh)
	}
}

func TestParseLayouts(t *testing.T) {
	tests := []struct {
		name   string
		layout Layout
		data   string
		want   []string // project|name|kind|url
	}{
		{"vscode", VSCodeServers, `{"inputs": [], "servers": {"a": {"type": "stdio", "command": "x"}, "b": {"type": "http", "url": "http://127.0.0.1:1/mcp"}}, "mcpServers": {"ignored": {"command": "y"}}}`,
			[]string{"|a|stdio|", "|b|remote|http://127.0.0.1:1/mcp"}},
		{"vscode settings", VSCodeSettings, `{"editor.fontSize": 12, "mcp": {"servers": {"a": {"command": "x"}}}}`, []string{"|a|stdio|"}},
		{"vscode settings without mcp", VSCodeSettings, `{"editor.fontSize": 12}`, nil},
		{"claude.json", ClaudeCodeUser, `{"numStartups": 3, "mcpServers": {"u": {"type": "stdio", "command": "x"}}, "projects": {"/p/one": {"mcpServers": {"l": {"command": "y"}}, "allowedTools": []}, "/p/two": {}, "/p/three": null}}`,
			[]string{"|u|stdio|", "/p/one|l|stdio|"}},
		{"windsurf serverUrl", MCPServers, `{"mcpServers": {"z": {"serverUrl": "http://127.0.0.1:9/z"}}}`, []string{"|z|remote|http://127.0.0.1:9/z"}},
		{"gemini httpUrl", MCPServers, `{"mcpServers": {"g": {"httpUrl": "http://127.0.0.1:9/g"}}}`, []string{"|g|remote|http://127.0.0.1:9/g"}},
		{"empty file", MCPServers, "\n", nil},
		{"null servers", MCPServers, `{"mcpServers": null}`, nil},
		{"unknown entry", MCPServers, `{"mcpServers": {"q": {"note": 1}}}`, []string{"|q|unknown|"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(Location{Path: "f.json", Layout: tt.layout}, []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range f.Entries {
				got = append(got, e.Project+"|"+e.Name+"|"+string(e.Kind)+"|"+e.URL)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("entries %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"not json", `{"mcpServers": {`, "f.json: line 1, column 16: not valid JSON"},
		{"bad value on line 3", "{\n  \"mcpServers\": {\n    \"a\": {command: 1}}}", "f.json: line 3, column 11: not valid JSON: invalid character 'c'"},
		{"comment", "// settings\n{}", "f.json: line 1, column 1: not valid JSON"},
		{"trailing data", `{} {}`, "f.json: line 1, column 4: not valid JSON"},
		{"array at top", `[]`, "f.json: not a JSON object"},
		{"servers array", `{"mcpServers": []}`, "f.json: /mcpServers: want an object"},
		{"entry string", `{"mcpServers": {"a": "npx"}}`, "f.json: /mcpServers/a: want an object"},
		{"command number", `{"mcpServers": {"a": {"command": 5}}}`, "f.json: /mcpServers/a/command: want a string"},
		{"args string", `{"mcpServers": {"a/b": {"command": "x", "args": "-y"}}}`, "f.json: /mcpServers/a~1b/args: want an array of strings"},
		{"env numbers", `{"mcpServers": {"a": {"command": "x", "env": {"N": 1}}}}`, "f.json: /mcpServers/a/env: want an object of strings"},
		{"disabled string", `{"mcpServers": {"a": {"command": "x", "disabled": "yes"}}}`, "f.json: /mcpServers/a/disabled: want true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(Location{Path: "f.json", Layout: MCPServers}, []byte(tt.data))
			var ce *Error
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want one starting %q", err, tt.want)
			}
		})
	}
}

func TestRewriteKeepsTheRest(t *testing.T) {
	f, err := Parse(Location{Path: "d.json", Layout: MCPServers}, []byte(desktop))
	if err != nil {
		t.Fatal(err)
	}
	var changes []Change
	for i := range f.Entries {
		if e := &f.Entries[i]; e.Name == "github" || e.Name == "bare" {
			changes = append(changes, Change{Entry: e, Command: "/opt/toolgate", Args: append([]string{"stdio", "-c", "/p/<x>.json", "--"}, e.Argv()...)})
		}
	}
	out, err := f.Rewrite(changes)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "github": {
      "command": "/opt/toolgate",
      "args": [
        "stdio",
        "-c",
        "/p/<x>.json",
        "--",
        "npx",
        "-y",
        "@modelcontextprotocol/server-github"
      ],
      "env": {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_x<&>"
      },
      "x-extra": [
        1,
        2,
        {
          "z": null
        }
      ]
    },
    "docs": {"url": "http://127.0.0.1:9/docs"},
    "off": {"command": "foo", "disabled": true},
    "bare": {"command": "/opt/toolgate", "args": ["stdio", "-c", "/p/<x>.json", "--", "/usr/bin/bare"], "note": "a \"quoted\", string: here"}
  },
  "zLast": {"keep": "me"}
}
`
	if string(out) != want {
		t.Fatalf("rewritten:\n%s\nwant:\n%s\ndiff:\n%s", out, want, Diff("got", []byte(want), out))
	}
	g, err := Parse(f.Location, out)
	if err != nil {
		t.Fatal(err)
	}
	if e := g.Entries[0]; e.Command != "/opt/toolgate" || e.Env["GITHUB_PERSONAL_ACCESS_TOKEN"] != "ghp_x<&>" {
		t.Fatalf("reparsed %+v", e)
	}
}

func TestRewriteTabsAndMissingArgs(t *testing.T) {
	data := "{\n\t\"servers\": {\n\t\t\"a\": {\n\t\t\t\"type\": \"stdio\",\n\t\t\t\"command\": \"srv\"\n\t\t}\n\t}\n}"
	f, err := Parse(Location{Path: "v.json", Layout: VSCodeServers}, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Rewrite([]Change{{Entry: &f.Entries[0], Command: "tg", Args: []string{"stdio", "--", "srv"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n\t\"servers\": {\n\t\t\"a\": {\n\t\t\t\"type\": \"stdio\",\n\t\t\t\"command\": \"tg\",\n\t\t\t\"args\": [\n\t\t\t\t\"stdio\",\n\t\t\t\t\"--\",\n\t\t\t\t\"srv\"\n\t\t\t]\n\t\t}\n\t}\n}"
	if string(out) != want {
		t.Fatalf("rewritten %q\nwant      %q", out, want)
	}
}

func TestDiff(t *testing.T) {
	old := []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n")
	new := []byte("a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\n")
	want := "--- f\n+++ f (rewritten)\n@@ -1,6 +1,6 @@\n a\n b\n-c\n+C\n d\n e\n f\n@@ -8,3 +8,4 @@\n h\n i\n j\n+k\n"
	if got := Diff("f", old, new); got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
	if got := Diff("f", old, old); got != "" {
		t.Fatalf("diff of equal files: %q", got)
	}
}

func TestApplyAndUndo(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "backups")
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	origA, origB := []byte("{\"a\": 1}\n"), []byte("{\"b\":\t2}")
	if err := os.WriteFile(a, origA, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, origB, 0o600); err != nil {
		t.Fatal(err)
	}
	// b is reached through a symbolic link, as a dotfiles checkout links it.
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(b, link); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	bdir, err := Apply(root, t0, []Pending{{Path: a, Old: origA, New: []byte(`{"a": 2}`), Mode: 0o644}, {Path: link, Old: origB, New: []byte(`{"b": 3}`), Mode: 0o600}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(a); string(got) != `{"a": 2}` {
		t.Fatalf("a: %q", got)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi, err)
	}
	if got, _ := os.ReadFile(b); string(got) != `{"b": 3}` {
		t.Fatalf("b: %q", got)
	}
	if fi, _ := os.Stat(a); fi.Mode().Perm() != 0o644 {
		t.Fatalf("a's mode %v", fi.Mode())
	}
	var m Manifest
	data, err := os.ReadFile(filepath.Join(bdir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil || len(m.Files) != 2 || m.Files[1].Path != link {
		t.Fatalf("manifest %s: %v", data, err)
	}

	// A second run changes a again: undo goes back one run at a time.
	t1 := t0.Add(time.Second)
	if _, err := Apply(root, t1, []Pending{{Path: a, Old: []byte(`{"a": 2}`), New: []byte(`{"a": 3}`), Mode: 0o644}}); err != nil {
		t.Fatal(err)
	}
	if _, got, err := Undo(root, t1, false); err != nil || len(got) != 1 {
		t.Fatalf("undo: %v %v", got, err)
	}
	if got, _ := os.ReadFile(a); string(got) != `{"a": 2}` {
		t.Fatalf("a after one undo: %q", got)
	}

	// A file edited after the run is not overwritten without force.
	if err := os.WriteFile(b, []byte("edited"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Undo(root, t1, false); err == nil || !strings.Contains(err.Error(), link+" changed after") {
		t.Fatalf("undo over an edit: %v", err)
	}
	if got, _ := os.ReadFile(a); string(got) != `{"a": 2}` {
		t.Fatalf("a was restored although the undo was refused: %q", got)
	}
	got, list, err := Undo(root, t1, true)
	if err != nil || got != bdir || len(list) != 2 {
		t.Fatalf("undo --force: %s %v %v", got, list, err)
	}
	for p, want := range map[string][]byte{a: origA, b: origB} {
		if got, _ := os.ReadFile(p); string(got) != string(want) {
			t.Fatalf("%s after undo: %q, want %q", p, got, want)
		}
	}
	if _, _, err := Undo(root, t1, false); !errors.Is(err, ErrNoBackup) {
		t.Fatalf("third undo: %v", err)
	}
}

func TestApplyRefusesAFileChangedSinceRead(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.json")
	if err := os.WriteFile(a, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Apply(filepath.Join(dir, "b"), time.Now(), []Pending{{Path: a, Old: []byte(`{"x": 1}`), New: []byte(`{"y": 1}`)}})
	if err == nil || !strings.Contains(err.Error(), "changed since it was read") {
		t.Fatalf("err %v", err)
	}
	if got, _ := os.ReadFile(a); string(got) != "{}" {
		t.Fatalf("a: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a backup was made: %v", err)
	}
}

func TestLocations(t *testing.T) {
	locs := Locations(Dirs{Home: "/h", Config: "/h/.config", Project: "/h"})
	var paths []string
	for _, l := range locs {
		paths = append(paths, l.Client+" "+l.Path)
	}
	for _, want := range []string{"claude-desktop /h/.config/Claude/claude_desktop_config.json", "claude-code /h/.claude.json", "claude-code /h/.mcp.json",
		"cursor /h/.cursor/mcp.json", "vscode /h/.config/Code/User/mcp.json", "vscode /h/.vscode/mcp.json", "windsurf /h/.codeium/windsurf/mcp_config.json", "gemini /h/.gemini/settings.json"} {
		want = filepath.FromSlash(want)
		found := 0
		for _, p := range paths {
			if p == want {
				found++
			}
		}
		if found != 1 {
			t.Errorf("%q listed %d times in %q", want, found, paths)
		}
	}
}
