package sqlitedb

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink the checker goroutine and the test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func openWatched(t *testing.T, path string, every time.Duration, logs *syncBuffer) *DB {
	t.Helper()
	o := opts(oneTable)
	o.CheckEvery = every
	o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	db, err := Open(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func insert(db *DB, id int) error {
	return db.Update(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO a (id) VALUES (?)`, id)
		return err
	})
}

// replaceFile renames a fresh file over path, as a restore from backup or
// an editor's save would.
func replaceFile(t *testing.T, path string) {
	t.Helper()
	other := path + ".new"
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
}

func deleteFile(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func wantChanged(t *testing.T, err error, path string, deleted bool) {
	t.Helper()
	var fe *FileChangedError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v, want a *FileChangedError", err)
	}
	if fe.Path != path || fe.Deleted != deleted {
		t.Errorf("FileChangedError %+v, want path %s, deleted %v", fe, path, deleted)
	}
	want := "test: store file " + path + " was deleted or replaced; refusing to write (restart toolgate)"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestFileChanged(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*testing.T, string)
		deleted bool
	}{
		{"deleted", deleteFile, true},
		{"replaced", replaceFile, false},
	}
	for _, tt := range tests {
		// Writes check the file first: the next write fails at once.
		t.Run(tt.name+", next write", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db.sqlite")
			var logs syncBuffer
			db := openWatched(t, path, -1, &logs)
			if err := insert(db, 1); err != nil {
				t.Fatal(err)
			}
			tt.change(t, path)
			wantChanged(t, insert(db, 2), path, tt.deleted)
			// Every later operation fails too, reads included, and the
			// failure is logged once.
			wantChanged(t, insert(db, 3), path, tt.deleted)
			wantChanged(t, db.View(context.Background(), func(*sql.Tx) error { return nil }), path, tt.deleted)
			wantChanged(t, db.Err(), path, tt.deleted)
			if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), path) {
				t.Errorf("%d error lines naming the path, want 1:\n%s", n, logs.String())
			}
		})
		// With no write at all, the background checker notices within its
		// period.
		t.Run(tt.name+", checker", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db.sqlite")
			var logs syncBuffer
			db := openWatched(t, path, 5*time.Millisecond, &logs)
			if err := insert(db, 1); err != nil {
				t.Fatal(err)
			}
			if err := db.Err(); err != nil {
				t.Fatalf("Err before any change: %v", err)
			}
			tt.change(t, path)
			deadline := time.Now().Add(2 * time.Second)
			for db.Err() == nil && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			wantChanged(t, db.Err(), path, tt.deleted)
			wantChanged(t, db.View(context.Background(), func(*sql.Tx) error { return nil }), path, tt.deleted)
			// The checker marks the store failed, then logs: wait for the line.
			for !strings.Contains(logs.String(), "level=ERROR") && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("nothing logged at Error:\n%s", logs.String())
			}
		})
	}
}

func TestUnchangedFileKeepsWorking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite")
	var logs syncBuffer
	db := openWatched(t, path, time.Millisecond, &logs)
	for i := range 20 {
		if err := insert(db, i); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
		time.Sleep(time.Millisecond)
	}
	// A failing transaction is checked against the file and, the file
	// being the same, keeps its own error.
	boom := errors.New("boom")
	if err := db.Update(context.Background(), func(*sql.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Update = %v, want boom", err)
	}
	if err := db.Err(); err != nil || logs.String() != "" {
		t.Errorf("Err = %v, log %q; want neither", err, logs.String())
	}
}

func TestCloseStopsChecker(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite")
	var logs syncBuffer
	db := openWatched(t, path, time.Millisecond, &logs)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-db.done:
	default:
		t.Fatal("the checker is still running after Close")
	}
	deleteFile(t, path)
	time.Sleep(20 * time.Millisecond)
	if err := db.Err(); err != nil || logs.String() != "" {
		t.Errorf("closed DB checked its file: Err %v, log %q", err, logs.String())
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
