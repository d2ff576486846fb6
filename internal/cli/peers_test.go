package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// serveGrants runs `toolgate serve` with auth: grants, the stdio echo server
// as its one upstream and a policy that allows echo only, and returns its
// /mcp URL and the token of a grant created with `toolgate grant create`.
func serveGrants(t *testing.T) (url, token string) {
	t.Helper()
	addr := freeAddr(t)
	bin := testpeer.BuildEchoServer(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf(`listen: %s
admin_listen: off
auth: grants
store: sqlite://toolgate.db
servers:
  echo:
    command: [%q]
policies:
  support: {version: "1", default: deny, tools: {echo: {}}}
`, addr, bin),
	})
	cfg := filepath.Join(dir, "toolgate.yaml")
	code, out, errOut := run(t, "grant", "create", "--config", cfg, "--subject", "agent:peer", "--policy", "support")
	m := issuedRE.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("grant create = %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	startServe(t, cfg, addr)
	return "http://" + addr + "/mcp", m[2]
}

// wrongToken is shaped like a grant's token but belongs to none.
const wrongToken = "tg_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// The TypeScript SDK client, given a grant's token in its environment,
// lists and calls tools through `toolgate serve` with auth: grants; without
// a token, or with one that is not a grant's, it cannot connect: 401.
func TestServeGrantsTypeScriptClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	url, token := serveGrants(t)
	steps := []map[string]any{
		{"op": "listTools"},
		{"op": "callTool", "name": "echo", "arguments": map[string]any{"message": "from typescript"}},
		{"op": "callTool", "name": "add", "arguments": map[string]any{"a": 1, "b": 2}},
	}

	t.Run("with the token", func(t *testing.T) {
		lines, err := testpeer.NodeClientToken(t, ctx, url, token, steps)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 4 {
			t.Fatalf("%d lines, want 4: %s", len(lines), lines)
		}
		var list struct {
			Tools []struct{ Name string } `json:"tools"`
		}
		s := testpeer.DecodeStep(t, lines[1])
		if s.Error != nil || json.Unmarshal(s.Result, &list) != nil {
			t.Fatalf("listTools: %s", lines[1])
		}
		var names []string
		for _, tl := range list.Tools {
			names = append(names, tl.Name)
		}
		if strings.Join(names, ",") != "echo" { // the policy hides what default: deny refuses
			t.Errorf("listTools = %q, want [echo]", names)
		}
		if s := testpeer.DecodeStep(t, lines[2]); s.Error != nil || !strings.Contains(string(s.Result), `"text":"from typescript"`) ||
			strings.Contains(string(s.Result), `"isError":true`) {
			t.Errorf("echo: %s", lines[2])
		}
		if s := testpeer.DecodeStep(t, lines[3]); s.Error == nil && !strings.Contains(string(s.Result), `"isError":true`) {
			t.Errorf("add, which the grant's policy denies: %s", lines[3])
		}
	})

	for _, tc := range []struct{ name, token string }{
		{"without a token", ""},
		{"with a wrong token", wrongToken},
		{"with the token cut short", token[:len(token)-1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, err := testpeer.NodeClientToken(t, ctx, url, tc.token, steps)
			if err == nil {
				t.Fatalf("the client connected: %s", lines)
			}
			if len(lines) != 1 {
				t.Fatalf("want just the connection error line, got %s (%v)", lines, err)
			}
			var conn struct{ Error testpeer.StepError }
			if json.Unmarshal(lines[0], &conn) != nil || conn.Error.Code != 401 {
				t.Fatalf("want a 401 connection error, got %s", lines[0])
			}
		})
	}
}

// The MCP Inspector's CLI mode, given the grant's token with --header, lists
// and calls tools through `toolgate serve` with auth: grants; without the
// header, or with a wrong token, it fails.
func TestServeGrantsInspectorCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	url, token := serveGrants(t)
	bearer := []string{"--header", "Authorization: Bearer " + token}
	inspector := func(t *testing.T, args ...string) (string, error) {
		t.Helper()
		return testpeer.InspectorCLI(t, ctx, append([]string{url, "--transport", "http"}, args...)...)
	}

	out, err := inspector(t, append(bearer, "--method", "tools/list")...)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Tools []struct{ Name string } `json:"tools"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Tools) != 1 || list.Tools[0].Name != "echo" {
		t.Errorf("tools/list: want just echo, got %s (%v)", out, err)
	}

	out, err = inspector(t, append(bearer, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=from the inspector")...)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Content []struct{ Type, Text string } `json:"content"`
		IsError bool                          `json:"isError"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.IsError || len(res.Content) != 1 || res.Content[0].Text != "from the inspector" {
		t.Errorf("tools/call echo: %s (%v)", out, err)
	}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"without the header", nil},
		{"with a wrong token", []string{"--header", "Authorization: Bearer " + wrongToken}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := inspector(t, append(tc.args, "--method", "tools/list")...)
			if err == nil {
				t.Fatalf("tools/list succeeded: %s", out)
			}
			// The CLI prints the body of the 401, not its status.
			if !strings.Contains(err.Error(), "unauthorized: a valid grant token is required") {
				t.Errorf("want the failure to carry the gateway's refusal: %v", err)
			}
		})
	}
}
