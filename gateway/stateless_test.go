package gateway_test

//lint:file-ignore SA1019 sampling is deprecated as of protocol 2026-07-28; the input round of the echo server's sample tool asks for it

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/grant"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// modernHeaders are the HTTP headers of a 2026-07-28 request.
func modernHeaders(method, name string) map[string]string {
	h := map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": method}
	if name != "" {
		h["Mcp-Name"] = name
	}
	return h
}

// A go-sdk v1.8.0 client on its default revision (2026-07-28) reaches an
// upstream of the same revision through the gateway without a handshake:
// server/discover, then stateless requests; a tool that asks for input
// gets it through the client's own multi round-trip.
func TestStatelessClientModernUpstream(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	_, url := newGateway(t, allowAll, gateway.Server{Name: "echo", URL: echo.StartStatelessHTTP(t)})
	cs := connect(t, ctx, url, &mcp.ClientOptions{
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "sampled"}}, nil
		},
	})
	if v := cs.InitializeResult().ProtocolVersion; v != "2026-07-28" {
		t.Fatalf("negotiated %q, want 2026-07-28", v)
	}
	if cs.ID() != "" {
		t.Errorf("a 2026-07-28 session has an Mcp-Session-Id: %q", cs.ID())
	}
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"echo", map[string]any{"message": "hi"}, "hi"},
		{"sample", map[string]any{"prompt": "say something"}, "sampled"},
	} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tc.tool, Arguments: tc.args})
		if err != nil {
			t.Fatalf("%s: %v", tc.tool, err)
		}
		if got := textOf(res); got != tc.want {
			t.Errorf("%s answered %q, want %q", tc.tool, got, tc.want)
		}
	}
	if n := len(echo.Received()); n != 3 { // echo, sample, sample's retry
		t.Errorf("the upstream received %d calls, want 3: %+v", n, echo.Received())
	}
}

// statelessEnv is a gateway with grants in front of a 2026-07-28 echo
// server, and an audit log.
type statelessEnv struct {
	url        string
	echo       *testpeer.EchoServer
	store      *audit.SQLite
	tokA, tokB string
}

const statelessPolicy = `{"version":"1","default":"deny","hide":["DeleteUser"],"tools":{
	"echo":{"limits":[{"counter":"echo","window":"hour","max":2,"scope":"grant"}]},
	"UpdateUser":{"args":{"properties":{"user_id":{"pattern":"^user_"}}}},
	"add":{"action":"deny","on_deny":"add is off"},
	"sample":{"limits":[{"counter":"sample","window":"hour","max":1,"scope":"grant"}]}}}`

