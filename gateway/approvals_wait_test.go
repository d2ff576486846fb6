package gateway_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/grant"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// grantedApprovalsEnv is a gateway with auth: grants (an Authenticator)
// and approvals, its admin API, and grant tokens: "one" and "one-bis" are
// two grants of the subject agent:one, "two" a grant of agent:two.
type grantedApprovalsEnv struct {
	*approvalsEnv
	grants map[string]string // name → grant token
}

const waitPolicy = `{"version":"1","default":"deny","tools":{
	"DeleteUser":{"action":"approve","approval":{"timeout":"1h"}},
	"UpdateUser":{"action":"approve","approval":{"timeout":"1h"}},
	"slow":{"action":"approve"}}}`

func newGrantedApprovalsEnv(t *testing.T, m *approval.Manager, opts gateway.Options) *grantedApprovalsEnv {
	t.Helper()
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	grants := grant.NewMemory()
	env := &grantedApprovalsEnv{
		approvalsEnv: &approvalsEnv{echo: echo, store: admin.NewMemory(), tokens: map[string]string{}},
		grants:       map[string]string{},
	}
	for name, subject := range map[string]string{"one": "agent:one", "one-bis": "agent:one", "two": "agent:two"} {
		_, tok, err := grant.Create(ctx, grants, grant.Spec{Subject: subject, Policy: "ops"})
		if err != nil {
			t.Fatal(err)
		}
		env.grants[name] = tok
	}
	_, secret, err := admin.Create(ctx, env.store, admin.Spec{Subject: "alice", Role: admin.Admin})
	if err != nil {
		t.Fatal(err)
	}
	env.tokens["alice"] = secret
	_, secret, err = admin.Create(ctx, env.store, admin.Spec{Subject: "viewer", Role: admin.Viewer})
	if err != nil {
		t.Fatal(err)
	}
	env.tokens["viewer"] = secret

	verifier := &grant.Verifier{Store: grants}
	opts.Servers = []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}}
	opts.Approvals = m
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	opts.Authenticator = gateway.AuthenticatorFunc(verifier.Verify) // auth: grants
	gw, err := gateway.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.Load([]byte(waitPolicy), "ops.json")
	if err != nil {
		t.Fatal(err)
	}
	gw.SetNamedPolicy("ops", eng)
	mux := http.NewServeMux()
	mux.Handle("/mcp", gw)
	ts := httptest.NewServer(mux)
	as := httptest.NewServer(gw.AdminHandler(&admin.Verifier{Store: env.store}))
	t.Cleanup(func() { ts.Close(); as.Close(); gw.Close() })
	env.mcpURL, env.admin = ts.URL+"/mcp", as.URL
	return env
}

// connectAs opens a session with the named grant's token.
func (e *grantedApprovalsEnv) connectAs(t *testing.T, ctx context.Context, name string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, opts)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: e.mcpURL,
		HTTPClient: &http.Client{Transport: bearerTransport{e.grants[name]}}}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// progressLog collects the progress notifications a client receives.
type progressLog struct {
	mu     sync.Mutex
	values []float64
	msgs   []string
	ch     chan struct{} // one value per notification
}

func newProgressLog() *progressLog { return &progressLog{ch: make(chan struct{}, 1000)} }

func (p *progressLog) handler(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
	p.mu.Lock()
	p.values = append(p.values, req.Params.Progress)
	p.msgs = append(p.msgs, req.Params.Message)
	p.mu.Unlock()
	p.ch <- struct{}{}
}

func (p *progressLog) await(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-p.ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("fewer than %d progress notifications arrived", n)
		}
	}
}

func (p *progressLog) snapshot() ([]float64, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]float64(nil), p.values...), append([]string(nil), p.msgs...)
}

type callResult struct {
	res *mcp.CallToolResult
	err error
}

func callAsync(ctx context.Context, cs *mcp.ClientSession, params *mcp.CallToolParams) <-chan callResult {
	ch := make(chan callResult, 1)
	go func() {
		res, err := cs.CallTool(ctx, params)
		ch <- callResult{res, err}
	}()
	return ch
}

