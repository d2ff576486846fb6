package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/audit"
)

func openLog(t testing.TB, primary audit.Chain, secs ...audit.Secondary) *audit.Log {
	t.Helper()
	l, err := audit.Open(context.Background(), audit.Options{Primary: primary, Secondaries: secs, Instance: "test",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func openSQLite(t testing.TB, path string) *audit.SQLite {
	t.Helper()
	s, err := audit.OpenSQLite(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func decision(tool string, i int) *audit.Event {
	return &audit.Event{Kind: audit.KindDecision, Method: "tools/call", Tool: tool, Subject: "alice",
		Decision: audit.Allowed, DecisionKind: toolgate.KindRule, Rule: "/tools/" + tool,
		Args: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
}

func TestAppendChainsAndVerifies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := openSQLite(t, path)
	l := openLog(t, s)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if err := l.Append(ctx, decision("echo", g*100+i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Break != nil || rep.Events != 400 || rep.HeadSeq != 400 {
		t.Fatalf("report %+v, break %v", rep, rep.Break)
	}
	// A second Log on the same store continues the chain. (Close closes
	// the Log's sinks.)
	l.Close()
	s = openSQLite(t, path)
	l2 := openLog(t, s)
	e := decision("add", 1)
	if err := l2.Append(ctx, e); err != nil {
		t.Fatal(err)
	}
	if e.Seq != 401 || e.PrevHash != rep.HeadHash || e.Hash == "" {
		t.Fatalf("continued at seq %d prev %s", e.Seq, e.PrevHash)
	}
	got, err := s.Get(ctx, e.ID)
	if err != nil || got.Seq != 401 || got.Tool != "add" || got.Instance != "test" || got.Version != 1 {
		t.Fatalf("get: %+v, %v", got, err)
	}
	if _, err := s.Get(ctx, "nope"); toolgate.ErrorCode(err) != toolgate.NotFound {
		t.Fatalf("get of a missing id: %v", err)
	}
}

// TestBodyIsTheEventsJSON: the stored body is exactly encoding/json's
// encoding of the event with its seq and prev_hash, without its hash, so
// that anyone can recompute the hash.
func TestBodyIsTheEventsJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	j, err := audit.OpenJSONL(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := openLog(t, j)
	e := decision("echo", 1)
	e.Reason = "<a & b>"
	if err := l.Append(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	l.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	c := *e
	c.Hash = ""
	if err := enc.Encode(&c); err != nil {
		t.Fatal(err)
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	want := string(body[:len(body)-1]) + `,"hash":"` + audit.Hash(e.PrevHash, body) + `"}` + "\n"
	if string(data) != want {
		t.Fatalf("line:\n%s\nwant:\n%s", data, want)
	}
}

// tamper edits the store file directly, as an attacker with the file would.
func tamper(t *testing.T, path, stmt string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt, args...); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(t *testing.T, path string)
		seq     uint64
		problem string
	}{
		{"untouched", func(*testing.T, string) {}, 0, ""},
		{"body edited", func(t *testing.T, p string) {
			tamper(t, p, `UPDATE audit_events SET body = replace(body, '"decision":"allowed"', '"decision":"denied"') WHERE seq = 5`)
		}, 5, "hash does not match"},
		{"body and hash edited", func(t *testing.T, p string) {
			// Recomputing the edited event's hash breaks the next link.
			db, _ := sql.Open("sqlite", "file:"+p)
			defer db.Close()
			var body []byte
			var prev string
			if err := db.QueryRow(`SELECT body FROM audit_events WHERE seq = 5`).Scan(&body); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(`SELECT hash FROM audit_events WHERE seq = 4`).Scan(&prev); err != nil {
				t.Fatal(err)
			}
			nb := bytes.Replace(body, []byte(`"subject":"alice"`), []byte(`"subject":"mallory"`), 1)
			if _, err := db.Exec(`UPDATE audit_events SET body = ?, subject = 'mallory', hash = ? WHERE seq = 5`, nb, audit.Hash(prev, nb)); err != nil {
				t.Fatal(err)
			}
		}, 6, "prev_hash is not the hash"},
		{"column edited", func(t *testing.T, p string) {
			tamper(t, p, `UPDATE audit_events SET tool = 'other' WHERE seq = 3`)
		}, 3, "tool column"},
		{"deleted", func(t *testing.T, p string) {
			tamper(t, p, `DELETE FROM audit_events WHERE seq = 7`)
		}, 7, "missing"},
		{"first deleted", func(t *testing.T, p string) {
			tamper(t, p, `DELETE FROM audit_events WHERE seq = 1`)
		}, 1, "starts at seq 2"},
		{"reordered", func(t *testing.T, p string) {
			tamper(t, p, `UPDATE audit_events SET seq = -4 WHERE seq = 4`)
			tamper(t, p, `UPDATE audit_events SET seq = 4 WHERE seq = 6`)
			tamper(t, p, `UPDATE audit_events SET seq = 6 WHERE seq = -4`)
		}, 4, "reordered"},
		{"corrupted row", func(t *testing.T, p string) {
			tamper(t, p, `UPDATE audit_events SET body = X'7B22' WHERE seq = 2`)
		}, 2, "unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			s := openSQLite(t, path)
			l := openLog(t, s)
			for i := 0; i < 10; i++ {
				if err := l.Append(context.Background(), decision("echo", i)); err != nil {
					t.Fatal(err)
				}
			}
			tt.edit(t, path)
			rep, err := s.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tt.problem == "" {
				if rep.Break != nil || rep.Events != 10 {
					t.Fatalf("untouched chain: %+v %v", rep, rep.Break)
				}
				return
			}
			if rep.Break == nil {
				t.Fatalf("no break found: %+v", rep)
			}
			if rep.Break.Seq != tt.seq || !strings.Contains(rep.Break.Problem, tt.problem) {
				t.Fatalf("break %v, want seq %d and %q", rep.Break, tt.seq, tt.problem)
			}
		})
	}
}

// TestClockBackwards: seq orders the log whatever the clock says.
func TestClockBackwards(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
	l := openLog(t, s)
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		e := decision("echo", i)
		e.Time = base.Add(-time.Duration(i) * time.Hour)
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := s.Verify(context.Background())
	if err != nil || rep.Break != nil || rep.Events != 5 {
		t.Fatalf("%+v %v", rep, err)
	}
	got, err := s.Query(context.Background(), audit.Filter{})
	if err != nil || len(got) != 5 {
		t.Fatalf("%d events, %v", len(got), err)
	}
	for i, e := range got {
		if e.Seq != uint64(5-i) {
			t.Fatalf("query order: event %d has seq %d", i, e.Seq)
		}
	}
}

func TestQuery(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
	l := openLog(t, s)
	ctx := context.Background()
	now := time.Now()
	add := func(tool, subject string, d audit.Decision, age time.Duration) {
		e := decision(tool, 0)
		e.Subject, e.Decision, e.Time = subject, d, now.Add(-age)
		if err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	add("echo", "alice", audit.Allowed, 3*time.Hour)
	add("echo", "bob", audit.Denied, time.Minute)
	add("add", "alice", audit.RateLimited, time.Minute)
	if err := l.Append(ctx, audit.Admin(audit.ActionPolicyLoaded, "toolgate", "default", "sha256:x")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    audit.Filter
		want int
		// first is the seq of the first event returned, when not 0.
		first uint64
	}{
		{"all", audit.Filter{}, 4, 0},
		{"tool", audit.Filter{Tool: "echo"}, 2, 0},
		{"subject", audit.Filter{Subject: "alice"}, 2, 0},
		{"decision", audit.Filter{Decision: audit.Denied}, 1, 0},
		{"since", audit.Filter{Since: now.Add(-time.Hour)}, 3, 0},
		{"kind", audit.Filter{Kind: audit.KindAdmin}, 1, 0},
		{"limit", audit.Filter{Limit: 2}, 2, 0},
		{"before seq", audit.Filter{BeforeSeq: 3}, 2, 0},
		{"before seq and tool", audit.Filter{BeforeSeq: 2, Tool: "echo"}, 1, 0},
		{"before the first", audit.Filter{BeforeSeq: 1}, 0, 0},
		{"none", audit.Filter{Tool: "echo", Decision: audit.RateLimited}, 0, 0},
		{"newest first", audit.Filter{Limit: 2}, 2, 4},
		{"after seq", audit.Filter{AfterSeq: 2}, 2, 4},
		{"after seq, oldest first", audit.Filter{AfterSeq: 1, Oldest: true, Limit: 2}, 2, 2},
		{"after the last", audit.Filter{AfterSeq: 4}, 0, 0},
		{"after seq and kind", audit.Filter{AfterSeq: 1, Kind: audit.KindDecision, Oldest: true}, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Query(ctx, tt.f)
			if err != nil || len(got) != tt.want {
				t.Fatalf("%d events, want %d (%v)", len(got), tt.want, err)
			}
			if tt.first != 0 && got[0].Seq != tt.first {
				t.Fatalf("first event seq %d, want %d", got[0].Seq, tt.first)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	args := map[string]any{"user_id": "user_1", "password": "hunter2", "profile": map[string]any{"totp_secret": "JBSW"}, "backup_codes": []any{"a1", "b2"}}
	raw := json.RawMessage(`{ "user_id":"user_1" , "password":"hunter2","profile":{"totp_secret":"JBSW"},"backup_codes":["a1","b2"]}`)
	tests := []struct {
		mode audit.ArgsMode
		want string
	}{
		{audit.ArgsKeys, `["backup_codes","password","profile","user_id"]`},
		{audit.ArgsRedacted, `{"backup_codes":"[REDACTED]","password":"[REDACTED]","profile":{"totp_secret":"[REDACTED]"},"user_id":"user_1"}`},
		{audit.ArgsFull, `{"user_id":"user_1","password":"hunter2","profile":{"totp_secret":"JBSW"},"backup_codes":["a1","b2"]}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			if got := string(audit.Args(tt.mode, args, raw, nil)); got != tt.want {
				t.Fatalf("got %s\nwant %s", got, tt.want)
			}
		})
	}
	if m, err := audit.ParseArgsMode(""); err != nil || m != audit.ArgsRedacted {
		t.Fatalf("default mode %q %v", m, err)
	}
	if _, err := audit.ParseArgsMode("all"); err == nil {
		t.Fatal("an unknown mode was accepted")
	}
}

func TestDecisionOf(t *testing.T) {
	tests := []struct {
		d    toolgate.Decision
		want audit.Decision
	}{
		{toolgate.Decision{Action: toolgate.Allow, Kind: toolgate.KindRule}, audit.Allowed},
		{toolgate.Decision{Action: toolgate.Allow, Kind: toolgate.KindApproval}, audit.Approved},
		{toolgate.Decision{Action: toolgate.Deny, Kind: toolgate.KindRule}, audit.Denied},
		{toolgate.Decision{Action: toolgate.Deny, Kind: toolgate.KindDefault}, audit.Denied},
		{toolgate.Decision{Action: toolgate.Deny, Kind: toolgate.KindHidden}, audit.Hidden},
		{toolgate.Decision{Action: toolgate.Deny, Kind: toolgate.KindNoPolicy}, audit.NoPolicy},
		{toolgate.Decision{Action: toolgate.Deny, Kind: toolgate.KindArgs}, audit.InvalidArgs},
		{toolgate.Decision{Action: toolgate.Deny, Kind: toolgate.KindInputSchema}, audit.InvalidArgs},
		{toolgate.Decision{Action: toolgate.Deny, Kind: toolgate.KindPin}, audit.PinMismatch},
		{toolgate.Decision{Action: toolgate.Deny, Kind: toolgate.KindLimit}, audit.RateLimited},
		{toolgate.Decision{Action: toolgate.Deny, Kind: toolgate.KindApproval, ApprovalPending: true}, audit.ApprovalPending},
		{toolgate.Decision{Action: toolgate.Deny, Kind: toolgate.KindApproval}, audit.Rejected},
	}
	for _, tt := range tests {
		if got := audit.DecisionOf(tt.d); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.d, got, tt.want)
		}
	}
}

// TestLargeArgs: a 4 MiB argument is recorded whole, and verifies.
func TestLargeArgs(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
	l := openLog(t, s)
	big := strings.Repeat("x", 4<<20)
	e := decision("echo", 0)
	e.Args = audit.Args(audit.ArgsRedacted, map[string]any{"message": big}, nil, nil)
	if err := l.Append(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(context.Background(), e.ID)
	if err != nil || len(got.Args) < 4<<20 {
		t.Fatalf("%v, %d bytes of args", err, len(got.Args))
	}
	if rep, err := s.Verify(context.Background()); err != nil || rep.Break != nil {
		t.Fatalf("%+v %v", rep, err)
	}
}

// failing is a sink that fails every write.
type failing struct{}

func (failing) Write(context.Context, []audit.Sealed) error { return errors.New("disk full") }
func (failing) Close() error                                { return nil }

func TestFailingSinks(t *testing.T) {
	ctx := context.Background()
	t.Run("secondary fails closed", func(t *testing.T) {
		s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
		l := openLog(t, s, audit.Secondary{Name: "bad", Sink: failing{}})
		if err := l.Append(ctx, decision("echo", 0)); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("append: %v", err)
		}
		if st := l.Stats(); st.SinkErrors["bad"] != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("secondary continues", func(t *testing.T) {
		s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
		l := openLog(t, s, audit.Secondary{Name: "bad", Sink: failing{}, Continue: true})
		for i := 0; i < 3; i++ {
			if err := l.Append(ctx, decision("echo", i)); err != nil {
				t.Fatal(err)
			}
		}
		if st := l.Stats(); st.SinkErrors["bad"] != 3 || st.Appended != 3 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("primary store deleted", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "store.db")
		s := openSQLite(t, path)
		l := openLog(t, s)
		if err := l.Append(ctx, decision("echo", 0)); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := l.Append(ctx, decision("echo", 1)); err == nil {
			t.Fatal("an append to a deleted store succeeded")
		}
		// The failed event took no place in the chain.
		if st := l.Stats(); st.Failed != 1 || st.Appended != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("closed", func(t *testing.T) {
		s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
		l := openLog(t, s)
		l.Close()
		if err := l.Append(ctx, decision("echo", 0)); !errors.Is(err, audit.ErrClosed) {
			t.Fatalf("append after close: %v", err)
		}
	})
}

// TestTwoWriters: two Logs (two processes) on one store keep one chain.
func TestTwoWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	a, b := openSQLite(t, path), openSQLite(t, path)
	la, lb := openLog(t, a), openLog(t, b)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		l := la
		if i%3 == 0 {
			l = lb
		}
		if err := l.Append(ctx, decision("echo", i)); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := a.Verify(ctx)
	if err != nil || rep.Break != nil || rep.Events != 20 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestJSONL(t *testing.T) {
	ctx := context.Background()
	t.Run("rotation", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		j, err := audit.OpenJSONL(path, &audit.JSONLOptions{MaxBytes: 2000, Keep: 3})
		if err != nil {
			t.Fatal(err)
		}
		l := openLog(t, j)
		for i := 0; i < 60; i++ {
			if err := l.Append(ctx, decision("echo", i)); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		for _, p := range []string{path, path + ".1", path + ".3"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 || fi.Size() > 2000 {
				t.Errorf("%s: mode %v, %d bytes", p, fi.Mode().Perm(), fi.Size())
			}
		}
		if _, err := os.Stat(path + ".4"); err == nil {
			t.Error("more rotated files than keep")
		}
		rep, err := audit.VerifyJSONL(path)
		if err != nil || rep.Break != nil || rep.HeadSeq != 60 || rep.Events >= 60 {
			t.Fatalf("%+v %v", rep, err)
		}
		// Reopened, it continues the chain from its last line.
		j2, err := audit.OpenJSONL(path, &audit.JSONLOptions{MaxBytes: 2000, Keep: 3})
		if err != nil {
			t.Fatal(err)
		}
		l2 := openLog(t, j2)
		e := decision("echo", 61)
		if err := l2.Append(ctx, e); err != nil || e.Seq != 61 {
			t.Fatalf("seq %d, %v", e.Seq, err)
		}
	})
	t.Run("truncated line", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		j, err := audit.OpenJSONL(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		l := openLog(t, j)
		for i := 0; i < 5; i++ {
			if err := l.Append(ctx, decision("echo", i)); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		data, _ := os.ReadFile(path)
		if err := os.WriteFile(path, data[:len(data)-40], 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.VerifyJSONL(path)
		if err != nil || rep.Break == nil || !strings.Contains(rep.Break.Problem, "truncated") || rep.Break.Seq != 5 {
			t.Fatalf("%+v %v", rep, err)
		}
		// Reopening cuts the unacknowledged line off, and the chain goes on.
		j2, err := audit.OpenJSONL(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The fragment is kept aside, not destroyed.
		if kept, err := os.ReadFile(path + ".partial"); err != nil || !bytes.Contains(data, bytes.TrimSuffix(kept, []byte("\n"))) || len(kept) < 10 {
			t.Fatalf("fragment kept: %q %v", kept, err)
		}
		l2 := openLog(t, j2)
		e := decision("echo", 9)
		if err := l2.Append(ctx, e); err != nil || e.Seq != 5 {
			t.Fatalf("seq %d, %v", e.Seq, err)
		}
		l2.Close()
		if rep, err := audit.VerifyJSONL(path); err != nil || rep.Break != nil || rep.Events != 5 {
			t.Fatalf("%+v %v", rep, err)
		}
	})
	t.Run("edited line", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		j, err := audit.OpenJSONL(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		l := openLog(t, j)
		for i := 0; i < 5; i++ {
			if err := l.Append(ctx, decision("echo", i)); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		data, _ := os.ReadFile(path)
		data = bytes.Replace(data, []byte(`{"n":3}`), []byte(`{"n":4}`), 1)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.VerifyJSONL(path)
		if err != nil || rep.Break == nil || rep.Break.Seq != 4 || rep.Break.Where != "audit.jsonl:4" {
			t.Fatalf("%+v %v", rep, err)
		}
	})
}

func TestWriterSink(t *testing.T) {
	var out bytes.Buffer
	s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
	l := openLog(t, s, audit.Secondary{Name: "stdout", Sink: audit.NewWriter(&out)})
	for i := 0; i < 3; i++ {
		if err := l.Append(context.Background(), decision("echo", i)); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	e, err := audit.Decode([]byte(lines[2]))
	if err != nil || e.Seq != 3 || e.Hash == "" {
		t.Fatalf("%+v %v", e, err)
	}
}

// BenchmarkAppend appends from many goroutines at once to a SQLite store,
// as concurrent tools/calls do; group commit writes them in batches.
// BenchmarkAppend: 64 goroutines per core append decision-sized events
// at once. sqlite: each Append returns once its event is committed in
// SQLite; journal: once it is in the journal, and the clock stops when
// the last event is committed in SQLite (Sync), so events/s is the rate
// into SQLite either way.
func BenchmarkAppend(b *testing.B) {
	for _, mode := range []string{"sqlite", "journal"} {
		b.Run(mode, func(b *testing.B) {
			dir := b.TempDir()
			s := openSQLite(b, filepath.Join(dir, "store.db"))
			var l *audit.Log
			if mode == "journal" {
				l = openJournaled(b, s, filepath.Join(dir, "journal"), nil)
			} else {
				l = openLog(b, s)
			}
			args := json.RawMessage(`{"message":"benchmark","user_id":"user_123"}`)
			b.SetParallelism(64)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					e := &audit.Event{Kind: audit.KindDecision, Method: "tools/call", Tool: "echo", Subject: "bench",
						Session: "s-0123456789abcdef", Grant: "g_123", Server: "echo", Policy: "default",
						PolicyVersion: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
						Decision:      audit.Allowed, DecisionKind: toolgate.KindRule, Rule: "/tools/echo", Args: args}
					if err := l.Append(context.Background(), e); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if err := l.Sync(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
			st := l.Stats()
			if st.Batches > 0 {
				b.ReportMetric(float64(st.Appended)/float64(st.Batches), "events/batch")
			}
		})
	}
}

// TestEnqueueLingers: an enqueued event waits for the next Append to carry
// it, is written on its own when none comes within the linger, and
// events enqueued beyond the queue's size are not lost.
func TestEnqueueLingers(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		linger     time.Duration
		queue      int
		enqueued   int
		thenAppend bool
	}{
		{name: "alone, written after the linger", linger: 5 * time.Millisecond, enqueued: 1},
		{name: "carried by the next append", linger: time.Hour, enqueued: 3, thenAppend: true},
		{name: "more than the queue holds", linger: time.Hour, queue: 4, enqueued: 100},
		{name: "no linger", linger: -1, enqueued: 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
			l, err := audit.Open(ctx, audit.Options{Primary: s, Instance: "test", Linger: tc.linger, Queue: tc.queue,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			for i := 0; i < tc.enqueued; i++ {
				if err := l.Enqueue(ctx, decision(fmt.Sprint("e", i), i)); err != nil {
					t.Fatal(err)
				}
			}
			want := tc.enqueued
			if tc.thenAppend {
				if err := l.Append(ctx, decision("last", 0)); err != nil {
					t.Fatal(err)
				}
				want++
			}
			if tc.linger == time.Hour && tc.queue == 0 {
				// Nothing waited for the linger: the append wrote them all.
				if got := l.Stats().Appended; got != uint64(want) {
					t.Fatalf("%d events committed, want %d", got, want)
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for tc.linger < time.Hour && l.Stats().Appended < uint64(want) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if tc.linger > 0 && tc.linger < time.Hour {
				// Written by the linger's timer, not by Sync.
				if got := l.Stats().Appended; got != uint64(want) {
					t.Fatalf("%d events committed after the linger, want %d", got, want)
				}
			}
			if err := l.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			evs, err := s.Query(ctx, audit.Filter{Oldest: true, Limit: audit.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != want {
				t.Fatalf("%d events stored, want %d", len(evs), want)
			}
			for i := 0; i < tc.enqueued; i++ {
				if evs[i].Tool != fmt.Sprint("e", i) {
					t.Fatalf("event %d is %q: out of order", i, evs[i].Tool)
				}
			}
		})
	}
}
