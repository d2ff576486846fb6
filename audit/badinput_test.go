package audit_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/toolgate/toolgate/audit"
)

// fillStore appends n decisions to a new store at path, closes it and
// returns the file's bytes.
func fillStore(t *testing.T, path string, n int) []byte {
	t.Helper()
	s, err := audit.OpenSQLite(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := openLog(t, s)
	for i := 0; i < n; i++ {
		if err := l.Enqueue(context.Background(), decision("echo", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil { // closes s too; the WAL is checkpointed into the file
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// damagePage overwrites the b-tree header of the page in the middle of
// the SQLite file at path with junk, as a bad disk sector or a stray write
// would.
func damagePage(t *testing.T, path string, data []byte) {
	t.Helper()
	pageSize := int(binary.BigEndian.Uint16(data[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := len(data) / pageSize
	if pages < 8 {
		t.Fatalf("only %d pages", pages)
	}
	off := (pages / 2) * pageSize
	junk := bytes.Repeat([]byte{0xA5, 0x5A, 0xFF, 0x00}, 64)
	copy(data[off:], junk)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptedStoreFile: a store file damaged under the log (a page's
// header overwritten, or a row's bytes) is reported, naming the file, by
// the check the gateway runs when it opens its log, by Verify (a break,
// not a pass) and by the reads; nothing reads it as fewer events.
func TestCorruptedStoreFile(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		damage func(t *testing.T, path string, data []byte)
		// check: the quick check finds it (the page structure is hit).
		check bool
		// query: a read of every event fails with ErrCorrupt.
		query bool
	}{
		{"page header overwritten", damagePage, true, false},
		{"event bytes overwritten", func(t *testing.T, path string, data []byte) {
			// A row's body, in place: valid page structure, JSON that no
			// longer parses.
			i := bytes.Index(data, []byte(`"args":{"n":1234}`))
			if i < 0 {
				t.Fatal("event 1235 not found in the file")
			}
			copy(data[i:], "\x03\x03\x03\x03")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			data := fillStore(t, path, 2000)
			tt.damage(t, path, data)
			s, err := audit.OpenSQLite(ctx, path, nil)
			if err != nil {
				// Refusing to open at all is as good, if it says why.
				if !strings.Contains(err.Error(), "store.db") {
					t.Fatalf("open: %v", err)
				}
				return
			}
			defer s.Close()
			err = s.Check(ctx)
			if tt.check && (!errors.Is(err, audit.ErrCorrupt) || !strings.Contains(err.Error(), path)) {
				t.Fatalf("check: %v, want ErrCorrupt naming %s", err, path)
			}
			if !tt.check && err != nil {
				t.Fatalf("check of a file whose pages are sound: %v", err)
			}
			rep, err := s.Verify(ctx)
			if err != nil {
				t.Fatalf("verify: %v (want a break)", err)
			}
			if rep.Break == nil {
				t.Fatalf("verify passed a damaged file: %+v", rep)
			}
			if rep.Events >= 2000 {
				t.Fatalf("verify counted %d intact events", rep.Events)
			}
			if tt.query {
				_, err := s.Query(ctx, audit.Filter{Limit: audit.MaxLimit})
				if !errors.Is(err, audit.ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "seq 1235") {
					t.Fatalf("query: %v, want ErrCorrupt naming %s and seq 1235", err, path)
				}
				if rep.Break.Seq != 1235 {
					t.Fatalf("break %v, want seq 1235", rep.Break)
				}
			}
			t.Logf("verify: %v", rep.Break)
		})
	}
}

// TestCheckSoundFile: a sound file passes the check, and a new store too.
func TestCheckSoundFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	fillStore(t, path, 50)
	s := openSQLite(t, path)
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Verify(context.Background())
	if err != nil || rep.Break != nil || rep.Events != 50 {
		t.Fatalf("%+v %v", rep, err)
	}
	empty := openSQLite(t, filepath.Join(t.TempDir(), "new.db"))
	if err := empty.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// diskFull makes a JSONL sink's writes fail as a full disk does: the
// first half of the bytes written, then ENOSPC, while full is set.
func diskFull(j *audit.JSONL) *atomic.Bool {
	var full atomic.Bool
	audit.SetJSONLWrite(j, func(f *os.File, b []byte) (int, error) {
		if full.Load() {
			n, _ := f.Write(b[:len(b)/2])
			return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
		}
		return f.Write(b)
	})
	return &full
}

// TestDiskFull: a JSON Lines sink whose disk fills up fails the appends
// (fail closed) unless on_error: continue, counts them, leaves no partial
// line behind, and once there is room again goes on: as the primary, with
// a whole chain; as a secondary, with the missed batch a gap verify names.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		primary bool // the JSONL sink is the primary; else a secondary of SQLite
		cont    bool
		// wantErr: the append during the full disk fails.
		wantErr bool
		// gap: the JSONL file's verification, after, names a gap.
		gap bool
	}{
		{"primary", true, false, true, false},
		{"secondary, on_error fail", false, false, true, true},
		{"secondary, on_error continue", false, true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "audit.jsonl")
			j, err := audit.OpenJSONL(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			full := diskFull(j)
			var l *audit.Log
			if tt.primary {
				l = openLog(t, j)
			} else {
				l = openLog(t, openSQLite(t, filepath.Join(dir, "store.db")), audit.Secondary{Name: "jsonl " + path, Sink: j, Continue: tt.cont})
			}
			for i := 0; i < 3; i++ {
				if err := l.Append(ctx, decision("echo", i)); err != nil {
					t.Fatal(err)
				}
			}
			full.Store(true)
			err = l.Append(ctx, decision("echo", 3))
			if tt.wantErr != (err != nil) {
				t.Fatalf("append on a full disk: %v, want an error: %v", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), path)) {
				t.Fatalf("append error %v: want ENOSPC naming %s", err, path)
			}
			st := l.Stats()
			if tt.primary && st.Failed != 1 || !tt.primary && st.SinkErrors["jsonl "+path] != 1 {
				t.Fatalf("stats %+v", st)
			}
			// Room again.
			full.Store(false)
			for i := 4; i < 6; i++ {
				if err := l.Append(ctx, decision("echo", i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for n, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
				if _, err := audit.Decode([]byte(line)); err != nil {
					t.Fatalf("line %d is not an event (a partial write left behind): %v\n%.200s", n+1, err, line)
				}
			}
			rep, err := audit.VerifyJSONL(path)
			if err != nil {
				t.Fatal(err)
			}
			if tt.gap {
				// The primary holds the batch; the sink's file shows the
				// gap, never a silent loss.
				if rep.Break == nil || rep.Break.Seq != 4 || !strings.Contains(rep.Break.Problem, "missing") {
					t.Fatalf("jsonl verify: %+v %v, want a gap at seq 4", rep, rep.Break)
				}
				prep, err := openSQLite(t, filepath.Join(dir, "store.db")).Verify(ctx) // l.Close closed db
				if err != nil || prep.Break != nil || prep.Events != 6 {
					t.Fatalf("primary verify: %+v %v", prep, err)
				}
				return
			}
			// The failed event took no place in the chain: 5 events, seq 1-5.
			if rep.Break != nil || rep.Events != 5 || rep.HeadSeq != 5 {
				t.Fatalf("jsonl verify: %+v %v", rep, rep.Break)
			}
		})
	}
}

// TestClockGoesBackwards: a Log whose clock (Options.Now) goes backwards
// between appends keeps the events in seq order, the chain verifies (it
// links by seq, not time), every event is found by its id, and Since
// selects by each event's own time: an event stamped before the cutoff
// is left out even when appended after one stamped later.
func TestClockGoesBackwards(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := []time.Time{base, base.Add(-time.Hour), base.Add(-2 * time.Hour), base.Add(time.Second)}
	var mu sync.Mutex
	next := 0
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := clock[min(next, len(clock)-1)]
		next++
		return t
	}
	s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
	l, err := audit.Open(ctx, audit.Options{Primary: s, Now: now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var ids []string
	for i := range clock {
		e := decision("echo", i)
		if err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
		if !e.Time.Equal(clock[i]) || e.Seq != uint64(i+1) {
			t.Fatalf("event %d: time %v seq %d", i, e.Time, e.Seq)
		}
		ids = append(ids, e.ID)
	}
	rep, err := s.Verify(ctx)
	if err != nil || rep.Break != nil || rep.Events != 4 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	for i, id := range ids {
		if e, err := s.Get(ctx, id); err != nil || e.Seq != uint64(i+1) {
			t.Fatalf("get %s: %v %v", id, e, err)
		}
	}
	tests := []struct {
		name string
		f    audit.Filter
		want []uint64
	}{
		{"all, newest first by seq", audit.Filter{}, []uint64{4, 3, 2, 1}},
		{"oldest first", audit.Filter{Oldest: true}, []uint64{1, 2, 3, 4}},
		{"since 90m before base", audit.Filter{Since: base.Add(-90 * time.Minute)}, []uint64{4, 2, 1}},
		{"since base", audit.Filter{Since: base}, []uint64{4, 1}},
		{"after seq 1, whatever its time", audit.Filter{AfterSeq: 1, Oldest: true}, []uint64{2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Query(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []uint64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			if !slices.Equal(seqs, tt.want) {
				t.Fatalf("seqs %v, want %v", seqs, tt.want)
			}
		})
	}
}

// nested returns arguments nested depth objects deep ({"a":{"a":…"x"}}),
// decoded and as JSON.
func nested(depth int) (map[string]any, json.RawMessage) {
	v := any("x")
	for i := 1; i < depth; i++ {
		v = map[string]any{"a": v}
	}
	raw := strings.Repeat(`{"a":`, depth-1) + `{"a":"x"}` + strings.Repeat("}", depth-1)
	return map[string]any{"a": v}, json.RawMessage(raw)
}

// TestHostileArgs: arguments of 4 MiB, or nested 10,000 deep, go through
// the args modes and the log without a crash: each is recorded in a form
// the log can read back and verify, bounded where redaction bounds it, or
// refused with a clear error; never recorded as something it was not.
func TestHostileArgs(t *testing.T) {
	big := strings.Repeat("x", 4<<20)
	manyKeys := map[string]any{}
	var raw strings.Builder
	raw.WriteString("{")
	for i := 0; i < 200000; i++ {
		k := fmt.Sprintf("k%06d", i)
		manyKeys[k] = "0123456789"
		if i > 0 {
			raw.WriteString(",")
		}
		fmt.Fprintf(&raw, "%q:%q", k, "0123456789")
	}
	raw.WriteString("}")
	deep, deepRaw := nested(10000)
	tests := []struct {
		name string
		mode audit.ArgsMode
		args map[string]any
		raw  json.RawMessage
		// check inspects the recorded args.
		check func(t *testing.T, got json.RawMessage)
	}{
		{"4 MiB string, redacted", audit.ArgsRedacted, map[string]any{"m": big}, nil, func(t *testing.T, got json.RawMessage) {
			if len(got) < 4<<20 {
				t.Fatalf("%d bytes", len(got))
			}
		}},
		{"4 MiB string, full", audit.ArgsFull, map[string]any{"m": big}, json.RawMessage(`{"m":"` + big + `"}`), func(t *testing.T, got json.RawMessage) {
			if len(got) != len(big)+8 {
				t.Fatalf("%d bytes", len(got))
			}
		}},
		{"200,000 keys, redacted", audit.ArgsRedacted, manyKeys, nil, func(t *testing.T, got json.RawMessage) {
			if !json.Valid(got) {
				t.Fatal("invalid")
			}
		}},
		{"200,000 keys, keys", audit.ArgsKeys, manyKeys, nil, func(t *testing.T, got json.RawMessage) {
			var keys []string
			if json.Unmarshal(got, &keys) != nil || len(keys) != 200000 {
				t.Fatalf("%d keys", len(keys))
			}
		}},
		{"200,000 keys, full", audit.ArgsFull, manyKeys, json.RawMessage(raw.String()), func(t *testing.T, got json.RawMessage) {
			if len(got) != raw.Len() {
				t.Fatalf("%d bytes, want %d", len(got), raw.Len())
			}
		}},
		{"10,000 deep, redacted", audit.ArgsRedacted, deep, nil, func(t *testing.T, got json.RawMessage) {
			// Masked below redact.MaxDepth: bounded, and says so.
			if !strings.Contains(string(got), "[REDACTED]") || strings.Count(string(got), `{"a":`) > 300 {
				t.Fatalf("%.200s", got)
			}
		}},
		{"10,000 deep, keys", audit.ArgsKeys, deep, nil, func(t *testing.T, got json.RawMessage) {
			if string(got) != `["a"]` {
				t.Fatalf("%s", got)
			}
		}},
		// Full keeps arguments exactly or not at all: too deep to be read
		// back, the event is refused (below), and the call with it.
		{"10,000 deep, full", audit.ArgsFull, deep, deepRaw, nil},
		{"10,000 deep, full, raw only", audit.ArgsFull, nil, deepRaw, func(t *testing.T, got json.RawMessage) {
			if string(got) != `{"error":"[UNENCODABLE]"}` {
				t.Fatalf("%.200s", got)
			}
		}},
		{"1,000 deep, full", audit.ArgsFull, nil, func() json.RawMessage { _, r := nested(1000); return r }(), func(t *testing.T, got json.RawMessage) {
			if strings.Count(string(got), `{"a":`) != 1000 {
				t.Fatalf("%d levels", strings.Count(string(got), `{"a":`))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
			l := openLog(t, s)
			e := decision("echo", 0)
			e.ArgsMode = tt.mode
			e.Args = audit.Args(tt.mode, tt.args, tt.raw, nil)
			if !json.Valid(e.Args) {
				t.Fatalf("Args returned invalid JSON: %.200s", e.Args)
			}
			if string(e.Args) == "{}" {
				t.Fatal("the arguments were recorded as none")
			}
			err := l.Append(ctx, e)
			if refused := err != nil; refused != (tt.name == "10,000 deep, full") {
				t.Fatalf("append: %v", err)
			}
			if err != nil {
				// A refusal must say why; the call is then refused.
				if !strings.Contains(err.Error(), "audit") || !strings.Contains(err.Error(), "nest deeper than 1000 levels") {
					t.Fatalf("append: %v", err)
				}
				t.Logf("refused: %v", err)
				return
			}
			// Recorded: it reads back and verifies.
			got, err := s.Get(ctx, e.ID)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if tt.check != nil {
				tt.check(t, got.Args)
			}
			rep, err := s.Verify(ctx)
			if err != nil || rep.Break != nil {
				t.Fatalf("verify: %+v %v", rep, err)
			}
		})
	}
}
