package gateway_test

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// A policy in shadow mode, end to end with a go-sdk client and upstream:
// every call its document or rule would refuse reaches the upstream, the
// agent gets exactly the upstream's result, the tool list is unchanged,
// and the log records the would-be denial. A rule set back to enforce
// still refuses.
func TestShadowModeForwardsAndLogs(t *testing.T) {
	ctx := testContext(t)
	var logs testpeer.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	echo := testpeer.GoEchoServer()
	eng, err := policy.Load([]byte(`{"version":"1","default":"deny","mode":"shadow","hide":["DeleteUser"],
		"tools":{
			"UpdateUser":{"deny_if":["args.role == \"admin\""],"on_deny":"admins are promoted by hand"},
			"add":{"mode":"enforce","action":"deny","on_deny":"no sums"}}}`), "shadow.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}}, Policy: eng, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	t.Cleanup(func() { ts.Close(); gw.Close() })
	cs := connect(t, ctx, ts.URL+"/mcp", nil)

	names := toolNames(t, ctx, cs)
	for _, want := range []string{"DeleteUser", "UpdateUser", "add", "echo"} {
		if !contains(names, want) {
			t.Errorf("tools/list lacks %s under a shadow document: %v", want, names)
		}
	}

	tests := []struct {
		tool       string
		args       map[string]any
		text       string
		rule       string
		shadowKind string
	}{
		{"UpdateUser", map[string]any{"user_id": "u1", "role": "admin"}, "updated u1", "rule=/tools/UpdateUser/deny_if/0", "shadow_kind=rule"},
		{"DeleteUser", map[string]any{"user_id": "u2"}, "deleted u2", `rule=(hidden)`, "shadow_kind=hidden"},
		{"echo", map[string]any{"message": "hi"}, "hi", `rule="(default deny)"`, "shadow_kind=default"},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			before := echo.Calls(tt.tool)
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tt.tool, Arguments: tt.args})
			if err != nil {
				t.Fatal(err)
			}
			if res.IsError || textOf(res) != tt.text || res.Meta["toolgate/decision"] != nil {
				t.Fatalf("result = %+v (%q), want the upstream's own %q", res, textOf(res), tt.text)
			}
			if echo.Calls(tt.tool) != before+1 {
				t.Fatalf("the upstream did not receive the call")
			}
			line := logLine(logs.String(), "tool="+tt.tool)
			for _, want := range []string{"level=INFO", `msg="tools/call shadow denied"`, "decision=shadow_denied", tt.rule, tt.shadowKind, "reason="} {
				if !strings.Contains(line, want) {
					t.Errorf("log line %q lacks %q", line, want)
				}
			}
		})
	}

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.HasPrefix(textOf(res), "[POLICY DENIED] no sums") || echo.Calls("add") != 0 {
		t.Fatalf("enforced rule in a shadow document: %+v (%q), upstream saw %d calls", res, textOf(res), echo.Calls("add"))
	}
}

// logLine returns the first log line that holds s.
func logLine(logs, s string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
