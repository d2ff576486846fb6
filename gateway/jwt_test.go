package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/grant"
	"github.com/toolgate/toolgate/internal/jwtauth"
	"github.com/toolgate/toolgate/internal/jwtauth/jwttest"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// jwtEnv is a gateway that takes grant tokens and JWTs of a test issuer,
// its /mcp and /mcp/<server> endpoints and its resource metadata served
// like toolgate serve does.
type jwtEnv struct {
	is       *jwttest.Issuer
	key      *jwttest.Key
	base     string // the gateway server's URL
	url      string // base + "/mcp"
	aud      string
	grantTok string
	skew     atomic.Int64 // added to the verifier's clock, in nanoseconds
}

// later moves the JWT verifier's clock d ahead.
func (e *jwtEnv) later(d time.Duration) { e.skew.Add(int64(d)) }

func newJWTEnv(t *testing.T, resource string) *jwtEnv {
	t.Helper()
	ctx := testContext(t)
	env := &jwtEnv{key: jwttest.NewKey(t, "k1", jose.ES256)}
	env.is = jwttest.NewIssuer(t, env.key)
	store := grant.NewMemory()
	var err error
	if _, env.grantTok, err = grant.Create(ctx, store, grant.Spec{Subject: "agent:bot", Policy: "support"}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ts := newServer(mux)
	env.base, env.url = ts.URL, ts.URL+"/mcp"
	env.aud = env.url
	if resource != "" {
		env.aud = resource
	}
	jv, err := jwtauth.New(jwtauth.Config{Issuer: env.is.URL, Audience: env.aud, JWKSURL: env.is.JWKSURL(),
		Policy: "support", LabelClaims: map[string]string{"team": "team"}, Logger: quietLogger(),
		Now: func() time.Time { return time.Now().Add(time.Duration(env.skew.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	gv := &grant.Verifier{Store: store}
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{
			{Name: "echo", Prefix: "echo_", URL: testpeer.GoEchoServer().StartHTTP(t)},
			{Name: "other", Prefix: "other_", URL: testpeer.GoEchoServer().StartHTTP(t)},
		},
		Logger:            quietLogger(),
		Authenticator:     gateway.AuthenticatorFunc(jwtauth.Dispatch(gv.Verify, jv.Verify)),
		ProtectedResource: &gateway.ProtectedResource{Resource: resource, AuthorizationServers: []string{env.is.URL}},
	})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.Load([]byte(`{"version":"1","default":"deny","tools":{
		"echo_echo":{"limits":[{"counter":"echo","window":"hour","max":2,"scope":"grant"}]},
		"other_echo":{"when":"\"team\" in identity.labels && identity.labels.team == \"support\"","on_deny":"support only"}}}`), "support.json")
	if err != nil {
		t.Fatal(err)
	}
	gw.SetNamedPolicy("support", eng)
	mux.Handle("/mcp", gw)
	for _, name := range []string{"echo", "other"} {
		h, err := gw.ServerHandler(name)
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle("/mcp/"+name, h)
	}
	mux.Handle("GET "+gateway.ResourceMetadataPath+"/", gw.ResourceMetadataHandler())
	mux.Handle("GET "+gateway.ResourceMetadataPath, gw.ResourceMetadataHandler())
	t.Cleanup(func() { ts.CloseClientConnections(); ts.Close(); gw.Close() })
	return env
}

// token signs a JWT for sub with the env's key, the claims changed by mod.
func (e *jwtEnv) token(t *testing.T, sub string, mod func(*jwttest.Claims)) string {
	t.Helper()
	c := e.is.Claims(sub, e.aud)
	c.Extra = map[string]any{"team": "support"}
	if mod != nil {
		mod(&c)
	}
	return jwttest.Sign(t, e.key, c)
}

// A real MCP client connects with a JWT: its subject's grant id counts
// the limits, its labels reach conditions, and another subject has its
// own budget. Grant tokens keep working beside JWTs.
func TestJWTClient(t *testing.T) {
	ctx := testContext(t)
	env := newJWTEnv(t, "")
	alice := connectWithToken(t, ctx, env.url, env.token(t, "alice", nil))
	bob := connectWithToken(t, ctx, env.url, env.token(t, "bob", func(c *jwttest.Claims) { c.Extra = nil }))
	bot := connectWithToken(t, ctx, env.url, env.grantTok)
	call := func(cs *mcp.ClientSession, name string) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"message": "hi"}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for i := range 2 {
		if res := call(alice, "echo_echo"); res.IsError {
			t.Fatalf("alice's call %d: %s", i, textOf(res))
		}
	}
	if res := call(alice, "echo_echo"); !res.IsError || !strings.Contains(textOf(res), "rate limit of 2 per hour") {
		t.Fatalf("alice's third call: %s", textOf(res))
	}
	if res := call(bob, "echo_echo"); res.IsError {
		t.Fatalf("bob's first call, his own budget: %s", textOf(res))
	}
	if res := call(bot, "echo_echo"); res.IsError {
		t.Fatalf("the grant's first call, its own budget: %s", textOf(res))
	}
	if res := call(alice, "other_echo"); res.IsError {
		t.Fatalf("alice has team=support from her token: %s", textOf(res))
	}
	if res := call(bob, "other_echo"); !res.IsError || !strings.Contains(textOf(res), "support only") {
		t.Fatalf("bob has no team label: %s", textOf(res))
	}
	// A second session of alice's, with a fresh token, shares her budget.
	again := connectWithToken(t, ctx, env.url, env.token(t, "alice", nil))
	if res := call(again, "echo_echo"); !res.IsError {
		t.Fatalf("alice's budget is per identity, not per token: %s", textOf(res))
	}
}

// Every bad JWT (and every bad grant token) gets the same 401, with the
// same WWW-Authenticate naming the resource metadata, and opens nothing.
func TestJWTRefusals(t *testing.T) {
	ctx := testContext(t)
	env := newJWTEnv(t, "")
	stranger := jwttest.NewKey(t, "k1", jose.ES256)
	good := func() jwttest.Claims {
		c := env.is.Claims("alice", env.aud)
		return c
	}
	with := func(f func(*jwttest.Claims)) jwttest.Claims { c := good(); f(&c); return c }
	tokens := []struct{ name, token string }{
		{"alg none", jwttest.Unsigned(good())},
		{"wrong key", jwttest.Sign(t, stranger, good())},
		{"wrong issuer", jwttest.Sign(t, env.key, with(func(c *jwttest.Claims) { c.Issuer = "https://evil.example" }))},
		{"wrong audience", jwttest.Sign(t, env.key, with(func(c *jwttest.Claims) { c.Audience = []string{env.base + "/other"} }))},
		{"expired", jwttest.Sign(t, env.key, with(func(c *jwttest.Claims) { c.Expiry = time.Now().Add(-time.Hour) }))},
		{"not yet valid", jwttest.Sign(t, env.key, with(func(c *jwttest.Claims) { c.NotBefore = time.Now().Add(time.Hour) }))},
		{"oversized", jwttest.Sign(t, env.key, with(func(c *jwttest.Claims) { c.Extra = map[string]any{"pad": strings.Repeat("x", 9000)} }))},
		{"HS256 with the public key", jwttest.SignWith(t, env.key.PublicKeyDER(t), jose.HS256, "k1", good())},
		{"missing subject", jwttest.Sign(t, env.key, with(func(c *jwttest.Claims) { c.Subject = "" }))},
		{"unknown kid", jwttest.SignWith(t, env.key.Priv, jose.ES256, "k2", good())},
		{"garbage", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"},
		{"bad grant token", "tg_" + strings.Repeat("A", 43)},
	}
	want := post(t, ctx, env.url, "", initBody, nil) // no token at all
	challenge := want.header.Get("WWW-Authenticate")
	if want.status != http.StatusUnauthorized || !strings.Contains(challenge, `resource_metadata="`+env.base+`/.well-known/oauth-protected-resource/mcp"`) {
		t.Fatalf("no token: %d %q %s", want.status, challenge, want.body)
	}
	for _, tc := range tokens {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, ctx, env.url, "", initBody, map[string]string{"Authorization": "Bearer " + tc.token})
			if r.status != http.StatusUnauthorized || r.body != want.body || r.header.Get("WWW-Authenticate") != challenge || r.header.Get("Mcp-Session-Id") != "" {
				t.Fatalf("%d %q %s; want 401 %q %s", r.status, r.header.Get("WWW-Authenticate"), r.body, challenge, want.body)
			}
		})
	}
	// A server's own endpoint names its own metadata.
	r := post(t, ctx, env.url+"/echo", "", initBody, nil)
	if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `/.well-known/oauth-protected-resource/mcp/echo"`) {
		t.Fatalf("/mcp/echo without a token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
}

// A session opened with a JWT belongs to its identity (issuer and
// subject): a refreshed token of the same subject goes on with it,
// another subject's token finds no session, and an expired token gets
// 401 without ending the session.
func TestJWTSessions(t *testing.T) {
	ctx := testContext(t)
	env := newJWTEnv(t, "")
	auth := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	opening := env.token(t, "alice", nil) // valid for an hour
	sid := rawSessionWith(t, ctx, env.url, opening)
	refreshed := env.token(t, "alice", func(c *jwttest.Claims) { c.Expiry = time.Now().Add(2 * time.Hour) })
	if r := post(t, ctx, env.url, sid, ping, auth(refreshed)); r.status != http.StatusOK {
		t.Fatalf("alice's refreshed token: %d %s", r.status, r.body)
	}
	if r := post(t, ctx, env.url, sid, ping, auth(env.token(t, "mallory", nil))); r.status != http.StatusNotFound {
		t.Fatalf("alice's session with mallory's token: %d %s", r.status, r.body)
	}
	if r := post(t, ctx, env.url, sid, ping, auth(env.grantTok)); r.status != http.StatusNotFound {
		t.Fatalf("alice's session with a grant token: %d %s", r.status, r.body)
	}
	// The token that opened the session expires: 401, and the session
	// lives on for the fresh token.
	env.later(90 * time.Minute)
	if r := post(t, ctx, env.url, sid, ping, auth(opening)); r.status != http.StatusUnauthorized {
		t.Fatalf("alice's expired token: %d %s", r.status, r.body)
	}
	if r := post(t, ctx, env.url, sid, ping, auth(refreshed)); r.status != http.StatusOK {
		t.Fatalf("after the opening token expired, a fresh one: %d %s", r.status, r.body)
	}
	// The same subject from the config's issuer only: a token whose iss
	// differs is refused before any session lookup.
	other := env.token(t, "alice", func(c *jwttest.Claims) { c.Issuer = env.is.URL + "/" })
	if r := post(t, ctx, env.url, sid, ping, auth(other)); r.status != http.StatusUnauthorized {
		t.Fatalf("another issuer's alice: %d %s", r.status, r.body)
	}
}

// With the JWKS unreachable and no keys fetched yet, a JWT gets 503 and
// nothing else; grant tokens still work.
func TestJWTKeysUnavailable(t *testing.T) {
	ctx := testContext(t)
	env := newJWTEnv(t, "")
	env.is.SetFailing(true)
	r := post(t, ctx, env.url, "", initBody, map[string]string{"Authorization": "Bearer " + env.token(t, "alice", nil)})
	if r.status != http.StatusServiceUnavailable || r.header.Get("Mcp-Session-Id") != "" {
		t.Fatalf("JWKS down: %d %s", r.status, r.body)
	}
	rawSessionWith(t, ctx, env.url, env.grantTok)
}

// The protected resource metadata (RFC 9728) of /mcp and of each
// server's endpoint, served without a token, at the root well-known
// path and at the path-suffixed ones.
func TestResourceMetadata(t *testing.T) {
	ctx := testContext(t)
	get := func(t *testing.T, url, host string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var doc map[string]any
		if resp.StatusCode == http.StatusOK {
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s: Content-Type %q", url, resp.Header.Get("Content-Type"))
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%s: %v: %s", url, err, b)
			}
		}
		return resp.StatusCode, doc
	}
	t.Run("derived from the host", func(t *testing.T) {
		env := newJWTEnv(t, "")
		wk := env.base + gateway.ResourceMetadataPath
		for path, res := range map[string]string{"": env.url, "/mcp": env.url, "/mcp/echo": env.url + "/echo", "/mcp/other": env.url + "/other"} {
			status, doc := get(t, wk+path, "")
			if status != http.StatusOK || doc["resource"] != res || !sameList(doc["authorization_servers"], env.is.URL) || !sameList(doc["bearer_methods_supported"], "header") {
				t.Errorf("%s: %d %v, want resource %s", path, status, doc, res)
			}
		}
		for _, path := range []string{"/mcp/nope", "/other", "/mcpx", "/mcp/echo/x"} {
			if status, _ := get(t, wk+path, ""); status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, status)
			}
		}
		if status, _ := get(t, wk, "evil.example"); status != http.StatusForbidden {
			t.Errorf("a host not allowed: %d, want 403", status)
		}
	})
	t.Run("configured", func(t *testing.T) {
		env := newJWTEnv(t, "https://mcp.example.com/tools")
		wk := env.base + gateway.ResourceMetadataPath
		for path, res := range map[string]string{"": "https://mcp.example.com/tools", "/mcp/echo": "https://mcp.example.com/tools/echo", "/tools/echo": "https://mcp.example.com/tools/echo"} {
			if status, doc := get(t, wk+path, ""); status != http.StatusOK || doc["resource"] != res {
				t.Errorf("%s: %d %v, want resource %s", path, status, doc, res)
			}
		}
		r := post(t, ctx, env.url+"/other", "", initBody, nil)
		if h := r.header.Get("WWW-Authenticate"); h != `Bearer realm="toolgate", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/tools/other"` {
			t.Errorf("WWW-Authenticate %q", h)
		}
		// The audience is the configured resource: a token for it works.
		cs := connectWithToken(t, ctx, env.url, env.token(t, "alice", nil))
		if _, err := cs.ListTools(ctx, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("grants only", func(t *testing.T) {
		gw, err := gateway.New(&gateway.Options{Logger: quietLogger(),
			Authenticator: gateway.AuthenticatorFunc((&grant.Verifier{Store: grant.NewMemory()}).Verify)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gw.Close() })
		ts := newServer(gw.ResourceMetadataHandler())
		t.Cleanup(ts.Close)
		if status, _ := get(t, ts.URL+gateway.ResourceMetadataPath+"/mcp", ""); status != http.StatusNotFound {
			t.Errorf("metadata without JWT: %d, want 404", status)
		}
	})
}

func sameList(v any, want ...string) bool {
	l, ok := v.([]any)
	if !ok || len(l) != len(want) {
		return false
	}
	for i := range l {
		if l[i] != want[i] {
			return false
		}
	}
	return true
}
