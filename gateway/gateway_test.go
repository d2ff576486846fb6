// Sampling is deprecated from protocol 2026-07-28 on, but clients of the
// revisions the gateway speaks still use it, so it must pass through.
//lint:file-ignore SA1019 sampling is tested on purpose

package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

const allowAll = `{"version":"1","default":"allow"}`

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newGateway starts a gateway over the given servers with the policy
// document doc, serves it on a loopback httptest server and returns its URL.
func newGateway(t *testing.T, doc string, servers ...gateway.Server) (*gateway.Gateway, string) {
	t.Helper()
	eng, err := policy.Load([]byte(doc), "policy.json")
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: servers, Policy: eng, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	t.Cleanup(func() {
		ts.Close()
		gw.Close()
	})
	return gw, ts.URL + "/mcp"
}

func connect(t *testing.T, ctx context.Context, url string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, opts)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func toolNames(t *testing.T, ctx context.Context, cs *mcp.ClientSession) []string {
	t.Helper()
	var names []string
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		names = append(names, tool.Name)
	}
	sort.Strings(names)
	return names
}

func textOf(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "")
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// The whole MCP surface through the gateway over HTTP, with an HTTP
// upstream: tools, progress, sampling, resources, prompts, ping.
func TestHTTPUpstreamEndToEnd(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	_, url := newGateway(t, allowAll, gateway.Server{Name: "echo", URL: echo.StartHTTP(t)})
	exerciseEcho(t, ctx, url, echo.Calls)
}

// The same against a stdio upstream: the echo server as a subprocess.
func TestStdioUpstreamEndToEnd(t *testing.T) {
	ctx := testContext(t)
	bin := testpeer.BuildEchoServer(t)
	calls := t.TempDir() + "/calls.log"
	_, url := newGateway(t, allowAll, gateway.Server{Name: "echo", Command: []string{bin, "-calls", calls}})
	exerciseEcho(t, ctx, url, func(name string) int { return testpeer.CallLog(t, calls)[name] })
}

func exerciseEcho(t *testing.T, ctx context.Context, url string, upstreamCalls func(string) int) {
	var progressMu sync.Mutex
	var progress []float64
	cs := connect(t, ctx, url, &mcp.ClientOptions{
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Model: "test", Role: "assistant", Content: &mcp.TextContent{Text: "sampled answer"}}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			progressMu.Lock()
			progress = append(progress, req.Params.Progress)
			progressMu.Unlock()
		},
	})
	if got := cs.InitializeResult().ServerInfo.Name; got != "toolgate" {
		t.Errorf("serverInfo.name = %q, want toolgate", got)
	}
	names := toolNames(t, ctx, cs)
	for _, want := range []string{"DeleteUser", "UpdateUser", "add", "echo", "sample", "slow"} {
		if !contains(names, want) {
			t.Errorf("tools/list lacks %q: %v", want, names)
		}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi there"}})
	if err != nil || res.IsError || textOf(res) != "hi there" {
		t.Fatalf("echo: %v %+v", err, res)
	}
	if n := upstreamCalls("echo"); n != 1 {
		t.Errorf("upstream saw %d echo calls, want 1", n)
	}
	// Progress notifications come back on the call's stream.
	params := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 50}}
	params.SetProgressToken("p1")
	res, err = cs.CallTool(ctx, params)
	if err != nil || res.IsError {
		t.Fatalf("slow: %v %+v", err, res)
	}
	progressMu.Lock()
	np := len(progress)
	progressMu.Unlock()
	if np == 0 {
		t.Errorf("no progress notification reached the client")
	}
	// A sampling request from the upstream reaches the client and its answer goes back.
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{"prompt": "say something"}})
	if err != nil || res.IsError || !strings.Contains(textOf(res), "sampled answer") {
		t.Fatalf("sample: %v %+v", err, res)
	}
	// Resources, prompts and ping pass through.
	rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: testpeer.EchoResourceURI})
	if err != nil || len(rr.Contents) != 1 || rr.Contents[0].Text != testpeer.EchoResourceText {
		t.Fatalf("resources/read: %v %+v", err, rr)
	}
	pr, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: testpeer.EchoPromptName, Arguments: map[string]string{"name": "Ada"}})
	if err != nil || len(pr.Messages) != 1 {
		t.Fatalf("prompts/get: %v %+v", err, pr)
	}
	if err := cs.Ping(ctx, nil); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Several upstreams: names carry each server's prefix, calls are routed by