// While a call with a progress token waits, the client hears about it
// every ApprovalProgress, with increasing values and the approval's id;
// the upstream's own progress on the token, once the call is approved,
// comes after the gateway's.
func TestApprovalProgress(t *testing.T) {
	ctx := testContext(t)
	m := approval.NewManager(approval.NewMemoryStore(), nil)
	env := newGrantedApprovalsEnv(t, m, gateway.Options{ApprovalWait: 30 * time.Second, ApprovalProgress: 100 * time.Millisecond})
	prog := newProgressLog()
	cs := env.connectAs(t, ctx, "one", &mcp.ClientOptions{ProgressNotificationHandler: prog.handler})

	params := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 100}}
	params.SetProgressToken("tok-1")
	done := callAsync(ctx, cs, params)
	prog.await(t, 2)
	p := env.pending(t)
	id := p["id"].(string)
	held, msgs := prog.snapshot()
	for _, msg := range msgs {
		if !strings.Contains(msg, "waiting for approval "+id) || !strings.Contains(msg, "toolgate approvals approve "+id) {
			t.Errorf("progress message %q does not name %s and how to approve it", msg, id)
		}
	}
	if code := env.decide(t, id, "approve", ""); code != http.StatusOK {
		t.Fatalf("approve: HTTP %d", code)
	}
	r := <-done
	if r.err != nil || r.res.IsError || textOf(r.res) != "slept 100ms" {
		t.Fatalf("approved call: %v %+v", r.err, r.res)
	}
	// The upstream (the slow tool) reports 5 steps of its own.
	var all []float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var msgs []string
		all, msgs = prog.snapshot()
		steps := 0
		for _, m := range msgs {
			if strings.HasPrefix(m, "step ") {
				steps++
			}
		}
		if steps == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upstream's progress did not arrive: %v %q", all, msgs)
		}
	}
	if len(all) < len(held)+5 {
		t.Fatalf("progress: %v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i] <= all[i-1] {
			t.Fatalf("progress values do not increase: %v", all)
		}
	}

	// Without a progress token the gateway sends no progress.
	before := len(all)
	done = callAsync(ctx, cs, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": "u1"}})
	p = env.pending(t)
	env.decide(t, p["id"].(string), "approve", "")
	if r := <-done; r.err != nil || r.res.IsError {
		t.Fatalf("approved call: %v %+v", r.err, r.res)
	}
	if all, _ := prog.snapshot(); len(all) != before {
		t.Errorf("progress sent for a call without a token: %v", all[before:])
	}
}

// After ApprovalWait the call is refused with its approval's id, which
// stays pending; once approved, the identical call of the same grant goes
// through once, while other grants, subjects and arguments do not.
func TestApprovalWaitThenRetry(t *testing.T) {
	ctx := testContext(t)
	m := approval.NewManager(approval.NewMemoryStore(), nil)
	env := newGrantedApprovalsEnv(t, m, gateway.Options{ApprovalWait: time.Second})
	one := env.connectAs(t, ctx, "one", nil)
	args := map[string]any{"user_id": "u1", "password": "hunter2hunter2"}

	start := time.Now()
	res, err := one.CallTool(ctx, &mcp.CallToolParams{Name: "UpdateUser", Arguments: args})
	if err != nil || !res.IsError {
		t.Fatalf("held call: %v %+v", err, res)
	}
	if d := time.Since(start); d < time.Second || d > 10*time.Second {
		t.Errorf("answered after %v, want about ApprovalWait (1s): %s", d, textOf(res))
	}
	p := env.pending(t)
	id := p["id"].(string)
	text := textOf(res)
	for _, want := range []string{"[APPROVAL PENDING]", "approval " + id, "toolgate approvals approve " + id, "calling this tool again with the same arguments goes through"} {
		if !strings.Contains(text, want) {
			t.Errorf("refusal %q lacks %q", text, want)
		}
	}
	if meta := res.Meta["toolgate/decision"].(map[string]any); meta["approval_id"] != id || meta["approval_pending"] != true {
		t.Errorf("decision meta: %v", meta)
	}
	if env.echo.Calls("UpdateUser") != 0 {
		t.Fatal("the held call reached the upstream")
	}

	// Called again while pending: it joins the same approval.
	res, err = one.CallTool(ctx, &mcp.CallToolParams{Name: "UpdateUser", Arguments: args})
	if err != nil || !res.IsError || !strings.Contains(textOf(res), id) {
		t.Fatalf("second held call: %v %+v", err, res)
	}
	if got := env.pending(t); got["id"] != id {
		t.Fatalf("the second call asked again: %v", got["id"])
	}
	if code := env.decide(t, id, "approve", ""); code != http.StatusOK {
		t.Fatalf("approve: HTTP %d", code)
	}

	// Not released: other arguments, another grant of the same subject,
	// another subject. Each asks a human instead (and gives up after 1s).
	var wg sync.WaitGroup
	for _, tc := range []struct {
		name, grant string
		args        map[string]any
	}{
		{"other arguments", "one", map[string]any{"user_id": "u2", "password": "hunter2hunter2"}},
		{"other secret", "one", map[string]any{"user_id": "u1", "password": "another-one"}},
		{"other grant, same subject", "one-bis", args},
		{"other subject", "two", args},
	} {
		cs := env.connectAs(t, ctx, tc.grant, nil)
		wg.Go(func() { // at once: each waits ApprovalWait
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "UpdateUser", Arguments: tc.args})
			if err != nil || !res.IsError || strings.Contains(textOf(res), id) {
				t.Errorf("%s: %v %+v", tc.name, err, res)
			}
		})
	}
	wg.Wait()
	if env.echo.Calls("UpdateUser") != 0 {
		t.Fatal("an approval released a call it was not given for")
	}

	// The identical call of the same grant goes through, in a new session
	// too, and only once.
	res, err = env.connectAs(t, ctx, "one", nil).CallTool(ctx, &mcp.CallToolParams{Name: "UpdateUser", Arguments: args})
	if err != nil || res.IsError || textOf(res) != "updated u1" {
		t.Fatalf("retried call: %v %+v", err, res)
	}
	if meta := res.Meta; meta != nil && meta["toolgate/decision"] != nil {
		t.Errorf("an allowed call carries a decision: %v", meta)
	}
	res, err = one.CallTool(ctx, &mcp.CallToolParams{Name: "UpdateUser", Arguments: args})
	if err != nil || !res.IsError || strings.Contains(textOf(res), id) {
		t.Fatalf("third call: %v %+v", err, res)
	}
	if n := env.echo.Calls("UpdateUser"); n != 1 {
		t.Errorf("upstream ran UpdateUser %d times, want 1", n)
	}
}

