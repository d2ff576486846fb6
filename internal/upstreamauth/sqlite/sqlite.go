// Package sqlite keeps upstreamauth's sealed tokens in a SQLite database
// file, usually the configuration's store.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"log/slog"
	"time"

	"github.com/toolgate/toolgate/internal/sqlitedb"
	"github.com/toolgate/toolgate/internal/upstreamauth"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Tokens is an upstreamauth.Store in a SQLite file.
type Tokens struct {
	sqlitedb.Store
}

var _ upstreamauth.Store = (*Tokens)(nil)

// New returns the tokens in the database file at path. It does no I/O:
// call Open. log receives the file's warnings; slog.Default() when nil.
func New(path string, log *slog.Logger) *Tokens {
	return &Tokens{Store: sqlitedb.NewStore(path, sqlitedb.Options{
		Component:       "upstream tokens",
		Migrations:      migrations,
		MigrationsTable: "upstream_token_migrations",
		Logger:          log,
	})}
}

// Open creates the database at path if needed, applies the migrations and
// returns the open store.
func Open(ctx context.Context, path string, log *slog.Logger) (*Tokens, error) {
	t := New(path, log)
	if err := t.Store.Open(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// Get implements upstreamauth.Store.
func (t *Tokens) Get(ctx context.Context, server string) ([]byte, error) {
	var b []byte
	err := t.View(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT sealed FROM upstream_tokens WHERE server = ?`, server).Scan(&b)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, upstreamauth.ErrNoToken
	}
	return b, err
}

// Put implements upstreamauth.Store.
func (t *Tokens) Put(ctx context.Context, server string, sealed []byte) error {
	return t.Update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO upstream_tokens (server, sealed, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (server) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
			server, sealed, time.Now().UnixNano())
		return err
	})
}

// Delete implements upstreamauth.Store.
func (t *Tokens) Delete(ctx context.Context, server string) (bool, error) {
	var n int64
	err := t.Update(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM upstream_tokens WHERE server = ?`, server)
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	return n > 0, err
}

// List implements upstreamauth.Store.
func (t *Tokens) List(ctx context.Context) ([]string, error) {
	var out []string
	err := t.View(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = sqlitedb.All(ctx, tx, func(s sqlitedb.Scanner) (string, error) {
			var name string
			err := s.Scan(&name)
			return name, err
		}, `SELECT server FROM upstream_tokens ORDER BY server`)
		return err
	})
	return out, err
}
