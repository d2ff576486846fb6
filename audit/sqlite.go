package audit

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLite keeps the audit chain in a table of a SQLite database file,
// usually the configured store's, beside grants and approvals: the
// default primary sink. It is also the Reader of the CLI and admin API.
type SQLite struct {
	sqlitedb.Store
}

var (
	_ Chain  = (*SQLite)(nil)
	_ Reader = (*SQLite)(nil)
	_ Finder = (*SQLite)(nil)
)

// SQLiteOptions configure a SQLite sink.
type SQLiteOptions struct {
	// Fsync makes every batch's commit wait for an fsync, so that it
	// survives a power loss; without it a commit survives the process
	// being killed (SQLite's WAL mode with synchronous=NORMAL).
	Fsync bool
	// Logger receives the store file's warnings; slog.Default() when nil.
	Logger *slog.Logger
}

// NewSQLite returns the sink for the database file at path. It does no
// I/O: call Open.
func NewSQLite(path string, opts *SQLiteOptions) *SQLite {
	var o SQLiteOptions
	if opts != nil {
		o = *opts
	}
	return &SQLite{sqlitedb.NewStore(path, sqlitedb.Options{
		Component:       "audit",
		Migrations:      migrations,
		MigrationsTable: "audit_migrations",
		Logger:          o.Logger,
		SyncFull:        o.Fsync,
		// Appends wait for their commit: checkpoints (and their fsyncs)
		// run beside, not inside, the commits.
		CheckpointEvery: time.Second,
	})}
}

// Open creates the database file if needed, applies the migrations and
// prepares the statements that write events.
func (s *SQLite) Open(ctx context.Context) error {
	if err := s.Store.Open(ctx); err != nil {
		return err
	}
	qs := make([]string, 0, 8)
	for n := insertChunk; n > 0; n >>= 1 {
		qs = append(qs, insertSQL(n))
	}
	if err := s.PrepareWrites(ctx, qs...); err != nil {
		return errors.Join(err, s.Close())
	}
	return nil
}

// OpenSQLite creates the database at path if needed, applies the
// migrations and returns the open sink.
func OpenSQLite(ctx context.Context, path string, opts *SQLiteOptions) (*SQLite, error) {
	s := NewSQLite(path, opts)
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func head(ctx context.Context, tx *sql.Tx) (uint64, string, error) {
	var seq uint64
	var h string
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&seq, &h)
	if errors.Is(err, sql.ErrNoRows) {
		// Prune keeps the head, but a table emptied otherwise still
		// continues from its latest checkpoint.
		c, err := latestCheckpoint(ctx, tx)
		if err != nil || c == nil {
			return 0, zeroHash, err
		}
		return c.Seq, c.Hash, nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("audit: reading the head: %w", err)
	}
	return seq, h, nil
}

// Head returns the last event's seq and hash.
func (s *SQLite) Head(ctx context.Context) (uint64, string, error) {
	var seq uint64
	var h string
	err := s.View(ctx, func(tx *sql.Tx) error {
		var err error
		seq, h, err = head(ctx, tx)
		return err
	})
	return seq, h, err
}

// Write commits the batch in one transaction, after checking that it
// continues the last committed event (ErrHeadMoved otherwise).
func (s *SQLite) Write(ctx context.Context, batch []Sealed) error {
	if len(batch) == 0 {
		return nil
	}
	return s.Update(ctx, func(tx *sql.Tx) error {
		seq, h, err := head(ctx, tx)
		if err != nil {
			return err
		}
		first := batch[0].Event
		if seq+1 != first.Seq || h != first.PrevHash {
			return fmt.Errorf("%w: the store ends at seq %d, the batch starts at %d", ErrHeadMoved, seq, first.Seq)
		}
		// Many rows per statement: database/sql's cost per Exec is
		// larger than SQLite's per row. Chunks are powers of two, so that
		// eight prepared statements serve every batch and none is parsed
		// again (a 128-row INSERT costs more to prepare than to run).
		args := make([]any, 0, insertChunk*9)
		for start := 0; start < len(batch); {
			n := chunkSize(len(batch) - start)
			chunk := batch[start : start+n]
			start += n
			args = args[:0]
			for _, r := range chunk {
				e := r.Event
				args = append(args, int64(e.Seq), e.ID, e.Time.UnixNano(), string(e.Kind), e.Tool, e.Subject, string(e.Decision), r.Hash, r.Body)
			}
			st, err := s.WriteStmt(ctx, tx, insertSQL(n))
			if err == nil {
				_, err = st.ExecContext(ctx, args...)
			}
			if err != nil {
				return fmt.Errorf("audit: insert seq %d-%d: %w", chunk[0].Event.Seq, chunk[len(chunk)-1].Event.Seq, err)
			}
		}
		return nil
	})
}

