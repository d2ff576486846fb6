package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
)

// guardedUpstream is a go-sdk server behind a bearer check that accepts
// the tokens in ok (any request when ok is nil, except tools/call when
// refuseCalls), recording every Authorization header it receives.
type guardedUpstream struct {
	mu          sync.Mutex
	ok          map[string]bool
	refuseCalls bool
	seen        []string
}

func (g *guardedUpstream) start(t *testing.T) string {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "guarded", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "whoami"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "guarded answer"}}}, nil, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		authz := r.Header.Get("Authorization")
		g.mu.Lock()
		if authz != "" {
			g.seen = append(g.seen, authz)
		}
		refuse := (g.ok != nil && !g.ok[strings.TrimPrefix(authz, "Bearer ")]) ||
			(g.refuseCalls && bytes.Contains(body, []byte(`"tools/call"`)))
		g.mu.Unlock()
		if refuse {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource", scope="upstream-scope"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_token","error_description":"upstream secret words"}`)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/mcp"
}

func (g *guardedUpstream) accept(tokens ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ok = map[string]bool{}
	for _, t := range tokens {
		g.ok[t] = true
	}
}

func (g *guardedUpstream) received() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.seen...)
}

// rotatingCredentials hands out tok-1, then tok-2 once the server refused
// tok-1: the gateway's side of upstreamauth.Source.
type rotatingCredentials struct {
	mu           sync.Mutex
	cur          string
	unauthorized int
}

func (c *rotatingCredentials) Token(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur, nil
}

func (c *rotatingCredentials) Unauthorized(_ context.Context, sent string, status int, challenge []string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unauthorized++
	c.cur = "tok-2"
	return c.cur, nil
}

// withAuthorization is a client that sends a bearer token of its own.
type withAuthorization struct{ token string }

func (a withAuthorization) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+a.token)
	return http.DefaultTransport.RoundTrip(r)
}

func connectWithOwnToken(t *testing.T, ctx context.Context, url, token string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: withAuthorization{token}}}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// An upstream with credentials gets the gateway's token, never the
// client's; a refused token is renewed and the request sent again.
func TestUpstreamCredentials(t *testing.T) {
	ctx := testContext(t)
	up := &guardedUpstream{}
	up.accept("tok-1")
	creds := &rotatingCredentials{cur: "tok-1"}
	_, url := newGateway(t, allowAll, gateway.Server{Name: "guarded", URL: up.start(t), Credentials: creds})
	cs := connectWithOwnToken(t, ctx, url, "client-own-token")
	call := func(step string) {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}})
		if err != nil || res.IsError || textOf(res) != "guarded answer" {
			t.Fatalf("%s: %v %+v", step, err, res)
		}
	}
	call("with tok-1")
	up.accept("tok-2") // tok-1 is refused from now on
	call("after the refusal")
	if creds.unauthorized != 1 {
		t.Errorf("Unauthorized called %d times, want 1", creds.unauthorized)
	}
	for _, h := range up.received() {
		if h != "Bearer tok-1" && h != "Bearer tok-2" {
			t.Errorf("the upstream received Authorization %q", h)
		}
	}
}

// An upstream's 401 reaches the client as a fixed message: neither its
// body nor its challenge, which speak of the gateway's credentials.
func TestUpstreamRefusalNotShown(t *testing.T) {
	ctx := testContext(t)
	up := &guardedUpstream{refuseCalls: true}
	_, url := newGateway(t, allowAll, gateway.Server{Name: "guarded", URL: up.start(t)})
	cs := connectWithOwnToken(t, ctx, url, "client-own-token")
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}})
	text := ""
	if err != nil {
		text = err.Error()
	} else {
		text = textOf(res)
	}
	if !strings.Contains(text, "refused toolgate's credentials (HTTP 401)") {
		t.Errorf("the client read %q", text)
	}
	for _, leak := range []string{"secret words", "resource_metadata", "upstream-scope", "invalid_token"} {
		if strings.Contains(text, leak) {
			t.Errorf("the client read %q: %s", leak, text)
		}
	}
	for _, h := range up.received() {
		t.Errorf("the upstream received the client's Authorization %q", h)
	}
}
