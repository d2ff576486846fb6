package sqlitedb

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// Statements prepared by PrepareWrites and those prepared for one
// transaction both write, transaction after transaction, and a bad query
// is an error rather than a hang on the writer's single connection.
func TestWriteStmt(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"), opts(fstest.MapFS{
		"migrations/001_a.sql": {Data: []byte(`CREATE TABLE a (id INTEGER PRIMARY KEY);`)},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const prepared, adHoc = `INSERT INTO a (id) VALUES (?)`, `INSERT INTO a (id) VALUES (? + 1000)`
	if err := db.PrepareWrites(ctx, prepared, prepared); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		err := db.Update(ctx, func(tx *sql.Tx) error {
			for _, q := range []string{prepared, adHoc} {
				st, err := db.WriteStmt(ctx, tx, q)
				if err != nil {
					return err
				}
				if _, err := st.ExecContext(ctx, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("transaction %d: %v", i, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM a`); n != 6 {
		t.Errorf("%d rows, want 6", n)
	}
	err = db.Update(ctx, func(tx *sql.Tx) error {
		_, err := db.WriteStmt(ctx, tx, `INSERT INTO nowhere VALUES (1)`)
		return err
	})
	if err == nil {
		t.Error("a statement on a missing table was prepared")
	}
	if err := db.PrepareWrites(ctx, `NOT SQL`); err == nil {
		t.Error("PrepareWrites accepted a syntax error")
	}
}
