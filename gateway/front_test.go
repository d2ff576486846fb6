package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
)

type rawResp struct {
	status int
	header http.Header
	body   string
}

func post(t *testing.T, ctx context.Context, url, sid, body string, hdr map[string]string) rawResp {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResp{resp.StatusCode, resp.Header, string(b)}
}

const initBody = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

func rawSession(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	r := post(t, ctx, url, "", initBody, nil)
	sid := r.header.Get("Mcp-Session-Id")
	if r.status != 200 || sid == "" {
		t.Fatalf("initialize: %d %s", r.status, r.body)
	}
	if !strings.Contains(r.body, `"protocolVersion":"2025-06-18"`) {
		t.Fatalf("initialize did not negotiate 2025-06-18: %s", r.body)
	}
	post(t, ctx, url, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, nil)
	return sid
}

func rpcErrorCode(t *testing.T, body string) int {
	t.Helper()
	var m struct {
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.Error == nil {
		t.Fatalf("not a JSON-RPC error: %q", body)
	}
	return m.Error.Code
}

// Bad input gets a clear error, and the session keeps working afterwards.
func TestBadInput(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	gw, err := gateway.New(&gateway.Options{
		Servers:      []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}},
		Logger:       quietLogger(),
		MaxBodyBytes: 64 << 10,
		MaxDepth:     32,
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = gw
	_, url := newGatewayFrom(t, gw)
	sid := rawSession(t, ctx, url)

	tests := []struct {
		name     string
		sid      string
		body     string
		hdr      map[string]string
		status   int
		rpcCode  int    // 0: no JSON-RPC error expected
		contains string // in the body
	}{
		{name: "malformed JSON", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":`, status: 400, rpcCode: -32700},
		{name: "not JSON-RPC", sid: sid, body: `{"hello":"world"}`, status: 400, rpcCode: -32600},
		{name: "wrong version tag", sid: sid, body: `{"jsonrpc":"1.0","id":1,"method":"ping"}`, status: 400, rpcCode: -32600},
		{name: "too large", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + strings.Repeat("a", 70<<10) + `"}}`, status: 413},
		{name: "too deep", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`, status: 400, contains: "too deep"},
		{name: "unknown session", sid: "nope", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, status: 404},
		{name: "missing session", body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, status: 400},
		{name: "foreign origin", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, hdr: map[string]string{"Origin": "http://evil.example"}, status: 403},
		{name: "foreign host (DNS rebinding)", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, hdr: map[string]string{"Host": "rebind.example:8080"}, status: 403},
		{name: "localhost host", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, hdr: map[string]string{"Host": "localhost:8080"}, status: 200, contains: `"result":{}`},
		{name: "loopback origin", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, hdr: map[string]string{"Origin": "http://localhost:3000"}, status: 200, contains: `"result":{}`},
		{name: "unsupported protocol header", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, hdr: map[string]string{"Mcp-Protocol-Version": "1999-01-01"}, status: 400},
		{name: "wrong content type", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"ping"}`, hdr: map[string]string{"Content-Type": "text/plain"}, status: 415},
		{name: "unknown tool", sid: sid, body: `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}`, status: 200, contains: `unknown tool \"no_such_tool\"`},
		{name: "arguments not an object", sid: sid, body: `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":[1,2]}}`, status: 200, rpcCode: -32602},
		{name: "unknown method reaches no upstream", sid: sid, body: `{"jsonrpc":"2.0","id":4,"method":"no/such/method"}`, status: 200, rpcCode: -32601, contains: `method not found: no/such/method`},
		{name: "duplicate key", sid: sid, body: `{"jsonrpc":"2.0","id":6,"method":"ping","method":"tools/call"}`, status: 400, rpcCode: -32600, contains: `duplicate key`},
		{name: "case variant of method", sid: sid, body: `{"jsonrpc":"2.0","id":6,"method":"ping","Method":"tools/call"}`, status: 400, rpcCode: -32600, contains: `differ only in case`},
		{name: "lone case variant of params", sid: sid, body: `{"jsonrpc":"2.0","id":6,"method":"tools/call","Params":{"name":"echo"}}`, status: 400, rpcCode: -32600, contains: `must be spelled`},
		{name: "lone case variant of arguments", sid: sid, body: `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","Arguments":{}}}`, status: 400, rpcCode: -32600, contains: `must be spelled`},
		{name: "long s variant of params", sid: sid, body: `{"jsonrpc":"2.0","id":6,"method":"tools/call","paramſ":{"name":"echo"}}`, status: 400, rpcCode: -32600},
		{name: "duplicate argument", sid: sid, body: `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{"message":"a","message":"b"}}}`, status: 400, rpcCode: -32600},
		{name: "invalid UTF-8", sid: sid, body: "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\",\"params\":{\"x\":\"\xff\"}}", status: 400, rpcCode: -32600},
		{name: "lone surrogate", sid: sid, body: `{"jsonrpc":"2.0","id":6,"method":"ping","params":{"x":"\ud800"}}`, status: 400, rpcCode: -32600},
		{name: "two messages in one body", sid: sid, body: "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}", status: 400, rpcCode: -32700},
		{name: "object progress token", sid: sid, body: `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{},"_meta":{"progressToken":{"a":1}}}}`, status: 400, rpcCode: -32600, contains: "progressToken"},
		{name: "object progress token in a notification", sid: sid, body: `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":{},"progress":1}}`, status: 400, rpcCode: -32600, contains: "progressToken"},
		{name: "id beyond 2^53", sid: sid, body: `{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}`, status: 400, rpcCode: -32600},
		{name: "fractional id", sid: sid, body: `{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, status: 400, rpcCode: -32600},
		{name: "batch refused after 2025-03-26", sid: sid, body: `[{"jsonrpc":"2.0","id":5,"method":"ping"}]`, status: 400, rpcCode: -32600},
		{name: "second initialize", sid: sid, body: initBody, status: 200, rpcCode: -32600},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, ctx, url, tc.sid, tc.body, tc.hdr)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d (body %q)", r.status, tc.status, r.body)
			}
			if tc.rpcCode != 0 {
				if got := rpcErrorCode(t, r.body); got != tc.rpcCode {
					t.Errorf("JSON-RPC code = %d, want %d (%s)", got, tc.rpcCode, r.body)
				}
			}
			if tc.contains != "" && !strings.Contains(r.body, tc.contains) {
				t.Errorf("body %q lacks %q", r.body, tc.contains)
			}
		})
	}
	// Nothing above broke the session.
	if r := post(t, ctx, url, sid, `{"jsonrpc":"2.0","id":9,"method":"ping"}`, nil); r.status != 200 || !strings.Contains(r.body, `"result":{}`) {
		t.Fatalf("session broken after bad input: %d %s", r.status, r.body)
	}
}

// Protocol 2025-03-26 carries batches.
func TestBatch20250326(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	_, url := newGateway(t, allowAll, gateway.Server{Name: "echo", URL: echo.StartHTTP(t)})
	r := post(t, ctx, url, "", strings.Replace(initBody, "2025-06-18", "2025-03-26", 1), nil)
	sid := r.header.Get("Mcp-Session-Id")
	if !strings.Contains(r.body, `"2025-03-26"`) {
		t.Fatalf("not negotiated: %s", r.body)
	}
	r = post(t, ctx, url, sid, `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"b"}}}]`, nil)
	var out []map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil || len(out) != 2 {
		t.Fatalf("batch answer: %d %s", r.status, r.body)
	}
}

// An unknown revision is answered with the newest one the gateway speaks,
// and a newer client's server/discover probe gets an error it falls back on.
func TestVersionNegotiation(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	_, url := newGateway(t, allowAll, gateway.Server{Name: "echo", URL: echo.StartHTTP(t)})
	r := post(t, ctx, url, "", strings.Replace(initBody, "2025-06-18", "2099-01-01", 1), nil)
	if !strings.Contains(r.body, `"protocolVersion":"2025-11-25"`) {
		t.Errorf("unknown version not answered with 2025-11-25: %s", r.body)
	}
	// A client of 2026-07-28 probing with server/discover learns that this
	// upstream is served on older revisions only, and initializes.
	r = post(t, ctx, url, "", discoverBody, modernHeaders("server/discover", ""))
	if r.status != 200 || !strings.Contains(r.body, `"supportedVersions":["2025-11-25","2025-06-18","2025-03-26"]`) {
		t.Errorf("server/discover: %d %s", r.status, r.body)
	}
}

const discoverBody = `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`

func newGatewayFrom(t *testing.T, gw *gateway.Gateway) (*gateway.Gateway, string) {
	t.Helper()
	ts := newServer(gw)
	t.Cleanup(func() {
		ts.Close()
		gw.Close()
	})
	return gw, ts.URL + "/mcp"
}

// A session nobody uses ends by itself, and its upstream session with it.
func TestIdleSessionsEnd(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	gw, err := gateway.New(&gateway.Options{
		Servers:            []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}},
		Logger:             quietLogger(),
		SessionIdleTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	sid := rawSession(t, ctx, url)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := post(t, ctx, url, sid, `{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}`, nil)
		if r.status == http.StatusNotFound {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("idle session never ended")
		}
		time.Sleep(300 * time.Millisecond)
	}
}
