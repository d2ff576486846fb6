// Package sqlitedb opens a SQLite database file (modernc.org/sqlite, no
// cgo) the way toolgate's stores use it: WAL mode, one writer connection
// whose transactions begin IMMEDIATE, a pool of query-only readers, and
// embedded migrations applied once each, in version order.
//
// The file and the -wal and -shm files SQLite keeps beside it are readable
// by their owner only (mode 0600), whatever the umask. An open DB watches
// its file: if the file is deleted or another file is renamed over it,
// SQLite would go on writing to the old, unlinked file and every later
// write would be lost, so the DB stops and fails every operation with a
// *FileChangedError instead.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DefaultCheckEvery is how often an open DB checks that its file is still
// the one it opened, when Options.CheckEvery is 0.
const DefaultCheckEvery = 5 * time.Second

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
	// CheckEvery is how often the DB checks in the background that its
	// file was not deleted or replaced: DefaultCheckEvery when 0, never
	// when negative (it is still checked before every write and after a
	// failed one).
	CheckEvery time.Duration
	// Logger receives the warnings (permissions tightened) and the error
	// (file deleted or replaced); slog.Default() when nil.
	Logger *slog.Logger
	// SyncFull makes every commit of this DB's connections wait for an
	// fsync (synchronous=FULL), so that it survives a power loss. By
	// default (synchronous=NORMAL in WAL mode) a commit survives the
	// process being killed, and the WAL is fsynced at checkpoints only.
	SyncFull bool
	// CheckpointEvery, when positive, takes WAL checkpoints off the commit
	// path: this DB's connections never checkpoint on commit
	// (wal_autocheckpoint=0), and a connection of its own runs a passive
	// checkpoint (which writers do not wait for) every CheckpointEvery.
	// For a store that commits often and whose commits callers wait for.
	CheckpointEvery time.Duration
}

// DB is an open database: W is the single writer connection, whose
// transactions begin IMMEDIATE, so writes are serialized and never fail on
// a lock upgrade; R is a pool of query-only connections that WAL lets run
// beside the writer. Use Update and View, or check Err before using W and R
// directly, so that nothing is read from or written to a file that was
// deleted or replaced. A nil *DB is not open; its Close does nothing.
type DB struct {
	W *sql.DB
	R *sql.DB

	component string
	path      string // absolute, for os.Stat and messages
	log       *slog.Logger
	file      os.FileInfo // the file as opened: its device and inode

	failed atomic.Pointer[FileChangedError]
	stop   chan struct{} // closed by Close to stop the checker
	done   chan struct{} // closed when the checker has returned
	closed sync.Once

	ckpt     *sql.DB       // runs the background checkpoints; nil without
	ckptStop chan struct{} // closed by Close to stop them
	ckptDone chan struct{} // closed when they have stopped

	stmts stmts // the writer's prepared statements (WriteStmt)
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
	file, err := createPrivate(abs, log)
	if err != nil {
		return nil, fmt.Errorf("%s: open %s: %w", c, path, err)
	}
	base := "file:" + abs + "?_pragma=busy_timeout(10000)"
	if opts.ForeignKeys {
		base += "&_pragma=foreign_keys(1)"
	}
	if opts.SyncFull {
		base += "&_pragma=synchronous(FULL)"
	} else {
		base += "&_pragma=synchronous(NORMAL)"
	}
	if opts.CheckpointEvery > 0 {
		base += "&_pragma=wal_autocheckpoint(0)"
	}
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
	db := &DB{W: w, R: r, component: c, path: abs, log: log, file: file}
	if opts.CheckpointEvery > 0 {
		ck, err := sql.Open("sqlite", base)
		if err != nil {
			_ = w.Close()
			_ = r.Close()
			return nil, fmt.Errorf("%s: open %s: %w", c, path, err)
		}
		ck.SetMaxOpenConns(1)
		db.ckpt = ck
	}
	db.start(opts.CheckEvery)
	db.startCheckpoints(opts.CheckpointEvery)
	return db, nil
}

// Close stops the file checker, then closes the readers and the writer.
// It may be called more than once; a nil *DB does nothing.
func (db *DB) Close() error {
	if db == nil {
		return nil
	}
	var errs []error
	db.closed.Do(func() {
		if db.stop != nil {
			close(db.stop)
			<-db.done
		}
		if db.ckptStop != nil {
			close(db.ckptStop)
			<-db.ckptDone
		}
		if db.ckpt != nil {
			errs = append(errs, db.ckpt.Close())
		}
		if db.R != nil {
			errs = append(errs, db.R.Close())
		}
		if db.W != nil {
			errs = append(errs, db.closeStmts(), db.W.Close())
		}
	})
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

// startCheckpoints runs a passive WAL checkpoint every period until Close
// (none when period is not positive).
func (db *DB) startCheckpoints(every time.Duration) {
	if every <= 0 || db.ckpt == nil {
		return
	}
	db.ckptStop, db.ckptDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(db.ckptDone)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-db.ckptStop:
				return
			case <-t.C:
				if db.Err() != nil {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				if _, err := db.ckpt.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
					db.log.Warn("WAL checkpoint failed", "component", db.component, "path", db.path, "err", err)
				}
				cancel()
			}
		}
	}()
}