// Two identical retries at once: exactly one goes through.
func TestApprovalRetriesRace(t *testing.T) {
	for _, store := range []string{"memory", "sqlite"} {
		t.Run(store, func(t *testing.T) {
			ctx := testContext(t)
			var s approval.Store = approval.NewMemoryStore()
			if store == "sqlite" {
				sq, err := approval.OpenSQLite(ctx, t.TempDir()+"/approvals.db")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { sq.Close() })
				s = sq
			}
			m := approval.NewManager(s, nil)
			env := newGrantedApprovalsEnv(t, m, gateway.Options{ApprovalWait: time.Second})
			args := map[string]any{"user_id": "u7"}
			a, b := env.connectAs(t, ctx, "one", nil), env.connectAs(t, ctx, "one", nil)
			if res, err := a.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: args}); err != nil || !res.IsError {
				t.Fatalf("held call: %v %+v", err, res)
			}
			p := env.pending(t)
			env.decide(t, p["id"].(string), "approve", "")
			ra := callAsync(ctx, a, &mcp.CallToolParams{Name: "DeleteUser", Arguments: args})
			rb := callAsync(ctx, b, &mcp.CallToolParams{Name: "DeleteUser", Arguments: args})
			ok := 0
			for _, r := range []callResult{<-ra, <-rb} {
				if r.err != nil {
					t.Fatal(r.err)
				}
				if !r.res.IsError {
					ok++
				}
			}
			if ok != 1 || env.echo.Calls("DeleteUser") != 1 {
				t.Errorf("%d retries went through, upstream ran %d, want 1 and 1", ok, env.echo.Calls("DeleteUser"))
			}
		})
	}
}

// An approval releases a retry only within valid_for of its decision.
func TestApprovalValidFor(t *testing.T) {
	ctx := testContext(t)
	clk := &testClock{t: time.Now()}
	m := approval.NewManager(approval.NewMemoryStore(), &approval.ManagerOptions{Now: clk.Now, ValidFor: 10 * time.Minute})
	env := newGrantedApprovalsEnv(t, m, gateway.Options{ApprovalWait: 500 * time.Millisecond})
	cs := env.connectAs(t, ctx, "one", nil)
	for _, tc := range []struct {
		name  string
		after time.Duration
		want  bool // the retry goes through
	}{
		{"just within", 10*time.Minute - time.Second, true},
		{"just past", 10*time.Minute + time.Second, false},
	} {
		args := map[string]any{"user_id": tc.name}
		if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: args}); err != nil || !res.IsError {
			t.Fatalf("%s: held call: %v %+v", tc.name, err, res)
		}
		p := env.pending(t)
		env.decide(t, p["id"].(string), "approve", "")
		clk.Add(tc.after)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: args})
		if err != nil || res.IsError == tc.want {
			t.Errorf("%s: retry %v %+v, want through: %v", tc.name, err, res, tc.want)
		}
		// Leave no pending approval behind for the next case.
		for _, r := range mustList(t, m, approval.Pending) {
			if _, err := m.Decide(ctx, r.ID, false, "alice", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A call the client cancels stops waiting; its approval stays pending,
// and once approved the same call goes through.
func TestApprovalCancelledCall(t *testing.T) {
	ctx := testContext(t)
	m := approval.NewManager(approval.NewMemoryStore(), nil)
	abandoned := &logSignal{msg: "tools/call abandoned while waiting for approval", ch: make(chan struct{}, 1)}
	env := newGrantedApprovalsEnv(t, m, gateway.Options{ApprovalWait: time.Minute, Logger: slog.New(abandoned)})
	cs := env.connectAs(t, ctx, "one", nil)
	args := map[string]any{"user_id": "u5"}
	callCtx, cancel := context.WithCancel(ctx)
	done := callAsync(callCtx, cs, &mcp.CallToolParams{Name: "DeleteUser", Arguments: args})
	p := env.pending(t)
	cancel()
	if r := <-done; r.err == nil {
		t.Fatalf("cancelled call returned %+v", r.res)
	}
	// Approving before the gateway heard of the cancellation would
	// release the abandoned call itself.
	select {
	case <-abandoned.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the gateway did not stop waiting for the cancelled call")
	}
	if got, err := m.Get(ctx, p["id"].(string)); err != nil || got.Status != approval.Pending {
		t.Fatalf("after the client cancelled: %+v %v", got, err)
	}
	env.decide(t, p["id"].(string), "approve", "")
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: args})
	if err != nil || res.IsError || textOf(res) != "deleted u5" {
		t.Fatalf("retried call: %v %+v", err, res)
	}
}

