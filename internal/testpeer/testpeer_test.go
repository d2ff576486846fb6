package testpeer

//lint:file-ignore SA1019 sampling is deprecated as of protocol 2026-07-28, but peers of older versions still use it and the gateway must carry it

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// goClient returns a go-sdk client that answers sampling requests with
// "sampled: <prompt>" and records progress notifications.
func goClient(progress *[]float64, mu *sync.Mutex) *mcp.Client {
	return mcp.NewClient(&mcp.Implementation{Name: "testpeer-test", Version: "0"}, &mcp.ClientOptions{
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			msg := req.Params.Messages[len(req.Params.Messages)-1]
			return &mcp.CreateMessageResult{Role: "assistant", Model: "test",
				Content: &mcp.TextContent{Text: "sampled: " + msg.Content.(*mcp.TextContent).Text}}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			if progress != nil {
				mu.Lock()
				*progress = append(*progress, req.Params.Progress)
				mu.Unlock()
			}
		},
	})
}

func callText(t *testing.T, ctx context.Context, cs *mcp.ClientSession, name string, args any) (string, *mcp.CallToolResult) {
	t.Helper()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool(%s): %v", name, err)
	}
	var sb strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			sb.WriteString(tc.Text)
		}
	}
	return sb.String(), res
}

// exerciseEcho runs every feature of the echo server through cs.
func exerciseEcho(t *testing.T, ctx context.Context, cs *mcp.ClientSession) {
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if want := []string{"DeleteUser", "UpdateUser", "add", "echo", "sample", "slow"}; !slices.Equal(names, want) {
		t.Errorf("tools = %v, want %v", names, want)
	}
	cases := []struct {
		name string
		args any
		want string
	}{
		{"echo", map[string]any{"message": "hi"}, "hi"},
		{"add", map[string]any{"a": 2, "b": 0.5}, "2.5"},
		{"UpdateUser", map[string]any{"user_id": "u1", "password": "x", "skip_password_checks": true}, "updated u1"},
		{"DeleteUser", map[string]any{"user_id": "u2"}, "deleted u2"},
		{"slow", map[string]any{"ms": 10}, "slept 10ms"},
		{"sample", map[string]any{"prompt": "what is 2+2?"}, "sampled: what is 2+2?"},
	}
	for _, c := range cases {
		if got, res := callText(t, ctx, cs, c.name, c.args); got != c.want || res.IsError {
			t.Errorf("%s: got %q (isError %v), want %q", c.name, got, res.IsError, c.want)
		}
	}
	if _, res := callText(t, ctx, cs, "UpdateUser", map[string]any{"first_name": "no id"}); !res.IsError {
		t.Error("UpdateUser without user_id: want a tool error")
	}
	rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: EchoResourceURI})
	if err != nil || len(rr.Contents) != 1 || rr.Contents[0].Text != EchoResourceText {
		t.Errorf("ReadResource = %+v, %v", rr, err)
	}
	gp, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: EchoPromptName, Arguments: map[string]string{"name": "Ada"}})
	if err != nil || len(gp.Messages) != 1 || gp.Messages[0].Content.(*mcp.TextContent).Text != "Hello, Ada!" {
		t.Errorf("GetPrompt = %+v, %v", gp, err)
	}
}