// insertChunk is the most rows one INSERT statement carries (9 parameters
// each, far below SQLite's limit of 32766); a power of two.
const insertChunk = 128

// chunkSize is the rows of the next INSERT when n are left: the largest
// power of two at most n and insertChunk.
func chunkSize(n int) int {
	c := insertChunk
	for c > n {
		c >>= 1
	}
	return c
}

// insertSQL is the INSERT statement of n rows.
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO audit_events (seq, id, time, kind, tool, subject, decision, hash, body) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	}
	return b.String()
}

// Reader reads an audit log back.
type Reader interface {
	// Query returns the events matching f, newest first.
	Query(ctx context.Context, f Filter) ([]*Event, error)
	// Get returns the event with the id (toolgate.NotFound if none).
	Get(ctx context.Context, id string) (*Event, error)
}

// Filter selects events. Zero fields select everything.
type Filter struct {
	Tool     string
	Subject  string
	Decision Decision
	Kind     Kind
	// Since keeps events made at or after it (by their time field).
	Since time.Time
	// BeforeSeq, when not 0, keeps events whose seq is below it: the way
	// to page back through more than MaxLimit events (pass the lowest seq
	// of the previous page).
	BeforeSeq uint64
	// AfterSeq, when not 0, keeps events whose seq is above it: the way
	// to follow the log (pass the highest seq seen so far).
	AfterSeq uint64
	// Oldest returns the matching events oldest (lowest seq) first, and
	// the oldest when there are more than Limit.
	Oldest bool
	// Limit bounds the events returned: DefaultLimit when 0, at most
	// MaxLimit.
	Limit int
}

