package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// stmts holds the writer's prepared statements, one per query text, so
// that a statement run in every write transaction is parsed once rather
// than in each (SQLite's prepare can cost more than inserting many rows).
type stmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// PrepareWrites prepares queries on the writer, for WriteStmt. Call it
// outside any transaction: the writer has one connection, which a
// transaction holds until it ends.
func (db *DB) PrepareWrites(ctx context.Context, queries ...string) error {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	if db.stmts.m == nil {
		db.stmts.m = map[string]*sql.Stmt{}
	}
	for _, q := range queries {
		if _, ok := db.stmts.m[q]; ok {
			continue
		}
		st, err := db.W.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("%s: prepare: %w", db.component, err)
		}
		db.stmts.m[q] = st
	}
	return nil
}

// WriteStmt returns the statement of query bound to tx, a transaction of
// Update: the one PrepareWrites prepared, or else one prepared now for tx
// alone. Either way it is closed when tx ends.
func (db *DB) WriteStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	db.stmts.mu.Lock()
	st, ok := db.stmts.m[query]
	db.stmts.mu.Unlock()
	if ok {
		return tx.StmtContext(ctx, st), nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("%s: prepare: %w", db.component, err)
	}
	return st, nil
}

// closeStmts closes the prepared statements.
func (db *DB) closeStmts() error {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	var errs []error
	for q, st := range db.stmts.m {
		errs = append(errs, st.Close())
		delete(db.stmts.m, q)
	}
	return errors.Join(errs...)
}
