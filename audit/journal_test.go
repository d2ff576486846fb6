package audit_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolgate/toolgate/audit"
)

func openJournaled(t testing.TB, primary audit.Chain, dir string, opts *audit.JournalOptions, secs ...audit.Secondary) *audit.Log {
	t.Helper()
	j, err := audit.OpenJournal(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(context.Background(), audit.Options{Primary: primary, Secondaries: secs, Instance: "test",
		Logger: slog.New(slog.DiscardHandler), Journal: j, CommitEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func journalFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.journal"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestJournalAppendThenCommit: appends return once journaled; the events
// reach the primary in order, the chain verifies, and the journal files
// are deleted once everything is committed.
func TestJournalAppendThenCommit(t *testing.T) {
	dir := t.TempDir()
	s := openSQLite(t, filepath.Join(dir, "store.db"))
	jdir := filepath.Join(dir, "journal")
	l := openJournaled(t, s, jdir, &audit.JournalOptions{SegmentBytes: 4096})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				e := decision("echo", g*100+i)
				if err := l.Append(ctx, e); err != nil {
					t.Error(err)
					return
				}
				if err := l.Enqueue(ctx, &audit.Event{Kind: audit.KindOutcome, Ref: e.ID, Tool: "echo", Outcome: audit.OutcomeOK}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := l.Sync(sctx); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Verify(ctx)
	if err != nil || rep.Break != nil || rep.Events != 960 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	st := l.Stats()
	if st.Journaled != 960 || st.Appended != 960 || st.Behind != 0 || st.Failing != "" {
		t.Fatalf("stats %+v", st)
	}
	// Segments of 4 KiB: many were written, and all but the current one
	// are gone.
	if f := journalFiles(t, jdir); len(f) > 1 {
		t.Fatalf("journal files left while everything is committed: %v", f)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if f := journalFiles(t, jdir); len(f) != 0 {
		t.Fatalf("journal files left after a clean close: %v", f)
	}
}

// stuck is a primary that fails while stuck is set.
type stuck struct {
	*audit.SQLite
	mu    sync.Mutex
	stuck bool
}

func (p *stuck) set(v bool) { p.mu.Lock(); p.stuck = v; p.mu.Unlock() }

func (p *stuck) Write(ctx context.Context, b []audit.Sealed) error {
	p.mu.Lock()
	s := p.stuck
	p.mu.Unlock()
	if s {
		return errors.New("disk full")
	}
	return p.SQLite.Write(ctx, b)
}

// TestJournalRecovers: events journaled but never committed (the primary
// failed, then the process went away) enter the log when the next Log
// opens, after those already there, and the chain verifies.
func TestJournalRecovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "store.db")
	jdir := filepath.Join(dir, "journal")
	s := openSQLite(t, path)
	p := &stuck{SQLite: s}
	j, err := audit.OpenJournal(jdir, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(context.Background(), audit.Options{Primary: p, Logger: slog.New(slog.DiscardHandler), Journal: j, CommitEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := l.Append(ctx, decision("before", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	p.set(true)
	for i := 0; i < 7; i++ {
		if err := l.Append(ctx, decision("lost", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The primary fails: appends are refused (fail closed) once the
	// committer has seen it.
	deadline := time.Now().Add(20 * time.Second)
	for l.Stats().Failing == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := l.Stats(); !strings.Contains(st.Failing, "disk full") || st.Behind != 7 {
		t.Fatalf("stats while the primary fails: %+v", st)
	}
	if err := l.Append(ctx, decision("refused", 0)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("append while the primary fails: %v", err)
	}
	l.Close() // gives up after a few tries: the events stay in the journal
	if f := journalFiles(t, jdir); len(f) != 1 {
		t.Fatalf("journal files after close: %v", f)
	}
	if n, err := audit.PendingJournal(jdir); err != nil || n != 12 {
		t.Fatalf("pending %d, %v", n, err)
	}

	s2 := openSQLite(t, path)
	l2 := openJournaled(t, s2, jdir, nil)
	if f := journalFiles(t, jdir); len(f) != 0 {
		t.Fatalf("journal files after recovery: %v", f)
	}
	events, err := s2.Query(ctx, audit.Filter{Oldest: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var tools []string
	for _, e := range events {
		tools = append(tools, e.Tool)
	}
	if got := strings.Join(tools, ","); got != "before,before,before,before,before,lost,lost,lost,lost,lost,lost,lost" {
		t.Fatalf("after recovery: %s", got)
	}
	if err := l2.Append(ctx, decision("after", 0)); err != nil {
		t.Fatal(err)
	}
	if err := l2.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := s2.Verify(ctx)
	if err != nil || rep.Break != nil || rep.Events != 13 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// TestJournalFailingPrimaryRecovers: the primary fails for a while, then
// works: appends are refused meanwhile, nothing journaled is lost, and
// appends are accepted again.
func TestJournalFailingPrimaryRecovers(t *testing.T) {
	dir := t.TempDir()
	s := openSQLite(t, filepath.Join(dir, "store.db"))
	p := &stuck{SQLite: s}
	l := openJournaled(t, p, filepath.Join(dir, "journal"), nil)
	ctx := context.Background()
	p.set(true)
	if err := l.Append(ctx, decision("a", 0)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for l.Stats().Failing == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := l.Append(ctx, decision("b", 0)); err == nil {
		t.Fatal("append accepted while the primary fails")
	}
	p.set(false)
	for l.Stats().Failing != "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := l.Append(ctx, decision("c", 0)); err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	events, err := s.Query(ctx, audit.Filter{Oldest: true})
	if err != nil || len(events) != 2 || events[0].Tool != "a" || events[1].Tool != "c" {
		t.Fatalf("events %v %v", events, err)
	}
}

// TestJournalBadFiles: a torn last record is dropped with a warning; a
// record that fails its checksum, or is not an event, stops the Log from
// opening with an error naming the file.
func TestJournalBadFiles(t *testing.T) {
	payload := []byte(`{"version":1,"id":"0000000000000000000000000000abcd","time":"2026-12-02T00:00:00Z","kind":"decision","tool":"x"}`)
	record := func(p []byte, crc uint32) []byte {
		var h [8]byte
		binary.LittleEndian.PutUint32(h[:4], uint32(len(p)))
		binary.LittleEndian.PutUint32(h[4:], crc)
		return append(h[:], p...)
	}
	good := record(payload, crc32c(payload))
	tests := []struct {
		name    string
		content []byte
		events  int
		err     string
	}{
		{"whole", good, 1, ""},
		{"torn header", append(append([]byte{}, good...), 1, 2, 3), 1, ""},
		{"torn payload", append(append([]byte{}, good...), good[:20]...), 1, ""},
		{"bad checksum", append(append([]byte{}, good...), record(payload, 7)...), 0, "fails its checksum"},
		{"huge length", append(append([]byte{}, good...), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), 0, "claims"},
		{"not an event", record([]byte(`[1,2]`), crc32c([]byte(`[1,2]`))), 0, "not an event"},
		{"empty", nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			jdir := filepath.Join(dir, "journal")
			if err := os.MkdirAll(jdir, 0o700); err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(jdir, "00000000000000000001-1-1.journal")
			if err := os.WriteFile(f, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			s := openSQLite(t, filepath.Join(dir, "store.db"))
			j, err := audit.OpenJournal(jdir, nil)
			if err != nil {
				t.Fatal(err)
			}
			l, err := audit.Open(context.Background(), audit.Options{Primary: s, Logger: slog.New(slog.DiscardHandler), Journal: j})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), f) {
					t.Fatalf("open: %v, want an error naming %s with %q", err, f, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			events, err := s.Query(context.Background(), audit.Filter{})
			if err != nil || len(events) != tt.events {
				t.Fatalf("%d events recovered, want %d (%v)", len(events), tt.events, err)
			}
		})
	}
}

// TestJournalLiveFilesAreNotRecovered: a second Log on the same journal
// directory (another gateway sharing the store) leaves the first one's
// files alone, and both chains of appends end up in the log.
func TestJournalLiveFilesAreNotRecovered(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "store.db")
	jdir := filepath.Join(dir, "journal")
	l1 := openJournaled(t, openSQLite(t, path), jdir, nil)
	ctx := context.Background()
	if err := l1.Append(ctx, decision("one", 0)); err != nil {
		t.Fatal(err)
	}
	s2 := openSQLite(t, path)
	l2 := openJournaled(t, s2, jdir, nil)
	if n, err := audit.PendingJournal(jdir); err != nil || n != 0 {
		t.Fatalf("pending %d %v: a live process's file counted", n, err)
	}
	for i := 0; i < 20; i++ {
		l := l1
		if i%2 == 1 {
			l = l2
		}
		if err := l.Append(ctx, decision(fmt.Sprint("t", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(l1.Sync(ctx), l2.Sync(ctx)); err != nil {
		t.Fatal(err)
	}
	rep, err := s2.Verify(ctx)
	if err != nil || rep.Break != nil || rep.Events != 21 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func crc32c(p []byte) uint32 {
	return crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli))
}

// failing is a primary whose writes fail while fails > 0 or always is set,
// counting them.
type flaky struct {
	*audit.SQLite
	mu     sync.Mutex
	always bool
	fails  int // writes still to fail once always is cleared
	failed int
}

func (p *flaky) Write(ctx context.Context, b []audit.Sealed) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.always || p.fails > 0 {
		if !p.always {
			p.fails--
		}
		p.failed++
		return errors.New("I/O error")
	}
	return p.SQLite.Write(ctx, b)
}

// TestJournalKeepsOrderWhenGivingUp: at Close, the committer gives up on
// a batch the primary refuses; a later batch that the primary would take
// must stay in the journal too, or recovery (which replays what follows
// the last event the primary holds) would skip the first one.
func TestJournalKeepsOrderWhenGivingUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "store.db")
	jdir := filepath.Join(dir, "journal")
	p := &flaky{SQLite: openSQLite(t, path), always: true}
	j, err := audit.OpenJournal(jdir, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(context.Background(), audit.Options{Primary: p, Logger: slog.New(slog.DiscardHandler), Journal: j,
		CommitEvery: 50 * time.Millisecond, MaxBatch: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		if err := l.Enqueue(ctx, decision(fmt.Sprint("e", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		p.mu.Lock()
		n := p.failed
		if n >= 3 {
			p.always, p.fails = false, 1 // the next try fails, later ones work
		}
		p.mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the committer never tried three times")
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.Close()

	s2 := openSQLite(t, path)
	l2 := openJournaled(t, s2, jdir, nil)
	if err := l2.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	events, err := s2.Query(ctx, audit.Filter{Oldest: true})
	if err != nil {
		t.Fatal(err)
	}
	var tools []string
	for _, e := range events {
		tools = append(tools, e.Tool)
	}
	if got := strings.Join(tools, ","); got != "e0,e1,e2,e3,e4,e5" {
		t.Fatalf("after recovery: %s", got)
	}
	if rep, err := s2.Verify(ctx); err != nil || rep.Break != nil {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}