func TestEchoServerHTTP(t *testing.T) {
	for _, tc := range []struct {
		name     string
		start    func(*EchoServer, testing.TB) string
		protocol string // what the go-sdk client ends up speaking
	}{
		{"stateful", (*EchoServer).StartHTTP, "2025-11-25"},
		{"stateless", (*EchoServer).StartStatelessHTTP, "2026-07-28"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			s := GoEchoServer()
			url := tc.start(s, t)
			var mu sync.Mutex
			var progress []float64
			cs, err := goClient(&progress, &mu).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			if got := cs.InitializeResult().ProtocolVersion; got != tc.protocol {
				t.Errorf("negotiated protocol %s, want %s", got, tc.protocol)
			}
			exerciseEcho(t, ctx, cs)

			want := map[string]int{"echo": 1, "add": 1, "UpdateUser": 2, "DeleteUser": 1, "slow": 1, "sample": 1}
			if got := s.AllCalls(); !maps.Equal(got, want) {
				t.Errorf("calls = %v, want %v", got, want)
			}

			// Progress: five notifications for a call with a progress token.
			params := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 50}}
			params.SetProgressToken("p1")
			if _, err := cs.CallTool(ctx, params); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(progress) == 5 })

			// Cancellation reaches the handler.
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			if _, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 30000}}); err == nil {
				t.Fatal("slow 30s with a 100ms deadline: want an error")
			}
			waitFor(t, func() bool { return s.Cancellations() == 1 })
			if got := s.Calls("slow"); got != 3 {
				t.Errorf("Calls(slow) = %d, want 3", got)
			}
			if got := s.Calls("nosuch"); got != 0 {
				t.Errorf("Calls(nosuch) = %d before any call", got)
			}
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "nosuch"}); err == nil {
				t.Error("unknown tool: want an error")
			}
			if got := s.Calls("nosuch"); got != 1 {
				t.Errorf("Calls(nosuch) = %d, want 1 (unknown tools are counted too)", got)
			}
		})
	}
}

