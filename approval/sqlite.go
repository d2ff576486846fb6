package approval

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/toolgate/toolgate/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLite is a Store in one SQLite database file (modernc.org/sqlite, no
// cgo) in WAL mode, so pending requests survive restarts and several
// processes can share the file. Writes go through a single connection
// whose transactions begin IMMEDIATE, so they are serialized and never fail
// on a lock upgrade; reads use a pool of query-only connections that WAL
// lets run beside the writer.
type SQLite struct {
	path string
	db   *sqlitedb.DB // nil until Open
	key  []byte       // argument hash key, read (or created) by Open
}

var (
	_ Store   = (*SQLite)(nil)
	_ claimer = (*SQLite)(nil)
)

// NewSQLite returns a store for the database file at path. It does no I/O:
// call Open.
func NewSQLite(path string) *SQLite { return &SQLite{path: path} }

// OpenSQLite creates the database at path if needed, applies the embedded
// migrations and returns the open store.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	s := NewSQLite(path)
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Open opens the database and applies the embedded migrations.
func (s *SQLite) Open(ctx context.Context) error {
	db, err := sqlitedb.Open(ctx, s.path, sqlitedb.Options{
		Component:       "approval",
		Migrations:      migrations,
		MigrationsTable: "approval_migrations",
	})
	if err != nil {
		return err
	}
	s.db = db
	key, err := s.loadKey(ctx)
	if err != nil {
		_ = s.db.Close()
		s.db = nil
		return err
	}
	s.key = key
	return nil
}

// keySetting names the argument hash key's row in approval_settings.
const keySetting = "args_hash_key"

// loadKey returns the argument hash key, storing a new random one the
// first time. Insert-if-absent and read in one write transaction, so that
// processes opening the same file at once all end up with the same key.
func (s *SQLite) loadKey(ctx context.Context) ([]byte, error) {
	var key []byte
	err := s.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO approval_settings (name, value) VALUES (?, ?)`, keySetting, newKey()); err != nil {
			return fmt.Errorf("approval: open %s: store key: %w", s.path, err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT value FROM approval_settings WHERE name = ?`, keySetting).Scan(&key); err != nil {
			return fmt.Errorf("approval: open %s: read key: %w", s.path, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("approval: open %s: the stored argument hash key has %d bytes, want %d", s.path, len(key), KeySize)
	}
	return key, nil
}

// Key returns the argument hash key stored in the database.
func (s *SQLite) Key(context.Context) ([]byte, error) {
	if s.key == nil {
		return nil, errors.New("approval: store is not open")
	}
	return s.key, nil
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// update runs fn in a write transaction, committed when fn returns nil.
func (s *SQLite) update(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.db == nil {
		return errNotOpen
	}
	return s.db.Update(ctx, fn)
}

// reader returns the read pool, or an error when the store is not open or
// its file was deleted or replaced.
func (s *SQLite) reader() (*sql.DB, error) {
	if s.db == nil {
		return nil, errNotOpen
	}
	if err := s.db.Err(); err != nil {
		return nil, err
	}
	return s.db.R, nil
}

var errNotOpen = errors.New("approval: store is not open")

const columns = `id, tool, server, subject, grant_id, session, rule, args, args_hash,
	status, created_at, expires_at, decided_at, decided_by, reason`

func scanRequest(sc sqlitedb.Scanner) (*Request, error) {
	r := &Request{}
	var args string
	var created, expires int64
	var decided sql.NullInt64
	if err := sc.Scan(&r.ID, &r.Tool, &r.Server, &r.Subject, &r.Grant, &r.Session, &r.Rule, &args, &r.ArgsHash,
		&r.Status, &created, &expires, &decided, &r.DecidedBy, &r.Reason); err != nil {
		return nil, err
	}
	r.Args = []byte(args)
	r.CreatedAt, r.ExpiresAt = fromNanos(created), fromNanos(expires)
	if decided.Valid {
		t := fromNanos(decided.Int64)
		r.DecidedAt = &t
	}
	return r, nil
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Create stores a new request.
func (s *SQLite) Create(ctx context.Context, r *Request) error {
	if err := checkNew(r); err != nil {
		return err
	}
	args := string(r.Args)
	if args == "" {
		args = "{}"
	}
	var decided any
	if r.DecidedAt != nil {
		decided = toNanos(*r.DecidedAt)
	}
	return s.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO approvals (`+columns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Tool, r.Server, r.Subject, r.Grant, r.Session, r.Rule, args, r.ArgsHash,
			string(r.Status), toNanos(r.CreatedAt), toNanos(r.ExpiresAt), decided, r.DecidedBy, r.Reason)
		if err != nil {
			return fmt.Errorf("approval: create %s: %w", r.ID, err)
		}
		return nil
	})
}

// Get returns the request with id.
func (s *SQLite) Get(ctx context.Context, id string) (*Request, error) {
	rd, err := s.reader()
	if err != nil {
		return nil, err
	}
	r, err := scanRequest(rd.QueryRowContext(ctx, `SELECT `+columns+` FROM approvals WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("approval: get %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("approval: get %s: %w", id, err)
	}
	return r, nil
}

// List returns requests with status (all when ""), newest first.
func (s *SQLite) List(ctx context.Context, status Status, limit int) ([]*Request, error) {
	rd, err := s.reader()
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = defaultLimit
	}
	q := `SELECT ` + columns + ` FROM approvals`
	var args []any
	if status != "" {
		q += ` WHERE status = ?`
		args = append(args, string(status))
	}
	out, err := sqlitedb.All(ctx, rd, scanRequest, q+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("approval: list: %w", err)
	}
	return out, nil
}

// Decide moves a pending request to approved, denied or expired in one
// transaction.
func (s *SQLite) Decide(ctx context.Context, id string, to Status, by, reason string, at time.Time) (*Request, error) {
	if err := checkDecision(to); err != nil {
		return nil, err
	}
	var out *Request
	err := s.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, reason = ? WHERE id = ? AND status = 'pending'`,
			string(to), toNanos(at), by, reason, id)
		if err != nil {
			return fmt.Errorf("approval: decide %s: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("approval: decide %s: %w", id, err)
		}
		r, err := scanRequest(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM approvals WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("approval: decide %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("approval: decide %s: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("approval: decide %s (%s): %w", id, r.Status, ErrNotPending)
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TakeApproved returns an approved, unused request matching m decided at
// or after since, and marks it used, in one transaction.
func (s *SQLite) TakeApproved(ctx context.Context, m Match, since, now time.Time) (*Request, error) {
	var out *Request
	err := s.update(ctx, func(tx *sql.Tx) error {
		r, err := scanRequest(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM approvals
			WHERE tool = ? AND subject = ? AND grant_id = ? AND args_hash = ? AND status = 'approved' AND used_at IS NULL AND decided_at >= ?
			ORDER BY decided_at, created_at, id LIMIT 1`, m.Tool, m.Subject, m.Grant, m.ArgsHash, toNanos(since)))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("approval: take approved: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE approvals SET used_at = ? WHERE id = ?`, toNanos(now), r.ID); err != nil {
			return fmt.Errorf("approval: take approved %s: %w", r.ID, err)
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FindPending returns the most recent unexpired pending request matching m.
func (s *SQLite) FindPending(ctx context.Context, m Match, now time.Time) (*Request, error) {
	rd, err := s.reader()
	if err != nil {
		return nil, err
	}
	r, err := scanRequest(rd.QueryRowContext(ctx, `SELECT `+columns+` FROM approvals
		WHERE tool = ? AND subject = ? AND grant_id = ? AND args_hash = ? AND status = 'pending' AND expires_at > ?
		ORDER BY created_at DESC, id DESC LIMIT 1`, m.Tool, m.Subject, m.Grant, m.ArgsHash, toNanos(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("approval: find pending: %w", err)
	}
	return r, nil
}

// ExpireDue marks the pending requests past their ExpiresAt expired, in
// one transaction, and returns them.
func (s *SQLite) ExpireDue(ctx context.Context, now time.Time) ([]*Request, error) {
	var out []*Request
	err := s.update(ctx, func(tx *sql.Tx) error {
		due, err := sqlitedb.All(ctx, tx, scanRequest, `SELECT `+columns+` FROM approvals
			WHERE status = 'pending' AND expires_at <= ? ORDER BY id`, toNanos(now))
		if err != nil {
			return fmt.Errorf("approval: expire: %w", err)
		}
		at := fromNanos(toNanos(now))
		for _, r := range due {
			if _, err := tx.ExecContext(ctx, `UPDATE approvals SET status = 'expired', decided_at = ?, decided_by = 'timeout', reason = '' WHERE id = ? AND status = 'pending'`,
				toNanos(now), r.ID); err != nil {
				return fmt.Errorf("approval: expire %s: %w", r.ID, err)
			}
			t := at
			r.Status, r.DecidedAt, r.DecidedBy, r.Reason = Expired, &t, "timeout", ""
		}
		out = due
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *SQLite) claim(ctx context.Context, id string, at time.Time) (bool, error) {
	var ok bool
	err := s.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE approvals SET used_at = ? WHERE id = ? AND status = 'approved' AND used_at IS NULL`, toNanos(at), id)
		if err != nil {
			return fmt.Errorf("approval: claim %s: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("approval: claim %s: %w", id, err)
		}
		ok = n == 1
		return nil
	})
	return ok, err
}
