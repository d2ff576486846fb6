package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/internal/clientconfig"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// initHome makes a temporary home directory and points HOME, the XDG
// directories and APPDATA at it (for this test process and the processes
// it starts), so that init never sees the real user's files. It returns
// the home and a project directory under it.
func initHome(t *testing.T) (home, project string) {
	t.Helper()
	home = t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("APPDATA", filepath.Join(home, "AppData", "Roaming"))
	project = filepath.Join(home, "src", "shop")
	if err := os.MkdirAll(project, 0o755); err != nil {
		t.Fatal(err)
	}
	return home, project
}

// putFile writes data to path, making its directory.
func putFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// jsonString quotes s for a JSON fixture.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// readAll reads every file in paths.
func readAll(t *testing.T, paths []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = string(b)
	}
	return out
}

// runInitBinary runs the built toolgate binary in dir with stdin.
func runInitBinary(t *testing.T, bin, dir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, out.String(), errOut.String()
}

// runIn runs Main in-process with stdin.
func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// objectWithout decodes a JSON object and drops the keys given.
func objectWithout(t *testing.T, data string, drop ...string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range drop {
		delete(m, k)
	}
	return m
}

// TestInitWrapsAndUndoes runs the toolgate binary's init on the files of
// several clients under a temporary HOME, with real stdio MCP servers to
// scan (the echo server and toolgate's own directory server): the stdio
// entries are rewritten to run through toolgate with a policy that loads,
// the rest of each file survives, the wrapped entry serves the tools, a
// second run changes nothing, and --undo restores every byte.
func TestInitWrapsAndUndoes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	bin := testpeer.BuildToolgate(t)
	echo := testpeer.BuildEchoServer(t)
	home, project := initHome(t)
	dirData := filepath.Join(home, "directory-data")

	desktop := filepath.Join(home, ".config", "Claude", "claude_desktop_config.json")
	claudeJSON := filepath.Join(home, ".claude.json")
	cursor := filepath.Join(home, ".cursor", "mcp.json")
	vscode := filepath.Join(project, ".vscode", "mcp.json")
	windsurf := filepath.Join(home, ".codeium", "windsurf", "mcp_config.json")

	putFile(t, desktop, `{
  "globalShortcut": "Alt+Space",
  "mcpServers": {
    "echo": {
      "command": `+jsonString(echo)+`,
      "env": {"ECHO_TOKEN": "t<&>"},
      "x-note": "kept"
    },
    "docs": {"url": "http://127.0.0.1:9/mcp"}
  },
  "zz": [1, {"deep": true}]
}
`)
	putFile(t, claudeJSON, `{"numStartups": 7, "mcpServers": {"directory": {"type": "stdio", "command": `+jsonString(bin)+`, "args": ["directory", "mcp", "--data", `+jsonString(dirData)+`, "--seed"], "env": {}}}, "projects": {`+jsonString(project)+`: {"allowedTools": ["Bash"], "mcpServers": {"echo": {"command": `+jsonString(echo)+`, "args": []}}}, "/elsewhere": {"history": []}}, "oauthAccount": {"emailAddress": "a@example.com"}}`)
	putFile(t, cursor, `{
  "mcpServers": {
    "shop": {"command": "toolgate", "args": ["stdio", "-c", "/etc/toolgate/shop.yaml", "--", "npx", "-y", "shop-mcp"]},
    "remote": {"url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer x"}}
  }
}
`)
	putFile(t, vscode, "{\n\t\"inputs\": [],\n\t\"servers\": {\n\t\t\"echo\": {\n\t\t\t\"type\": \"stdio\",\n\t\t\t\"command\": "+jsonString(echo)+",\n\t\t\t\"args\": [\"-calls\", \""+filepath.ToSlash(filepath.Join(home, "calls.log"))+"\"]\n\t\t},\n\t\t\"web\": {\"type\": \"http\", \"url\": \"http://127.0.0.1:9/mcp\"}\n\t}\n}\n")
	putFile(t, windsurf, `{"mcpServers": {"z": {"serverUrl": "http://127.0.0.1:9/sse"}}}`)
	all := []string{desktop, claudeJSON, cursor, vscode, windsurf}
	orig := readAll(t, all)

	code, stdout, stderr := runInitBinary(t, bin, project, "", "init", "--yes", "--timeout", "90s")
	if code != 0 {
		t.Fatalf("init: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"scanning claude-desktop/echo: " + echo, "scanning claude-code/directory: ", "scanning vscode/project/echo: "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, want := range []string{"remote (http://127.0.0.1:9/mcp): not wrapped", "remote (http://127.0.0.1:9/sse): not wrapped", "runs toolgate already: left alone", "+++ " + desktop, "backed up the original files to "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	after := readAll(t, all)
	for _, p := range []string{cursor, windsurf} {
		if after[p] != orig[p] {
			t.Errorf("%s changed although nothing in it is to wrap:\n%s", p, after[p])
		}
	}

	// Every stdio entry now runs toolgate with a policy that loads; its
	// other keys are as they were.
	policies := filepath.Join(home, ".config", "toolgate", "policies")
	wantWrapped := map[string]string{ // file|project|server → policy file
		desktop + "||echo":                   "claude-desktop-echo.json",
		claudeJSON + "||directory":           "claude-code-directory.json",
		claudeJSON + "|" + project + "|echo": "claude-code-shop-echo.json",
		vscode + "||echo":                    "vscode-shop-echo.json",
	}
	layouts := map[string]clientconfig.Location{
		desktop:    {Path: desktop, Layout: clientconfig.MCPServers},
		claudeJSON: {Path: claudeJSON, Layout: clientconfig.ClaudeCodeUser},
		vscode:     {Path: vscode, Layout: clientconfig.VSCodeServers},
	}
	var wrappedDesktop clientconfig.Entry
	for path, loc := range layouts {
		before, err := clientconfig.Parse(loc, []byte(orig[path]))
		if err != nil {
			t.Fatal(err)
		}
		now, err := clientconfig.Parse(loc, []byte(after[path]))
		if err != nil {
			t.Fatalf("the rewritten %s does not parse: %v\n%s", path, err, after[path])
		}
		if len(now.Entries) != len(before.Entries) {
			t.Fatalf("%s: %d entries, had %d", path, len(now.Entries), len(before.Entries))
		}
		for i, e := range now.Entries {
			b := before.Entries[i]
			pol, wrap := wantWrapped[path+"|"+e.Project+"|"+e.Name]
			if !wrap {
				if !reflect.DeepEqual(e.Argv(), b.Argv()) || e.URL != b.URL {
					t.Errorf("%s %s: changed to %v", path, e.Pointer, e.Argv())
				}
				continue
			}
			pol = filepath.Join(policies, pol)
			want := append([]string{bin, "wrap", "-p", pol, "--"}, b.Argv()...)
			if !reflect.DeepEqual(e.Argv(), want) {
				t.Errorf("%s %s: %q, want %q", path, e.Pointer, e.Argv(), want)
			}
			if !reflect.DeepEqual(e.Env, b.Env) || e.Cwd != b.Cwd {
				t.Errorf("%s %s: env %v, was %v", path, e.Pointer, e.Env, b.Env)
			}
			if c, out, errOut := runInitBinary(t, bin, home, "", "check", pol); c != 0 || !strings.Contains(out, "ok: "+pol) {
				t.Errorf("toolgate check %s: exit %d\n%s%s", pol, c, out, errOut)
			}
			if path == desktop {
				wrappedDesktop = e
			}
		}
	}
	if got := objectWithout(t, after[desktop], "mcpServers"); !reflect.DeepEqual(got, objectWithout(t, orig[desktop], "mcpServers")) {
		t.Errorf("claude desktop's other keys: %v", got)
	}
	if !strings.Contains(after[desktop], `"x-note": "kept"`) || !strings.Contains(after[desktop], `"docs": {"url": "http://127.0.0.1:9/mcp"}`) {
		t.Errorf("claude desktop's entries lost keys or formatting:\n%s", after[desktop])
	}
	if got, want := objectWithout(t, after[claudeJSON], "mcpServers", "projects"), objectWithout(t, orig[claudeJSON], "mcpServers", "projects"); !reflect.DeepEqual(got, want) {
		t.Errorf("~/.claude.json's other keys: %v, want %v", got, want)
	}
	if !strings.Contains(after[claudeJSON], `"allowedTools": ["Bash"]`) || !strings.Contains(after[claudeJSON], `"/elsewhere": {"history": []}`) {
		t.Errorf("~/.claude.json's projects lost keys:\n%s", after[claudeJSON])
	}
	if !strings.HasPrefix(after[vscode], "{\n\t\"inputs\": [],\n\t\"servers\": {\n\t\t\"echo\": {\n\t\t\t\"type\": \"stdio\",\n\t\t\t\"command\": ") {
		t.Errorf("vscode's file lost its indentation or keys:\n%s", after[vscode])
	}

	// One backup with a manifest of the three changed files.
	backups := filepath.Join(home, ".local", "state", "toolgate", "init-backups")
	dirs, err := os.ReadDir(backups)
	if err != nil || len(dirs) != 1 {
		t.Fatalf("backups: %v %v", dirs, err)
	}
	var m clientconfig.Manifest
	data, err := os.ReadFile(filepath.Join(backups, dirs[0].Name(), clientconfig.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var backedUp []string
	for _, f := range m.Files {
		backedUp = append(backedUp, f.Path)
		if b, err := os.ReadFile(filepath.Join(backups, dirs[0].Name(), f.Backup)); err != nil || string(b) != orig[f.Path] {
			t.Errorf("backup of %s: %q %v", f.Path, b, err)
		}
	}
	slices.Sort(backedUp)
	wantBackedUp := []string{desktop, claudeJSON, vscode}
	slices.Sort(wantBackedUp)
	if !reflect.DeepEqual(backedUp, wantBackedUp) {
		t.Errorf("backed up %v, want %v", backedUp, wantBackedUp)
	}

	// The rewritten entry, started as the client starts it, is toolgate
	// in front of the echo server, under the recommended policy.
	t.Run("wrapped entry serves", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.Command(wrappedDesktop.Command, wrappedDesktop.Args...)
		cmd.Env = cmd.Environ()
		for k, v := range wrappedDesktop.Env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		client := mcp.NewClient(&mcp.Implementation{Name: "init-test", Version: "1"}, nil)
		cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		if name := cs.InitializeResult().ServerInfo.Name; name == testpeer.EchoServerName {
			t.Fatalf("the entry reaches the echo server directly (%q)", name)
		}
		if text, isErr := callText(t, cs, "echo", map[string]any{"message": "through toolgate"}); isErr || text != "through toolgate" {
			t.Fatalf("echo: %q (isError %v)", text, isErr)
		}
	})

	// A second run finds everything wrapped and changes nothing.
	code, stdout, stderr = runInitBinary(t, bin, project, "", "init", "--yes")
	if code != 0 || !strings.Contains(stdout, "Nothing to change.") || strings.Contains(stderr, "scanning") {
		t.Fatalf("second init: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if again := readAll(t, all); !reflect.DeepEqual(again, after) {
		t.Fatal("the second init changed files")
	}
	if dirs, _ := os.ReadDir(backups); len(dirs) != 1 {
		t.Fatalf("the second init made a backup: %v", dirs)
	}

	// --undo restores every byte, and says what it restored.
	code, stdout, stderr = runInitBinary(t, bin, project, "", "init", "--undo")
	if code != 0 {
		t.Fatalf("init --undo: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, p := range wantBackedUp {
		if !strings.Contains(stdout, "restored "+p+"\n") {
			t.Errorf("--undo does not say it restored %s:\n%s", p, stdout)
		}
	}
	if restored := readAll(t, all); !reflect.DeepEqual(restored, orig) {
		for p := range orig {
			if restored[p] != orig[p] {
				t.Errorf("%s after --undo:\n%s\nwant:\n%s", p, restored[p], orig[p])
			}
		}
	}
	if code, _, stderr := runInitBinary(t, bin, project, "", "init", "--undo"); code != 3 || !strings.Contains(stderr, "nothing to undo") {
		t.Fatalf("a second --undo: exit %d, %s", code, stderr)
	}
}

// TestInitMalformedFiles: client files that are not JSON, or have values
// of the wrong type, are named with what is wrong and left untouched; the
// good file beside them is still wrapped, and the exit code says 1.
func TestInitMalformedFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server")
	}
	echo := testpeer.BuildEchoServer(t)
	home, project := initHome(t)
	bad := map[string]struct{ data, want string }{
		filepath.Join(home, ".config", "Claude", "claude_desktop_config.json"): {"{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\",}\n  }\n}", "line 3, column 26: not valid JSON"},
		filepath.Join(home, ".cursor", "mcp.json"):                             {`{"mcpServers": {"gh": {"command": "npx", "args": "-y server"}}}`, "/mcpServers/gh/args: want an array of strings"},
		filepath.Join(project, ".vscode", "mcp.json"):                          {`{"servers": ["echo"]}`, "/servers: want an object"},
		filepath.Join(home, ".claude.json"):                                    {`{"projects": {"/p": {"mcpServers": {"e": {"command": ["echo"]}}}}}`, "/projects/~1p/mcpServers/e/command: want a string"},
		filepath.Join(home, ".config", "Code", "User", "settings.json"):        {"{\n  // comments and MCP servers\n  \"mcp\": {\"servers\": {}}\n}", "line 2, column 3: not valid JSON"},
	}
	for p, f := range bad {
		putFile(t, p, f.data)
	}
	good := filepath.Join(home, ".codeium", "windsurf", "mcp_config.json")
	putFile(t, good, `{"mcpServers": {"echo": {"command": `+jsonString(echo)+`}}}`)

	code, stdout, stderr := runIn(t, "", "init", "--yes", "--project", project, "--toolgate", "/opt/bin/toolgate")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for p, f := range bad {
		if want := p + ": " + f.want; !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
		if got, _ := os.ReadFile(p); string(got) != f.data {
			t.Errorf("%s was changed to %q", p, got)
		}
	}
	if !strings.Contains(stderr, "toolgate: 5 client files left untouched: could not be read\n") {
		t.Errorf("stderr lacks the count:\n%s", stderr)
	}
	if got, _ := os.ReadFile(good); !strings.Contains(string(got), `"command": "/opt/bin/toolgate"`) {
		t.Errorf("the good file was not wrapped: %s", got)
	}
}

// TestInitDryRunAndConfirm: --dry-run shows the diff and writes nothing;
// without --yes, init asks, and anything but y leaves the file alone.
func TestInitDryRunAndConfirm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server")
	}
	echo := testpeer.BuildEchoServer(t)
	home, project := initHome(t)
	cursor := filepath.Join(project, ".cursor", "mcp.json")
	orig := `{"mcpServers": {"echo": {"command": ` + jsonString(echo) + `}}}`
	putFile(t, cursor, orig)
	// VS Code settings with comments but no MCP servers are not init's
	// business: no error.
	putFile(t, filepath.Join(home, ".config", "Code", "User", "settings.json"), "{\n  // my editor\n  \"editor.fontSize\": 14,\n}\n")
	policies := filepath.Join(home, "pol")
	state := filepath.Join(home, ".local", "state")
	unchanged := func(step string) {
		t.Helper()
		if got, _ := os.ReadFile(cursor); string(got) != orig {
			t.Fatalf("%s: the file changed: %s", step, got)
		}
		for _, d := range []string{policies, state} {
			if _, err := os.Stat(d); err == nil {
				t.Fatalf("%s: %s was made", step, d)
			}
		}
	}

	code, stdout, stderr := runIn(t, "", "init", "--dry-run", "--project", project, "--policies-dir", policies, "--toolgate", "toolgate")
	if code != 0 || !strings.Contains(stdout, "+++ "+cursor) || !strings.Contains(stdout, `+{"mcpServers": {"echo": {"command": "toolgate", "args": ["wrap", "-p", `) || !strings.Contains(stdout, "Dry run: nothing written.") {
		t.Fatalf("dry run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	unchanged("--dry-run")

	for _, answer := range []string{"", "n\n", "yes please\n"} {
		code, stdout, stderr = runIn(t, answer, "init", "--project", project, "--policies-dir", policies, "--toolgate", "toolgate")
		if code != 0 || !strings.Contains(stderr, "Rewrite "+cursor+" (1 server through toolgate)? [y/N] ") || !strings.Contains(stdout, "left "+cursor+" as it was") {
			t.Fatalf("answer %q: exit %d\nstdout:\n%s\nstderr:\n%s", answer, code, stdout, stderr)
		}
		unchanged("answer " + answer)
	}

	code, stdout, stderr = runIn(t, "Y\n", "init", "--project", project, "--policies-dir", policies, "--toolgate", "toolgate")
	if code != 0 || !strings.Contains(stdout, "rewrote "+cursor) {
		t.Fatalf("answer y: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	pol := filepath.Join(policies, "cursor-shop-echo.json")
	if got, _ := os.ReadFile(cursor); !strings.Contains(string(got), `"args": ["wrap", "-p", `+jsonString(pol)+`, "--", `+jsonString(echo)+`]`) {
		t.Fatalf("after y: %s", got)
	}
	if _, err := os.Stat(pol); err != nil {
		t.Fatal(err)
	}
}

// TestInitScanFailures: a server that does not start, and one that never
// answers, are reported with what went wrong, not wrapped, and exit 7;
// the wait says it is still waiting meanwhile.
func TestInitScanFailures(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	home, project := initHome(t)
	desktop := filepath.Join(home, ".config", "Claude", "claude_desktop_config.json")
	orig := `{"mcpServers": {"gone": {"command": "/nonexistent/mcp-server"}, "mute": {"command": ` + jsonString(sleep) + `, "args": ["60"]}}}`
	putFile(t, desktop, orig)

	var out, errOut bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, log: slog.New(slog.DiscardHandler)}
	f := &initFlags{yes: true, project: project, timeout: 2 * time.Second, toolgate: "toolgate", progressEvery: 200 * time.Millisecond}
	start := time.Now()
	err = a.initRun(context.Background(), f)
	took := time.Since(start)
	if code := toolgate.ExitCode(toolgate.ErrorCode(err)); code != 7 {
		t.Fatalf("exit %d (%v), want 7\nstdout:\n%s\nstderr:\n%s", code, err, out.String(), errOut.String())
	}
	for _, want := range []string{
		"scanning claude-desktop/gone: /nonexistent/mcp-server",
		"scanning claude-desktop/mute: " + sleep + " 60",
		"still waiting for claude-desktop/mute after",
		"no tool list within 2s (raise --timeout, or check that `" + sleep + " 60` starts an MCP server)",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "not wrapped: scan failed: connect: ") || !strings.Contains(out.String(), "Nothing to change.") {
		t.Errorf("stdout:\n%s", out.String())
	}
	if got, _ := os.ReadFile(desktop); string(got) != orig {
		t.Errorf("the file changed: %s", got)
	}
	if took > 60*time.Second {
		t.Errorf("took %s with a 2s timeout per server", took)
	}
}

func TestRunsToolgate(t *testing.T) {
	tests := []struct {
		command string
		args    []string
		want    bool
	}{
		{"toolgate", []string{"stdio", "-c", "p.yaml", "--", "npx", "x"}, true},
		{"/usr/local/bin/toolgate", []string{"--config", "tg.yaml", "stdio"}, true},
		{`C:\tools\toolgate.exe`, []string{"wrap", "-p", "p.yaml", "--", "srv"}, true},
		{"toolgate", []string{"directory", "mcp"}, false},
		{"npx", []string{"toolgate", "stdio"}, false},
		{"toolgate-helper", []string{"stdio"}, false},
		{"toolgate", []string{"--", "stdio"}, false},
	}
	for _, tt := range tests {
		e := &clientconfig.Entry{Command: tt.command, Args: tt.args}
		if got := runsToolgate(e); got != tt.want {
			t.Errorf("runsToolgate(%s %v) = %v, want %v", tt.command, tt.args, got, tt.want)
		}
	}
}

func TestInitFlagMistakes(t *testing.T) {
	initHome(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"init", "--undo", "--yes"}, "--undo takes no --yes"},
		{[]string{"init", "--undo", "--dry-run"}, "--undo takes no --dry-run"},
		{[]string{"init", "--force"}, "--force goes with --undo"},
		{[]string{"init", "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"init", "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		code, _, stderr := runIn(t, "", tt.args...)
		if code != 1 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want 1 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
