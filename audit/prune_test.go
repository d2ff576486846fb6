package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/audit"
)

var pruneBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// prunedStore returns a store of n events, event i (seq i+1) made i hours
// after pruneBase, with the log that wrote them (which closes the store).
func prunedStore(t *testing.T, n int) (*audit.SQLite, string, *audit.Log) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.db")
	s := openSQLite(t, path)
	l := openLog(t, s)
	appendAt(t, l, 0, n)
	return s, path, l
}

// appendAt appends events from..to-1, event i made i hours after pruneBase.
func appendAt(t *testing.T, l *audit.Log, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		e := decision("echo", i)
		e.Time = pruneBase.Add(time.Duration(i) * time.Hour)
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func prune(t *testing.T, s *audit.SQLite, hours int) *audit.PruneResult {
	t.Helper()
	res, err := s.Prune(context.Background(), pruneBase.Add(time.Duration(hours)*time.Hour), pruneBase.Add(1000*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func verifyOK(t *testing.T, s *audit.SQLite, events uint64) *audit.Report {
	t.Helper()
	rep, err := s.Verify(context.Background())
	if err != nil || rep.Break != nil || rep.Events != events {
		t.Fatalf("verify: %+v %v %v, want %d events", rep, rep.Break, err, events)
	}
	return rep
}

func TestPrune(t *testing.T) {
	t.Run("prune then verify", func(t *testing.T) {
		s, _, l := prunedStore(t, 10)
		res := prune(t, s, 5) // events made before hour 5: seq 1-5
		c := res.Checkpoint
		if res.Pruned != 5 || res.Kept != 5 || c == nil || c.ID != 1 || c.FromSeq != 1 || c.Seq != 5 || c.Pruned != 5 || len(c.Signature) != 64 {
			t.Fatalf("prune: %+v %+v", res, c)
		}
		rep := verifyOK(t, s, 5)
		if rep.HeadSeq != 10 || rep.Checkpoint == nil || rep.Checkpoint.Hash != c.Hash {
			t.Fatalf("report: %+v", rep)
		}
		// The gateway goes on appending after the prune.
		appendAt(t, l, 10, 12)
		if rep := verifyOK(t, s, 7); rep.HeadSeq != 12 {
			t.Fatalf("head %d after appending", rep.HeadSeq)
		}
	})
	t.Run("prune twice", func(t *testing.T) {
		s, path, _ := prunedStore(t, 10)
		prune(t, s, 3)
		res := prune(t, s, 7)
		if c := res.Checkpoint; res.Pruned != 4 || c.ID != 2 || c.FromSeq != 4 || c.Seq != 7 || c.Pruned != 4 {
			t.Fatalf("second prune: %+v %+v", res, c)
		}
		if rep := verifyOK(t, s, 3); rep.Checkpoint.ID != 2 {
			t.Fatalf("verify anchors on checkpoint %d", rep.Checkpoint.ID)
		}
		tamper(t, path, `DELETE FROM audit_checkpoints WHERE id = 1`)
		rep, err := s.Verify(context.Background())
		if err != nil || rep.Break == nil || rep.Break.Where != "checkpoint 2" || !strings.Contains(rep.Break.Problem, "checkpoint 1 is missing") {
			t.Fatalf("first checkpoint deleted: %+v %v", rep.Break, err)
		}
	})
	t.Run("nothing to prune", func(t *testing.T) {
		s, _, _ := prunedStore(t, 4)
		if res := prune(t, s, 0); res.Pruned != 0 || res.Checkpoint != nil || res.Kept != 4 {
			t.Fatalf("cutoff before every event: %+v", res)
		}
		// Everything is older, but the head stays.
		if res := prune(t, s, 100); res.Pruned != 3 || res.Kept != 1 || res.Checkpoint.Seq != 3 {
			t.Fatalf("cutoff after every event: %+v", res)
		}
		if res := prune(t, s, 100); res.Pruned != 0 || res.Checkpoint != nil || res.Kept != 1 {
			t.Fatalf("again: %+v", res)
		}
		verifyOK(t, s, 1)
	})
	t.Run("empty store", func(t *testing.T) {
		s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
		if res := prune(t, s, 100); res.Pruned != 0 || res.Checkpoint != nil {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("clock backwards", func(t *testing.T) {
		// Seq 3 was made after the cutoff: seq 4 and 5, made before it by a
		// clock gone back, are kept too, since a prune deletes a prefix.
		path := filepath.Join(t.TempDir(), "store.db")
		s := openSQLite(t, path)
		l := openLog(t, s)
		for i, h := range []int{0, 1, 50, 2, 3, 60} {
			e := decision("echo", i)
			e.Time = pruneBase.Add(time.Duration(h) * time.Hour)
			if err := l.Append(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		if res := prune(t, s, 10); res.Pruned != 2 || res.Checkpoint.Seq != 2 {
			t.Fatalf("%+v", res)
		}
		verifyOK(t, s, 4)
	})
	t.Run("broken chain is not pruned", func(t *testing.T) {
		s, path, _ := prunedStore(t, 10)
		tamper(t, path, `UPDATE audit_events SET body = replace(body, '"subject":"alice"', '"subject":"bob"') WHERE seq = 2`)
		_, err := s.Prune(context.Background(), pruneBase.Add(5*time.Hour), time.Now())
		if !errors.Is(err, audit.ErrPruneBroken) || !strings.Contains(err.Error(), "seq 2") {
			t.Fatalf("prune of a broken chain: %v", err)
		}
		rep, err := s.Verify(context.Background())
		if err != nil || rep.Break == nil || rep.Break.Seq != 2 || rep.Checkpoint != nil {
			t.Fatalf("the break must still show: %+v %v", rep, err)
		}
	})
}

// TestVerifyPrunedFindsTampering: after a prune of seq 1-5 out of 10, a
// checkpoint edited, forged or deleted, or an event after it deleted, is
// a broken link.
func TestVerifyPrunedFindsTampering(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(t *testing.T, path string)
		where   string
		problem string
	}{
		{"untouched", func(*testing.T, string) {}, "", ""},
		{"checkpoint hash edited", func(t *testing.T, p string) {
			tamper(t, p, `UPDATE audit_checkpoints SET hash = (SELECT hash FROM audit_events WHERE seq = 6)`)
		}, "checkpoint 1", "signature does not match"},
		{"checkpoint count edited", func(t *testing.T, p string) {
			tamper(t, p, `UPDATE audit_checkpoints SET pruned = 4`)
		}, "checkpoint 1", "signature does not match"},
		{"checkpoint forged under another key", func(t *testing.T, p string) {
			// Move the anchor to seq 6 and sign with a key of one's own.
			db, err := sql.Open("sqlite", "file:"+p)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`DELETE FROM audit_events WHERE seq = 6`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`UPDATE audit_checkpoints SET seq = 6, pruned = 6, hash = ?, signature = ?`,
				strings.Repeat("a", 64), strings.Repeat("b", 64)); err != nil {
				t.Fatal(err)
			}
		}, "checkpoint 1", "signature does not match"},
		{"checkpoint key deleted", func(t *testing.T, p string) {
			tamper(t, p, `DELETE FROM audit_settings`)
		}, "checkpoint 1", "no checkpoint key"},
		{"checkpoint deleted", func(t *testing.T, p string) {
			tamper(t, p, `DELETE FROM audit_checkpoints`)
		}, "seq 6", "starts at seq 6, not 1"},
		{"event after the checkpoint deleted", func(t *testing.T, p string) {
			tamper(t, p, `DELETE FROM audit_events WHERE seq = 6`)
		}, "seq 7", "follows checkpoint 1 at seq 5: 1 event(s) missing"},
		{"later event deleted", func(t *testing.T, p string) {
			tamper(t, p, `DELETE FROM audit_events WHERE seq = 8`)
		}, "seq 9", "missing"},
		{"every event deleted", func(t *testing.T, p string) {
			tamper(t, p, `DELETE FROM audit_events`)
		}, "seq 6", "no event follows checkpoint 1"},
		{"pruned event put back", func(t *testing.T, p string) {
			tamper(t, p, `INSERT INTO audit_events (seq, id, time, kind, tool, subject, decision, hash, body)
				SELECT 5, id, time, kind, tool, subject, decision, hash, body FROM audit_events WHERE seq = 6`)
		}, "seq 5", "stored at seq 5 but the event says seq 6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, path, _ := prunedStore(t, 10)
			prune(t, s, 5)
			tt.edit(t, path)
			rep, err := s.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tt.problem == "" {
				if rep.Break != nil || rep.Events != 5 {
					t.Fatalf("untouched: %+v %v", rep, rep.Break)
				}
				return
			}
			if rep.Break == nil || rep.Break.Where != tt.where || !strings.Contains(rep.Break.Problem, tt.problem) {
				t.Fatalf("break %v, want at %s: %q", rep.Break, tt.where, tt.problem)
			}
		})
	}
}