func TestEchoServerStdio(t *testing.T) {
	ctx := testContext(t)
	bin := BuildEchoServer(t)
	if again := BuildEchoServer(t); again != bin {
		t.Errorf("BuildEchoServer is not cached: %s then %s", bin, again)
	}
	log := filepath.Join(t.TempDir(), "calls.log")
	cs, err := goClient(nil, nil).Connect(ctx, &mcp.CommandTransport{Command: exec.Command(bin, "-calls", log)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cs.InitializeResult().ProtocolVersion; got != "2026-07-28" {
		t.Errorf("negotiated protocol %s over stdio", got)
	}
	exerciseEcho(t, ctx, cs)
	if err := cs.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	want := map[string]int{"echo": 1, "add": 1, "UpdateUser": 2, "DeleteUser": 1, "slow": 1, "sample": 1}
	if got := CallLog(t, log); !maps.Equal(got, want) {
		t.Errorf("call log = %v, want %v", got, want)
	}
}

func TestNodeClientAgainstEchoServer(t *testing.T) {
	ctx := testContext(t)
	s := GoEchoServer()
	url := s.StartHTTP(t)
	lines := NodeClient(t, ctx, url, []map[string]any{
		{"op": "listTools"},
		{"op": "callTool", "name": "echo", "arguments": map[string]any{"message": "hi"}},
		{"op": "callTool", "name": "sample", "arguments": map[string]any{"prompt": "ping?"}},
		{"op": "callTool", "name": "slow", "arguments": map[string]any{"ms": 50}, "progress": true},
		{"op": "callTool", "name": "nosuch"},
		{"op": "readResource", "uri": EchoResourceURI},
		{"op": "getPrompt", "name": EchoPromptName, "arguments": map[string]any{"name": "Ada"}},
	})
	if len(lines) != 8 {
		t.Fatalf("got %d lines, want 8:\n%s", len(lines), lines)
	}
	var conn struct {
		ProtocolVersion string             `json:"protocolVersion"`
		ServerInfo      mcp.Implementation `json:"serverInfo"`
	}
	if err := json.Unmarshal(lines[0], &conn); err != nil || conn.ServerInfo.Name != EchoServerName || conn.ProtocolVersion == "" {
		t.Errorf("connection line %s: %+v, %v", lines[0], conn, err)
	}
	steps := make([]Step, len(lines)-1)
	for i, l := range lines[1:] {
		steps[i] = DecodeStep(t, l)
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6} {
		if steps[i].Error != nil || steps[i].Result == nil {
			t.Errorf("step %d: %s", i, lines[i+1])
		}
	}
	for i, want := range map[int]string{1: `"text":"hi"`, 2: `"text":"sampled: ping?"`, 3: `"text":"slept 50ms"`,
		5: EchoResourceText, 6: "Hello, Ada!"} {
		if !strings.Contains(string(steps[i].Result), want) {
			t.Errorf("step %d result %s does not contain %s", i, steps[i].Result, want)
		}
	}
	if len(steps[3].Progress) != 5 {
		t.Errorf("slow: %d progress notifications, want 5: %s", len(steps[3].Progress), lines[4])
	}
	if e := steps[4].Error; e == nil || e.Code != -32602 || !strings.Contains(e.Message, "nosuch") {
		t.Errorf("unknown tool: want a -32602 error naming it, got %s", lines[5])
	}
	if got := s.Calls("echo") + s.Calls("sample") + s.Calls("slow") + s.Calls("nosuch"); got != 4 {
		t.Errorf("calls = %v", s.AllCalls())
	}

	// A connection failure is an error with the client's {"error":...} line.
	lines, err := NodeClientArgs(t, ctx, []string{"--url", "http://127.0.0.1:1/mcp"}, "[]")
	if err == nil || len(lines) != 1 || !strings.Contains(string(lines[0]), `"error"`) {
		t.Errorf("unreachable server: lines %s, err %v", lines, err)
	}
}

func TestEverythingStdio(t *testing.T) {
	ctx := testContext(t)
	argv := EverythingCommand(t)
	cs, err := goClient(nil, nil).Connect(ctx, &mcp.CommandTransport{
		Command: exec.Command(argv[0], argv[1:]...),
		// server-everything ignores EOF on stdin; don't wait the default 5s before SIGTERM.
		TerminateDuration: 100 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	hasEcho := false
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		hasEcho = hasEcho || tool.Name == "echo"
	}
	if !hasEcho {
		t.Error("server-everything has no echo tool")
	}
	got, _ := callText(t, ctx, cs, "echo", map[string]any{"message": "hi"})
	if !strings.Contains(got, "hi") {
		t.Errorf("echo = %q", got)
	}
}

func TestEverythingHTTP(t *testing.T) {
	ctx := testContext(t)
	url := EverythingHTTP(t, ctx)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("url %s is not on loopback", url)
	}
	lines := NodeClient(t, ctx, url, `[{"op":"listTools"},{"op":"callTool","name":"echo","arguments":{"message":"hi"}}]`)
	if len(lines) != 3 {
		t.Fatalf("got %d lines: %s", len(lines), lines)
	}
	if s := DecodeStep(t, lines[1]); s.Error != nil || !strings.Contains(string(s.Result), `"name":"echo"`) {
		t.Errorf("listTools: %s", lines[1])
	}
	if s := DecodeStep(t, lines[2]); s.Error != nil || !strings.Contains(string(s.Result), "hi") {
		t.Errorf("echo: %s", lines[2])
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// NodeClientToken sends the token as a bearer header on every request, and
// no Authorization header at all when the token is empty, even when one is
// set in the test's own environment.
func TestNodeClientToken(t *testing.T) {
	ctx := testContext(t)
	t.Setenv(TokenEnv, "tg_from_the_environment")
	for _, tc := range []struct {
		token string
		want  []string
	}{
		{"tg_abc", []string{"Bearer tg_abc"}},
		{"", []string{""}},
	} {
		t.Run(tc.token, func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]bool{}
			h := GoEchoServer().HTTPHandler()
			url := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen[r.Header.Get("Authorization")] = true
				mu.Unlock()
				h.ServeHTTP(w, r)
			}))
			if _, err := NodeClientToken(t, ctx, url, tc.token, `[{"op":"ping"}]`); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(got, tc.want) {
				t.Errorf("Authorization headers %q, want %q", got, tc.want)
			}
		})
	}
}
