//lint:file-ignore SA1019 sampling is tested on purpose

package gateway_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/grant"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

const denyDelete = `{"version":"1","default":"allow","tools":{"DeleteUser":{"action":"deny","on_deny":"no deleting"}}}`

// legacyFront serves gw's /mcp and its legacy SSE front on a loopback
// server and returns its base URL.
func legacyFront(t *testing.T, gw *gateway.Gateway) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/mcp", gw)
	mux.HandleFunc(gateway.LegacySSEPath, gw.ServeLegacySSE)
	mux.HandleFunc(gateway.LegacyMessagesPath, gw.ServeLegacyMessages)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		gw.Close()
	})
	return ts.URL
}

func newLegacyGateway(t *testing.T, doc string, opts gateway.Options) string {
	t.Helper()
	eng, err := policy.Load([]byte(doc), "policy.json")
	if err != nil {
		t.Fatal(err)
	}
	opts.Policy = eng
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	gw, err := gateway.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	return legacyFront(t, gw)
}

func connectSSE(t *testing.T, ctx context.Context, url string, opts *mcp.ClientOptions, hc *http.Client) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "legacy-client", Version: "1"}, opts)
	cs, err := client.Connect(ctx, &mcp.SSEClientTransport{Endpoint: url + gateway.LegacySSEPath, HTTPClient: hc}, nil)
	if err != nil {
		t.Fatalf("connect over legacy SSE: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// An old client on the legacy SSE front gets what a /mcp client gets: the
// merged tools, allowed calls answered, a denied call the policy's denial
// (never reaching the server), progress and the server's sampling
// requests on its stream.
func TestLegacySSEFrontEndToEnd(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	base := newLegacyGateway(t, denyDelete, gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}}})
	var mu sync.Mutex
	var progress []float64
	cs := connectSSE(t, ctx, base, &mcp.ClientOptions{
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Model: "test", Role: "assistant", Content: &mcp.TextContent{Text: "sampled over sse"}}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			progress = append(progress, req.Params.Progress)
			mu.Unlock()
		},
	}, nil)
	if got := cs.InitializeResult().ServerInfo.Name; got != "toolgate" {
		t.Errorf("serverInfo.name = %q, want toolgate", got)
	}
	names := toolNames(t, ctx, cs)
	for _, want := range []string{"DeleteUser", "echo", "sample", "slow"} {
		if !contains(names, want) {
			t.Errorf("tools/list lacks %q: %v", want, names)
		}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "old client"}})
	if err != nil || res.IsError || textOf(res) != "old client" {
		t.Fatalf("echo: %v %+v", err, res)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": "user_1"}})
	if err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if !res.IsError || !strings.HasPrefix(textOf(res), "[POLICY DENIED] no deleting") || res.Meta["toolgate/decision"] == nil {
		t.Fatalf("DeleteUser: want the policy's denial, got %q %+v", textOf(res), res)
	}
	if n := echo.Calls("DeleteUser"); n != 0 {
		t.Errorf("the server executed DeleteUser %d times", n)
	}
	// The upstream asks the client's model, over the legacy stream.
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{"prompt": "hi"}})
	if err != nil || res.IsError || !strings.Contains(textOf(res), "sampled over sse") {
		t.Fatalf("sample: %v %+v", err, res)
	}
	params := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 50}}
	params.SetProgressToken("p1")
	if res, err = cs.CallTool(ctx, params); err != nil || res.IsError {
		t.Fatalf("slow: %v %+v", err, res)
	}
	mu.Lock()
	n := len(progress)
	mu.Unlock()
	if n == 0 {
		t.Error("no progress notification reached the legacy client")
	}
}

// sseStream is a raw legacy SSE stream, read event by event.
type sseStream struct {
	resp *http.Response
	br   *bufio.Reader
}

func openSSE(t *testing.T, ctx context.Context, base, token string) (*sseStream, int) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+gateway.LegacySSEPath, nil)
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	s := &sseStream{resp: resp, br: bufio.NewReader(resp.Body)}
	t.Cleanup(func() { resp.Body.Close() })
	return s, resp.StatusCode
}

// next returns the next event's type and data; err at the stream's end.
func (s *sseStream) next() (string, string, error) {
	var event, data string
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if data != "" {
				return event, data, nil
			}
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimPrefix(line, "data: ")
		}
	}
}

