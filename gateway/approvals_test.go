package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

type approvalsEnv struct {
	echo   *testpeer.EchoServer
	mcpURL string // the MCP listener: /mcp only
	admin  string // the admin listener
	tokens map[string]string
	store  *admin.Memory
	cs     *mcp.ClientSession
}

// newApprovalsEnv serves a gateway's MCP endpoint and its admin API on
// two listeners, as serve does. Its admin tokens: "alice" (admin),
// "viewer" (viewer) and "anonymous" (admin; the subject of every call,
// since the MCP listener runs without grants).
func newApprovalsEnv(t *testing.T, doc string, m *approval.Manager, auditor ...gateway.Auditor) *approvalsEnv {
	t.Helper()
	echo := testpeer.GoEchoServer()
	eng, err := policy.Load([]byte(doc), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	opts := &gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}}, Policy: eng,
		Approvals: m, Logger: quietLogger()}
	if len(auditor) > 0 {
		opts.Audit = auditor[0]
	}
	gw, err := gateway.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	env := &approvalsEnv{echo: echo, store: admin.NewMemory(), tokens: map[string]string{}}
	for subject, role := range map[string]admin.Role{"alice": admin.Admin, "viewer": admin.Viewer, "anonymous": admin.Admin} {
		_, secret, err := admin.Create(context.Background(), env.store, admin.Spec{Subject: subject, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		env.tokens[subject] = secret
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", gw)
	ts := httptest.NewServer(mux)
	as := httptest.NewServer(gw.AdminHandler(&admin.Verifier{Store: env.store}))
	t.Cleanup(func() { ts.Close(); as.Close(); gw.Close() })
	env.mcpURL, env.admin = ts.URL, as.URL
	env.cs = connect(t, testContext(t), ts.URL+"/mcp", nil)
	return env
}

// do sends one admin API request with the token of subject (none when
// "") and returns the status and body.
func (e *approvalsEnv) do(t *testing.T, method, path, subject string, body any) (int, []byte) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, e.admin+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[subject])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// pending waits until the admin API lists one pending approval and returns it.
func (e *approvalsEnv) pending(t *testing.T) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		code, data := e.do(t, http.MethodGet, "/admin/approvals?status=pending", "viewer", nil)
		if code != http.StatusOK {
			t.Fatalf("GET /admin/approvals: HTTP %d %s", code, data)
		}
		var out struct {
			Approvals []map[string]any `json:"approvals"`
		}
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Approvals) == 1 {
			return out.Approvals[0]
		}
	}
	t.Fatal("no pending approval appeared")
	return nil
}

// decide decides as alice, an admin.
func (e *approvalsEnv) decide(t *testing.T, id, verb, reason string) int {
	t.Helper()
	code, _ := e.do(t, http.MethodPost, "/admin/approvals/"+id+"/"+verb, "alice", map[string]string{"reason": reason})
	return code
}

const approvePolicy = `{"version":"1","default":"deny","tools":{
	"DeleteUser":{"action":"approve","approval":{"timeout":"%s"}},
	"UpdateUser":{"action":"approve"}}}`

