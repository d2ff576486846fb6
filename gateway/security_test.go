package gateway_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// securityPolicy allows echo and UpdateUser (never with
// skip_password_checks), denies DeleteUser and hides env.
const securityPolicy = `{"version":"1","default":"deny","hide":["env"],"tools":{
	"echo":{},
	"UpdateUser":{"args":{"properties":{"skip_password_checks":{"const":false}}}},
	"DeleteUser":{"action":"deny","on_deny":"DeleteUser is never allowed"}}}`

// attack is one hostile tools/call body. Whatever the gateway does with it,
// the upstream may at most execute an echo whose message is in judged, or
// an UpdateUser without skip_password_checks; every payload the policy
// must never let through carries the word SMUGGLED or names DeleteUser or
// env.
type attack struct {
	name   string
	body   string
	judged []string // echo messages the policy may have allowed
}

var attacks = []attack{
	{name: "duplicate params", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}},"params":{"name":"DeleteUser","arguments":{"user_id":"SMUGGLED"}}}`},
	{name: "duplicate params, denied first", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"DeleteUser","arguments":{"user_id":"SMUGGLED"}},"params":{"name":"echo","arguments":{"message":"x"}}}`},
	{name: "case variant of params", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}},"Params":{"name":"DeleteUser","arguments":{"user_id":"SMUGGLED"}}}`},
	{name: "lone case variant of params", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","Params":{"name":"DeleteUser","arguments":{"user_id":"SMUGGLED"}}}`},
	{name: "long s for params", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","paramſ":{"name":"DeleteUser","arguments":{"user_id":"SMUGGLED"}}}`},
	{name: "duplicate method", body: `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"DeleteUser","arguments":{"user_id":"SMUGGLED"}}}`},
	{name: "case variant of method", body: `{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call","params":{"name":"DeleteUser","arguments":{"user_id":"SMUGGLED"}}}`},
	{name: "duplicate name", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"DeleteUser","arguments":{"user_id":"SMUGGLED","message":"SMUGGLED"}}}`},
	{name: "escaped duplicate name", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","n\u0061me":"DeleteUser","arguments":{"user_id":"SMUGGLED","message":"SMUGGLED"}}}`},
	{name: "case variant of name", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","Name":"DeleteUser","arguments":{"user_id":"SMUGGLED","message":"SMUGGLED"}}}`},
	{name: "lone case variant of name", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"NAME":"DeleteUser","arguments":{"user_id":"SMUGGLED"}}}`},
	{name: "duplicate arguments", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"UpdateUser","arguments":{"user_id":"u1","skip_password_checks":false},"arguments":{"user_id":"SMUGGLED","skip_password_checks":true}}}`},
	{name: "case variant of arguments", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"UpdateUser","arguments":{"user_id":"u1"},"Arguments":{"user_id":"SMUGGLED","skip_password_checks":true}}}`},
	{name: "lone case variant of arguments", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"UpdateUser","Arguments":{"user_id":"SMUGGLED","skip_password_checks":true}}}`},
	{name: "duplicate argument", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"UpdateUser","arguments":{"user_id":"SMUGGLED","skip_password_checks":false,"skip_password_checks":true}}}`},
	{name: "case variant of an argument", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"UpdateUser","arguments":{"user_id":"SMUGGLED","Skip_password_checks":true}}}`},
	{name: "kelvin variant of an argument", body: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"UpdateUser\",\"arguments\":{\"user_id\":\"SMUGGLED\",\"s\u212aip_password_checks\":true}}}"},
	{name: "second message after a newline", body: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"nl\"}}}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"env\",\"arguments\":{\"x\":\"SMUGGLED\"}}}"},
	{name: "line breaks as whitespace", body: "{\"jsonrpc\":\"2.0\",\n\"id\":1,\r\"method\":\"tools/call\",\r\n\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"ws\"}}}", judged: []string{"ws"}},
	{name: "line separator inside a string", body: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"ls\u2028{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":9,\\\"method\\\":\\\"tools/call\\\",\\\"params\\\":{\\\"name\\\":\\\"env\\\"}}\"}}}",
		judged: []string{"ls\u2028{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"env\"}}"}},
	{name: "NEL inside a string", body: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"nel\u0085{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":9,\\\"method\\\":\\\"tools/call\\\",\\\"params\\\":{\\\"name\\\":\\\"env\\\"}}\"}}}",
		judged: []string{"nel\u0085{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"env\"}}"}},
	{name: "invalid UTF-8", body: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"DeleteUser\xff\",\"arguments\":{\"user_id\":\"SMUGGLED\"}}}"},
	{name: "hidden tool", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"env","arguments":{"x":"SMUGGLED"}}}`},
	{name: "denied tool", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"DeleteUser","arguments":{"user_id":"SMUGGLED"}}}`},
	{name: "argument rule", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"UpdateUser","arguments":{"user_id":"SMUGGLED","skip_password_checks":true}}}`},
	{name: "unknown method", body: `{"jsonrpc":"2.0","id":1,"method":"tools/execute","params":{"name":"DeleteUser","arguments":{"user_id":"SMUGGLED"}}}`},
	{name: "unknown notification", body: `{"jsonrpc":"2.0","method":"notifications/tools/call","params":{"name":"DeleteUser","arguments":{"user_id":"SMUGGLED"}}}`},
	{name: "trailing garbage", body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"DeleteUser","arguments":{"user_id":"SMUGGLED"}}}`},
}

