package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/audit"
)

// auditStore writes a configuration naming a store, and returns it with a
// log open on the store (closed at the end of the test) and a runner of
// toolgate commands against it.
func auditStore(t *testing.T) (*audit.Log, string, func(args ...string) (int, string)) {
	t.Helper()
	dir := writeFiles(t, map[string]string{"toolgate.yaml": "auth: grants\nstore: sqlite://toolgate.db\n"})
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
	t.Cleanup(func() { l.Close() })
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), append(args, "--config", cfg), strings.NewReader(""), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	return l, dbPath, run
}

func appendDecisions(t *testing.T, l *audit.Log, at time.Time, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		e := &audit.Event{Kind: audit.KindDecision, Tool: tool, Subject: "alice", Decision: audit.Allowed, Rule: "/tools/" + tool, Time: at}
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func execSQL(t *testing.T, path, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}

// TestAuditPrune: prune, verify, prune again, then tampering after the
// prune is found by verify.
func TestAuditPrune(t *testing.T) {
	l, dbPath, run := auditStore(t)
	old := time.Now().AddDate(0, 0, -100)
	appendDecisions(t, l, old, "a", "b", "c", "d", "e", "f")
	appendDecisions(t, l, time.Now().Add(-time.Hour), "g", "h", "i", "j")

	if code, out := run("audit", "prune", "--older-than", "120d"); code != 0 || !strings.Contains(out, "nothing to prune") || !strings.Contains(out, "10 kept") {
		t.Fatalf("prune nothing: %d %s", code, out)
	}
	code, out := run("audit", "prune", "--older-than", "90d", "-o", "json")
	var res audit.PruneResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Pruned != 6 || res.Kept != 4 || res.Checkpoint == nil || res.Checkpoint.Seq != 6 {
		t.Fatalf("prune: %d %s", code, out)
	}
	if code, out := run("audit", "verify"); code != 0 || !strings.Contains(out, "ok: 4 events") || !strings.Contains(out, "checkpoint 1 (seq 6") {
		t.Fatalf("verify after prune: %d %s", code, out)
	}
	if code, out := run("audit", "prune", "--older-than", "90d"); code != 0 || !strings.Contains(out, "nothing to prune") {
		t.Fatalf("prune twice: %d %s", code, out)
	}
	if code, out := run("audit", "prune", "--older-than", "1m"); code != 0 || !strings.Contains(out, "pruned 3 events (seq 7-9), 1 kept; checkpoint 2") {
		t.Fatalf("prune all but the head: %d %s", code, out)
	}
	if code, out := run("audit", "verify"); code != 0 || !strings.Contains(out, "ok: 1 events") {
		t.Fatalf("verify after the second prune: %d %s", code, out)
	}
	appendDecisions(t, l, time.Now(), "k", "l")
	if code, out := run("audit", "verify"); code != 0 || !strings.Contains(out, "ok: 3 events") {
		t.Fatalf("verify after appending: %d %s", code, out)
	}

	execSQL(t, dbPath, `UPDATE audit_checkpoints SET pruned = 2, from_seq = 8 WHERE id = 2`)
	if code, out := run("audit", "verify"); code != 1 || !strings.Contains(out, "BROKEN at checkpoint 2: the signature does not match") {
		t.Fatalf("verify after editing the checkpoint: %d %s", code, out)
	}
	if code, out := run("audit", "prune", "--older-than", "1m"); code != 1 || !strings.Contains(out, "broken") {
		t.Fatalf("prune of a broken chain: %d %s", code, out)
	}
}

func TestAuditPruneDeletedAfterCheckpoint(t *testing.T) {
	l, dbPath, run := auditStore(t)
	appendDecisions(t, l, time.Now().AddDate(0, 0, -10), "a", "b")
	appendDecisions(t, l, time.Now(), "c", "d", "e")
	if code, out := run("audit", "prune", "--older-than", "7d"); code != 0 || !strings.Contains(out, "pruned 2 events") {
		t.Fatalf("prune: %d %s", code, out)
	}
	execSQL(t, dbPath, `DELETE FROM audit_events WHERE seq = 3`)
	if code, out := run("audit", "verify"); code != 1 || !strings.Contains(out, "BROKEN at seq 4: seq 4 follows checkpoint 1 at seq 2: 1 event(s) missing") {
		t.Fatalf("verify: %d %s", code, out)
	}
}

func TestAuditPruneBadAge(t *testing.T) {
	_, _, run := auditStore(t)
	for _, age := range []string{"", "90", "0d", "-5d", "1.5d", "-1h", "0s", "yesterday", "2026-01-01T00:00:00Z"} {
		t.Run(age, func(t *testing.T) {
			code, out := run("audit", "prune", "--older-than", age)
			if code != 1 || !strings.Contains(out, "--older-than") {
				t.Fatalf("%d %s", code, out)
			}
		})
	}
	if code, out := run("audit", "prune"); code != 1 || !strings.Contains(out, "--older-than is required") {
		t.Fatalf("no --older-than: %d %s", code, out)
	}
}