// them, and pagination walks all upstreams.
func TestAggregationPrefixesAndRouting(t *testing.T) {
	ctx := testContext(t)
	a := testpeer.GoEchoServer()
	_, url := newGateway(t, allowAll,
		gateway.Server{Name: "a", Prefix: "a_", URL: a.StartHTTP(t)},
		gateway.Server{Name: "b", Prefix: "b_", Command: []string{testpeer.BuildEchoServer(t)}},
	)
	cs := connect(t, ctx, url, nil)
	names := toolNames(t, ctx, cs)
	for _, want := range []string{"a_echo", "b_echo", "a_UpdateUser", "b_UpdateUser"} {
		if !contains(names, want) {
			t.Errorf("tools/list lacks %q: %v", want, names)
		}
	}
	if contains(names, "echo") {
		t.Errorf("an unprefixed name leaked: %v", names)
	}
	// One page holds both upstreams' tools.
	page, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if page.NextCursor != "" || len(page.Tools) != len(names) {
		t.Errorf("first page: %d of %d tools, nextCursor %q", len(page.Tools), len(names), page.NextCursor)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "a_echo", Arguments: map[string]any{"message": "to a"}})
	if err != nil || textOf(res) != "to a" {
		t.Fatalf("a_echo: %v %+v", err, res)
	}
	if a.Calls("echo") != 1 {
		t.Errorf("upstream a saw %d echo calls, want 1", a.Calls("echo"))
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "b_add", Arguments: map[string]any{"a": 2, "b": 3}})
	if err != nil || res.IsError || textOf(res) != "5" {
		t.Fatalf("b_add: %v %+v", err, res)
	}
	// Prompts carry the prefix as well.
	if _, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "b_" + testpeer.EchoPromptName, Arguments: map[string]string{"name": "x"}}); err != nil {
		t.Errorf("prompts/get b_greet: %v", err)
	}
}

func TestSamePrefixIsAConfigError(t *testing.T) {
	_, err := gateway.New(&gateway.Options{Servers: []gateway.Server{
		{Name: "one", URL: "http://127.0.0.1:1/mcp"},
		{Name: "two", URL: "http://127.0.0.1:2/mcp"},
	}})
	if err == nil || !strings.Contains(err.Error(), `"one"`) || !strings.Contains(err.Error(), `"two"`) {
		t.Fatalf("want an error naming both servers, got %v", err)
	}
}

// The gateway on stdio: a go-sdk client speaks to ServeStdio over pipes.
func TestStdioFront(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	eng, err := policy.Load([]byte(`{"version":"1","default":"deny","tools":{"echo":{}}}`), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}}, Policy: eng, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	cr, gw2c := io.Pipe()
	gr, c2g := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- gw.ServeStdio(ctx, gr, gw2c); gw2c.Close() }()
	client := mcp.NewClient(&mcp.Implementation{Name: "stdio-client", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: cr, Writer: c2g}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if names := toolNames(t, ctx, cs); len(names) != 1 || names[0] != "echo" {
		t.Errorf("tools = %v, want [echo]", names)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "over stdio"}})
	if err != nil || textOf(res) != "over stdio" {
		t.Fatalf("echo: %v %+v", err, res)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": "u"}})
	if err != nil || !res.IsError || !strings.HasPrefix(textOf(res), "[POLICY DENIED]") {
		t.Fatalf("DeleteUser: %v %+v", err, res)
	}
	if echo.Calls("DeleteUser") != 0 {
		t.Errorf("a denied call reached the upstream")
	}
	cs.Close()
	c2g.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeStdio: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeStdio did not return after stdin closed")
	}
}

// A client written with the TypeScript SDK, through the gateway.
func TestTypeScriptClient(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	_, url := newGateway(t, `{"version":"1","default":"deny","tools":{"echo":{},"DeleteUser":{"action":"deny","on_deny":"no deletions"}}}`,
		gateway.Server{Name: "echo", URL: echo.StartHTTP(t)})
	lines := testpeer.NodeClient(t, ctx, url, []map[string]any{
		{"op": "listTools"},
		{"op": "callTool", "name": "echo", "arguments": map[string]any{"message": "from node"}},
		{"op": "callTool", "name": "DeleteUser", "arguments": map[string]any{"user_id": "u1"}},
	})
	all := string(joinLines(lines))
	for _, want := range []string{`"from node"`, `[POLICY DENIED] no deletions`, `"isError":true`} {
		if !strings.Contains(all, want) {
			t.Errorf("node client output lacks %s:\n%s", want, all)
		}
	}
	if echo.Calls("DeleteUser") != 0 {
		t.Errorf("a denied call reached the upstream")
	}
}

