package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// adminToken runs `admin token create -o json` and returns the id and token.
func adminToken(t *testing.T, cfg, subject, role string) (string, string) {
	t.Helper()
	code, out, errOut := run(t, "admin", "token", "create", "--config", cfg, "--subject", subject, "--role", role, "-o", "json")
	var doc struct {
		AdminToken struct {
			ID      string `json:"id"`
			Subject string `json:"subject"`
			Role    string `json:"role"`
			Status  string `json:"status"`
		} `json:"admin_token"`
		Token string `json:"token"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || !strings.HasPrefix(doc.Token, "tga_") ||
		doc.AdminToken.Subject != subject || doc.AdminToken.Role != role || doc.AdminToken.Status != "active" {
		t.Fatalf("admin token create: exit %d %q %q", code, out, errOut)
	}
	return doc.AdminToken.ID, doc.Token
}

// `toolgate serve` with its admin plane, end to end: the MCP listener has
// no /admin route; `toolgate approvals` reaches the admin listener with a
// token from the environment; a viewer lists but cannot decide; an admin's
// decision is recorded as theirs; nobody approves their own call; a
// revoked token is refused.
func TestApprovalsCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	addr, adminAddr := freeAddr(t), freeAddr(t)
	bin := testpeer.BuildEchoServer(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf("listen: %s\nadmin_listen: %s\nauth: none\nservers:\n  echo:\n    command: [%q]\npolicies:\n  default: policy.json\n", addr, adminAddr, bin),
		"policy.json":   `{"version":"1","default":"deny","tools":{"DeleteUser":{"action":"approve"}}}`,
	})
	cfg := filepath.Join(dir, "toolgate.yaml")
	aliceID, alice := adminToken(t, cfg, "alice@example.com", "admin")
	_, viewer := adminToken(t, cfg, "viewer@example.com", "viewer")
	// Calls run as "anonymous" (auth: none): this admin is their subject.
	_, self := adminToken(t, cfg, "anonymous", "admin")
	t.Setenv("TG_TEST_ALICE", alice)
	t.Setenv("TG_TEST_VIEWER", viewer)
	t.Setenv("TG_TEST_SELF", self)
	t.Setenv("TOOLGATE_ADMIN_TOKEN", "")

	out, _ := startServe(t, cfg, addr)
	adminURL := "http://" + adminAddr
	// serve may answer /healthz a moment before it prints its addresses.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), adminURL+"/admin/") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), adminURL+"/admin/") {
		t.Errorf("serve did not print the admin API's URL: %q", out.String())
	}
	for _, tc := range []struct {
		url, token string
		want       int
	}{
		{"http://" + addr + "/admin/approvals", alice, 404},
		{"http://" + addr + "/admin/tools", alice, 404},
		{adminURL + "/admin/approvals", "", 401},
		{adminURL + "/admin/tools", viewer, 200},
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tc.url, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s: %d %s, want %d", tc.url, resp.StatusCode, body, tc.want)
		}
	}

	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	admin := func(env string, args ...string) (int, string, string) {
		return run(t, append(args, "--admin-url", adminURL, "--token-env", env)...)
	}

	for _, tc := range []struct {
		verb, user, want string
		isError          bool
	}{
		{"approve", "u1", "deleted u1", false},
		{"deny", "u2", "denied by alice@example.com: keep them", true},
	} {
		done := make(chan *mcp.CallToolResult, 1)
		go func() {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": tc.user}})
			if err != nil {
				t.Error(err)
			}
			done <- res
		}()
		var id string
		for deadline := time.Now().Add(10 * time.Second); id == ""; time.Sleep(20 * time.Millisecond) {
			code, out, errOut := admin("TG_TEST_VIEWER", "approvals", "list")
			if code != 0 {
				t.Fatalf("list: exit %d: %s", code, errOut)
			}
			if m := regexp.MustCompile(`(apr_\w+)\s+pending\s+DeleteUser`).FindStringSubmatch(out); m != nil {
				id = m[1]
			}
			if time.Now().After(deadline) {
				t.Fatalf("the held call is not listed:\n%s", out)
			}
		}
		// -o json lists the same.
		if code, out, _ := admin("TG_TEST_VIEWER", "approvals", "list", "-o", "json"); code != 0 || !strings.Contains(out, `"id": "`+id+`"`) {
			t.Errorf("list -o json: exit %d %s", code, out)
		}
		// A viewer cannot decide (exit 4), nor can the call's own subject approve.
		if code, _, errOut := admin("TG_TEST_VIEWER", "approvals", tc.verb, id); code != 4 || !strings.Contains(errOut, "needs the role admin") {
			t.Errorf("viewer %s: exit %d %s", tc.verb, code, errOut)
		}
		if code, _, errOut := admin("TG_TEST_SELF", "approvals", "approve", id); code != 4 || !strings.Contains(errOut, "cannot approve their own call") {
			t.Errorf("self-approval: exit %d %s", code, errOut)
		}
		code, out, errOut := admin("TG_TEST_ALICE", "approvals", tc.verb, id, "--reason", "keep them")
		if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "by alice@example.com") {
			t.Fatalf("%s: exit %d %s %s", tc.verb, code, out, errOut)
		}
		res := <-done
		if res == nil || res.IsError != tc.isError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, tc.want) {
			t.Fatalf("%s: the call ended with %+v", tc.verb, res)
		}
		// Deciding again is a conflict (exit 5).
		if code, _, errOut := admin("TG_TEST_ALICE", "approvals", "approve", id); code != 5 || !strings.Contains(errOut, "already decided") {
			t.Errorf("second decision: exit %d %s", code, errOut)
		}
	}
	// Each held call is in the audit log, by its subject; the decisions
	// by the admin token's.
	req, _ := http.NewRequest("GET", adminURL+"/admin/audit?kind=admin&limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+viewer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(body), `"action": "approval.requested"`); n != 2 || !strings.Contains(string(body), `"actor": "anonymous"`) ||
		strings.Count(string(body), `"action": "approval.decided"`) != 2 {
		t.Errorf("audit: %d approval.requested events, want 2:\n%s", n, body)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown approval", []string{"approvals", "approve", "apr_nope", "--admin-url", adminURL, "--token-env", "TG_TEST_ALICE"}, 3, "no approval"},
		{"--by is refused", []string{"approvals", "approve", "apr_nope", "--by", "bob", "--admin-url", adminURL, "--token-env", "TG_TEST_ALICE"}, 1, "the decider is the admin token's subject"},
		{"no token", []string{"approvals", "list", "--admin-url", adminURL}, 1, "$TOOLGATE_ADMIN_TOKEN is empty"},
		{"bad -o", []string{"approvals", "list", "-o", "yaml", "--admin-url", adminURL, "--token-env", "TG_TEST_VIEWER"}, 1, "-o must be table or json"},
		{"unreachable", []string{"approvals", "list", "--admin-url", "http://127.0.0.1:1", "--token-env", "TG_TEST_VIEWER"}, 7, "cannot reach"},
	} {
		if code, _, errOut := run(t, tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d %s, want %d with %q", tc.name, code, errOut, tc.code, tc.want)
		}
	}

	// Revoked, alice's token is refused at once, like an unknown one.
	if code, out, errOut := run(t, "admin", "token", "revoke", aliceID, "--config", cfg); code != 0 || !strings.Contains(out, "revoked "+aliceID) {
		t.Fatalf("revoke: exit %d %s %s", code, out, errOut)
	}
	if code, _, errOut := admin("TG_TEST_ALICE", "approvals", "list"); code != 4 || !strings.Contains(errOut, "admin token is required") {
		t.Errorf("revoked token: exit %d %s", code, errOut)
	}
}

// admin token create, list and revoke work on the store directly.
func TestAdminTokenCommands(t *testing.T) {
	dir := writeFiles(t, map[string]string{"toolgate.yaml": "auth: none\nstore: sqlite://toolgate.db\n"})
	cfg := filepath.Join(dir, "toolgate.yaml")
	code, out, errOut := run(t, "admin", "token", "create", "--config", cfg, "--subject", "alice@example.com", "--role", "policy_manager")
	m := regexp.MustCompile(`^admin token  (adm_[a-z2-7]{12}) \(alice@example.com, policy_manager\)\ntoken        (tga_[A-Za-z0-9_-]{43})\nexpires      never\n$`).FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.Contains(errOut, "not shown again") {
		t.Fatalf("create: exit %d %q %q", code, out, errOut)
	}
	id := m[1]
	tests := []struct {
		name string
		args []string
		code int
		out  string // in stdout, or stderr when code != 0
	}{
		{"list", []string{"list"}, 0, id + "  alice@example.com  policy_manager  active"},
		{"list json", []string{"list", "-o", "json"}, 0, `"role": "policy_manager"`},
		{"list json has no secret", []string{"list", "-o", "json"}, 0, `"status": "active"`},
		{"bad role", []string{"create", "--subject", "bob", "--role", "root"}, 1, "role must be admin, policy_manager or viewer"},
		{"no subject", []string{"create", "--role", "viewer"}, 1, "subject is required"},
		{"bad output", []string{"list", "-o", "yaml"}, 1, "-o must be table or json"},
		{"revoke bad id", []string{"revoke", "gr_aaaaaaaaaaaa"}, 1, "not an admin token id"},
		{"revoke unknown", []string{"revoke", "adm_aaaaaaaaaaaa"}, 3, "not found"},
		{"revoke", []string{"revoke", id}, 0, "revoked " + id},
		{"revoke again", []string{"revoke", id}, 0, "already revoked"},
		{"listed revoked", []string{"list"}, 0, "revoked"},
	}
	for _, tt := range tests {
		code, out, errOut := run(t, append(append([]string{"admin", "token"}, tt.args...), "--config", cfg)...)
		got := out
		if tt.code != 0 {
			got = errOut
		}
		if code != tt.code || !strings.Contains(got, tt.out) || strings.Contains(out, "tga_") {
			t.Errorf("%s: exit %d\nstdout %q\nstderr %q\nwant exit %d with %q", tt.name, code, out, errOut, tt.code, tt.out)
		}
	}
}

// serve --listen cannot move the MCP front onto the admin listener.
func TestServeListenOnAdminAddress(t *testing.T) {
	adminAddr := freeAddr(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf("admin_listen: %s\npolicies:\n  default: {version: \"1\", default: deny}\n", adminAddr),
	})
	code, _, errOut := run(t, "serve", "--config", filepath.Join(dir, "toolgate.yaml"), "--listen", adminAddr)
	if code != 1 || !strings.Contains(errOut, "is the MCP listener's address") {
		t.Fatalf("exit %d %s", code, errOut)
	}
}