func (s *sseStream) endpoint(t *testing.T) string {
	t.Helper()
	ev, data, err := s.next()
	if err != nil || ev != "endpoint" || !strings.HasPrefix(data, gateway.LegacyMessagesPath+"?sessionId=") {
		t.Fatalf("first event %q %q (%v), want the endpoint", ev, data, err)
	}
	return data
}

func postLegacy(t *testing.T, ctx context.Context, url, token, contentType, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// What /mcp refuses, the legacy front refuses: unknown sessions, bodies
// over max_body_bytes, bad JSON, duplicate keys, other content types.
func TestLegacySSEFrontBadInput(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	logs := new(testpeer.SyncBuffer)
	base := newLegacyGateway(t, allowAll, gateway.Options{MaxBodyBytes: 1024, Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	st, _ := openSSE(t, ctx, base, "")
	ep := base + st.endpoint(t)
	sid := strings.TrimPrefix(ep, base+gateway.LegacyMessagesPath+"?sessionId=")
	defer func() {
		if out := logs.String(); out == "" || strings.Contains(out, sid) {
			t.Errorf("the log (%d bytes) holds the stream's sessionId", len(out))
		}
	}()
	if code, body := postLegacy(t, ctx, ep, "", "application/json", initializeBody); code != http.StatusAccepted {
		t.Fatalf("initialize: %d %s", code, body)
	}
	if ev, data, err := st.next(); err != nil || ev != "message" || !strings.Contains(data, `"serverInfo"`) {
		t.Fatalf("initialize answer: %q %q %v", ev, data, err)
	}
	big := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"` + strings.Repeat("x", 2048) + `"}}}`
	tests := []struct {
		name, url, contentType, body string
		want                         int
	}{
		{"unknown session", base + gateway.LegacyMessagesPath + "?sessionId=00112233445566778899aabbccddeeff", "application/json", `{"jsonrpc":"2.0","id":2,"method":"ping"}`, http.StatusNotFound},
		{"no session", base + gateway.LegacyMessagesPath, "application/json", `{"jsonrpc":"2.0","id":2,"method":"ping"}`, http.StatusBadRequest},
		{"too large", ep, "application/json", big, http.StatusRequestEntityTooLarge},
		{"not JSON", ep, "application/json", `{"jsonrpc":`, http.StatusBadRequest},
		{"duplicate keys", ep, "application/json", `{"jsonrpc":"2.0","id":2,"method":"ping","method":"tools/list"}`, http.StatusBadRequest},
		{"case variant", ep, "application/json", `{"jsonrpc":"2.0","id":2,"Method":"ping"}`, http.StatusBadRequest},
		{"batch", ep, "application/json", `[{"jsonrpc":"2.0","id":2,"method":"ping"}]`, http.StatusBadRequest},
		{"content type", ep, "text/plain", `{"jsonrpc":"2.0","id":2,"method":"ping"}`, http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := postLegacy(t, ctx, tt.url, "", tt.contentType, tt.body); code != tt.want {
				t.Errorf("status %d (%s), want %d", code, body, tt.want)
			}
		})
	}
	// None of it reached the upstream, and the session still works.
	if code, _ := postLegacy(t, ctx, ep, "", "application/json", `{"jsonrpc":"2.0","id":3,"method":"ping"}`); code != http.StatusAccepted {
		t.Fatalf("ping: %d", code)
	}
	if _, data, err := st.next(); err != nil || !strings.Contains(data, `"id":3`) {
		t.Fatalf("ping answer: %q %v", data, err)
	}
	if n := len(echo.Executed()); n != 0 {
		t.Errorf("the upstream executed %d calls", n)
	}
	// GET only at /sse, POST only at /messages.
	if code, _ := postLegacy(t, ctx, base+gateway.LegacySSEPath, "", "application/json", `{}`); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /sse: %d", code)
	}
}

// A stream holds a place among the sessions from the moment it opens, so
// max_sessions and max_sessions_per_client bound streams too; a stream
// that does not initialize, and a session that idles, end after
// session_idle_timeout; ending the stream ends its session.
func TestLegacySSEFrontSessionBounds(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	t.Run("per client", func(t *testing.T) {
		base := newLegacyGateway(t, allowAll, gateway.Options{MaxSessionsPerClient: 1, Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}}})
		st, _ := openSSE(t, ctx, base, "")
		st.endpoint(t)
		if _, code := openSSE(t, ctx, base, ""); code != http.StatusTooManyRequests {
			t.Errorf("second stream: %d, want 429", code)
		}
		// nor may /mcp open a session past the bound
		if r := post(t, ctx, base+"/mcp", "", initializeBody, nil); r.status != http.StatusTooManyRequests {
			t.Errorf("/mcp initialize beside the stream: %d, want 429", r.status)
		}
		st.resp.Body.Close()
		waitFor(t, "the place to be given back", func() bool {
			s, code := openSSE(t, ctx, base, "")
			if s != nil {
				s.resp.Body.Close()
			}
			return code == http.StatusOK
		})
	})
	t.Run("total", func(t *testing.T) {
		base := newLegacyGateway(t, allowAll, gateway.Options{MaxSessions: 1, Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}}})
		cs := connectSSE(t, ctx, base, nil, nil)
		if _, code := openSSE(t, ctx, base, ""); code != http.StatusServiceUnavailable {
			t.Errorf("stream beyond max_sessions: %d, want 503", code)
		}
		cs.Close()
		waitFor(t, "the session to end with its stream", func() bool {
			s, code := openSSE(t, ctx, base, "")
			if s != nil {
				s.resp.Body.Close()
			}
			return code == http.StatusOK
		})
	})
	t.Run("idle", func(t *testing.T) {
		base := newLegacyGateway(t, allowAll, gateway.Options{SessionIdleTimeout: 300 * time.Millisecond, Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}}})
		for _, initialize := range []bool{false, true} {
			st, _ := openSSE(t, ctx, base, "")
			ep := base + st.endpoint(t)
			if initialize {
				if code, _ := postLegacy(t, ctx, ep, "", "application/json", initializeBody); code != http.StatusAccepted {
					t.Fatalf("initialize: %d", code)
				}
			}
			ended := make(chan error, 1)
			go func() {
				for {
					if _, _, err := st.next(); err != nil {
						ended <- err
						return
					}
				}
			}()
			select {
			case <-ended:
			case <-time.After(20 * time.Second):
				t.Fatalf("stream (initialized: %v) still open long after session_idle_timeout", initialize)
			}
			if code, _ := postLegacy(t, ctx, ep, "", "application/json", `{"jsonrpc":"2.0","id":5,"method":"ping"}`); code != http.StatusNotFound {
				t.Errorf("POST after the stream ended: %d, want 404", code)
			}
		}
	})
}

// With grants, the legacy front authenticates exactly like /mcp: no token
// no stream, and a stream opened by one grant is unknown to every other.
func TestLegacySSEFrontAuth(t *testing.T) {
	ctx := testContext(t)
	store := grant.NewMemory()
	a, tokA, err := grant.Create(ctx, store, grant.Spec{Subject: "alice@example.com", Policy: "support"})
	if err != nil {
		t.Fatal(err)
	}
	_, tokB, err := grant.Create(ctx, store, grant.Spec{Subject: "agent:bot", Policy: "support"})
	if err != nil {
		t.Fatal(err)
	}
	echo := testpeer.GoEchoServer()
	verifier := &grant.Verifier{Store: store}
	gw, err := gateway.New(&gateway.Options{Logger: quietLogger(),
		Servers:       []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}},
		Authenticator: gateway.AuthenticatorFunc(verifier.Verify)})
	if err != nil {
		t.Fatal(err)
	}
	gw.SetNamedPolicy("support", mustLoad(t, denyDelete))
	base := legacyFront(t, gw)
	if _, code := openSSE(t, ctx, base, ""); code != http.StatusUnauthorized {
		t.Errorf("stream without a token: %d, want 401", code)
	}
	if _, code := openSSE(t, ctx, base, "tg_not_a_token"); code != http.StatusUnauthorized {
		t.Errorf("stream with a wrong token: %d, want 401", code)
	}
	st, _ := openSSE(t, ctx, base, tokA)
	ep := base + st.endpoint(t)
	for _, tok := range []string{"", tokB} {
		code, _ := postLegacy(t, ctx, ep, tok, "application/json", initializeBody)
		if want := map[bool]int{true: http.StatusUnauthorized, false: http.StatusNotFound}[tok == ""]; code != want {
			t.Errorf("initialize with token %q on alice's stream: %d, want %d", tok, code, want)
		}
	}
	if code, _ := postLegacy(t, ctx, ep, tokA, "application/json", initializeBody); code != http.StatusAccepted {
		t.Fatalf("alice's initialize: %d", code)
	}
	if _, data, err := st.next(); err != nil || !strings.Contains(data, `"serverInfo"`) {
		t.Fatalf("initialize answer: %q %v", data, err)
	}
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"DeleteUser","arguments":{"user_id":"u"}}}`
	if code, _ := postLegacy(t, ctx, ep, tokA, "application/json", call); code != http.StatusAccepted {
		t.Fatalf("alice's call: %d", code)
	}
	if _, data, err := st.next(); err != nil || !strings.Contains(data, "[POLICY DENIED] no deleting") {
		t.Fatalf("alice's denied call: %q %v", data, err)
	}
	// Revoking the grant ends its session, and its stream with it.
	if _, err := store.Revoke(ctx, a.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := gw.EndGrantSessions(a.ID); n != 1 {
		t.Errorf("EndGrantSessions ended %d sessions, want 1", n)
	}
	for {
		if _, _, err := st.next(); err != nil {
			break
		}
	}
	if n := echo.Calls("DeleteUser"); n != 0 {
		t.Errorf("the server executed DeleteUser %d times", n)
	}
}

// A legacy session serves at most 64 requests at once (a POST beyond is
// answered 429, not queued), and closing its stream cancels those in
// flight upstream.
func TestLegacySSEFrontRequestBound(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	base := newLegacyGateway(t, allowAll, gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t), Timeout: time.Minute}}})
	st, _ := openSSE(t, ctx, base, "")
	ep := base + st.endpoint(t)
	if code, _ := postLegacy(t, ctx, ep, "", "application/json", initializeBody); code != http.StatusAccepted {
		t.Fatalf("initialize: %d", code)
	}
	if _, data, err := st.next(); err != nil || !strings.Contains(data, `"serverInfo"`) {
		t.Fatalf("initialize answer: %q %v", data, err)
	}
	const bound = 64
	for i := range bound {
		call := `{"jsonrpc":"2.0","id":` + strconv.Itoa(100+i) + `,"method":"tools/call","params":{"name":"slow","arguments":{"ms":50000}}}`
		if code, body := postLegacy(t, ctx, ep, "", "application/json", call); code != http.StatusAccepted {
			t.Fatalf("call %d: %d %s", i, code, body)
		}
	}
	over := `{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"slow","arguments":{"ms":1}}}`
	if code, _ := postLegacy(t, ctx, ep, "", "application/json", over); code != http.StatusTooManyRequests {
		t.Errorf("call beyond the bound: %d, want 429", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for echo.Calls("slow") < bound && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := echo.Calls("slow"); n != bound {
		t.Fatalf("the upstream got %d calls, want %d", n, bound)
	}
	st.resp.Body.Close()
	for echo.Cancellations() < bound && time.Now().Before(deadline.Add(30*time.Second)) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := echo.Cancellations(); n != bound {
		t.Errorf("%d calls were cancelled upstream after the stream closed, want %d", n, bound)
	}
}

// A client of 2024-11-05, the legacy transport's own revision, gets that
// revision on the legacy front (and its calls work); on /mcp, which that
// revision did not have, it gets the latest.
func TestLegacySSEFrontNegotiates20241105(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	base := newLegacyGateway(t, allowAll, gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}}})
	old := strings.Replace(initializeBody, "2025-06-18", "2024-11-05", 1)
	st, _ := openSSE(t, ctx, base, "")
	ep := base + st.endpoint(t)
	if code, _ := postLegacy(t, ctx, ep, "", "application/json", old); code != http.StatusAccepted {
		t.Fatalf("initialize: %d", code)
	}
	if _, data, err := st.next(); err != nil || !strings.Contains(data, `"protocolVersion":"2024-11-05"`) {
		t.Fatalf("initialize answer on the legacy front: %q %v", data, err)
	}
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"from 2024"}}}`
	if code, _ := postLegacy(t, ctx, ep, "", "application/json", call); code != http.StatusAccepted {
		t.Fatalf("call: %d", code)
	}
	if _, data, err := st.next(); err != nil || !strings.Contains(data, "from 2024") {
		t.Fatalf("call answer: %q %v", data, err)
	}
	if r := post(t, ctx, base+"/mcp", "", old, nil); r.status != http.StatusOK || !strings.Contains(r.body, `"protocolVersion":"2025-11-25"`) {
		t.Errorf("/mcp initialize of 2024-11-05: %d %s", r.status, r.body)
	}
}