func mustList(t *testing.T, m *approval.Manager, status approval.Status) []*approval.Request {
	t.Helper()
	list, err := m.List(context.Background(), status, 100)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// testClock is a settable time source.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logSignal is a slog.Handler that signals ch when a record with message
// msg is logged, and drops every record.
type logSignal struct {
	msg string
	ch  chan struct{}
}

func (l *logSignal) Enabled(context.Context, slog.Level) bool { return true }
func (l *logSignal) Handle(_ context.Context, r slog.Record) error {
	if r.Message == l.msg {
		select {
		case l.ch <- struct{}{}:
		default:
		}
	}
	return nil
}
func (l *logSignal) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logSignal) WithGroup(string) slog.Handler      { return l }

// The TypeScript SDK, as a new user runs it: a call that needs approval is
// answered after ApprovalWait with an error naming the approval, well
// before the SDK's own 60s timeout; the approval is decided through the
// admin API; the identical call made again goes through.
func TestApprovalTypeScriptClient(t *testing.T) {
	ctx := testContext(t)
	m := approval.NewManager(approval.NewMemoryStore(), nil)
	env := newGrantedApprovalsEnv(t, m, gateway.Options{ApprovalWait: 2 * time.Second, ApprovalProgress: 200 * time.Millisecond})

	// The client GETs this between its two calls: the test approves then.
	approved := make(chan string, 1)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := m.List(r.Context(), approval.Pending, 10)
		if err != nil || len(list) != 1 {
			http.Error(w, "want one pending approval", http.StatusConflict)
			return
		}
		if _, err := m.Decide(r.Context(), list[0].ID, true, "alice", ""); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		approved <- list[0].ID
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(gate.Close)

	args := map[string]any{"user_id": "u42"}
	lines, err := testpeer.NodeClientArgs(t, ctx, []string{"--header", "Authorization: Bearer " + env.grants["one"], "--url", env.mcpURL}, []map[string]any{
		{"op": "callTool", "name": "DeleteUser", "arguments": args, "progress": true},
		{"op": "httpGet", "url": gate.URL},
		{"op": "callTool", "name": "DeleteUser", "arguments": args},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 {
		t.Fatalf("client printed %d lines: %s", len(lines), lines)
	}
	var id string
	select {
	case id = <-approved:
	default:
		t.Fatalf("the client's GET did not approve anything: %s", lines[2])
	}
	type toolResult struct {
		Content []struct{ Text string } `json:"content"`
		IsError bool                    `json:"isError"`
	}
	var first, retry toolResult
	s1 := testpeer.DecodeStep(t, lines[1])
	if s1.Error != nil || json.Unmarshal(s1.Result, &first) != nil || !first.IsError || len(first.Content) == 0 ||
		!strings.Contains(first.Content[0].Text, "approval "+id) || !strings.Contains(first.Content[0].Text, "calling this tool again with the same arguments goes through") {
		t.Fatalf("first call: %s", lines[1])
	}
	if len(s1.Progress) < 2 {
		t.Errorf("the TypeScript client saw %d progress notifications, want several", len(s1.Progress))
	}
	s3 := testpeer.DecodeStep(t, lines[3])
	if s3.Error != nil || json.Unmarshal(s3.Result, &retry) != nil || retry.IsError || len(retry.Content) == 0 || retry.Content[0].Text != "deleted u42" {
		t.Fatalf("retried call: %s", lines[3])
	}
	if n := env.echo.Calls("DeleteUser"); n != 1 {
		t.Errorf("upstream ran DeleteUser %d times, want 1", n)
	}
}
