package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// adminCall sends method path with body to the admin API with token and
// returns the status and the decoded JSON answer.
func adminCall(t *testing.T, base, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func connectAs(t *testing.T, ctx context.Context, url, token string) (*mcp.ClientSession, error) {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	return client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1,
		HTTPClient: &http.Client{Transport: &headerTransport{base: http.DefaultTransport, h: http.Header{"Authorization": {"Bearer " + token}}}}}, nil)
}

// The admin API manages grants and policies of a running gateway, and
// what it changes takes effect at once: a revoked grant's session is
// refused at its next request with no wait for a cache or a poll.
func TestAdminAPIGrantsAndPolicies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	addr, adminAddr := freeAddr(t), freeAddr(t)
	bin := testpeer.BuildEchoServer(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf(`listen: %s
admin_listen: %s
auth: grants
store: sqlite://toolgate.db
servers:
  echo:
    command: [%q]
policies:
  support: support.json
  broad: {version: "1", default: allow}
`, addr, adminAddr, bin),
		"support.json": `{"version":"1","default":"deny","tools":{"echo":{}}}`,
	})
	cfg := filepath.Join(dir, "toolgate.yaml")
	_, root := adminToken(t, cfg, "root@example.com", "admin")
	_, pm := adminToken(t, cfg, "pm@example.com", "policy_manager")
	_, viewer := adminToken(t, cfg, "viewer@example.com", "viewer")
	startServe(t, cfg, addr)
	api := "http://" + adminAddr
	mcpURL := "http://" + addr + "/mcp"

	code, out := adminCall(t, api, root, "POST", "/admin/grants", `{"subject":"agent:bot","policy":"support"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	token := out["token"].(string)
	id := out["grant"].(map[string]any)["id"].(string)
	if code, _ := adminCall(t, api, root, "POST", "/admin/grants", `{"subject":"x","policy":"nope"}`); code != 400 {
		t.Fatalf("a grant under an unknown policy: %d", code)
	}
	// The agent's listener has none of it.
	if resp, err := http.Get("http://" + addr + "/admin/grants"); err != nil || resp.StatusCode == 200 {
		t.Fatalf("/admin/grants on the MCP listener: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	cs, err := connectAs(t, ctx, mcpURL, token)
	if err != nil {
		t.Fatal(err)
	}
	call := func(cs *mcp.ClientSession, tool string) (bool, error) {
		args := map[string]any{"message": "hi"}
		if tool == "add" {
			args = map[string]any{"a": 1, "b": 2}
		}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil {
			return false, err
		}
		return !res.IsError, nil
	}
	if ok, err := call(cs, "add"); ok || err != nil {
		t.Fatalf("add under support: ok=%v %v", ok, err)
	}

	// The policy manager attaches the broad policy: the session opened
	// under support ends, and a new one decides by broad.
	if code, out := adminCall(t, api, pm, "PUT", "/admin/grants/"+id+"/policy", `{"policy":"broad"}`); code != 200 {
		t.Fatalf("set policy: %d %v", code, out)
	}
	if _, err := call(cs, "echo"); err == nil {
		t.Fatal("the session opened under the old policy still works")
	}
	cs.Close()
	cs, err = connectAs(t, ctx, mcpURL, token)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := call(cs, "add"); !ok || err != nil {
		t.Fatalf("add under broad: ok=%v %v", ok, err)
	}

	// Policies: listed, read, replaced at once; a bad document changes nothing.
	code, out = adminCall(t, api, viewer, "GET", "/admin/policies", "")
	if code != 200 || !strings.Contains(fmt.Sprint(out), "support.json") || !strings.Contains(fmt.Sprint(out), "broad") {
		t.Fatalf("list policies: %d %v", code, out)
	}
	if code, _ := adminCall(t, api, viewer, "PUT", "/admin/policies/support", `{"version":"1","default":"allow"}`); code != 403 {
		t.Fatalf("a viewer replaced a policy: %d", code)
	}
	if code, out := adminCall(t, api, pm, "PUT", "/admin/policies/support", `{"version":"1","default":"deny","tools":{"echo":{},"add":{}}`); code != 400 || !strings.Contains(fmt.Sprint(out["error"]), "support.json") {
		t.Fatalf("a broken policy: %d %v", code, out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "support.json")); string(data) != `{"version":"1","default":"deny","tools":{"echo":{}}}` {
		t.Fatalf("a refused document was written: %s", data)
	}
	if code, out := adminCall(t, api, pm, "PUT", "/admin/policies/broad", `{"version":"1","default":"deny"}`); code != 409 {
		t.Fatalf("an inline policy: %d %v", code, out)
	}
	if code, out := adminCall(t, api, pm, "PUT", "/admin/policies/broad-typo", `{}`); code != 404 {
		t.Fatalf("an unknown policy: %d %v", code, out)
	}
	if code, out := adminCall(t, api, pm, "PUT", "/admin/grants/"+id+"/policy", `{"policy":"support"}`); code != 200 {
		t.Fatalf("set policy back: %d %v", code, out)
	}
	cs.Close()
	newDoc := `{"version":"1","default":"deny","tools":{"echo":{},"add":{}}}`
	if code, out := adminCall(t, api, pm, "PUT", "/admin/policies/support", newDoc); code != 200 || out["sha256"] == "" {
		t.Fatalf("replace support: %d %v", code, out)
	}
	cs, err = connectAs(t, ctx, mcpURL, token)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := call(cs, "add"); !ok || err != nil {
		t.Fatalf("add under the replaced support policy: ok=%v %v", ok, err)
	}
	if code, out := adminCall(t, api, viewer, "GET", "/admin/policies/support", ""); code != 200 || out["document"] != newDoc {
		t.Fatalf("read support: %d %v", code, out)
	}

	// Revoked through the API: the very next request is refused.
	if code, out := adminCall(t, api, root, "POST", "/admin/grants/"+id+"/revoke", ""); code != 200 {
		t.Fatalf("revoke: %d %v", code, out)
	}
	if _, err := call(cs, "echo"); err == nil {
		t.Fatal("the revoked grant's session called a tool after the revocation")
	}
	cs.Close()
	if _, err := connectAs(t, ctx, mcpURL, token); err == nil {
		t.Fatal("the revoked grant's token opened a session")
	}

	// Every change is in the audit log, with the admin token's subject as
	// the actor, and no token anywhere.
	req, _ := http.NewRequest("GET", api+"/admin/audit?kind=admin&limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+viewer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var log struct {
		Events []struct{ Action, Actor, Target string } `json:"events"`
	}
	if err := json.Unmarshal(raw, &log); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /admin/audit: %d %s", resp.StatusCode, raw)
	}
	seen := map[string]string{}
	for _, e := range log.Events {
		if e.Target == id {
			seen[e.Action] = e.Actor
		}
	}
	for action, actor := range map[string]string{"grant.created": "root@example.com", "grant.policy_changed": "pm@example.com", "grant.revoked": "root@example.com"} {
		if seen[action] != actor {
			t.Errorf("audit event %s: actor %q, want %q (events on %s: %v)", action, seen[action], actor, id, seen)
		}
	}
	if strings.Contains(string(raw), token) {
		t.Error("the grant's token is in the audit log")
	}

	// The audit log's counters: every event above was appended, none failed.
	code, stats := adminCall(t, api, viewer, "GET", "/admin/audit/stats", "")
	if code != 200 || stats["appended"].(float64) < float64(len(log.Events)) || stats["failed"].(float64) != 0 || stats["sink_errors"] == nil {
		t.Fatalf("GET /admin/audit/stats: %d %v (%d admin events)", code, stats, len(log.Events))
	}
}
