// Package sqlite keeps limit.Counters in a SQLite database file, usually
// the configuration's store, so that a counter (a daily spend, an hourly
// number of calls) is still spent after toolgate restarts. Several
// toolgate processes may share the file: every reservation is one
// IMMEDIATE transaction.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"log/slog"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/internal/sqlitedb"
	"github.com/toolgate/toolgate/limit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Counters is a limit.Counters in a SQLite file.
type Counters struct {
	sqlitedb.Store
	now func() time.Time
}

var _ limit.Counters = (*Counters)(nil)

// New returns counters in the database file at path, read against now
// (time.Now when nil). It does no I/O: call Open. log receives the file's
// warnings; slog.Default() when nil.
func New(path string, now func() time.Time, log *slog.Logger) *Counters {
	if now == nil {
		now = time.Now
	}
	return &Counters{Store: sqlitedb.NewStore(path, sqlitedb.Options{
		Component:       "counters",
		Migrations:      migrations,
		MigrationsTable: "counter_migrations",
		Logger:          log,
	}), now: now}
}

// Open creates the database at path if needed, applies the migrations and
// returns the open counters.
func Open(ctx context.Context, path string, now func() time.Time, log *slog.Logger) (*Counters, error) {
	c := New(path, now, log)
	if err := c.Store.Open(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Reserve implements limit.Counters.
func (c *Counters) Reserve(ctx context.Context, key string, amount, max int64, window time.Duration) (limit.Reservation, bool, int64, error) {
	if amount < 0 {
		return limit.Reservation{}, false, 0, toolgate.Errorf(toolgate.Invalid, "counter increment must not be negative, got %d", amount)
	}
	if window <= 0 {
		return limit.Reservation{}, false, 0, toolgate.Errorf(toolgate.Invalid, "counter window must be positive, got %s", window)
	}
	start := limit.WindowStart(c.now(), window)
	var (
		ok    bool
		value int64
	)
	err := c.Update(ctx, func(tx *sql.Tx) error {
		var stored int64
		err := tx.QueryRowContext(ctx, `SELECT value, window_start FROM counters WHERE key = ?`, key).Scan(&value, &stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			value = 0
		case err != nil:
			return err
		case stored != start.UnixNano():
			value = 0
		}
		if value+amount > max {
			ok = false
			return nil
		}
		value += amount
		ok = true
		_, err = tx.ExecContext(ctx, `INSERT INTO counters (key, value, window_start, window_ns) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, window_start = excluded.window_start, window_ns = excluded.window_ns`,
			key, value, start.UnixNano(), int64(window))
		return err
	})
	if err != nil {
		return limit.Reservation{}, false, 0, err
	}
	if !ok {
		return limit.Reservation{}, false, value, nil
	}
	return limit.Reservation{Key: key, Amount: amount, Start: start}, true, value, nil
}

// Release implements limit.Counters.
func (c *Counters) Release(ctx context.Context, r limit.Reservation) error {
	return c.Update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE counters SET value = max(value - ?, 0) WHERE key = ? AND window_start = ?`,
			r.Amount, r.Key, r.Start.UnixNano())
		return err
	})
}

// Value implements limit.Counters.
func (c *Counters) Value(ctx context.Context, key string) (int64, error) {
	var value, stored, window int64
	err := c.View(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT value, window_start, window_ns FROM counters WHERE key = ?`, key).Scan(&value, &stored, &window)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, err
	}
	if limit.WindowStart(c.now(), time.Duration(window)).UnixNano() != stored {
		return 0, nil
	}
	return value, nil
}
