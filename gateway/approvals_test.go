package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

type approvalsEnv struct {
	echo  *testpeer.EchoServer
	admin string
	cs    *mcp.ClientSession
}

func newApprovalsEnv(t *testing.T, doc string, m *approval.Manager) *approvalsEnv {
	t.Helper()
	echo := testpeer.GoEchoServer()
	eng, err := policy.Load([]byte(doc), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}}, Policy: eng,
		Approvals: m, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", gw)
	mux.Handle("/admin/", gw.AdminHandler())
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { ts.Close(); gw.Close() })
	return &approvalsEnv{echo: echo, admin: ts.URL, cs: connect(t, testContext(t), ts.URL+"/mcp", nil)}
}

// pending waits until the admin API lists one pending approval and returns it.
func (e *approvalsEnv) pending(t *testing.T) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(e.admin + "/admin/approvals?status=pending")
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Approvals []map[string]any `json:"approvals"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Approvals) == 1 {
			return out.Approvals[0]
		}
	}
	t.Fatal("no pending approval appeared")
	return nil
}

func (e *approvalsEnv) decide(t *testing.T, id, verb, reason string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"by": "alice", "reason": reason})
	resp, err := http.Post(e.admin+"/admin/approvals/"+id+"/"+verb, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
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
