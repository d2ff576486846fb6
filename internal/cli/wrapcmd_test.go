package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// TestWrapUsage runs the wrap's refusals in process: each exits 1 before
// anything starts, saying what is wrong, and never echoes a header value.
func TestWrapUsage(t *testing.T) {
	dir := writeFiles(t, map[string]string{"p.yaml": "version: \"1\"\n", "q.yaml": "version: \"1\"\n"})
	p, q := filepath.Join(dir, "p.yaml"), filepath.Join(dir, "q.yaml")
	state := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"http to a remote host", []string{"wrap", "--state-dir", state, "--upstream", "http://example.com/mcp"}, "http:// is only allowed to a loopback address"},
		{"credentials in the URL", []string{"wrap", "--state-dir", state, "--upstream", "https://u:pw@example.com/mcp"}, "must not hold credentials"},
		{"a command and --upstream", []string{"wrap", "--state-dir", state, "--upstream", "https://example.com/mcp", "--", "echoserver"}, "not both"},
		{"--header without --upstream", []string{"wrap", "--state-dir", state, "--header", "Authorization: Bearer s3cret", "--", "echoserver"}, "--header needs --upstream"},
		{"a header without a colon", []string{"wrap", "--state-dir", state, "--upstream", "https://example.com/mcp", "--header", "Bearer s3cret"}, `--header number 1: want "Name: value"`},
		{"a reserved header", []string{"wrap", "--state-dir", state, "--upstream", "https://example.com/mcp", "--header", "Mcp-Session-Id: s3cret"}, "cannot be configured"},
		{"an HTTP front", []string{"-c", p, "--state-dir", state, "--transport", "http", "--upstream", "https://example.com/mcp"}, "stdio only"},
		{"two policies", []string{"wrap", "-c", p, "-p", q, "--state-dir", state, "--", "echoserver"}, "one policy file"},
		{"a missing policy", []string{"-c", filepath.Join(dir, "none.yaml"), "--state-dir", state, "--", "echoserver"}, "--policy"},
		{"no server", []string{"wrap", "-p", p}, `a command after "--" or --upstream`},
		{"an argument before --", []string{"wrap", "-p", p, "echoserver"}, `no arguments before "--"`},
		{"a misspelt command", []string{"serv"}, `unknown command "serv" for "toolgate" (did you mean serve?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.args...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, stderr, tt.want)
			}
			if strings.Contains(stderr, "s3cret") {
				t.Fatalf("stderr shows a header value: %q", stderr)
			}
		})
	}
}

// TestWrapForms runs the policy of docs/intercept.md in front of the echo
// server under each spelling of the wrap a client entry may use: each
// hides DeleteUser and refuses add over 10, and the echo server never
// sees the refused call.
func TestWrapForms(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	bin := testpeer.BuildToolgate(t)
	echo := testpeer.BuildEchoServer(t)
	policy, err := filepath.Abs("../../docs/examples/intercept/wrap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	forms := []struct {
		name string
		args func(state, calls string) []string
	}{
		{"wrap -p", func(state, calls string) []string {
			return []string{"wrap", "-p", policy, "--state-dir", state, "--", echo, "-calls", calls}
		}},
		{"intercept's entry, one word changed", func(state, calls string) []string {
			return []string{"-c", policy, "--state-dir", state, "--", echo, "-calls", calls}
		}},
		{"intercept's --config", func(state, calls string) []string {
			return []string{"--config", policy, "--state-dir", state, "--", echo, "-calls", calls}
		}},
		{"stdio -c", func(state, calls string) []string {
			return []string{"stdio", "-c", policy, "--state-dir", state, "--", echo, "-calls", calls}
		}},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			calls := filepath.Join(t.TempDir(), "calls.log")
			cmd := exec.Command(bin, f.args(t.TempDir(), calls)...)
			cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir())
			cs := connectCommand(t, cmd)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			lt, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range lt.Tools {
				names = append(names, tool.Name)
			}
			if slices.Contains(names, "DeleteUser") || !slices.Contains(names, "add") {
				t.Fatalf("tools/list: %v (want add, not the hidden DeleteUser)", names)
			}
			if text, isErr := callText(t, cs, "add", map[string]any{"a": 11, "b": 1}); !isErr || text != `[POLICY DENIED] Denied by rule "small sums"` {
				t.Fatalf("add 11: %q (isError %v), want the rule's refusal", text, isErr)
			}
			if _, isErr := callText(t, cs, "add", map[string]any{"a": 1, "b": 1}); isErr {
				t.Fatal("add 1: refused")
			}
			if got := testpeer.CallLog(t, calls); got["add"] != 1 {
				t.Fatalf("the server executed %v; want add once (the refused call never reaches it)", got)
			}
		})
	}
}

// connectCommand connects the go-sdk client to the MCP server cmd runs on
// its stdio, and closes the session at the end of the test.
func connectCommand(t *testing.T, cmd *exec.Cmd) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "wrap-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// TestWrapUpstream bridges the go-sdk client, over the stdio of the
// built binary, to the echo server on streamable HTTP (httptest, on
// loopback): every request carries the --header values, a refused call
// never reaches the server, and no header value appears in the logs, even
// at debug level.
func TestWrapUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	bin := testpeer.BuildToolgate(t)
	es := testpeer.GoEchoServer()
	var mu sync.Mutex
	var auths, customs []string
	inner := es.HTTPHandler()
	mux := http.NewServeMux()
	mux.Handle("/mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		customs = append(customs, r.Header.Get("X-Tenant"))
		mu.Unlock()
		inner.ServeHTTP(w, r)
	}))
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { ts.CloseClientConnections(); ts.Close() })

	const token = "tok-7f3a9c-never-logged"
	dir := writeFiles(t, map[string]string{"policy.yaml": `version: "1"
tools:
  DeleteUser:
    rules:
      - name: "keep users"
        action: deny
        on_deny: "Users are kept"
`})
	var stderr testpeer.SyncBuffer
	cmd := exec.Command(bin, "--log-level", "debug", "-c", filepath.Join(dir, "policy.yaml"), "--state-dir", t.TempDir(),
		"--upstream", ts.URL+"/mcp", "--header", "Authorization: Bearer "+token, "--header", "X-Tenant: acme")
	cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir())
	cmd.Stderr = &stderr
	cs := connectCommand(t, cmd)

	if text, isErr := callText(t, cs, "DeleteUser", map[string]any{"user_id": "u1"}); !isErr || text != "[POLICY DENIED] Users are kept" {
		t.Fatalf("DeleteUser: %q (isError %v), want the policy's refusal", text, isErr)
	}
	if text, isErr := callText(t, cs, "UpdateUser", map[string]any{"user_id": "u1"}); isErr || !strings.Contains(text, "u1") {
		t.Fatalf("UpdateUser: %q (isError %v), want the server's answer", text, isErr)
	}
	if got := es.AllCalls(); got["DeleteUser"] != 0 || got["UpdateUser"] != 1 {
		t.Fatalf("the server executed %v; want UpdateUser once and DeleteUser never", got)
	}
	mu.Lock()
	seen, tenants := slices.Clone(auths), slices.Clone(customs)
	mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("the server got no request")
	}
	for i := range seen {
		if seen[i] != "Bearer "+token || tenants[i] != "acme" {
			t.Fatalf("request %d carried Authorization %q and X-Tenant %q; want both headers on every request", i, seen[i], tenants[i])
		}
	}
	_ = cs.Close()
	if logs := stderr.String(); strings.Contains(logs, token) {
		t.Fatalf("the logs show the header's value:\n%s", logs)
	} else if !strings.Contains(logs, "level=DEBUG") && !strings.Contains(logs, "level=INFO") {
		t.Fatalf("no logs at all, so the check above proves nothing:\n%s", logs)
	}
}
