package cli

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// `toolgate demo` end to end: the directory behind the gateway with the
// sample policy, driven by a go-sdk client; Ctrl-C (context end) stops it.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	demoCtx, stop := context.WithCancel(ctx)
	var out, errOut testpeer.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(demoCtx, []string{"demo", "--listen", "127.0.0.1:0", "--data", t.TempDir()}, strings.NewReader(""), &out, &errOut)
	}()
	urlRE := regexp.MustCompile(`MCP URL\s+(http://\S+/mcp)`)
	var url string
	for deadline := time.Now().Add(30 * time.Second); url == ""; {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo printed no MCP URL:\n%s\n%s", out.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tokens := regexp.MustCompile(`grant token\s+(tg_\S+)[\s\S]*admin grant\s+(tg_\S+)`).FindStringSubmatch(out.String())
	if tokens == nil {
		t.Fatalf("demo printed no grant tokens:\n%s", out.String())
	}
	supportToken, adminToken := tokens[1], tokens[2]
	for _, want := range []string{"dashboard", "toolgate call --url " + url + " --header 'Authorization: Bearer " + supportToken + "' UpdateUser", `"headers": {"Authorization": "Bearer ` + supportToken + `"}`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	// The demo has no admin plane, and never one on the MCP listener.
	if resp, err := http.Get(strings.TrimSuffix(url, "/mcp") + "/admin/tools"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /admin/tools on the demo's listener: %v %v, want 404", err, resp)
	} else {
		resp.Body.Close()
	}
	// Without a token: refused.
	if _, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil); err == nil {
		t.Fatal("the demo let a client in without a grant token")
	}
	withToken := func(token string) *http.Client {
		return &http.Client{Transport: &headerTransport{base: http.DefaultTransport, h: http.Header{"Authorization": {"Bearer " + token}}}}
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: withToken(supportToken)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	call := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	text := func(r *mcp.CallToolResult) string { return r.Content[0].(*mcp.TextContent).Text }

	if r := call("GetUser", map[string]any{"user_id": "user_demo_ada"}); r.IsError || !strings.Contains(text(r), "Lovelace") {
		t.Fatalf("GetUser: %s", text(r))
	}
	if r := call("UpdateUser", map[string]any{"user_id": "user_demo_ada", "password": "hunter2hunter2", "skip_password_checks": true}); !r.IsError || !strings.Contains(text(r), "may not skip password checks") {
		t.Errorf("skip_password_checks: %s", text(r))
	}
	if r := call("DeleteUser", map[string]any{"user_id": "user_demo_alan"}); !r.IsError || !strings.HasPrefix(text(r), "[POLICY DENIED]") {
		t.Errorf("DeleteUser: %s", text(r))
	}
	// 30 updates a minute per grant, then a refusal with a retry time. The
	// limit refills one update every 2s, so on a slow machine a few more
	// may pass before the first refusal: at most one per 2s taken.
	start := time.Now()
	passed := 0
	var last *mcp.CallToolResult
	for i := 0; i < 100; i++ {
		last = call("UpdateUser", map[string]any{"user_id": "user_demo_grace", "first_name": "Grace"})
		if last.IsError {
			break
		}
		passed++
	}
	refills := int(time.Since(start)/(2*time.Second)) + 1
	if passed < 30 || passed > 30+refills {
		t.Errorf("%d updates passed before the first refusal in %s; want 30 (plus at most %d refilled)", passed, time.Since(start), refills)
	}
	if !last.IsError || !strings.Contains(text(last), "rate limit of 30 per minute") {
		t.Errorf("the update after %d: %s", passed, text(last))
	}
	// The admin grant's broad policy lets the delete through.
	admin, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: withToken(adminToken)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := admin.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": "user_demo_alan"}}); err != nil || r.IsError {
		t.Errorf("DeleteUser with the admin grant: %v %+v", err, r)
	}
	admin.Close()
	cs.Close()
	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("demo exited %d: %s", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop")
	}
}
