package audit

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// A journal is the audit log's write-ahead file. With one (Options.Journal),
// Append writes the event to the journal, one write(2) for every appender
// waiting at that moment (group commit), and returns: the event now
// survives the gateway process being killed (and a power loss too, with
// JournalOptions.Fsync). The Log moves journaled events into the primary
// behind, in large transactions, in the order they were journaled, and
// deletes a journal file once every event in it is in the primary. A Log
// that opens replays into the primary what the journal files of a process
// that stopped hold and the primary lacks.
//
// A journal is a directory of segment files, `<time>-<pid>-<n>.journal`, each
// held under an exclusive flock(2) by the process writing it: a file that
// nobody holds is a stopped process's, and the next Log to open recovers it.
// Several gateway processes may share one directory.
//
// A segment is a sequence of records: the payload's length (4 bytes,
// little-endian), its CRC-32C (4 bytes), then the payload (the event's JSON
// without its place in the chain, as Append encoded it).

// JournalOptions configure a journal.
type JournalOptions struct {
	// Fsync makes every group of appends wait for fdatasync(2), so that
	// journaled events survive a power loss, not only the process.
	Fsync bool
	// SegmentBytes is the size at which the journal starts a new segment
	// file. Default 4 MiB.
	SegmentBytes int64
	// Logger receives warnings (a torn record at the end of a recovered
	// file); slog.Default() when nil.
	Logger *slog.Logger
}

// Journal is an open journal directory; see the comment above
// JournalOptions.
type Journal struct {
	dir  string
	opts JournalOptions
	log  *slog.Logger

	// prefix starts the names of this journal's files: the time it was
	// opened and the process id; a sequence number follows, so that the
	// files of one journal sort in the order they were written whatever
	// the clock does.
	prefix string

	mu   sync.Mutex
	cur  *segment
	segs []*segment // this process's segments not yet deleted, oldest first
	buf  []byte
	seq  int
}

// segment is one journal file of this process.
type segment struct {
	name      string
	f         *os.File
	size      int64
	written   int // events written to it
	committed int // of which the primary has committed
	retired   bool
}

// Bounds of a journal record.
const (
	journalHeader = 8
	// maxJournalRecord bounds a record read back: larger is corruption.
	maxJournalRecord = 256 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// OpenJournal opens (creating it if needed) the journal directory dir. It
// starts no segment until the first append.
func OpenJournal(dir string, opts *JournalOptions) (*Journal, error) {
	var o JournalOptions
	if opts != nil {
		o = *opts
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 4 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: journal %s: %w", dir, err)
	}
	if err := checkLockable(dir); err != nil {
		return nil, fmt.Errorf("audit: journal %s: %w", dir, err)
	}
	prefix := fmt.Sprintf("%020d-%d", time.Now().UnixNano(), os.Getpid())
	return &Journal{dir: dir, opts: o, log: o.Logger, prefix: prefix}, nil
}

// Dir is the journal's directory.
func (j *Journal) Dir() string { return j.dir }

// append writes the payloads of batch as records, in order, with one
// write, and returns the segment that holds them.
func (j *Journal) append(batch []*pending) (*segment, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cur == nil || j.cur.size >= j.opts.SegmentBytes {
		if err := j.rotate(); err != nil {
			return nil, err
		}
	}
	b := j.buf[:0]
	for _, p := range batch {
		var h [journalHeader]byte
		binary.LittleEndian.PutUint32(h[:4], uint32(len(p.payload)))
		binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(p.payload, crcTable))
		b = append(b, h[:]...)
		b = append(b, p.payload...)
	}
	j.buf = b[:0]
	if cap(j.buf) > 1<<20 {
		j.buf = nil // do not keep a huge batch's buffer
	}
	s := j.cur
	n, err := s.f.Write(b)
	s.size += int64(n)
	if err != nil {
		// Part of the batch may be in the file: start a new segment, so
		// that the next record does not follow a torn one.
		s.retired = true
		j.cur = nil
		return nil, fmt.Errorf("audit: writing the journal %s: %w", s.name, err)
	}
	if j.opts.Fsync {
		if err := s.f.Sync(); err != nil {
			s.retired = true
			j.cur = nil
			return nil, fmt.Errorf("audit: syncing the journal %s: %w", s.name, err)
		}
	}
	s.written += len(batch)
	return s, nil
}

