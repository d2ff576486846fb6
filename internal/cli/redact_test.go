package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// An UpdateUser call's password, TOTP secret, backup codes and password
// digest, and an argument the policy's redact names, are written nowhere
// by toolgate: not in its store (the SQLite file and its -wal and -shm,
// while serve runs and after), not in its log at debug level, not in the
// approval webhook's bodies, whether the call waits for an approval, is
// denied, or is allowed and forwarded.
func TestSecretsNeverWritten(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	secrets := map[string]string{
		"password":        randomSecret(t, "pw"),
		"totp_secret":     randomSecret(t, "totp"),
		"backup_code 1":   randomSecret(t, "bc1"),
		"backup_code 2":   randomSecret(t, "bc2"),
		"password_digest": "$2a$10$" + randomSecret(t, "dg"),
		"note (redact)":   randomSecret(t, "note"),
	}
	args := func(user string) map[string]any {
		return map[string]any{
			"user_id": user, "first_name": "Ada",
			"password": secrets["password"], "totp_secret": secrets["totp_secret"],
			"backup_codes":         []any{secrets["backup_code 1"], secrets["backup_code 2"]},
			"password_digest":      secrets["password_digest"],
			"note":                 "call me on " + secrets["note (redact)"],
			"skip_password_checks": false,
		}
	}

	echo := testpeer.GoEchoServer()
	upstream := echo.StartHTTP(t)
	var hooks testpeer.SyncBuffer
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(&hooks, "%s\n", b)
	}))
	defer hook.Close()

	addr := freeAddr(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf(`listen: %s
admin_listen: off
auth: none
store: sqlite://data/toolgate.db
approvals:
  wait: 1s
  webhook: {url: %s, secret: webhook-signing-secret-0123}
servers:
  appr: {url: %s}
  open: {url: %s}
policies:
  default: policy.yaml
`, addr, hook.URL, upstream, upstream),
		"policy.yaml": `version: "1"
default: deny
check_input_schema: false
tools:
  appr_UpdateUser: {action: approve, redact: [/note]}
  appr_DeleteUser: {action: deny, redact: [/note]}
  open_UpdateUser: {redact: [/note]}
`,
	})
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "toolgate.yaml")

	sctx, stopServe := context.WithCancel(context.Background())
	var out, logs testpeer.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(sctx, []string{"serve", "--config", cfg, "--log-level", "debug", "--log-format", "json"}, strings.NewReader(""), &out, &logs)
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		stopServe()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d:\n%s", code, logs.String())
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never listened:\n%s", logs.String())
		}
	}

	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tool, user, want string
	}{
		{"appr_UpdateUser", "u-approve", "approval apr_"}, // waits 1s, then refused naming its pending approval
		{"appr_DeleteUser", "u-deny", "[POLICY DENIED]"},
		// Forwarded; the echo server's UpdateUser then refuses the members
		// it does not know, which does not matter here.
		{"open_UpdateUser", "u-allow", ""},
	} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: args(c.user)})
		if err != nil {
			t.Fatalf("%s: %v", c.tool, err)
		}
		if got := textContent(res); !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want it to contain %q", c.tool, got, c.want)
		}
	}
	cs.Close()

	storeFiles := func() string { return filesUnder(t, filepath.Join(dir, "data")) }
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(hooks.String(), "approval.requested"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the webhook was never told of the approval")
		}
	}
	running := storeFiles()
	stop()

	// The test proves nothing unless the secrets went where they had to
	// and the places searched hold what they should.
	var forwarded string
	for _, c := range echo.Executed() {
		forwarded += string(c.Arguments)
	}
	for name, s := range secrets {
		if !strings.Contains(forwarded, s) {
			t.Errorf("the allowed call did not carry the %s to the upstream", name)
		}
	}
	store, err := approval.OpenSQLite(ctx, filepath.Join(dir, "data", "toolgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	pending, err := store.List(ctx, approval.Pending, 0)
	store.Close()
	if err != nil || len(pending) != 1 || pending[0].Tool != "appr_UpdateUser" ||
		!strings.Contains(string(pending[0].Args), `"user_id":"u-approve"`) || !strings.Contains(string(pending[0].Args), `"note":"[REDACTED]"`) {
		t.Fatalf("the store does not hold the approval as expected: %v %+v", err, pending)
	}
	if !strings.Contains(logs.String(), `"level":"DEBUG"`) || !strings.Contains(logs.String(), "tools/call denied") {
		t.Errorf("the log lacks the records this test provokes:\n%s", logs.String())
	}

	outputs := []struct{ name, text string }{
		{"the store while serve ran", running},
		{"the store after serve stopped", storeFiles()},
		{"serve's log (debug)", logs.String()},
		{"serve's standard output", out.String()},
		{"the webhook's bodies", hooks.String()},
	}
	for name, s := range secrets {
		// Halves too: a value masked but for a prefix or a suffix still
		// gives part of it away.
		half := len(s) / 2
		for _, o := range outputs {
			for _, part := range []string{s, s[:half], s[half:]} {
				if i := strings.Index(o.text, part); i >= 0 {
					t.Errorf("%s holds the %s (%q): ...%s...", o.name, name, part, o.text[max(0, i-200):min(len(o.text), i+len(part)+200)])
					break
				}
			}
		}
	}
}