// recorded is one call an upstream says it executed.
type recorded struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Method    string          `json:"method"` // a non-tools request the naive server got
	ID        any             `json:"id"`     // the request's id as the upstream saw it (stdio upstreams)
}

// Every class of parser-differential attack, replayed against three real
// upstreams that read messages differently: a go-sdk server (Go's
// case-insensitive encoding/json), a TypeScript-SDK stdio server, and a
// naive stdio server that splits on every kind of line break and lets the
// last duplicate key win. The verdict comes from each upstream's own record
// of what it executed, never from what the gateway says it forwarded.
func TestSecurityParserDifferentials(t *testing.T) {
	eng, err := policy.Load([]byte(securityPolicy), "policy.json")
	if err != nil {
		t.Fatal(err)
	}
	type upstreamCase struct {
		name   string
		server func(t *testing.T) (gateway.Server, func() []recorded)
		ids    bool // the record holds request ids
	}
	nodeServer := func(sdk bool) func(t *testing.T) (gateway.Server, func() []recorded) {
		return func(t *testing.T) (gateway.Server, func() []recorded) {
			node := testpeer.Node(t)
			file := filepath.Join(t.TempDir(), "executed.jsonl")
			cmd := []string{node, filepath.Join(testpeer.RepoRoot(t), "e2e", "node", "record-server.mjs"), "--record", file}
			if sdk {
				cmd = append(cmd, "--sdk")
			}
			return gateway.Server{Name: "rec", Command: cmd}, func() []recorded { return readRecord(t, file) }
		}
	}
	cases := []upstreamCase{
		{"go-sdk over HTTP", func(t *testing.T) (gateway.Server, func() []recorded) {
			echo := testpeer.GoEchoServer()
			return gateway.Server{Name: "echo", URL: echo.StartHTTP(t)}, func() []recorded {
				var out []recorded
				for _, c := range echo.Executed() {
					out = append(out, recorded{Name: c.Name, Arguments: c.Arguments})
				}
				return out
			}
		}, false},
		{"TypeScript SDK over stdio", nodeServer(true), true},
		{"naive line splitter over stdio", nodeServer(false), true},
	}
	for _, uc := range cases {
		t.Run(uc.name, func(t *testing.T) {
			ctx := testContext(t)
			srv, executed := uc.server(t)
			gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{srv}, Policy: eng, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			_, url := newGatewayFrom(t, gw)
			sid := rawSession(t, ctx, url)
			judged := map[string]bool{"control": true}
			for _, a := range attacks {
				r := post(t, ctx, url, sid, a.body, nil)
				if r.status >= 500 {
					t.Errorf("%s: HTTP %d %s", a.name, r.status, r.body)
				}
				for _, j := range a.judged {
					judged[j] = true
				}
			}
			// Controls: the recording works and allowed calls still run. Their
			// ids are strings the upstream must never see: it gets the
			// gateway's own.
			for _, body := range []string{
				`{"jsonrpc":"2.0","id":"client-1","method":"tools/call","params":{"name":"echo","arguments":{"message":"control"}}}`,
				`{"jsonrpc":"2.0","id":"client-1","method":"tools/call","params":{"name":"UpdateUser","arguments":{"user_id":"control","skip_password_checks":false}}}`,
			} {
				if r := post(t, ctx, url, sid, body, nil); r.status != 200 || strings.Contains(r.body, `"isError":true`) {
					t.Fatalf("control call refused: %d %s", r.status, r.body)
				}
			}
			rec := executed()
			var sawEcho, sawUpdate bool
			ids := map[string]bool{}
			for _, c := range rec {
				if c.ID != nil {
					if _, isNum := c.ID.(float64); !isNum || ids[fmt.Sprint(c.ID)] {
						t.Errorf("the upstream saw request id %#v: not a fresh id of the gateway's", c.ID)
					}
					ids[fmt.Sprint(c.ID)] = true
				}
				switch {
				case c.Method != "":
					t.Errorf("the upstream executed a %s request the gateway does not know: %s", c.Method, c.Arguments)
				case c.Name == "echo":
					var exact map[string]any
					var typed struct {
						Message string `json:"message"`
					}
					if json.Unmarshal(c.Arguments, &exact) != nil || json.Unmarshal(c.Arguments, &typed) != nil {
						t.Errorf("echo executed with unreadable arguments %s", c.Arguments)
						continue
					}
					if !judged[typed.Message] || exact["message"] != typed.Message || len(exact) != 1 {
						t.Errorf("echo executed with arguments no rule judged: %s", c.Arguments)
					}
					sawEcho = sawEcho || typed.Message == "control"
				case c.Name == "UpdateUser":
					// Read the arguments both ways: as a case-insensitive Go
					// handler does, and exactly.
					var exact map[string]any
					var typed testpeer.UpdateUserArgs
					if json.Unmarshal(c.Arguments, &exact) != nil || json.Unmarshal(c.Arguments, &typed) != nil {
						t.Errorf("UpdateUser executed with unreadable arguments %s", c.Arguments)
						continue
					}
					if typed.SkipPasswordChecks || exact["skip_password_checks"] == true || typed.UserID != "control" || exact["user_id"] != "control" {
						t.Errorf("UpdateUser executed with arguments the policy did not judge: %s", c.Arguments)
					}
					sawUpdate = true
				default:
					t.Errorf("the upstream executed %s, which the policy denies or hides (arguments %s)", c.Name, c.Arguments)
				}
				if bytes.Contains(c.Arguments, []byte("SMUGGLED")) {
					t.Errorf("a smuggled payload ran: %s %s", c.Name, c.Arguments)
				}
			}
			if uc.ids && len(ids) < 2 {
				t.Errorf("the upstream recorded %d request ids, want one per call", len(ids))
			}
			if !sawEcho || !sawUpdate {
				t.Fatalf("the controls are missing from the upstream's record %+v: the test cannot see executions", rec)
			}
		})
	}
}

func readRecord(t *testing.T, file string) []recorded {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("the upstream recorded nothing: %v", err)
	}
	defer f.Close()
	var out []recorded
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var r recorded
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("record line %q: %v", sc.Text(), err)
		}
		if r.Method != "" {
			r.Arguments = json.RawMessage(fmt.Sprintf("%q", sc.Text()))
		}
		out = append(out, r)
	}
	return out
}