// rotate retires the current segment and starts a new one. j.mu is held.
func (j *Journal) rotate() error {
	if j.cur != nil {
		j.cur.retired = true
		j.cur = nil
		j.reap()
	}
	j.seq++
	name := fmt.Sprintf("%s-%010d.journal", j.prefix, j.seq)
	// Created under a temporary name, locked, then renamed: a process
	// that recovers never sees an unlocked file of a live process.
	tmp := filepath.Join(j.dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit: creating a journal file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("audit: locking the journal file %s: %w", tmp, err)
	}
	path := filepath.Join(j.dir, name)
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("audit: creating a journal file: %w", err)
	}
	s := &segment{name: path, f: f}
	j.cur = s
	j.segs = append(j.segs, s)
	return nil
}

// committed records that the primary committed n events of s.
func (j *Journal) committed(s *segment, n int) {
	j.mu.Lock()
	s.committed += n
	j.reap()
	j.mu.Unlock()
}

// reap deletes the retired segments whose every event is committed.
// j.mu is held.
func (j *Journal) reap() {
	j.segs = slices.DeleteFunc(j.segs, func(s *segment) bool {
		if !s.retired || s.committed < s.written {
			return false
		}
		if err := os.Remove(s.name); err != nil && !errors.Is(err, os.ErrNotExist) {
			j.log.Warn("could not delete a journal file whose events are all in the audit log", "file", s.name, "err", err)
		}
		s.f.Close()
		return true
	})
}

// close retires every segment: those whose events are all committed are
// deleted, the others are kept (and unlocked) for the next Log to recover.
func (j *Journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cur = nil
	for _, s := range j.segs {
		s.retired = true
	}
	j.reap()
	var errs []error
	for _, s := range j.segs {
		j.log.Warn("audit events are left in the journal: they enter the log when the gateway starts again", "file", s.name, "events", s.written-s.committed)
		errs = append(errs, s.f.Close())
	}
	j.segs = nil
	return errors.Join(errs...)
}

// orphan is a journal file of a process that stopped, locked by us while
// we recover it.
type orphan struct {
	path string
	f    *os.File
}

// orphans locks and returns the journal files nobody holds, oldest first.
func (j *Journal) orphans() ([]orphan, error) {
	ents, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("audit: reading the journal %s: %w", j.dir, err)
	}
	j.mu.Lock()
	mine := map[string]bool{}
	for _, s := range j.segs {
		mine[s.name] = true
	}
	j.mu.Unlock()
	var out []orphan
	for _, e := range ents {
		path := filepath.Join(j.dir, e.Name())
		if !strings.HasSuffix(e.Name(), ".journal") || !e.Type().IsRegular() || mine[path] {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // recovered by another process meanwhile
			}
			releaseOrphans(out)
			return nil, fmt.Errorf("audit: opening the journal file %s: %w", path, err)
		}
		if lockFile(f) != nil {
			f.Close() // a live process holds it
			continue
		}
		if _, err := os.Stat(path); err != nil {
			f.Close() // recovered and deleted by another process meanwhile
			continue
		}
		out = append(out, orphan{path: path, f: f})
	}
	slices.SortFunc(out, func(a, b orphan) int { return strings.Compare(filepath.Base(a.path), filepath.Base(b.path)) })
	return out, nil
}

func releaseOrphans(os []orphan) {
	for _, o := range os {
		o.f.Close()
	}
}

