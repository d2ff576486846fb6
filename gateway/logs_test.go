package gateway_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// Nothing the gateway logs, even at debug level, holds an argument's value
// or a session id: not for allowed calls, refused ones, calls that time
// out, bad input, or a session's end.
func TestLogsHoldNoSecrets(t *testing.T) {
	ctx := testContext(t)
	var logs testpeer.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	echo := testpeer.GoEchoServer()
	eng, err := policy.Load([]byte(`{"version":"1","default":"deny","tools":{
		"echo":{},
		"slow":{"timeout":"100ms"},
		"UpdateUser":{"args":{"properties":{"skip_password_checks":{"const":false},"password":{"maxLength":8}}},
			"deny_if":["args.role == \"admin\""]}}}`), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t), Timeout: time.Minute}},
		Policy: eng, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	sid := rawSession(t, ctx, url)
	const secret = "hunter2-SECRET-value"
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"` + secret + `"}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"UpdateUser","arguments":{"user_id":"u","password":"` + secret + `"}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"UpdateUser","arguments":{"user_id":"` + secret + `","skip_password_checks":true}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"UpdateUser","arguments":{"user_id":"u","role":"admin","note":"` + secret + `"}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"DeleteUser","arguments":{"user_id":"` + secret + `"}}}`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"slow","arguments":{"ms":2000}}}`,
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"` + secret + `","message":"x"}}}`,
		`{"jsonrpc":"2.0","id":8,"method":"nope/` + secret + `"}`,
	} {
		post(t, ctx, url, sid, body, nil)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", sid)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	waitFor(t, "the session's end to be logged", func() bool { return strings.Contains(logs.String(), "session ended by the client") })
	out := logs.String()
	if !strings.Contains(out, "tools/call denied") || !strings.Contains(out, "upstream call timed out") {
		t.Fatalf("the log lacks the events this test provokes:\n%s", out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("an argument's value reached the log:\n%s", out)
	}
	if strings.Contains(out, sid) {
		t.Errorf("the session id reached the log:\n%s", out)
	}
}
