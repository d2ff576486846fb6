package audit_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

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
