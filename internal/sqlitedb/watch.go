package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// FileChangedError is returned by every operation of a DB whose file was
// deleted, or replaced by another file, after Open. The DB never recovers:
// SQLite keeps using the file it opened, so whatever it wrote now would be
// lost; restarting toolgate opens the file that is at the path now.
type FileChangedError struct {
	// Component is the store's, as in Options.Component.
	Component string
	// Path is the database file's absolute path.
	Path string
	// Deleted is true when nothing is at Path any more, false when another
	// file is.
	Deleted bool
}

func (e *FileChangedError) Error() string {
	return fmt.Sprintf("%s: store file %s was deleted or replaced; refusing to write (restart toolgate)", e.Component, e.Path)
}

// start runs the background checker every period (DefaultCheckEvery when
// 0, none when negative) until Close.
func (db *DB) start(every time.Duration) {
	if every == 0 {
		every = DefaultCheckEvery
	}
	if every < 0 {
		return
	}
	db.stop, db.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(db.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-db.stop:
				return
			case <-t.C:
				if db.check() != nil {
					return // failed for good: nothing left to watch
				}
			}
		}
	}()
}

// Err returns the *FileChangedError once the DB noticed that its file was
// deleted or replaced, else nil. It does no I/O.
func (db *DB) Err() error {
	if e := db.failed.Load(); e != nil {
		return e
	}
	return nil
}

// check compares the file at the DB's path with the one it opened and
// marks the DB failed, logging once at Error, when it is gone or another.
// An error of os.Stat other than "does not exist" (a permission change on
// the directory, say) proves nothing and is ignored.
func (db *DB) check() error {
	if err := db.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(db.path)
	var deleted bool
	switch {
	case errors.Is(err, fs.ErrNotExist):
		deleted = true
	case err != nil:
		return nil
	case os.SameFile(db.file, fi):
		return nil
	}
	e := &FileChangedError{Component: db.component, Path: db.path, Deleted: deleted}
	if db.failed.CompareAndSwap(nil, e) {
		what := "replaced by another file"
		if deleted {
			what = "deleted"
		}
		db.log.Error("store file was "+what+"; refusing every further operation until toolgate restarts",
			"component", db.component, "path", db.path)
	}
	return db.Err()
}

// Update runs fn in a write transaction on W, committed when fn returns
// nil. The file is checked first, so that nothing is written to a file
// that was deleted or replaced, and again when the transaction fails,
// whose error is then replaced by the *FileChangedError.
func (db *DB) Update(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := db.check(); err != nil {
		return err
	}
	err := db.run(ctx, db.W, nil, fn)
	if err != nil {
		if ferr := db.check(); ferr != nil {
			return ferr
		}
	}
	return err
}

// View runs fn in a read-only transaction on R, or returns the
// *FileChangedError if the DB has noticed that its file changed.
func (db *DB) View(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := db.Err(); err != nil {
		return err
	}
	return db.run(ctx, db.R, &sql.TxOptions{ReadOnly: true}, fn)
}

func (db *DB) run(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", db.component, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", db.component, err)
	}
	return nil
}
