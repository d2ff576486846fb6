package gateway

import (
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
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
