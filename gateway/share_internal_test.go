package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// A call's progress token is replaced by the gateway's own on the way to
// a shared process and put back, as the client wrote it (a string stays a
// string, a number a number), on the progress that comes back.
func TestProgressTokenRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name, params, want string
	}{
		{"string", `{"name":"slow","_meta":{"progressToken":"p1","other":1}}`, `"p1"`},
		{"number", `{"name":"slow","_meta":{"progressToken":42}}`, `42`},
		{"large number", `{"name":"slow","_meta":{"progressToken":9007199254740993}}`, `9007199254740993`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := rawProgressToken(json.RawMessage(tc.params))
			if string(tok) != tc.want {
				t.Fatalf("token %s, want %s", tok, tc.want)
			}
			out, err := replaceProgressToken(json.RawMessage(tc.params), "toolgate-7")
			if err != nil {
				t.Fatal(err)
			}
			if got := progressToken(out); got != "toolgate-7" {
				t.Fatalf("forwarded token %v in %s", got, out)
			}
			var p struct {
				Name string         `json:"name"`
				Meta map[string]any `json:"_meta"`
			}
			if err := json.Unmarshal(out, &p); err != nil || p.Name != "slow" || len(p.Meta) != len(mustMeta(t, tc.params)) {
				t.Fatalf("the rest of the params changed: %s", out)
			}
			params := json.RawMessage(`{"progressToken":"toolgate-7","progress":2,"total":5}`)
			back, ok := restoreProgressToken(message{msg: &jsonrpc.Request{Method: "notifications/progress", Params: params}}, tok)
			if !ok {
				t.Fatal("not restored")
			}
			var n struct {
				Token    json.RawMessage `json:"progressToken"`
				Progress float64         `json:"progress"`
			}
			m, derr := decodeMessage(back.raw, 64)
			if derr != nil {
				t.Fatalf("restored message does not decode: %s: %v", back.raw, derr)
			}
			if err := json.Unmarshal(m.msg.(*jsonrpc.Request).Params, &n); err != nil || string(n.Token) != tc.want || n.Progress != 2 {
				t.Fatalf("restored %s, want token %s and progress 2", back.raw, tc.want)
			}
		})
	}
}

func mustMeta(t *testing.T, params string) map[string]any {
	t.Helper()
	var p struct {
		Meta map[string]any `json:"_meta"`
	}
	if err := json.Unmarshal([]byte(params), &p); err != nil {
		t.Fatal(err)
	}
	return p.Meta
}

// What sessions see of a shared process's initialize: no logging, no
// resource subscriptions, everything else as the server said.
func TestSessionView(t *testing.T) {
	init := &initResult{ProtocolVersion: "2025-11-25", Capabilities: map[string]json.RawMessage{
		"logging":   json.RawMessage(`{}`),
		"resources": json.RawMessage(`{"subscribe":true,"listChanged":true}`),
		"tools":     json.RawMessage(`{"listChanged":true}`),
	}}
	v := sessionView(init)
	if v.has("logging") {
		t.Error("logging offered")
	}
	if got := string(v.Capabilities["resources"]); got != `{"listChanged":true}` {
		t.Errorf("resources = %s", got)
	}
	if got := string(v.Capabilities["tools"]); got != `{"listChanged":true}` {
		t.Errorf("tools = %s", got)
	}
	if !init.has("logging") {
		t.Error("the process's own initialize result was changed")
	}
}

// Only the session a shared server's request was put to may answer it:
// another session's answer with the same id is dropped, and the server
// gets the right one.
func TestSharedAnswerOnlyFromTheSessionAsked(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g, err := New(&Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Servers: []Server{
		{Name: "echo", Command: []string{testpeer.BuildEchoServer(t)}, Share: ShareShared, Lazy: true}}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	asked := make(chan *jsonrpc.Request, 4)
	a, err := g.shared.acquire(ctx, 0, "", func(m message) {
		if r, ok := m.msg.(*jsonrpc.Request); ok && r.IsCall() {
			asked <- r
		}
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	b, err := g.shared.acquire(ctx, 0, "", func(message) {}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	if a.proc != b.proc {
		t.Fatal("two connections to a shared server reached two processes")
	}
	type result struct {
		resp *jsonrpc.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		id := intID(a.proc.ids.Add(1))
		params := json.RawMessage(`{"name":"sample","arguments":{"prompt":"hi"}}`)
		resp, _, err := a.call(ctx, &jsonrpc.Request{ID: id, Method: "tools/call", Params: params}, encodeRequest(id, "tools/call", params), nil)
		done <- result{resp, err}
	}()
	var req *jsonrpc.Request
	select {
	case req = <-asked:
	case <-ctx.Done():
		t.Fatal("the server's sampling request never reached the session with the call")
	}
	answer := func(text string) []byte {
		res, _ := json.Marshal(map[string]any{"role": "assistant", "model": "m", "content": map[string]string{"type": "text", "text": text}})
		return encodeResponse(req.ID, res, nil)
	}
	if err := b.send(ctx, answer("from b")); err != nil {
		t.Fatal(err)
	}
	if err := a.send(ctx, answer("from a")); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("the call never returned")
	}
	if r.err != nil || r.resp.Error != nil {
		t.Fatalf("call: %v %+v", r.err, r.resp)
	}
	if got := string(r.resp.Result); !strings.Contains(got, "from a") || strings.Contains(got, "from b") {
		t.Fatalf("the server got %s, want a's answer only", got)
	}
}