// readJournal reads the records of a journal file. A record cut short at
// the end (a write torn by a crash) ends the file with a warning; a record
// whose checksum or length is wrong is an error.
func readJournal(r io.Reader, name string, log *slog.Logger) ([][]byte, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out [][]byte
	var off int64
	for {
		var h [journalHeader]byte
		n, err := io.ReadFull(br, h[:])
		if err == io.EOF {
			return out, nil
		}
		if err == io.ErrUnexpectedEOF {
			log.Warn("a journal file ends with a torn record, which is ignored", "file", name, "offset", off, "bytes", n)
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("audit: reading the journal file %s: %w", name, err)
		}
		size := binary.LittleEndian.Uint32(h[:4])
		if size > maxJournalRecord || size < 2 {
			return nil, fmt.Errorf("audit: journal file %s: record at offset %d claims %d bytes: the file is corrupt; move it aside to start without the events it holds", name, off, size)
		}
		p := make([]byte, size)
		if m, err := io.ReadFull(br, p); err != nil {
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				log.Warn("a journal file ends with a torn record, which is ignored", "file", name, "offset", off, "bytes", journalHeader+m)
				return out, nil
			}
			return nil, fmt.Errorf("audit: reading the journal file %s: %w", name, err)
		}
		if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
			return nil, fmt.Errorf("audit: journal file %s: record at offset %d fails its checksum: the file is corrupt; move it aside to start without the events it holds", name, off)
		}
		out = append(out, p)
		off += int64(journalHeader) + int64(size)
	}
}

// Finder is a primary that can tell whether it holds an event, which a
// journal needs to recover. SQLite implements it.
type Finder interface {
	Has(ctx context.Context, id string) (bool, error)
}

// recover replays into the Log's primary the events of every orphaned
// journal file that the primary lacks, oldest file first, and deletes
// the files. The primary holds a prefix of each file's events (the Log
// commits them in journal order), so the lacking ones are found from the
// end. It returns the number of events replayed.
func (l *Log) recover(ctx context.Context) (int, error) {
	j := l.opts.Journal
	find, ok := l.opts.Primary.(Finder)
	if !ok {
		return 0, fmt.Errorf("audit: %s cannot be used with a journal", l.opts.PrimaryName)
	}
	files, err := j.orphans()
	if err != nil {
		return 0, err
	}
	defer releaseOrphans(files)
	total := 0
	for _, o := range files {
		payloads, err := readJournal(o.f, o.path, l.log)
		if err != nil {
			return total, err
		}
		events := make([]*pending, 0, len(payloads))
		for i, p := range payloads {
			e, err := Decode(p)
			if err != nil || e.ID == "" {
				return total, fmt.Errorf("audit: journal file %s: record %d is not an event (%v): move the file aside to start without the events it holds", o.path, i+1, err)
			}
			events = append(events, &pending{e: e, payload: p})
		}
		from := len(events)
		for from > 0 {
			has, err := find.Has(ctx, events[from-1].e.ID)
			if err != nil {
				return total, fmt.Errorf("audit: recovering %s: %w", o.path, err)
			}
			if has {
				break
			}
			from--
		}
		for start := from; start < len(events); start += l.opts.MaxBatch {
			batch := events[start:min(len(events), start+l.opts.MaxBatch)]
			if err := l.commit(batch); err != nil {
				return total, fmt.Errorf("audit: recovering %s: %w", o.path, err)
			}
			total += len(batch)
		}
		if len(events) > from {
			l.log.Info("audit events recovered from the journal of a gateway that stopped", "file", o.path, "events", len(events)-from)
		}
		if err := os.Remove(o.path); err != nil {
			return total, fmt.Errorf("audit: deleting the recovered journal file %s: %w", o.path, err)
		}
	}
	return total, nil
}

// PendingJournal counts the events in journal files under dir that no
// process holds: those of a gateway that stopped before moving them into
// the log. They enter the log when a gateway opens it again. The count
// includes events the log may already hold.
func PendingJournal(dir string) (int, error) {
	j := &Journal{dir: dir, log: slog.New(slog.DiscardHandler)}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	files, err := j.orphans()
	if err != nil {
		return 0, err
	}
	defer releaseOrphans(files)
	n := 0
	for _, o := range files {
		p, err := readJournal(o.f, o.path, j.log)
		if err != nil {
			return n, err
		}
		n += len(p)
	}
	return n, nil
}

// JournalDir is the journal directory beside a store file.
func JournalDir(storePath string) string { return storePath + ".audit-journal" }
