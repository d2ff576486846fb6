package sqlitedb

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func opts(files fstest.MapFS) Options {
	return Options{Component: "test", ForeignKeys: true, Migrations: files, MigrationsTable: "test_migrations"}
}

func count(t *testing.T, db *DB, q string) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestOpenAppliesMigrationsOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	files := fstest.MapFS{
		"migrations/001_a.sql": {Data: []byte(`CREATE TABLE a (id INTEGER PRIMARY KEY);`)},
		"migrations/002_b.sql": {Data: []byte(`INSERT INTO a (id) VALUES (1);`)},
	}
	for i := range 2 {
		db, err := Open(ctx, path, opts(files))
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if n := count(t, db, `SELECT count(*) FROM a`); n != 1 {
			t.Errorf("open %d: %d rows in a, want 1", i, n)
		}
		if n := count(t, db, `SELECT count(*) FROM test_migrations`); n != 2 {
			t.Errorf("open %d: %d migrations recorded, want 2", i, n)
		}
		if _, err := db.R.Exec(`INSERT INTO a (id) VALUES (2)`); err == nil {
			t.Errorf("open %d: the reader pool accepted a write", i)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("close %d: %v", i, err)
		}
	}
}

func TestOpenRefusesBadPath(t *testing.T) {
	for _, path := range []string{"", "x.db?mode=ro", "x.db#frag"} {
		db, err := Open(context.Background(), path, opts(fstest.MapFS{}))
		if err == nil {
			_ = db.Close()
			t.Fatalf("Open(%q) succeeded", path)
		}
		if want := "test: invalid database path"; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want %q…", path, err, want)
		}
	}
}

func TestFailingMigrationLeavesNoPartialState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	files := fstest.MapFS{
		"migrations/001_a.sql": {Data: []byte(`CREATE TABLE a (id INTEGER PRIMARY KEY);`)},
		"migrations/002_b.sql": {Data: []byte(`CREATE TABLE b (id INTEGER); INSERT INTO nope VALUES (1);`)},
	}
	_, err := Open(ctx, path, opts(files))
	if err == nil || !strings.HasPrefix(err.Error(), "test: migration 002_b.sql: ") {
		t.Fatalf("Open = %v, want a failure in 002_b.sql", err)
	}
	// Without the failing migration the database opens as new: nothing of
	// the failed attempt, not even 001, was kept.
	delete(files, "migrations/002_b.sql")
	db, err := Open(ctx, path, opts(files))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := count(t, db, `SELECT count(*) FROM sqlite_master WHERE name IN ('b')`); n != 0 {
		t.Errorf("table b of the failed migration exists")
	}
	if n := count(t, db, `SELECT count(*) FROM test_migrations`); n != 1 {
		t.Errorf("%d migrations recorded, want 1", n)
	}
}

func TestCloseZero(t *testing.T) {
	if err := (&DB{}).Close(); err != nil {
		t.Fatal(err)
	}
}
