package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// TestApprovalsOfAWrap: a wrap serves no admin API; the call it holds for
// approval is listed and approved with approvals --state-dir, on the
// wrap's store, and goes through; the decision is in the audit log.
func TestApprovalsOfAWrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	bin := testpeer.BuildToolgate(t)
	echo := testpeer.BuildEchoServer(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(policy, []byte(`{"version": "1", "default": "deny", "tools": {"echo": {"action": "approve"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.Command(bin, "wrap", "-p", policy, "--state-dir", state, "--", echo)
	cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir())
	client := mcp.NewClient(&mcp.Implementation{Name: "wrap-approvals", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	type result struct {
		text    string
		isError bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "held"}})
		if err != nil {
			done <- result{err: err}
			return
		}
		var b strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				b.WriteString(tc.Text)
			}
		}
		done <- result{text: b.String(), isError: res.IsError}
	}()

	var id string
	for deadline := time.Now().Add(40 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		code, out, errOut := run(t, "approvals", "list", "--state-dir", state, "-o", "json")
		if code != 0 {
			if strings.Contains(errOut, "no store") {
				continue // the wrap has not created it yet
			}
			t.Fatalf("approvals list: %d %s", code, errOut)
		}
		var views []approvalView
		if err := json.Unmarshal([]byte(out), &views); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if len(views) == 1 && views[0].Tool == "echo" {
			id = views[0].ID
		}
	}
	if id == "" {
		t.Fatal("the held call was never listed")
	}
	if code, _, errOut := run(t, "approvals", "approve", id, "--state-dir", state, "--reason", "looks fine"); code != 0 {
		t.Fatalf("approve: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "approvals", "deny", id, "--state-dir", state); code == 0 || !strings.Contains(errOut, "not pending") {
		t.Fatalf("deciding twice: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "approvals", "approve", "apr_nosuch", "--state-dir", state); code == 0 || !strings.Contains(errOut, "no approval") {
		t.Fatalf("an unknown id: %d %s", code, errOut)
	}
	select {
	case r := <-done:
		if r.err != nil || r.isError || !strings.Contains(r.text, "held") {
			t.Fatalf("the approved call: %+v", r)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the approved call did not go through")
	}
	cs.Close()

	store, err := audit.OpenSQLite(context.Background(), filepath.Join(state, "toolgate.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	events, err := store.Query(context.Background(), audit.Filter{Kind: audit.KindAdmin})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		if e.Action == audit.ActionApprovalDecided && e.Target == id && strings.HasPrefix(e.Actor, "cli") && e.Detail == "approved: looks fine" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no approval.decided event for %s among %d admin events", id, len(events))
	}
	if code, _, errOut := run(t, "approvals", "list", "--state-dir", filepath.Join(dir, "nowhere")); code == 0 || !strings.Contains(errOut, "no store") {
		t.Fatalf("a state dir with no store: %d %s", code, errOut)
	}
}