func joinLines(lines []json.RawMessage) []byte {
	var b []byte
	for _, l := range lines {
		b = append(b, l...)
		b = append(b, '\n')
	}
	return b
}

// Closing the client session ends the gateway session (DELETE) and the
// upstream's with it.
func TestDeleteEndsSession(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	_, url := newGateway(t, allowAll, gateway.Server{Name: "echo", URL: echo.StartHTTP(t)})
	client := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil)
	tr := &mcp.StreamableClientTransport{Endpoint: url}
	cs, err := client.Connect(ctx, tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	sid := cs.ID()
	cs.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("after DELETE, status = %d, want 404", resp.StatusCode)
	}
}

func newServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }

// A client that gives up on a call cancels it upstream too.
func TestCancellationReachesUpstream(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	_, url := newGateway(t, allowAll, gateway.Server{Name: "echo", URL: echo.StartHTTP(t)})
	cs := connect(t, ctx, url, nil)
	callCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err := cs.CallTool(callCtx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 20000}})
	if err == nil {
		t.Fatal("the slow call returned before its deadline")
	}
	deadline := time.Now().Add(10 * time.Second)
	for echo.Cancellations() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the upstream never saw the cancellation")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The session still works.
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "still here"}})
	if err != nil || textOf(res) != "still here" {
		t.Fatalf("after cancel: %v %+v", err, res)
	}
}

// Quota reserved for a call that never reached a working upstream is given
// back; a call the upstream served keeps its quota.
func TestQuotaRolledBackWhenUpstreamFails(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	var failing atomic.Bool
	inner := echo.HTTPHandler()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() && r.Method == http.MethodPost {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(up.Close)
	_, url := newGateway(t, `{"version":"1","default":"deny","tools":{"echo":{"limits":[{"counter":"echo","window":"hour","max":1,"scope":"session"}]}}}`,
		gateway.Server{Name: "echo", URL: up.URL})
	cs := connect(t, ctx, url, nil)
	toolNames(t, ctx, cs) // the catalog is filled while the upstream is up
	args := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "x"}}

	failing.Store(true)
	// The agent reads which server is down, in an isError result.
	if res, err := cs.CallTool(ctx, args); err != nil || !res.IsError || !strings.Contains(textOf(res), "server echo is unavailable") {
		t.Fatalf("a call to a failing upstream: %v %+v", err, res)
	}
	failing.Store(false)
	res, err := cs.CallTool(ctx, args)
	if err != nil || res.IsError {
		t.Fatalf("the failed call's quota was not given back: %v %+v", err, res)
	}
	res, err = cs.CallTool(ctx, args)
	if err != nil || !res.IsError || !strings.Contains(textOf(res), "rate limit") {
		t.Fatalf("the served call's quota was given back: %v %+v", err, res)
	}
}

type noArgs struct{}

func pagedServer(t *testing.T, names ...string) (*mcp.Server, string) {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "paged", Version: "1"}, &mcp.ServerOptions{PageSize: 2})
	for _, n := range names {
		mcp.AddTool(srv, &mcp.Tool{Name: n, Description: "tool " + n}, func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: n}}}, nil, nil
		})
	}
	ts := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

// A tool added upstream while the client is connected: the upstream's
// list_changed reaches the client, and the new tool is callable.
func TestListChangedReachesClient(t *testing.T) {
	ctx := testContext(t)
	srv, up := pagedServer(t, "t1")
	_, url := newGateway(t, allowAll, gateway.Server{Name: "p", URL: up})
	changed := make(chan struct{}, 4)
	cs := connect(t, ctx, url, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})
	toolNames(t, ctx, cs)
	time.Sleep(100 * time.Millisecond) // let both standalone streams open
	mcp.AddTool(srv, &mcp.Tool{Name: "late"}, func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "late"}}}, nil, nil
	})
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("notifications/tools/list_changed never reached the client")
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "late"})
	if err != nil || res.IsError || textOf(res) != "late" {
		t.Fatalf("late tool: %v %+v", err, res)
	}
}
