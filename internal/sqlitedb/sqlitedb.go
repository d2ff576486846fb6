// Package sqlitedb opens a SQLite database file (modernc.org/sqlite, no
// cgo) the way toolgate's stores use it: WAL mode, one writer connection
// whose transactions begin IMMEDIATE, a pool of query-only readers, and
// embedded migrations applied once each, in version order.
//
// The file and the -wal and -shm files SQLite keeps beside it are readable
// by their owner only (mode 0600), whatever the umask.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options says how Open prepares a database.
type Options struct {
	// Component prefixes every error message, as in "approval: open x: …".
	Component string
	// ForeignKeys turns on foreign key enforcement on every connection.
	ForeignKeys bool
	// Migrations holds the migration files as migrations/NNN_name.sql; NNN
	// is the version. They are applied in the order of their names.
	Migrations fs.FS
	// MigrationsTable is the table recording the applied versions. Each
	// store keeps its own, so several stores can share one file.
	MigrationsTable string
	// Logger receives the warnings (permissions tightened); slog.Default()
	// when nil.
	Logger *slog.Logger
}

// DB is an open database: W is the single writer connection, whose
// transactions begin IMMEDIATE, so writes are serialized and never fail on
// a lock upgrade; R is a pool of query-only connections that WAL lets run
// beside the writer. The zero DB is not open; its Close does nothing.
type DB struct {
	W *sql.DB
	R *sql.DB
}

// Open creates the database at path if needed, applies the migrations not
// applied yet in one write transaction, and returns the open pools. path
// must be non-empty and contain neither '?' nor '#'.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	c := opts.Component
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("%s: invalid database path %q", c, path)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%s: open %s: %w", c, path, err)
	}
	if _, err := createPrivate(abs, log); err != nil {
		return nil, fmt.Errorf("%s: open %s: %w", c, path, err)
	}
	base := "file:" + abs + "?_pragma=busy_timeout(10000)"
	if opts.ForeignKeys {
		base += "&_pragma=foreign_keys(1)"
	}
	base += "&_pragma=synchronous(NORMAL)"
	w, err := sql.Open("sqlite", base+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("%s: open %s: %w", c, path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("%s: open %s: %w", c, path, err)
	}
	if err := migrate(ctx, w, opts); err != nil {
		_ = w.Close()
		return nil, err
	}
	// SQLite gives the -wal and -shm files the database file's mode; make
	// sure of it for files left by an older version or another program.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := tighten(abs+suffix, log); err != nil && !errors.Is(err, fs.ErrNotExist) {
			_ = w.Close()
			return nil, fmt.Errorf("%s: open %s: %w", c, path, err)
		}
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("%s: open %s: %w", c, path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &DB{W: w, R: r}, nil
}

// Close closes the readers, then the writer; nil pools are skipped.
func (db *DB) Close() error {
	var errs []error
	if db.R != nil {
		errs = append(errs, db.R.Close())
	}
	if db.W != nil {
		errs = append(errs, db.W.Close())
	}
	return errors.Join(errs...)
}

// migrate applies, in one transaction on w, the migrations whose versions
// opts.MigrationsTable does not record yet, and records them.
func migrate(ctx context.Context, w *sql.DB, opts Options) error {
	c, table := opts.Component, opts.MigrationsTable
	names, err := fs.Glob(opts.Migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("%s: migrations: %w", c, err)
	}
	sort.Strings(names)
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", c, err)
	}
	if err := apply(ctx, tx, opts.Migrations, names, c, table); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", c, err)
	}
	return nil
}

func apply(ctx context.Context, tx *sql.Tx, fsys fs.FS, names []string, c, table string) error {
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("%s: migrations: %w", c, err)
	}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("%s: migration %s: bad version: %w", c, base, err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE version = ?`, v).Scan(&n); err != nil {
			return fmt.Errorf("%s: migrations: %w", c, err)
		}
		if n > 0 {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("%s: migration %s: %w", c, base, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("%s: migration %s: %w", c, base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (version, name, applied_at) VALUES (?, ?, ?)`, v, base, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("%s: migration %s: %w", c, base, err)
		}
	}
	return nil
}
