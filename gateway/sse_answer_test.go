package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// postAccept POSTs body on session sid with the given Accept header and
// returns the answer's Content-Type and body.
func postAccept(ctx context.Context, url, sid, accept, body string) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return resp.Header.Get("Content-Type"), string(b), err
}

// short cuts s for an error message.
func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// sseMessages returns the data of each event of an SSE body.
func sseMessages(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for ev := range strings.SplitSeq(body, "\n\n") {
		for line := range strings.SplitSeq(ev, "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				out = append(out, d)
			}
		}
	}
	return out
}

// A client that lists text/event-stream before application/json in Accept
// (as the conformance suite's SEP-1699 check does, three requests at once
// on one session) gets each answer as an SSE stream of one event, the
// JSON-RPC response; a client that lists application/json first (the Go
// and TypeScript SDKs) still gets plain JSON.
func TestAnswerFollowsAcceptPreference(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	_, url := newGateway(t, allowAll, gateway.Server{Name: "echo", URL: echo.StartHTTP(t)})
	sid := rawSession(t, ctx, url)

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() {
			id := 1000 + i
			ct, body, err := postAccept(ctx, url, sid, "text/event-stream, application/json",
				fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list","params":{}}`, id))
			if err != nil {
				errs[i] = err
				return
			}
			if ct != "text/event-stream" {
				errs[i] = fmt.Errorf("request %d: Content-Type %q, want text/event-stream (body %q)", id, ct, short(body))
				return
			}
			msgs := sseMessages(t, body)
			var resp struct {
				ID     int `json:"id"`
				Result struct {
					Tools []struct{ Name string } `json:"tools"`
				} `json:"result"`
			}
			if len(msgs) != 1 || json.Unmarshal([]byte(msgs[0]), &resp) != nil || resp.ID != id || len(resp.Result.Tools) == 0 {
				errs[i] = fmt.Errorf("request %d: want one event with the tools/list answer, got %q", id, short(body))
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	ct, body, err := postAccept(ctx, url, sid, "application/json, text/event-stream", `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}`)
	if err != nil || ct != "application/json" || !strings.HasPrefix(body, `{"jsonrpc":"2.0","id":7,"result":{`) {
		t.Errorf("JSON first: Content-Type %q, body %q, err %v", ct, short(body), err)
	}
	// A tool call preferring SSE gets its result the same way.
	ct, body, err = postAccept(ctx, url, sid, "text/event-stream, application/json",
		`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"message":"streamed"}}}`)
	if msgs := sseMessages(t, body); err != nil || ct != "text/event-stream" || len(msgs) != 1 || !strings.Contains(msgs[0], `"text":"streamed"`) {
		t.Errorf("tools/call preferring SSE: Content-Type %q, body %q, err %v", ct, short(body), err)
	}
}