// A call under "action": "approve" waits for a human: approved, it goes
// through; denied, the agent reads who and why; nobody answering, it times
// out. Secrets in the arguments never reach the approver.
func TestApprovals(t *testing.T) {
	ctx := testContext(t)
	m := approval.NewManager(approval.NewMemoryStore(), nil)
	env := newApprovalsEnv(t, strings.Replace(approvePolicy, "%s", "300ms", 1), m)

	type result struct {
		res *mcp.CallToolResult
		err error
	}
	call := func(name string, args map[string]any) <-chan result {
		ch := make(chan result, 1)
		go func() {
			res, err := env.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
			ch <- result{res, err}
		}()
		return ch
	}

	// Approved: forwarded.
	done := call("UpdateUser", map[string]any{"user_id": "u1", "password": "hunter2hunter2"})
	p := env.pending(t)
	if p["tool"] != "UpdateUser" || strings.Contains(toJSON(p), "hunter2") || !strings.Contains(toJSON(p["args"]), "[REDACTED]") {
		t.Fatalf("pending approval: %v", p)
	}
	if env.echo.Calls("UpdateUser") != 0 {
		t.Fatal("the call reached the upstream before approval")
	}
	if code := env.decide(t, p["id"].(string), "approve", ""); code != 200 {
		t.Fatalf("approve: HTTP %d", code)
	}
	r := <-done
	if r.err != nil || r.res.IsError || textOf(r.res) != "updated u1" || env.echo.Calls("UpdateUser") != 1 {
		t.Fatalf("approved call: %v %+v", r.err, r.res)
	}
	if code := env.decide(t, p["id"].(string), "deny", ""); code != http.StatusConflict {
		t.Errorf("deciding twice: HTTP %d, want 409", code)
	}

	// Denied: refused, with who and why, and the approval's id.
	done = call("UpdateUser", map[string]any{"user_id": "u2"})
	p = env.pending(t)
	env.decide(t, p["id"].(string), "deny", "not during the freeze")
	r = <-done
	if r.err != nil || !r.res.IsError || !strings.Contains(textOf(r.res), "denied by alice: not during the freeze") {
		t.Fatalf("denied call: %v %+v", r.err, r.res)
	}
	if meta := r.res.Meta["toolgate/decision"].(map[string]any); meta["approval_id"] != p["id"] || meta["kind"] != "approval" {
		t.Errorf("decision meta: %v", meta)
	}
	if env.echo.Calls("UpdateUser") != 1 {
		t.Error("a denied call reached the upstream")
	}

	// Nobody answers: the approval expires and the call is refused.
	r = <-call("DeleteUser", map[string]any{"user_id": "u3"})
	if r.err != nil || !r.res.IsError || !strings.Contains(textOf(r.res), "nobody approved the call within 300ms") {
		t.Fatalf("timed-out call: %v %+v", r.err, r.res)
	}
	if env.echo.Calls("DeleteUser") != 0 {
		t.Error("an expired call reached the upstream")
	}
	if code := env.decide(t, "apr_nope", "approve", ""); code != http.StatusNotFound {
		t.Errorf("unknown approval: HTTP %d", code)
	}
}

// An approval granted after the call gave up (or after a restart: the
// store is SQLite) lets the same call through once when the agent retries.
func TestApprovalRetriedAfterRestart(t *testing.T) {
	ctx := testContext(t)
	path := filepath.Join(t.TempDir(), "approvals.db")
	store, err := approval.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	env := newApprovalsEnv(t, strings.Replace(approvePolicy, "%s", "1h", 1), approval.NewManager(store, nil))
	args := map[string]any{"user_id": "u9"}
	callCtx, cancel := context.WithCancel(ctx)
	go func() {
		_, _ = env.cs.CallTool(callCtx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: args})
	}()
	p := env.pending(t)
	cancel() // the agent gives up; the request stays pending
	store.Close()

	// "Restart": a new gateway over the same file. The approval is still there.
	store2, err := approval.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store2.Close()
	env2 := newApprovalsEnv(t, strings.Replace(approvePolicy, "%s", "1h", 1), approval.NewManager(store2, nil))
	if got := env2.pending(t); got["id"] != p["id"] {
		t.Fatalf("after restart: %v, want %v", got["id"], p["id"])
	}
	if code := env2.decide(t, p["id"].(string), "approve", ""); code != 200 {
		t.Fatalf("approve after restart: HTTP %d", code)
	}
	res, err := env2.cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: args})
	if err != nil || res.IsError || textOf(res) != "deleted u9" {
		t.Fatalf("retried call: %v %+v", err, res)
	}
	// One approval, one call: the next identical call asks again.
	ctx2, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	res, err = env2.cs.CallTool(ctx2, &mcp.CallToolParams{Name: "DeleteUser", Arguments: args})
	if err == nil && !res.IsError {
		t.Fatal("one approval let two calls through")
	}
}

