package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/audit"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// TestAuditSurvivesKill9: the gateway is killed (SIGKILL) while calls are
// in flight. Every call the upstream received has its decision event in
// the store afterwards, and the chain verifies.
func TestAuditSurvivesKill9(t *testing.T) {
	bin := testpeer.BuildToolgate(t)
	echo := testpeer.GoEchoServer()
	up := httptest.NewServer(echo.HTTPHandler())
	t.Cleanup(func() { up.CloseClientConnections(); up.Close() })

	addr := freeAddr(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf("listen: %s\nadmin_listen: off\nauth: none\nstore: sqlite://toolgate.db\nservers:\n  echo:\n    url: %s/mcp\npolicies:\n  default: policy.json\n", addr, up.URL),
		"policy.json":   `{"version":"1","default":"deny","tools":{"echo":{}}}`,
	})
	var logs testpeer.SyncBuffer
	cmd := exec.Command(bin, "serve", "--config", filepath.Join(dir, "toolgate.yaml"))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	proc := startProcess(t, cmd)
	t.Cleanup(func() { _ = proc.cmd.Process.Kill(); <-proc.done })
	waitHealthy(t, addr, proc, logs.String)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const clients, perClient = 8, 100 // at most 800 calls
	var sent atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := mcp.NewClient(&mcp.Implementation{Name: "crash-test", Version: "1"}, nil)
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
			if err != nil {
				return // the gateway may be gone already
			}
			defer cs.Close()
			for i := 0; i < perClient; i++ {
				sent.Add(1)
				if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": fmt.Sprintf("c%d-%d", c, i)}}); err != nil {
					return
				}
			}
		}()
	}
	// Kill mid-load: once the upstream has executed a good number of calls,
	// or after 3s, whichever comes first.
	deadline := time.Now().Add(3 * time.Second)
	for len(echo.Executed()) < 200 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := proc.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-proc.done
	wg.Wait()
	executed := echo.Executed()
	if len(executed) == 0 {
		t.Fatalf("the upstream executed no call before the kill\n%s", logs.String())
	}

	// What the gateway had journaled but not yet moved into the store is
	// in the journal; the CLI says so, and the next gateway to open the
	// log (here, the same code serve runs) replays it.
	jdir := audit.JournalDir(filepath.Join(dir, "toolgate.db"))
	pending, err := audit.PendingJournal(jdir)
	if err != nil {
		t.Fatal(err)
	}
	if pending > 0 {
		code, out, errOut := run(t, "audit", "query", "--config", filepath.Join(dir, "toolgate.yaml"), "--limit", "1")
		if code != 0 || !strings.Contains(errOut, "journal") {
			t.Errorf("audit query with %d journaled events pending: exit %d\n%s%s", pending, code, out, errOut)
		}
	}
	store, err := audit.OpenSQLite(context.Background(), filepath.Join(dir, "toolgate.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	j, err := audit.OpenJournal(jdir, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(context.Background(), audit.Options{Primary: store, Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	store, err = audit.OpenSQLite(context.Background(), filepath.Join(dir, "toolgate.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rep, err := store.Verify(context.Background())
	if err != nil || rep.Break != nil {
		t.Fatalf("verify after kill -9: %+v %v", rep, err)
	}
	events, err := store.Query(context.Background(), audit.Filter{Kind: audit.KindDecision, Tool: "echo", Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	decided := map[string]bool{}
	for _, e := range events {
		var args struct{ Message string }
		if err := json.Unmarshal(e.Args, &args); err != nil {
			t.Fatalf("event %s: args %s: %v", e.ID, e.Args, err)
		}
		decided[args.Message] = true
	}
	missing := 0
	for _, c := range executed {
		var args struct{ Message string }
		_ = json.Unmarshal(c.Arguments, &args)
		if !decided[args.Message] {
			missing++
			t.Errorf("the upstream executed echo %q, which has no decision event", args.Message)
		}
	}
	t.Logf("sent %d, upstream executed %d, decision events %d, chain %d events, missing %d, recovered from the journal up to %d", sent.Load(), len(executed), len(events), rep.Events, missing, pending)
}

// TestAuditKeepsSecretsOut: calls carrying a password, a TOTP secret,
// backup codes and a password digest, allowed and refused, with the audit
// log writing to the store and to a JSON Lines file: no file toolgate
// wrote holds any of the secret values.
func TestAuditKeepsSecretsOut(t *testing.T) {
	echo := testpeer.GoEchoServer()
	up := httptest.NewServer(echo.HTTPHandler())
	t.Cleanup(func() { up.CloseClientConnections(); up.Close() })
	secrets := []string{randomSecret(t, "pw"), randomSecret(t, "totp"), randomSecret(t, "backup1"), randomSecret(t, "backup2"), randomSecret(t, "digest")}
	addr := freeAddr(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf(`listen: %s
admin_listen: off
auth: none
store: sqlite://data/toolgate.db
servers:
  echo:
    url: %s/mcp
policies:
  default: policy.json
audit:
  args: redacted
  sinks:
    - type: sqlite
    - {type: jsonl, path: data/audit.jsonl}
`, addr, up.URL),
		"policy.json": `{"version":"1","default":"deny","tools":{"echo":{},"UpdateUser":{},"DeleteUser":{"action":"deny"}}}`,
	})
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "toolgate.yaml")
	out, stop := startServe(t, cfg, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "secret-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]any{
		"user_id": "user_1", "password": secrets[0], "totp_secret": secrets[1],
		"backup_codes": []any{secrets[2], secrets[3]}, "password_digest": secrets[4],
		"profile": map[string]any{"Password": secrets[0]},
	}
	for _, tool := range []string{"UpdateUser", "DeleteUser", "echo"} {
		_, _ = cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	}
	cs.Close()
	grep := func(when string) {
		t.Helper()
		n := 0
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			n++
			for _, s := range secrets {
				if bytes.Contains(data, []byte(s)) {
					t.Errorf("%s: %s holds the secret %q", when, path, s)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 4 { // config, policy, store, jsonl (and -wal, -shm while open)
			t.Fatalf("%s: only %d files", when, n)
		}
	}
	grep("while serving") // the -wal file is there now
	if code, errOut := stop(); code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut)
	}
	grep("after stopping")
	for _, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Errorf("serve's output holds the secret %q", s)
		}
	}
	// The calls were recorded, in both sinks.
	data, err := os.ReadFile(filepath.Join(dir, "data", "audit.jsonl"))
	if err != nil || bytes.Count(data, []byte(`"kind":"decision"`)) != 3 || !bytes.Contains(data, []byte(`"password":"[REDACTED]"`)) {
		t.Fatalf("audit.jsonl: %v\n%s", err, data)
	}
	rep, err := audit.VerifyJSONL(filepath.Join(dir, "data", "audit.jsonl"))
	if err != nil || rep.Break != nil {
		t.Fatalf("verify jsonl: %+v %v", rep, err)
	}
}

