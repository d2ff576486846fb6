//lint:file-ignore SA1019 sampling is tested on purpose

package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// legacySSEServer serves the echo server over the legacy HTTP+SSE
// transport (go-sdk's SSEHandler) and returns the URL of its stream.
func legacySSEServer(t *testing.T, echo *testpeer.EchoServer) string {
	t.Helper()
	ts := httptest.NewServer(mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return echo.Server() }, nil))
	t.Cleanup(ts.Close)
	return ts.URL + "/sse"
}

// A legacy SSE upstream behind toolgate: listing and calls go through,
// with progress on the call, and a call the policy denies never reaches
// the server.
func TestSSEUpstreamEndToEnd(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	doc := `{"version":"1","default":"allow","tools":{"DeleteUser":{"action":"deny","on_deny":"no deleting"}}}`
	_, url := newGateway(t, doc, gateway.Server{Name: "legacy", URL: legacySSEServer(t, echo), Transport: gateway.TransportSSE})
	var mu sync.Mutex
	var progress []float64
	cs := connect(t, ctx, url, &mcp.ClientOptions{
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Model: "test", Role: "assistant", Content: &mcp.TextContent{Text: "sampled for an sse server"}}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			progress = append(progress, req.Params.Progress)
			mu.Unlock()
		},
	})
	names := toolNames(t, ctx, cs)
	for _, want := range []string{"DeleteUser", "echo", "slow"} {
		if !contains(names, want) {
			t.Errorf("tools/list lacks %q: %v", want, names)
		}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "over sse"}})
	if err != nil || res.IsError || textOf(res) != "over sse" {
		t.Fatalf("echo: %v %+v", err, res)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": "user_1"}})
	if err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if !res.IsError || !strings.HasPrefix(textOf(res), "[POLICY DENIED] no deleting") {
		t.Fatalf("DeleteUser: want the policy's denial, got %+v (%q)", res, textOf(res))
	}
	// The server executed what was allowed, and only that.
	var executed []string
	for _, c := range echo.Executed() {
		executed = append(executed, c.Name)
	}
	if strings.Join(executed, ",") != "echo" {
		t.Errorf("the server executed %v, want [echo]", executed)
	}
	// The server's request to the client, and the client's answer, cross
	// the legacy stream and endpoint; progress finds its call.
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{"prompt": "hi"}})
	if err != nil || res.IsError || !strings.Contains(textOf(res), "sampled for an sse server") {
		t.Fatalf("sample: %v %+v", err, res)
	}
	params := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 50}}
	params.SetProgressToken("p1")
	if res, err = cs.CallTool(ctx, params); err != nil || res.IsError {
		t.Fatalf("slow: %v %+v", err, res)
	}
	mu.Lock()
	got := append([]float64(nil), progress...)
	mu.Unlock()
	if len(got) == 0 {
		t.Error("no progress from the sse server reached the client")
	}
	// Calls run concurrently on the one stream, each answered by its id.
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			msg := strings.Repeat("x", i+1)
			r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": msg}})
			if err == nil && textOf(r) != msg {
				err = &mismatch{got: textOf(r), want: msg}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent echo: %v", err)
		}
	}
}

type mismatch struct{ got, want string }

func (m *mismatch) Error() string { return "got " + m.got + ", want " + m.want }

// The gateway's own connection to an eager legacy SSE server lists its
// tools and reports it ready; when the server goes away, /readyz says so.
func TestSSEUpstreamReadiness(t *testing.T) {
	echo := testpeer.GoEchoServer()
	ts := httptest.NewServer(mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return echo.Server() }, nil))
	defer ts.Close()
	gw, err := gateway.New(&gateway.Options{Logger: quietLogger(),
		Servers: []gateway.Server{{Name: "legacy", URL: ts.URL + "/sse", Transport: gateway.TransportSSE}}})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	gw.StartUpstreams()
	waitFor(t, "the legacy server ready", func() bool {
		st := gw.Upstreams()[0]
		return st.State == gateway.StateReady && st.Tools > 0
	})
	// Closing the server's connections ends the stream: the probe sees it
	// at once, not at its next ping.
	ts.CloseClientConnections()
	ts.Close()
	deadline := time.Now().Add(20 * time.Second)
	for gw.Upstreams()[0].State == gateway.StateReady && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if st := gw.Upstreams()[0]; st.State == gateway.StateReady {
		t.Fatalf("upstream still ready after its server closed: %+v", st)
	}
}
