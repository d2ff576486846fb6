package cli

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

func callGateway(t *testing.T) string {
	t.Helper()
	echo := testpeer.GoEchoServer()
	eng, err := policy.Load([]byte(`{"version":"1","default":"deny","tools":{"echo":{},"add":{},"UpdateUser":{},"DeleteUser":{"action":"deny","on_deny":"deleting needs a human"}}}`), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}},
		Policy:  eng,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw)
	t.Cleanup(func() { ts.Close(); gw.Close() })
	return ts.URL + "/mcp"
}

func TestCall(t *testing.T) {
	url := callGateway(t)
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring
		stderr     string // substring
		notInStout string
	}{
		{"text result and summary", []string{"echo", "message=hello there"}, 0, "hello there", "", ""},
		{"numbers coerced by the schema", []string{"add", "a=2", "b=3.5"}, 0, "5.5", "", ""},
		{"pipedream-style summary", []string{"UpdateUser", "user_id=user_2abc", "first_name=Ada"}, 0, "Successfully updated user user_2abc", "", ""},
		{"raw JSON value", []string{"UpdateUser", "user_id:=\"user_9\"", "skip_password_checks:=false"}, 0, "updated user_9", "", ""},
		{"json output", []string{"-o", "json", "echo", "message=x"}, 0, `"text": "x"`, "", "Successfully"},
		{"policy refusal exits 4", []string{"DeleteUser", "user_id=u1"}, 4, "", "[POLICY DENIED] deleting needs a human", ""},
		{"bad number", []string{"add", "a=two", "b=1"}, 1, "", "not a number", ""},
		{"bad JSON", []string{"UpdateUser", "user_id:={"}, 1, "", "not valid JSON", ""},
		{"not key=value", []string{"echo", "message"}, 1, "", "want key=value", ""},
		{"bad header", []string{"--header", "nonsense", "echo", "message=x"}, 1, "", "want K=V", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"call", "--url", url}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, out)
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
			if tc.notInStout != "" && strings.Contains(out, tc.notInStout) {
				t.Errorf("stdout has %q:\n%s", tc.notInStout, out)
			}
		})
	}
}

func TestCallUnreachable(t *testing.T) {
	code, _, errOut := run(t, "call", "--url", "http://127.0.0.1:1/mcp", "echo")
	if code == 0 || !strings.Contains(errOut, "cannot connect") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestSplitNameAndSummary(t *testing.T) {
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"UpdateUser", map[string]any{"user_id": "user_2abc"}, "Successfully updated user user_2abc"},
		{"update_user", map[string]any{"email": "a@b.co"}, "Successfully updated user a@b.co"},
		{"UpdateUserMetadata", map[string]any{"user_id": "u"}, "Successfully updated user metadata u"},
		{"getHTTPStatus", nil, "Successfully retrieved http status"},
		{"echo", nil, "Successfully called echo"},
	} {
		if got := summary(tc.tool, tc.args); got != tc.want {
			t.Errorf("summary(%s) = %q, want %q", tc.tool, got, tc.want)
		}
	}
}
