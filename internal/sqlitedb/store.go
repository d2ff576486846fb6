package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
)

// Store is what every store on a SQLite file shares: created without I/O,
// opened (file created, migrations applied) by Open, closed by Close, and
// used through Update and View, which refuse until it is open. A store
// type embeds it and adds its queries.
type Store struct {
	path string
	opts Options
	db   *DB // nil until Open
}

// NewStore returns a store for the database file at path, opened with
// opts. It does no I/O.
func NewStore(path string, opts Options) Store { return Store{path: path, opts: opts} }

// Open creates the database at the store's path if needed and applies the
// migrations.
func (s *Store) Open(ctx context.Context) error {
	db, err := Open(ctx, s.path, s.opts)
	if err != nil {
		return err
	}
	s.db = db
	return nil
}

// Close closes the database; a store never opened has nothing to close.
func (s *Store) Close() error {
	if s.db == nil {
		return nil
	}
	return s.db.Close()
}

// Path is the database file's path, for messages.
func (s *Store) Path() string { return s.path }

func (s *Store) notOpen() error { return fmt.Errorf("%s: store is not open", s.opts.Component) }

// Update runs fn in a write transaction (see DB.Update).
func (s *Store) Update(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.db == nil {
		return s.notOpen()
	}
	return s.db.Update(ctx, fn)
}

// View runs fn in a read transaction (see DB.View).
func (s *Store) View(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.db == nil {
		return s.notOpen()
	}
	return s.db.View(ctx, fn)
}

// PrepareWrites prepares queries on the writer, for WriteStmt (see
// DB.PrepareWrites).
func (s *Store) PrepareWrites(ctx context.Context, queries ...string) error {
	if s.db == nil {
		return s.notOpen()
	}
	return s.db.PrepareWrites(ctx, queries...)
}

// WriteStmt returns query's statement bound to tx, a transaction of
// Update (see DB.WriteStmt).
func (s *Store) WriteStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if s.db == nil {
		return nil, s.notOpen()
	}
	return s.db.WriteStmt(ctx, tx, query)
}

// Scanner is a row being read: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Querier runs a query: *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// All runs query and reads every row it returns with scan, in order. The
// result is empty, never nil, when there is no row.
func All[T any](ctx context.Context, q Querier, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
