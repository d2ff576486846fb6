package gateway_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/grant"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// bearerTransport adds a grant's token to every request, as an MCP client
// configured with a header does.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func connectWithToken(t *testing.T, ctx context.Context, url, token string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url,
		HTTPClient: &http.Client{Transport: bearerTransport{token}}}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// headerSpy records the Authorization headers an upstream receives.
type headerSpy struct {
	mu   sync.Mutex
	seen []string
	next http.Handler
}

func (h *headerSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.seen = append(h.seen, r.Header.Values("Authorization")...)
	h.mu.Unlock()
	h.next.ServeHTTP(w, r)
}

type authEnv struct {
	store      *grant.Memory
	url        string
	echo       *testpeer.EchoServer
	spy        *headerSpy
	tokA, tokB string
	a, b       *toolgate.Grant
	logs       *testpeer.SyncBuffer // the gateway's log, Info and up
}

func newAuthEnv(t *testing.T, servers ...string) *authEnv {
	t.Helper()
	ctx := testContext(t)
	env := &authEnv{store: grant.NewMemory(), echo: testpeer.GoEchoServer(), logs: new(testpeer.SyncBuffer)}
	env.spy = &headerSpy{next: env.echo.HTTPHandler()}
	other := testpeer.GoEchoServer()
	var err error
	if env.a, env.tokA, err = grant.Create(ctx, env.store, grant.Spec{Subject: "alice@example.com", Policy: "support", Servers: servers}); err != nil {
		t.Fatal(err)
	}
	if env.b, env.tokB, err = grant.Create(ctx, env.store, grant.Spec{Subject: "agent:bot", Policy: "support"}); err != nil {
		t.Fatal(err)
	}
	verifier := &grant.Verifier{Store: env.store}
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{
			{Name: "echo", Prefix: "echo_", URL: serveHandler(t, env.spy)},
			{Name: "other", Prefix: "other_", URL: other.StartHTTP(t)},
		},
		Logger:        slog.New(slog.NewTextHandler(env.logs, nil)),
		Authenticator: gateway.AuthenticatorFunc(verifier.Verify),
	})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.Load([]byte(`{"version":"1","default":"deny","tools":{
		"echo_echo":{"limits":[{"counter":"echo","window":"hour","max":2,"scope":"grant"}]},
		"other_echo":{}}}`), "support.json")
	if err != nil {
		t.Fatal(err)
	}
	gw.SetNamedPolicy("support", eng)
	_, env.url = newGatewayFrom(t, gw)
	return env
}

func serveHandler(t *testing.T, h http.Handler) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	ts := newServer(mux)
	t.Cleanup(func() { ts.CloseClientConnections(); ts.Close() })
	return ts.URL + "/mcp"
}

// Every request needs a grant's token; every refusal looks the same.
func TestAuthRefusals(t *testing.T) {
	ctx := testContext(t)
	env := newAuthEnv(t)
	revoked, tokR, err := grant.Create(ctx, env.store, grant.Spec{Subject: "gone", Policy: "support"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.store.Revoke(ctx, revoked.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		url  string
	}{
		{"missing", nil, env.url},
		{"malformed", map[string]string{"Authorization": "Bearer nope"}, env.url},
		{"forged", map[string]string{"Authorization": "Bearer tg_" + strings.Repeat("A", 43)}, env.url},
		{"truncated", map[string]string{"Authorization": "Bearer " + env.tokA[:len(env.tokA)-1]}, env.url},
		{"revoked", map[string]string{"Authorization": "Bearer " + tokR}, env.url},
		{"basic scheme", map[string]string{"Authorization": "Basic " + env.tokA}, env.url},
		{"token in the query string", nil, env.url + "?access_token=" + env.tokA},
	} {
		r := post(t, ctx, tc.url, "", initBody, tc.hdr)
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %q %s", tc.name, r.status, r.header.Get("WWW-Authenticate"), r.body)
		}
		bodies = append(bodies, r.body)
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("refusals differ: %q vs %q", b, bodies[0])
		}
	}
}

// Each grant counts its own limits, a session belongs to the grant that
// opened it, a grant reaches only its servers, and the client's token
// never reaches an upstream.
func TestAuthGrants(t *testing.T) {
	ctx := testContext(t)
	env := newAuthEnv(t, "echo") // alice may reach echo only
	alice := connectWithToken(t, ctx, env.url, env.tokA)
	bot := connectWithToken(t, ctx, env.url, env.tokB)

	tools, err := alice.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tools.Tools {
		if strings.HasPrefix(tl.Name, "other_") {
			t.Errorf("alice's grant lists %s, of a server it may not reach", tl.Name)
		}
	}
	call := func(cs *mcp.ClientSession, name string) *mcp.CallToolResult {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"message": "hi"}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for i := 0; i < 2; i++ {
		if res := call(alice, "echo_echo"); res.IsError {
			t.Fatalf("alice's call %d: %s", i, textOf(res))
		}
	}
	if res := call(alice, "echo_echo"); !res.IsError || !strings.Contains(textOf(res), "rate limit of 2 per hour") {
		t.Fatalf("alice's third call: %s", textOf(res))
	}
	if res := call(bot, "echo_echo"); res.IsError {
		t.Fatalf("the bot's first call, under its own grant's budget: %s", textOf(res))
	}
	if res := call(alice, "other_echo"); !res.IsError || !strings.Contains(textOf(res), "unknown tool") {
		t.Fatalf("alice called a server her grant does not allow: %s", textOf(res))
	}
	if res := call(bot, "other_echo"); res.IsError {
		t.Fatalf("the bot may reach every server: %s", textOf(res))
	}

	// Hijack: alice's session id with the bot's token is no session at all.
	sid := alice.ID()
	r := post(t, ctx, env.url, sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"Authorization": "Bearer " + env.tokB})
	if r.status != http.StatusNotFound {
		t.Fatalf("alice's session with the bot's token: %d %s", r.status, r.body)
	}
	env.spy.mu.Lock()
	seen := env.spy.seen
	env.spy.mu.Unlock()
	if len(seen) != 0 {
		t.Fatalf("the upstream received Authorization headers: %q", seen)
	}
}