// TestAuditCommands: verify, query and show on a store, and verify again
// after the store file was edited directly.
func TestAuditCommands(t *testing.T) {
	dir := writeFiles(t, map[string]string{"toolgate.yaml": "auth: none\nstore: sqlite://toolgate.db\n"})
	cfg := filepath.Join(dir, "toolgate.yaml")
	dbPath := filepath.Join(dir, "toolgate.db")
	store, err := audit.OpenSQLite(context.Background(), dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(context.Background(), audit.Options{Primary: store, Instance: "t"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, d := range []audit.Decision{audit.Allowed, audit.Denied, audit.Allowed, audit.RateLimited} {
		e := &audit.Event{Kind: audit.KindDecision, Tool: []string{"echo", "DeleteUser"}[i%2], Subject: "alice", Decision: d, Rule: "/tools/x"}
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), append(args, "--config", cfg), strings.NewReader(""), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := run("audit", "verify"); code != 0 || !strings.Contains(out, "ok: 4 events") {
		t.Fatalf("verify: %d %s", code, out)
	}
	code, out := run("audit", "query", "--decision", "allowed", "-o", "json")
	var got []audit.Event
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != 2 || got[0].Seq != 3 {
		t.Fatalf("query: %d %s", code, out)
	}
	if code, out := run("audit", "query", "--tool", "DeleteUser", "--since", "1h"); code != 0 || strings.Count(out, "DeleteUser") != 2 {
		t.Fatalf("query table: %d %s", code, out)
	}
	if code, out := run("audit", "query", "--decision", "maybe"); code != 1 || !strings.Contains(out, "decision must be one of") {
		t.Fatalf("bad decision: %d %s", code, out)
	}
	if code, out := run("audit", "show", ids[1]); code != 0 || !strings.Contains(out, "denied") || !strings.Contains(out, "DeleteUser") {
		t.Fatalf("show: %d %s", code, out)
	}
	if code, out := run("audit", "show", "0123"); code == 0 || !strings.Contains(out, "no audit event") {
		t.Fatalf("show missing: %d %s", code, out)
	}
	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM audit_events WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	if code, out := run("audit", "verify"); code != 1 || !strings.Contains(out, "BROKEN at seq 3") || !strings.Contains(out, "missing") {
		t.Fatalf("verify after a deletion: %d %s", code, out)
	}
}

// TestAuditHTTPSink: serve sends its audit events to a loopback SIEM, with
// the configured header, as a chain the receiver can verify; the header's
// value appears in no output.
func TestAuditHTTPSink(t *testing.T) {
	echo := testpeer.GoEchoServer()
	up := httptest.NewServer(echo.HTTPHandler())
	t.Cleanup(func() { up.CloseClientConnections(); up.Close() })
	token := randomSecret(t, "siem")
	t.Setenv("TG_TEST_SIEM_TOKEN", token)
	var mu sync.Mutex
	var got []byte
	siem := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("Content-Type") != audit.HTTPContentType {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, b...)
		mu.Unlock()
	}))
	t.Cleanup(siem.Close)
	addr := freeAddr(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf(`listen: %s
admin_listen: off
auth: none
store: sqlite://toolgate.db
servers:
  echo:
    url: %s/mcp
policies:
  default: policy.json
audit:
  sinks:
    - type: sqlite
    - type: http
      url: %s/ingest
      headers: {Authorization: "Bearer ${TG_TEST_SIEM_TOKEN}"}
      batch: 2
      flush: 10ms
      on_error: continue
`, addr, up.URL, siem.URL),
		"policy.json": `{"version":"1","default":"deny","tools":{"echo":{}}}`,
	})
	out, stop := startServe(t, filepath.Join(dir, "toolgate.yaml"), addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "siem-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}}); err != nil {
			t.Fatal(err)
		}
	}
	cs.Close()
	if code, errOut := stop(); code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := bytes.Count(got, []byte(`"kind":"decision"`)); n != 3 {
		t.Fatalf("the SIEM got %d decisions, want 3:\n%s\nserve: %s", n, got, out)
	}
	rep, err := audit.VerifyLines(bytes.NewReader(got), "siem")
	if err != nil || rep.Break != nil || rep.Events < 6 { // policy loaded, 3 decisions, their outcomes
		t.Fatalf("verify what the SIEM got: %+v %v", rep, err)
	}
	if strings.Contains(out.String(), token) {
		t.Errorf("serve's output holds the header value")
	}
}
