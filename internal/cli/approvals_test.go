package cli

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// `toolgate approvals` lists the held call and releases or refuses it.
func TestApprovalsCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	echo := testpeer.GoEchoServer()
	eng, err := policy.Load([]byte(`{"version":"1","default":"deny","tools":{"DeleteUser":{"action":"approve"}}}`), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}}, Policy: eng,
		Approvals: approval.NewManager(approval.NewMemoryStore(), nil), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", gw)
	mux.Handle("/admin/", gw.AdminHandler())
	ts := httptest.NewServer(mux)
	defer func() { ts.Close(); gw.Close() }()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	for _, tc := range []struct {
		verb, user, want string
		isError          bool
	}{
		{"approve", "u1", "deleted u1", false},
		{"deny", "u2", "denied by bob: keep them", true},
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
			code, out, errOut := run(t, "approvals", "list", "--url", ts.URL)
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
		code, out, errOut := run(t, "approvals", tc.verb, id, "--url", ts.URL, "--by", "bob", "--reason", "keep them")
		if code != 0 || !strings.Contains(out, id) {
			t.Fatalf("%s: exit %d %s %s", tc.verb, code, out, errOut)
		}
		res := <-done
		if res == nil || res.IsError != tc.isError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, tc.want) {
			t.Fatalf("%s: the call ended with %+v", tc.verb, res)
		}
		// Deciding again is a conflict (exit 5).
		if code, _, errOut := run(t, "approvals", "approve", id, "--url", ts.URL); code != 5 || !strings.Contains(errOut, "already decided") {
			t.Errorf("second decision: exit %d %s", code, errOut)
		}
	}
	if code, _, _ := run(t, "approvals", "approve", "apr_nope", "--url", ts.URL); code != 3 {
		t.Errorf("unknown approval: exit %d, want 3", code)
	}
	if code, _, errOut := run(t, "approvals", "list", "--url", "http://127.0.0.1:1"); code != 7 || !strings.Contains(errOut, "cannot reach") {
		t.Errorf("unreachable gateway: exit %d %s", code, errOut)
	}
}