// Revoking a grant ends its sessions on their next request; a grant whose
// policy is not loaded is denied every call with "(no policy)".
func TestAuthRevokeAndMissingPolicy(t *testing.T) {
	ctx := testContext(t)
	env := newAuthEnv(t)
	sid := rawSessionWith(t, ctx, env.url, env.tokA)
	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	if r := post(t, ctx, env.url, sid, ping, map[string]string{"Authorization": "Bearer " + env.tokA}); r.status != 200 {
		t.Fatalf("ping: %d %s", r.status, r.body)
	}
	if _, err := env.store.Revoke(ctx, env.a.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if r := post(t, ctx, env.url, sid, ping, map[string]string{"Authorization": "Bearer " + env.tokA}); r.status != http.StatusUnauthorized {
		t.Fatalf("after revoke: %d %s", r.status, r.body)
	}
	// A new grant for the same subject cannot pick the ended session up.
	_, tokC, err := grant.Create(ctx, env.store, grant.Spec{Subject: "alice@example.com", Policy: "nowhere"})
	if err != nil {
		t.Fatal(err)
	}
	if r := post(t, ctx, env.url, sid, ping, map[string]string{"Authorization": "Bearer " + tokC}); r.status != http.StatusNotFound {
		t.Fatalf("the revoked grant's session: %d %s", r.status, r.body)
	}
	cs := connectWithToken(t, ctx, env.url, tokC)
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo_echo", Arguments: map[string]any{"message": "hi"}})
	if err != nil || !res.IsError || !strings.Contains(textOf(res), "no policy") {
		t.Fatalf("a grant without a loaded policy: %v %+v", err, res)
	}
}

// Refused tokens are counted per client address: past the bound, 429
// without a lookup.
func TestAuthFailuresLimited(t *testing.T) {
	ctx := testContext(t)
	env := newAuthEnv(t)
	var last int
	for i := 0; i < 25; i++ {
		last = post(t, ctx, env.url, "", initBody, map[string]string{"Authorization": "Bearer tg_wrong"}).status
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("after 25 refused tokens: %d, want 429", last)
	}
	// Each refusal is logged, the address's last one as a warning, and
	// never the token.
	logs := env.logs.String()
	if n := strings.Count(logs, "authentication refused"); n != 19 {
		t.Errorf("%d refusals logged, want 19:\n%s", n, logs)
	}
	if strings.Count(logs, "level=WARN msg=\"too many failed authentication attempts") != 1 || strings.Contains(logs, "tg_wrong") {
		t.Errorf("log:\n%s", logs)
	}
}

func rawSessionWith(t *testing.T, ctx context.Context, url, token string) string {
	t.Helper()
	r := post(t, ctx, url, "", initBody, map[string]string{"Authorization": "Bearer " + token})
	sid := r.header.Get("Mcp-Session-Id")
	if r.status != 200 || sid == "" {
		t.Fatalf("initialize: %d %s", r.status, r.body)
	}
	return sid
}

// Each server is also served alone at an endpoint of its own: its sessions
// reach that server only, a grant that may not reach it gets 403, and a
// session lives on the endpoint that opened it.
func TestServerEndpoints(t *testing.T) {
	ctx := testContext(t)
	env := newAuthEnv(t, "echo") // alice may reach echo only
	verifier := &grant.Verifier{Store: env.store}
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{
			{Name: "echo", Prefix: "echo_", URL: testpeer.GoEchoServer().StartHTTP(t)},
			{Name: "other", Prefix: "other_", URL: testpeer.GoEchoServer().StartHTTP(t)},
		},
		Logger: quietLogger(), Authenticator: gateway.AuthenticatorFunc(verifier.Verify),
	})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.Load([]byte(`{"version":"1","default":"allow"}`), "support.json")
	if err != nil {
		t.Fatal(err)
	}
	gw.SetNamedPolicy("support", eng)
	mux := http.NewServeMux()
	mux.Handle("/mcp", gw)
	for _, name := range []string{"echo", "other"} {
		h, err := gw.ServerHandler(name)
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle("/mcp/"+name, h)
	}
	if _, err := gw.ServerHandler("nope"); err == nil {
		t.Error("a handler for an unknown server")
	}
	ts := newServer(mux)
	t.Cleanup(func() { ts.CloseClientConnections(); ts.Close(); gw.Close() })

	bot := connectWithToken(t, ctx, ts.URL+"/mcp/other", env.tokB)
	tools, err := bot.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tools.Tools {
		if !strings.HasPrefix(tl.Name, "other_") {
			t.Errorf("/mcp/other lists %s", tl.Name)
		}
	}
	if len(tools.Tools) == 0 {
		t.Fatal("/mcp/other lists nothing")
	}
	auth := map[string]string{"Authorization": "Bearer " + env.tokA}
	if r := post(t, ctx, ts.URL+"/mcp/other", "", initBody, auth); r.status != http.StatusForbidden {
		t.Fatalf("alice at /mcp/other: %d %s", r.status, r.body)
	}
	sid := rawSessionWith(t, ctx, ts.URL+"/mcp", env.tokA)
	if r := post(t, ctx, ts.URL+"/mcp/echo", sid, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, auth); r.status != http.StatusNotFound {
		t.Fatalf("a /mcp session at /mcp/echo: %d %s", r.status, r.body)
	}
}