// Bounds of Filter.Limit.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// Query returns the events matching f, newest (highest seq) first unless
// f.Oldest.
func (s *SQLite) Query(ctx context.Context, f Filter) ([]*Event, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Tool != "" {
		add("tool = ?", f.Tool)
	}
	if f.Subject != "" {
		add("subject = ?", f.Subject)
	}
	if f.Decision != "" {
		add("decision = ?", string(f.Decision))
	}
	if f.Kind != "" {
		add("kind = ?", string(f.Kind))
	}
	if !f.Since.IsZero() {
		add("time >= ?", f.Since.UnixNano())
	}
	if f.BeforeSeq != 0 {
		add("seq < ?", int64(f.BeforeSeq))
	}
	if f.AfterSeq != 0 {
		add("seq > ?", int64(f.AfterSeq))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	q := `SELECT seq, hash, body FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	order := " ORDER BY seq DESC LIMIT "
	if f.Oldest {
		order = " ORDER BY seq LIMIT "
	}
	q += order + strconv.Itoa(limit)
	var out []*Event
	err := s.View(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = sqlitedb.All(ctx, tx, scanEvent, q, args...)
		return err
	})
	if err != nil {
		return nil, s.readError("query", err)
	}
	return out, nil
}

func scanEvent(sc sqlitedb.Scanner) (*Event, error) {
	var seq uint64
	var h string
	var b []byte
	if err := sc.Scan(&seq, &h, &b); err != nil {
		return nil, err
	}
	e, err := Decode(b)
	if err != nil {
		return nil, &decodeError{seq: seq, err: err}
	}
	e.Hash = h
	return e, nil
}

// Get returns the event with the id. Ids start with their event's time in
// milliseconds, so the time index finds it; an id made otherwise is
// looked for in the whole table.
func (s *SQLite) Get(ctx context.Context, id string) (*Event, error) {
	var e *Event
	err := s.View(ctx, func(tx *sql.Tx) error {
		var err error
		if ms, ok := idMillis(id); ok {
			from := time.UnixMilli(ms).UnixNano()
			e, err = scanEvent(tx.QueryRowContext(ctx, `SELECT seq, hash, body FROM audit_events WHERE time >= ? AND time < ? AND id = ?`,
				from, from+int64(time.Millisecond), id))
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		e, err = scanEvent(tx.QueryRowContext(ctx, `SELECT seq, hash, body FROM audit_events WHERE id = ?`, id))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &toolgate.Error{Code: toolgate.NotFound, Message: "no audit event " + id}
	}
	if err != nil {
		return nil, s.readError("get "+id, err)
	}
	return e, nil
}

// Has reports whether the log holds the event with the id.
func (s *SQLite) Has(ctx context.Context, id string) (bool, error) {
	_, err := s.Get(ctx, id)
	if err == nil {
		return true, nil
	}
	if toolgate.ErrorCode(err) == toolgate.NotFound {
		return false, nil
	}
	return false, err
}

// readError names the file in a read's error, and says when the file is
// damaged: SQLite's corruption errors, or a row whose body does not decode
// (no writer stores one).
func (s *SQLite) readError(op string, err error) error {
	var de *decodeError
	if corrupted(err) || errors.As(err, &de) {
		return fmt.Errorf("audit: %s %s: %w: %w; run toolgate audit verify", op, s.Path(), ErrCorrupt, err)
	}
	return fmt.Errorf("audit: %s %s: %w", op, s.Path(), err)
}

// decodeError is a stored row whose body is not an event.
type decodeError struct {
	seq uint64
	err error
}

func (e *decodeError) Error() string { return fmt.Sprintf("seq %d: %v", e.seq, e.err) }
func (e *decodeError) Unwrap() error { return e.err }

// idMillis reads the time in milliseconds at the start of an id NewID made.
func idMillis(id string) (int64, bool) {
	if len(id) != 32 {
		return 0, false
	}
	ms, err := strconv.ParseInt(id[:12], 16, 64)
	return ms, err == nil
}

// Report is the result of a verification.
type Report struct {
	// Events is the number of events whose links hold.
	Events uint64 `json:"events"`
	// Head is the seq and hash of the last good event.
	HeadSeq  uint64 `json:"head_seq"`
	HeadHash string `json:"head_hash,omitempty"`
	// Checkpoint is the latest checkpoint, which the remaining chain
	// continues from; nil when the log was never pruned.
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	// Break is the first broken link; nil when the chain is whole.
	Break *Break `json:"break,omitempty"`
}

// Verify walks the whole chain in seq order and reports the first broken
// link: an edited event (its hash, or a column that disagrees with its
// body), a deleted one (a gap in seq), or events out of order. A pruned
// chain starts from its latest checkpoint: every checkpoint's signature
// must hold, and the first remaining event must continue from the latest
// one.
func (s *SQLite) Verify(ctx context.Context) (*Report, error) {
	return s.verify(ctx, 0)
}

// verify is Verify, stopping after seq upTo when it is not 0.
func (s *SQLite) verify(ctx context.Context, upTo uint64) (*Report, error) {
	var cur columns
	v := &Verifier{Check: func(_ Record, e *Event) string { return cur.disagree(e) }}
	rep := &Report{}
	var empty bool
	err := s.View(ctx, func(tx *sql.Tx) error {
		cps, err := checkpoints(ctx, tx)
		if err != nil || len(cps) == 0 {
			return err
		}
		key, err := checkpointKey(ctx, tx, false)
		if err != nil {
			return err
		}
		latest, b := checkCheckpoints(cps, key)
		if b != nil {
			rep.Break = b
			return nil
		}
		rep.Checkpoint = latest
		v.Anchor(latest.Seq, latest.Hash, latest.where())
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events`).Scan(&n); err != nil {
			return err
		}
		empty = n == 0
		return nil
	})
	if err != nil {
		return nil, s.readError("verify", err)
	}
	if rep.Break != nil {
		return rep, nil
	}
	if empty {
		c := rep.Checkpoint
		rep.Break = &Break{Seq: c.Seq + 1, Where: "seq " + strconv.FormatUint(c.Seq+1, 10), Problem: fmt.Sprintf("no event follows %s at seq %d (deleted; pruning keeps the newest)", c.where(), c.Seq)}
		return rep, nil
	}
	limit := int64(-1)
	if upTo != 0 {
		limit = int64(upTo)
	}
	const page = 2000
	var after int64 = -1
	for {
		n := 0
		err := s.View(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT seq, id, time, kind, tool, subject, decision, hash, body FROM audit_events WHERE seq > ? AND (? < 0 OR seq <= ?) ORDER BY seq LIMIT ?`, after, limit, limit, page)
			if corrupted(err) {
				rep.Break = s.unreadable(v, err)
				return nil
			}
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var r Record
				c := &cur
				if err := rows.Scan(&c.seq, &c.id, &c.time, &c.kind, &c.tool, &c.subject, &c.decision, &r.Hash, &r.Body); err != nil {
					// A column of the wrong type: the schema allows
					// none, so the row was damaged or written by hand.
					rep.Break = s.unreadable(v, err)
					return nil
				}
				n++
				after = c.seq
				r.Seq = uint64(c.seq)
				r.Where = "seq " + strconv.FormatInt(c.seq, 10)
				if err := v.Next(r); err != nil {
					var b *Break
					if errors.As(err, &b) {
						rep.Break = b
						return nil
					}
					return err
				}
			}
			if err := rows.Err(); corrupted(err) {
				rep.Break = s.unreadable(v, err)
				return nil
			} else if err != nil {
				return err
			}
			return nil
		})
		if corrupted(err) {
			// Reading a damaged page fails the transaction too.
			if rep.Break == nil {
				rep.Break = s.unreadable(v, err)
			}
		} else if err != nil {
			return nil, fmt.Errorf("audit: verify %s: %w", s.Path(), err)
		}
		if rep.Break != nil || n < page {
			break
		}
	}
	rep.Events = v.Count()
	if rep.Events > 0 {
		rep.HeadSeq, rep.HeadHash = v.Last()
	}
	if rep.Break == nil && upTo == 0 {
		// Every event verifies; the pages the walk did not read (the
		// indexes queries use, the other tables) must be sound too.
		if err := s.Check(ctx); errors.Is(err, ErrCorrupt) {
			rep.Break = &Break{Where: "the store file", Problem: "every event verifies, but " + err.Error()}
		} else if err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// unreadable is the break where the walk could not read the row after the
// last good one, because the file is damaged.
func (s *SQLite) unreadable(v *Verifier, err error) *Break {
	seq, _ := v.Last()
	return &Break{Seq: seq + 1, Where: "seq " + strconv.FormatUint(seq+1, 10),
		Problem: fmt.Sprintf("unreadable: %s is corrupted at or after this event (%v); restore it from a backup", s.Path(), err)}
}

// columns are what a row keeps beside the body, for queries.
type columns struct {
	seq, time                         int64
	id, kind, tool, subject, decision string
}

// disagree names the first column that differs from the event's body.
func (c *columns) disagree(e *Event) string {
	switch {
	case c.id != e.ID:
		return "the id column differs from the event (edited)"
	case c.time != e.Time.UnixNano():
		return "the time column differs from the event (edited)"
	case c.kind != string(e.Kind):
		return "the kind column differs from the event (edited)"
	case c.tool != e.Tool:
		return "the tool column differs from the event (edited)"
	case c.subject != e.Subject:
		return "the subject column differs from the event (edited)"
	case c.decision != string(e.Decision):
		return "the decision column differs from the event (edited)"
	}
	return ""
}
