package grant

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLite is a GrantStore in a SQLite database file (modernc.org/sqlite, no
// cgo), usually the one the configuration's store: names, beside the
// approvals. The file is readable by its owner only, and the store stops
// with an error if the file is deleted or replaced while open (see
// internal/sqlitedb).
type SQLite struct {
	sqlitedb.Store
}

var _ toolgate.GrantStore = (*SQLite)(nil)

// NewSQLite returns a store for the database file at path. It does no I/O:
// call Open. log receives the file's warnings; slog.Default() when nil.
func NewSQLite(path string, log *slog.Logger) *SQLite {
	return &SQLite{sqlitedb.NewStore(path, sqlitedb.Options{
		Component:       "grant",
		Migrations:      migrations,
		MigrationsTable: "grant_migrations",
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

const columns = `id, token_hash, subject, policy, labels, servers, created_at, expires_at, last_used_at, rotated_at, revoked_at`

func scanGrant(sc sqlitedb.Scanner) (*toolgate.Grant, error) {
	g := &toolgate.Grant{}
	var hash []byte
	var labels, servers string
	var created int64
	var expires, used, rotated, revoked sql.NullInt64
	if err := sc.Scan(&g.ID, &hash, &g.Subject, &g.Policy, &labels, &servers, &created, &expires, &used, &rotated, &revoked); err != nil {
		return nil, err
	}
	if len(hash) != toolgate.TokenHashSize {
		return nil, fmt.Errorf("grant %s: stored token hash has %d bytes", g.ID, len(hash))
	}
	copy(g.TokenHash[:], hash)
	if err := json.Unmarshal([]byte(labels), &g.Labels); err != nil {
		return nil, fmt.Errorf("grant %s: stored labels: %w", g.ID, err)
	}
	if err := json.Unmarshal([]byte(servers), &g.Servers); err != nil {
		return nil, fmt.Errorf("grant %s: stored servers: %w", g.ID, err)
	}
	if len(g.Labels) == 0 {
		g.Labels = nil
	}
	if len(g.Servers) == 0 {
		g.Servers = nil
	}
	g.CreatedAt = time.Unix(0, created).UTC()
	g.ExpiresAt, g.LastUsedAt, g.RotatedAt = fromNanos(expires), fromNanos(used), fromNanos(rotated)
	if revoked.Valid {
		g.Revoked, g.RevokedAt = true, fromNanos(revoked)
	}
	return g, nil
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// toNanos is t in Unix nanoseconds, or NULL for the zero time.
func toNanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// Create stores a new grant.
func (s *SQLite) Create(ctx context.Context, g *toolgate.Grant) error {
	if err := checkNew(g); err != nil {
		return err
	}
	labels, err := json.Marshal(orEmpty(g.Labels))
	if err != nil {
		return fmt.Errorf("grant: create %s: %w", g.ID, err)
	}
	servers, err := json.Marshal(append([]string{}, g.Servers...))
	if err != nil {
		return fmt.Errorf("grant: create %s: %w", g.ID, err)
	}
	return s.Update(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM grants WHERE id = ?`, g.ID).Scan(&n); err != nil {
			return fmt.Errorf("grant: create %s: %w", g.ID, err)
		}
		if n > 0 {
			return errExists(g.ID)
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM grants WHERE token_hash = ?`, g.TokenHash[:]).Scan(&n); err != nil {
			return fmt.Errorf("grant: create %s: %w", g.ID, err)
		}
		if n > 0 {
			return errHashTaken()
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO grants (`+columns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
			g.ID, g.TokenHash[:], g.Subject, g.Policy, string(labels), string(servers),
			g.CreatedAt.UnixNano(), toNanos(g.ExpiresAt), toNanos(g.LastUsedAt), toNanos(g.RotatedAt))
		if err != nil {
			return fmt.Errorf("grant: create %s: %w", g.ID, err)
		}
		return nil
	})
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Get returns the grant with id.
func (s *SQLite) Get(ctx context.Context, id string) (*toolgate.Grant, error) {
	var g *toolgate.Grant
	err := s.View(ctx, func(tx *sql.Tx) error {
		var err error
		g, err = getTx(ctx, tx, id)
		return err
	})
	return g, err
}

func getTx(ctx context.Context, tx *sql.Tx, id string) (*toolgate.Grant, error) {
	g, err := scanGrant(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM grants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("grant: get %s: %w", id, err)
	}
	return g, nil
}

// ByTokenHash returns the grant whose current token has the hash h.
func (s *SQLite) ByTokenHash(ctx context.Context, h toolgate.TokenHash) (*toolgate.Grant, error) {
	var g *toolgate.Grant
	err := s.View(ctx, func(tx *sql.Tx) error {
		var err error
		g, err = scanGrant(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM grants WHERE token_hash = ?`, h[:]))
		if errors.Is(err, sql.ErrNoRows) {
			return errNoHash()
		}
		if err != nil {
			return fmt.Errorf("grant: by token hash: %w", err)
		}
		return nil
	})
	return g, err
}

// List returns every grant, oldest first.
func (s *SQLite) List(ctx context.Context) ([]*toolgate.Grant, error) {
	var out []*toolgate.Grant
	err := s.View(ctx, func(tx *sql.Tx) (err error) {
		out, err = sqlitedb.All(ctx, tx, scanGrant, `SELECT `+columns+` FROM grants ORDER BY created_at, id`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("grant: list: %w", err)
	}
	return out, nil
}

// Revoke marks the grant revoked; a revoked grant keeps its first
// revocation time.
func (s *SQLite) Revoke(ctx context.Context, id string, at time.Time) (*toolgate.Grant, error) {
	var g *toolgate.Grant
	err := s.Update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, at.UnixNano(), id); err != nil {
			return fmt.Errorf("grant: revoke %s: %w", id, err)
		}
		var err error
		if g, err = getTx(ctx, tx, id); err != nil {
			return err
		}
		return bump(ctx, tx)
	})
	return g, err
}

// Rotate replaces the grant's token hash in one transaction.
func (s *SQLite) Rotate(ctx context.Context, id string, h toolgate.TokenHash, at time.Time) (*toolgate.Grant, error) {
	if h.IsZero() {
		return nil, errZeroHash()
	}
	var g *toolgate.Grant
	err := s.Update(ctx, func(tx *sql.Tx) error {
		cur, err := getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Revoked {
			return errRevoked(id)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM grants WHERE token_hash = ?`, h[:]).Scan(&n); err != nil {
			return fmt.Errorf("grant: rotate %s: %w", id, err)
		}
		if n > 0 {
			return errHashTaken()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET token_hash = ?, rotated_at = ? WHERE id = ?`, h[:], at.UnixNano(), id); err != nil {
			return fmt.Errorf("grant: rotate %s: %w", id, err)
		}
		if g, err = getTx(ctx, tx, id); err != nil {
			return err
		}
		return bump(ctx, tx)
	})
	return g, err
}

// SetPolicy makes policy the grant's policy.
func (s *SQLite) SetPolicy(ctx context.Context, id, policy string) (*toolgate.Grant, error) {
	if err := checkText("policy", policy, MaxPolicyLen); err != nil {
		return nil, err
	}
	var g *toolgate.Grant
	err := s.Update(ctx, func(tx *sql.Tx) error {
		cur, err := getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Revoked {
			return errRevoked(id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET policy = ? WHERE id = ?`, policy, id); err != nil {
			return fmt.Errorf("grant: set the policy of %s: %w", id, err)
		}
		if g, err = getTx(ctx, tx, id); err != nil {
			return err
		}
		return bump(ctx, tx)
	})
	return g, err
}

// bump moves the epoch on, in the transaction that changed a grant.
func bump(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE grant_epoch SET n = n + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("grant: epoch: %w", err)
	}
	return nil
}

// Epoch returns the count of changes that can refuse a token.
func (s *SQLite) Epoch(ctx context.Context) (uint64, error) {
	var n int64
	err := s.View(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT n FROM grant_epoch WHERE id = 1`).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("grant: epoch: %w", err)
	}
	return uint64(n), nil
}

// Touch records a use of the grant at at, unless a later one is recorded.
func (s *SQLite) Touch(ctx context.Context, id string, at time.Time) error {
	return s.Update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE grants SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
			at.UnixNano(), id, at.UnixNano())
		if err != nil {
			return fmt.Errorf("grant: touch %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			var c int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM grants WHERE id = ?`, id).Scan(&c); err != nil {
				return fmt.Errorf("grant: touch %s: %w", id, err)
			}
			if c == 0 {
				return errNotFound(id)
			}
		}
		return nil
	})
}