func newStatelessEnv(t *testing.T) *statelessEnv {
	t.Helper()
	ctx := testContext(t)
	env := &statelessEnv{echo: testpeer.GoEchoServer()}
	grants := grant.NewMemory()
	var err error
	if _, env.tokA, err = grant.Create(ctx, grants, grant.Spec{Subject: "alice@example.com", Policy: "p"}); err != nil {
		t.Fatal(err)
	}
	if _, env.tokB, err = grant.Create(ctx, grants, grant.Spec{Subject: "agent:bot", Policy: "p"}); err != nil {
		t.Fatal(err)
	}
	store, err := audit.OpenSQLite(ctx, filepath.Join(t.TempDir(), "audit.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(ctx, audit.Options{Primary: store, Instance: "test", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	env.store = store
	verifier := &grant.Verifier{Store: grants}
	gw, err := gateway.New(&gateway.Options{
		Servers:       []gateway.Server{{Name: "echo", URL: env.echo.StartStatelessHTTP(t)}},
		Logger:        quietLogger(),
		Authenticator: gateway.AuthenticatorFunc(verifier.Verify),
		Audit:         log,
	})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.Load([]byte(statelessPolicy), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	gw.SetNamedPolicy("p", eng)
	_, env.url = newGatewayFrom(t, gw)
	t.Cleanup(func() { log.Close() })
	return env
}

// call POSTs one 2026-07-28 request (no Mcp-Session-Id) with the given
// token ("" for none); edit may change the headers first.
func (env *statelessEnv) call(t *testing.T, token, method string, params map[string]any, edit func(h map[string]string)) rawResp {
	t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	if _, ok := params["_meta"]; !ok {
		params["_meta"] = map[string]any{
			"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
			"io.modelcontextprotocol/clientCapabilities": map[string]any{"sampling": map[string]any{}},
			"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "raw", "version": "1"},
		}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	name, _ := params["name"].(string)
	h := modernHeaders(method, name)
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	if edit != nil {
		edit(h)
	}
	return post(t, testContext(t), env.url, "", string(body), h)
}

// statelessToolText is the text of a tools/call answer, and whether it is an error
// result.
func statelessToolText(t *testing.T, r rawResp) (string, bool) {
	t.Helper()
	var m struct {
		Result *mcp.CallToolResult `json:"result"`
	}
	if err := json.Unmarshal([]byte(sseData(r.body)), &m); err != nil || m.Result == nil {
		t.Fatalf("not a tool result: %d %s", r.status, r.body)
	}
	return textOf(m.Result), m.Result.IsError
}

// sseData is the data of the last event of an SSE body, or the body.
func sseData(body string) string {
	if i := strings.LastIndex(body, "data: "); i >= 0 {
		return strings.TrimSpace(strings.SplitN(body[i+len("data: "):], "\n", 2)[0])
	}
	return body
}

// A request without a handshake is no way around the gateway: it needs a
// grant's token, its grant's policy decides it (hide, deny, argument
// rules, limits per grant), and its headers must say what its body says.
// The upstream's own record shows that nothing refused reached it.
func TestStatelessRequestsAreEnforced(t *testing.T) {
	env := newStatelessEnv(t)
	echoArgs := map[string]any{"message": "hi"}
	for _, tc := range []struct {
		name   string
		token  string
		method string
		params map[string]any
		edit   func(h map[string]string)
		status int
		code   int    // the JSON-RPC error code, or 0
		text   string // in the tool result, when no error
		denied bool   // the tool result is an error
	}{
		{name: "no token", method: "tools/call", params: map[string]any{"name": "echo", "arguments": echoArgs}, status: 401},
		{name: "bad token", token: "tg_nope", method: "tools/call", params: map[string]any{"name": "echo", "arguments": echoArgs}, status: 401},
		{name: "allowed", token: "A", method: "tools/call", params: map[string]any{"name": "echo", "arguments": echoArgs}, status: 200, text: "hi"},
		{name: "allowed again", token: "A", method: "tools/call", params: map[string]any{"name": "echo", "arguments": echoArgs}, status: 200, text: "hi"},
		{name: "limit per grant", token: "A", method: "tools/call", params: map[string]any{"name": "echo", "arguments": echoArgs}, status: 200, text: "rate limit of 2 per hour", denied: true},
		{name: "other grant, own budget", token: "B", method: "tools/call", params: map[string]any{"name": "echo", "arguments": echoArgs}, status: 200, text: "hi"},
		{name: "hidden tool", token: "A", method: "tools/call", params: map[string]any{"name": "DeleteUser", "arguments": map[string]any{"user_id": "user_1"}}, status: 200, text: "is not available", denied: true},
		{name: "denied tool", token: "A", method: "tools/call", params: map[string]any{"name": "add", "arguments": map[string]any{"a": 1, "b": 2}}, status: 200, text: "add is off", denied: true},
		{name: "argument rule", token: "A", method: "tools/call", params: map[string]any{"name": "UpdateUser", "arguments": map[string]any{"user_id": "admin"}}, status: 200, text: "[POLICY DENIED]", denied: true},
		{name: "input schema", token: "A", method: "tools/call", params: map[string]any{"name": "UpdateUser", "arguments": map[string]any{"user_id": 5}}, status: 200, text: "[POLICY DENIED]", denied: true},
		{name: "Mcp-Name says another tool", token: "A", method: "tools/call", params: map[string]any{"name": "DeleteUser", "arguments": map[string]any{"user_id": "user_1"}},
			edit: func(h map[string]string) { h["Mcp-Name"] = "echo" }, status: 400, code: -32020},
		{name: "Mcp-Method says another method", token: "A", method: "tools/call", params: map[string]any{"name": "echo", "arguments": echoArgs},
			edit: func(h map[string]string) { h["Mcp-Method"] = "tools/list" }, status: 400, code: -32020},
		{name: "no Mcp-Method", token: "A", method: "tools/call", params: map[string]any{"name": "echo", "arguments": echoArgs},
			edit: func(h map[string]string) { delete(h, "Mcp-Method") }, status: 400, code: -32020},
		{name: "header and meta disagree", token: "A", method: "tools/list",
			edit: func(h map[string]string) { h["Mcp-Protocol-Version"] = "2025-11-25" }, status: 400, code: -32020},
		{name: "unsupported revision", token: "A", method: "tools/list",
			params: map[string]any{"_meta": map[string]any{"io.modelcontextprotocol/protocolVersion": "2099-01-01", "io.modelcontextprotocol/clientCapabilities": map[string]any{}}},
			edit:   func(h map[string]string) { h["Mcp-Protocol-Version"] = "2099-01-01" }, status: 400, code: -32022},
		{name: "no client capabilities", token: "A", method: "tools/list",
			params: map[string]any{"_meta": map[string]any{"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}, status: 400, code: -32602},
		{name: "removed method", token: "A", method: "ping", status: 404, code: -32601},
		{name: "unknown method", token: "A", method: "x/y", status: 404, code: -32601},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := map[string]string{"A": env.tokA, "B": env.tokB}[tc.token]
			if token == "" {
				token = tc.token
			}
			r := env.call(t, token, tc.method, tc.params, tc.edit)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != 0 {
				if got := rpcErrorCode(t, sseData(r.body)); got != tc.code {
					t.Fatalf("code %d, want %d: %s", got, tc.code, r.body)
				}
				return
			}
			if tc.text == "" {
				return
			}
			text, isErr := statelessToolText(t, r)
			if isErr != tc.denied || !strings.Contains(text, tc.text) {
				t.Fatalf("answered %q (isError %v), want %q (isError %v)", text, isErr, tc.text, tc.denied)
			}
		})
	}
	r := env.call(t, env.tokA, "tools/list", nil, nil)
	if strings.Contains(r.body, "DeleteUser") || !strings.Contains(r.body, `"cacheScope":"private"`) {
		t.Errorf("tools/list: %s", r.body)
	}
	got := map[string]int{}
	for _, c := range env.echo.Received() {
		got[c.Name]++
	}
	if want := map[string]int{"echo": 3}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the upstream executed %v, want %v", got, want)
	}
}

// A call that asks for input and its retry carrying the answers are one
// call: the retry is judged, but reserves no quota, its audit decision
// names the first call's, and the upstream sees its own requestState
// (none here), never the gateway's. The gateway's requestState works
// once, for its grant and tool, and not altered.
func TestStatelessInputRoundCountsOnce(t *testing.T) {
	env := newStatelessEnv(t)
	ctx := testContext(t)
	first := env.call(t, env.tokA, "tools/call", map[string]any{"name": "sample", "arguments": map[string]any{"prompt": "p"}}, nil)
	var res struct {
		Result struct {
			ResultType    string          `json:"resultType"`
			RequestState  string          `json:"requestState"`
			InputRequests json.RawMessage `json:"inputRequests"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(sseData(first.body)), &res); err != nil || res.Result.ResultType != "input_required" || !strings.HasPrefix(res.Result.RequestState, "tg1.") {
		t.Fatalf("first round: %d %s", first.status, first.body)
	}
	state := res.Result.RequestState
	answers := map[string]any{"sample": map[string]any{"role": "assistant", "model": "m", "content": map[string]any{"type": "text", "text": "pong"}}}
	retry := func(tool, st string, args map[string]any) rawResp {
		return env.call(t, env.tokA, "tools/call", map[string]any{"name": tool, "arguments": args, "inputResponses": answers, "requestState": st}, nil)
	}
	for _, tc := range []struct {
		name  string
		token string
		tool  string
		state string
		want  string // in the answer
	}{
		{"altered", env.tokA, "sample", state[:len(state)-2] + "xx", "was not issued by toolgate, or was altered"},
		{"not the gateway's", env.tokA, "sample", "opaque", "was not issued by toolgate"},
		{"another tool", env.tokA, "echo", state, "belongs to another call"},
		{"another grant", env.tokB, "sample", state, "belongs to another call"},
		{"other arguments", env.tokA, "sample", state, "belongs to a call with other arguments"},
	} {
		args := map[string]any{"prompt": "p", "message": "m"}
		if tc.tool == "sample" && tc.name != "other arguments" {
			args = map[string]any{"prompt": "p"}
		}
		r := env.call(t, tc.token, "tools/call", map[string]any{"name": tc.tool, "arguments": args, "inputResponses": answers, "requestState": tc.state}, nil)
		if r.status != 400 || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	done := retry("sample", state, map[string]any{"prompt": "p"})
	if text, isErr := statelessToolText(t, done); isErr || text != "pong" {
		t.Fatalf("retry: %q %v", text, isErr)
	}
	if r := retry("sample", state, map[string]any{"prompt": "p"}); r.status != 400 || !strings.Contains(r.body, "was used already") {
		t.Errorf("the same retry again: %d %s", r.status, r.body)
	}
	// The limit of one sample per hour was spent once, by the first round.
	again := env.call(t, env.tokA, "tools/call", map[string]any{"name": "sample", "arguments": map[string]any{"prompt": "q"}}, nil)
	if text, isErr := statelessToolText(t, again); !isErr || !strings.Contains(text, "rate limit of 1 per hour") {
		t.Errorf("a second sample call: %q", text)
	}

	// What the upstream executed: the call, then its retry with the
	// answers, and nothing of the refused attempts.
	got := env.echo.Received()
	if len(got) != 2 || got[0].Name != "sample" || got[0].InputResponses || got[1].Name != "sample" || !got[1].InputResponses {
		t.Fatalf("the upstream received %+v", got)
	}
	for _, c := range got {
		if c.RequestState != "" {
			t.Errorf("the upstream got a requestState it never gave: %q", c.RequestState)
		}
	}
	// The audit log: the retry's decision names the first one's.
	var decisions []*audit.Event
	waitFor(t, "the audit decisions", func() bool {
		evs, err := env.store.Query(ctx, audit.Filter{Kind: audit.KindDecision, Oldest: true})
		if err != nil {
			t.Fatal(err)
		}
		decisions = decisions[:0]
		for _, e := range evs {
			if e.Tool == "sample" && e.Decision == audit.DecisionOf(toolgate.Decision{Action: toolgate.Allow}) {
				decisions = append(decisions, e)
			}
		}
		return len(decisions) >= 2
	})
	if len(decisions) != 2 || decisions[0].Continues != "" || decisions[1].Continues != decisions[0].ID {
		for _, d := range decisions {
			t.Logf("decision %s continues %q", d.ID, d.Continues)
		}
		t.Fatal("the retry's decision does not name the first call's")
	}
}

// A 2026-07-28 request in front of an upstream of an older revision: the
// gateway initializes the upstream on 2025-11-25 with the request's
// capabilities and clientInfo, forwards the request without the
// revision's _meta, and refuses the upstream's own requests to the
// client (this revision has none), so the call fails instead of hanging.
func TestStatelessClientOlderUpstream(t *testing.T) {
	echo := testpeer.GoEchoServer()
	_, url := newGateway(t, allowAll, gateway.Server{Name: "echo", URL: echo.StartHTTP(t)})
	env := &statelessEnv{url: url, echo: echo}
	r := env.call(t, "", "server/discover", nil, nil)
	if !strings.Contains(r.body, `"supportedVersions":["2025-11-25","2025-06-18","2025-03-26"]`) {
		t.Errorf("server/discover: %s", r.body)
	}
	// The go-sdk server refuses a request whose _meta names a revision
	// other than its session's (-32020): echo answering shows the
	// gateway took the revision's _meta out.
	if text, isErr := statelessToolText(t, env.call(t, "", "tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"message": "hi"}}, nil)); isErr || text != "hi" {
		t.Errorf("echo: %q %v", text, isErr)
	}
	r = env.call(t, "", "tools/call", map[string]any{"name": "sample", "arguments": map[string]any{"prompt": "p"}}, nil)
	if strings.Contains(r.body, "sampling/createMessage") || !strings.Contains(r.body, "error") {
		t.Errorf("sample: %d %s", r.status, r.body)
	}
}

// Two replicas with one request_state_key: the retry of an input round
// may reach either, and counts once on both.
func TestStatelessInputRoundOnAnotherReplica(t *testing.T) {
	echo := testpeer.GoEchoServer()
	upstream := echo.StartStatelessHTTP(t)
	key := []byte(strings.Repeat("s", 32))
	replica := func() *statelessEnv {
		eng, err := policy.Load([]byte(statelessPolicy), "p.json")
		if err != nil {
			t.Fatal(err)
		}
		gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: upstream}},
			Policy: eng, Logger: quietLogger(), RequestStateKey: key})
		if err != nil {
			t.Fatal(err)
		}
		_, url := newGatewayFrom(t, gw)
		return &statelessEnv{url: url, echo: echo}
	}
	one, two := replica(), replica()
	first := one.call(t, "", "tools/call", map[string]any{"name": "sample", "arguments": map[string]any{"prompt": "p"}}, nil)
	var res struct {
		Result struct {
			RequestState string `json:"requestState"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(sseData(first.body)), &res); err != nil || res.Result.RequestState == "" {
		t.Fatalf("first round: %s", first.body)
	}
	answers := map[string]any{"sample": map[string]any{"role": "assistant", "model": "m", "content": map[string]any{"type": "text", "text": "pong"}}}
	done := two.call(t, "", "tools/call", map[string]any{"name": "sample", "arguments": map[string]any{"prompt": "p"}, "inputResponses": answers, "requestState": res.Result.RequestState}, nil)
	if text, isErr := statelessToolText(t, done); isErr || text != "pong" {
		t.Fatalf("the retry on the other replica: %q %v", text, isErr)
	}
	// The retry spent none of the second replica's quota (one per hour).
	r := two.call(t, "", "tools/call", map[string]any{"name": "sample", "arguments": map[string]any{"prompt": "q"}}, nil)
	if strings.Contains(r.body, "rate limit") {
		t.Errorf("the retry counted on the second replica: %s", r.body)
	}
}

// Mcp-Param-* headers (parameters a tool marks with x-mcp-header) must say
// what the arguments say; the upstream gets headers made from the
// arguments it is sent, and its own check (the go-sdk validates them)
// accepts them.
func TestStatelessParamHeaders(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	srv := mcp.NewServer(&mcp.Implementation{Name: "regions", Version: "1"}, nil)
	srv.AddTool(&mcp.Tool{Name: "where", InputSchema: map[string]any{"type": "object", "properties": map[string]any{
		"region": map[string]any{"type": "string", "x-mcp-header": "Region"}}}},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			mu.Lock()
			calls = append(calls, string(req.Params.Arguments))
			mu.Unlock()
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil
		})
	up := serveHandler(t, mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true}))
	_, url := newGateway(t, allowAll, gateway.Server{Name: "regions", URL: up})
	env := &statelessEnv{url: url}
	for _, tc := range []struct {
		name   string
		region string
		header string // "" leaves it out
		status int
	}{
		{"matching", "eu-west", "eu-west", 200},
		{"Base64", "zürich", "=?base64?" + "esO8cmljaA==" + "?=", 200},
		{"mismatch", "eu-west", "us-east", 400},
		{"missing", "eu-west", "", 400},
	} {
		r := env.call(t, "", "tools/call", map[string]any{"name": "where", "arguments": map[string]any{"region": tc.region}}, func(h map[string]string) {
			if tc.header != "" {
				h["Mcp-Param-Region"] = tc.header
			}
		})
		if r.status != tc.status {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 {
		t.Errorf("the upstream executed %q, want the two matching calls", calls)
	}
}
