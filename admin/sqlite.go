package admin

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLite is a Store in a SQLite database file, usually the one the
// configuration's store: names, beside grants and approvals (its own
// table and migrations).
type SQLite struct {
	sqlitedb.Store
}

var _ Store = (*SQLite)(nil)

// NewSQLite returns a store for the database file at path. It does no I/O:
// call Open. log receives the file's warnings; slog.Default() when nil.
func NewSQLite(path string, log *slog.Logger) *SQLite {
	return &SQLite{sqlitedb.NewStore(path, sqlitedb.Options{
		Component:       "admin",
		Migrations:      migrations,
		MigrationsTable: "admin_migrations",
		Logger:          log,
	})}
}

// OpenSQLite creates the database at path if needed, applies the embedded
// migrations and returns the open store.
func OpenSQLite(ctx context.Context, path string, log *slog.Logger) (*SQLite, error) {
	s := NewSQLite(path, log)
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

const columns = `id, token_hash, subject, role, created_at, expires_at, revoked_at`

func scanToken(sc sqlitedb.Scanner) (*Token, error) {
	t := &Token{}
	var hash []byte
	var created int64
	var expires, revoked sql.NullInt64
	if err := sc.Scan(&t.ID, &hash, &t.Subject, &t.Role, &created, &expires, &revoked); err != nil {
		return nil, err
	}
	if len(hash) != toolgate.TokenHashSize {
		return nil, fmt.Errorf("admin token %s: stored hash has %d bytes", t.ID, len(hash))
	}
	copy(t.Hash[:], hash)
	t.CreatedAt = time.Unix(0, created).UTC()
	if expires.Valid {
		t.ExpiresAt = time.Unix(0, expires.Int64).UTC()
	}
	if revoked.Valid {
		t.Revoked, t.RevokedAt = true, time.Unix(0, revoked.Int64).UTC()
	}
	return t, nil
}

// nanosOrNull is t in Unix nanoseconds, or NULL for the zero time.
func nanosOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// Create stores a new token.
func (s *SQLite) Create(ctx context.Context, t *Token) error {
	if err := checkNew(t); err != nil {
		return err
	}
	return s.Update(ctx, func(tx *sql.Tx) error {
		var byID, byHash int
		err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM admin_tokens WHERE id = ?), (SELECT count(*) FROM admin_tokens WHERE token_hash = ?)`,
			t.ID, t.Hash[:]).Scan(&byID, &byHash)
		switch {
		case err != nil:
			return fmt.Errorf("admin: create %s: %w", t.ID, err)
		case byID > 0:
			return errExists(t.ID)
		case byHash > 0:
			return errHashTaken()
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO admin_tokens (`+columns+`) VALUES (?, ?, ?, ?, ?, ?, NULL)`,
			t.ID, t.Hash[:], t.Subject, string(t.Role), t.CreatedAt.UnixNano(), nanosOrNull(t.ExpiresAt)); err != nil {
			return fmt.Errorf("admin: create %s: %w", t.ID, err)
		}
		return nil
	})
}

// Get returns the token with id.
func (s *SQLite) Get(ctx context.Context, id string) (*Token, error) {
	var t *Token
	err := s.View(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = getTx(ctx, tx, id)
		return err
	})
	return t, err
}

func getTx(ctx context.Context, tx *sql.Tx, id string) (*Token, error) {
	t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM admin_tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("admin: get %s: %w", id, err)
	}
	return t, nil
}

// ByHash returns the token whose hash is h.
func (s *SQLite) ByHash(ctx context.Context, h toolgate.TokenHash) (*Token, error) {
	var t *Token
	err := s.View(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM admin_tokens WHERE token_hash = ?`, h[:]))
		if errors.Is(err, sql.ErrNoRows) {
			return errNoHash()
		}
		if err != nil {
			return fmt.Errorf("admin: by hash: %w", err)
		}
		return nil
	})
	return t, err
}

// List returns every token, oldest first.
func (s *SQLite) List(ctx context.Context) ([]*Token, error) {
	var out []*Token
	err := s.View(ctx, func(tx *sql.Tx) (err error) {
		out, err = sqlitedb.All(ctx, tx, scanToken, `SELECT `+columns+` FROM admin_tokens ORDER BY created_at, id`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("admin: list: %w", err)
	}
	return out, nil
}

// Revoke marks the token revoked, keeping the first revocation time.
func (s *SQLite) Revoke(ctx context.Context, id string, at time.Time) (*Token, error) {
	var t *Token
	err := s.Update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, at.UnixNano(), id); err != nil {
			return fmt.Errorf("admin: revoke %s: %w", id, err)
		}
		var err error
		t, err = getTx(ctx, tx, id)
		return err
	})
	return t, err
}