// Without approvals configured, approve rules refuse with a clear reason.
func TestApprovalsNotConfigured(t *testing.T) {
	env := newApprovalsEnv(t, strings.Replace(approvePolicy, "%s", "1m", 1), nil)
	res, err := env.cs.CallTool(testContext(t), &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": "u"}})
	if err != nil || !res.IsError || !strings.Contains(textOf(res), "approvals are not configured") {
		t.Fatalf("%v %+v", err, res)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Limits come before the human: a call over its limit is refused at once
// and creates no approval; an approved call's quota was held while the
// human decided; a refused call gives its quota back.
func TestApprovalAfterLimit(t *testing.T) {
	ctx := testContext(t)
	m := approval.NewManager(approval.NewMemoryStore(), nil)
	env := newApprovalsEnv(t, `{"version":"1","default":"deny","tools":{
		"DeleteUser":{"action":"approve","limits":[{"counter":"del","window":"hour","max":1,"scope":"session"}]}}}`, m)
	call := func(id string) <-chan *mcp.CallToolResult {
		ch := make(chan *mcp.CallToolResult, 1)
		go func() {
			res, err := env.cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": id}})
			if err != nil {
				t.Error(err)
			}
			ch <- res
		}()
		return ch
	}
	// Refused by the human: the quota comes back.
	done := call("u1")
	p := env.pending(t)
	env.decide(t, p["id"].(string), "deny", "no")
	if res := <-done; res == nil || !res.IsError || !strings.Contains(textOf(res), "denied by alice") {
		t.Fatalf("denied call: %+v", res)
	}
	// Approved: it goes through, using the quota.
	done = call("u2")
	p = env.pending(t)
	env.decide(t, p["id"].(string), "approve", "")
	if res := <-done; res == nil || res.IsError || textOf(res) != "deleted u2" {
		t.Fatalf("approved call: %+v", res)
	}
	// Over the limit: refused at once, and no human is asked.
	res := <-call("u3")
	if res == nil || !res.IsError || !strings.Contains(textOf(res), "rate limit of 1 per hour") {
		t.Fatalf("call over the limit: %+v", res)
	}
	list, err := m.List(ctx, approval.Pending, 10)
	if err != nil || len(list) != 0 {
		t.Fatalf("pending approvals after a limited call: %v %v", list, err)
	}
}

// The admin API is not on the MCP listener, needs an admin token, lets a
// viewer read but not decide, records the token's subject as the decider
// and refuses an approver's approval of their own call.
func TestApprovalsAdminAuth(t *testing.T) {
	ctx := testContext(t)
	m := approval.NewManager(approval.NewMemoryStore(), nil)
	env := newApprovalsEnv(t, strings.Replace(approvePolicy, "%s", "1m", 1), m)

	for _, path := range []string{"/admin/approvals", "/admin/tools"} {
		resp, err := http.Get(env.mcpURL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("the MCP listener answers GET %s: HTTP %d, want 404", path, resp.StatusCode)
		}
	}

	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := env.cs.CallTool(ctx, &mcp.CallToolParams{Name: "UpdateUser", Arguments: map[string]any{"user_id": "u1"}})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	p := env.pending(t)
	id := p["id"].(string)
	if p["subject"] != "anonymous" {
		t.Fatalf("held for %v", p["subject"])
	}
	approve := "/admin/approvals/" + id + "/approve"
	tests := []struct {
		name, method, path, subject string
		body                        any
		want                        int
		wantBody                    string
	}{
		{"no token lists nothing", "GET", "/admin/approvals", "", nil, 401, "admin token is required"},
		{"no token decides nothing", "POST", approve, "", nil, 401, "admin token is required"},
		{"no token, unknown route", "GET", "/admin/nope", "", nil, 401, ""},
		{"viewer lists", "GET", "/admin/approvals", "viewer", nil, 200, id},
		{"viewer reads one", "GET", "/admin/approvals/" + id, "viewer", nil, 200, id},
		{"viewer reads tools", "GET", "/admin/tools", "viewer", nil, 200, "toolgate.admin.tools/v1"},
		{"viewer cannot approve", "POST", approve, "viewer", nil, 403, "the role viewer may not POST"},
		{"viewer cannot deny", "POST", "/admin/approvals/" + id + "/deny", "viewer", nil, 403, "needs the role admin"},
		{"no self-approval", "POST", approve, "anonymous", nil, 403, "an approver cannot approve their own call"},
		{"by in the body is refused", "POST", approve, "alice", map[string]string{"by": "mallory"}, 400, `is not accepted: the decider is the admin token`},
		{"unknown field refused", "POST", approve, "alice", map[string]string{"who": "x"}, 400, "JSON object"},
		{"admin approves", "POST", approve, "alice", map[string]string{"reason": "ok"}, 200, `"decided_by": "alice"`},
	}
	for _, tt := range tests {
		code, data := env.do(t, tt.method, tt.path, tt.subject, tt.body)
		if code != tt.want || !strings.Contains(string(data), tt.wantBody) {
			t.Errorf("%s: HTTP %d %s, want %d with %q", tt.name, code, data, tt.want, tt.wantBody)
		}
	}
	if res := <-done; res == nil || res.IsError {
		t.Fatalf("approved call: %+v", res)
	}
	if r, err := m.Get(ctx, id); err != nil || r.DecidedBy != "alice" || r.Status != approval.Approved {
		t.Fatalf("stored decision: %+v %v", r, err)
	}

	// A revoked token is refused like an unknown one.
	list, _ := env.store.List(ctx)
	for _, tok := range list {
		if tok.Subject == "alice" {
			if _, err := env.store.Revoke(ctx, tok.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if code, data := env.do(t, "GET", "/admin/approvals", "alice", nil); code != 401 || !strings.Contains(string(data), "admin token is required") {
		t.Errorf("revoked token: HTTP %d %s", code, data)
	}
}
