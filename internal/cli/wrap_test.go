package cli

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// wrapArgs is the argument list of a client entry that wraps a server:
// the form docs/intercept.md gives.
func wrapArgs(policy, stateDir string, command ...string) []string {
	return append([]string{"stdio", "-c", policy, "--state-dir", stateDir, "--"}, command...)
}

// callText calls a tool and returns its text and isError.
func callText(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// TestStdioWrap runs `toolgate stdio -c policy.yaml -- echoserver` as an
// MCP client launches a server, with the go-sdk client over stdio and the
// echo server as the real upstream: the Intercept policy hides, refuses
// and counts, and the day's count survives a restart of the process.
func TestStdioWrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	bin := testpeer.BuildToolgate(t)
	echo := testpeer.BuildEchoServer(t)
	policy, err := filepath.Abs("../../docs/examples/intercept/wrap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	connect := func() *mcp.ClientSession {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.Command(bin, wrapArgs(policy, state, echo)...)
		cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir())
		client := mcp.NewClient(&mcp.Implementation{Name: "wrap-test", Version: "1"}, nil)
		cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}

	cs := connect()
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
	if slices.Contains(names, "DeleteUser") || !slices.Contains(names, "echo") || !slices.Contains(names, "UpdateUser") {
		t.Fatalf("tools/list: %v (want echo and UpdateUser, not the hidden DeleteUser)", names)
	}
	steps := []struct {
		tool    string
		args    map[string]any
		text    string
		refused bool
	}{
		{"echo", map[string]any{"message": "one"}, "one", false},
		{"echo", map[string]any{"message": "two"}, "two", false},
		{"echo", map[string]any{"message": "three"}, "[POLICY DENIED] Two echoes a day", true},
		{"add", map[string]any{"a": 2, "b": 3}, "", false},
		{"add", map[string]any{"a": 11, "b": 3}, `[POLICY DENIED] Denied by rule "small sums"`, true},
		{"DeleteUser", map[string]any{"user_id": "u1"}, `[POLICY DENIED] Tool "DeleteUser" is hidden by policy`, true},
	}
	for _, s := range steps {
		text, isErr := callText(t, cs, s.tool, s.args)
		if isErr != s.refused || (s.text != "" && text != s.text) {
			t.Fatalf("%s %v: %q (isError %v), want %q (isError %v)", s.tool, s.args, text, isErr, s.text, s.refused)
		}
	}
	if err := cs.Close(); err != nil {
		t.Logf("close: %v", err)
	}

	// A new process with the same state directory: the day's echoes are
	// still spent.
	cs = connect()
	defer cs.Close()
	if text, isErr := callText(t, cs, "echo", map[string]any{"message": "again"}); !isErr || text != "[POLICY DENIED] Two echoes a day" {
		t.Fatalf("after a restart: %q (isError %v), want the day's limit", text, isErr)
	}
}
