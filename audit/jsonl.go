package audit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// Defaults of a JSON Lines sink.
const (
	DefaultMaxBytes = 100 << 20 // 100 MiB
	DefaultKeep     = 10
)

// JSONLOptions configure a JSON Lines sink.
type JSONLOptions struct {
	// MaxBytes is the size past which the file is rotated: renamed to
	// PATH.1 (PATH.1 to PATH.2, and so on) and a new one started. Default
	// DefaultMaxBytes.
	MaxBytes int64
	// Keep is how many rotated files are kept (PATH.1 … PATH.Keep);
	// older ones are deleted. Default DefaultKeep.
	Keep int
	// NoFsync skips the fsync after each batch (the default fsyncs, so
	// that a batch survives a power loss).
	NoFsync bool
	// Logger receives warnings; slog.Default() when nil.
	Logger *slog.Logger
}

// JSONL appends events to a file, one JSON object per line (the event
// with its hash as the last member), fsynced once per batch and rotated
// by size. It can be the primary: its head is read back from the file's
// last line. The file (and its rotations) are readable by their owner
// only.
type JSONL struct {
	path string
	opts JSONLOptions
	log  *slog.Logger

	mu   sync.Mutex
	f    *os.File
	size int64
	buf  []byte
	// write writes to the file: (*os.File).Write, replaced in tests to
	// simulate a full disk.
	write func(f *os.File, b []byte) (int, error)
	// broken is set when a failed write left bytes that could not be cut
	// off: every later Write fails, until the file is opened again (which
	// cuts off an incomplete last line).
	broken error
}

var _ Chain = (*JSONL)(nil)

// OpenJSONL opens (creating it if needed) the file at path for appending.
// A last line left incomplete by a crash (no newline: it was never
// acknowledged) is cut off, with a warning.
func OpenJSONL(path string, opts *JSONLOptions) (*JSONL, error) {
	var o JSONLOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	j := &JSONL{path: path, opts: o, log: o.Logger, write: (*os.File).Write}
	if err := j.open(); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *JSONL) open() error {
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit: open %s: %w", j.path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit: open %s: %w", j.path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return fmt.Errorf("audit: open %s: %w", j.path, err)
		}
	}
	size := fi.Size()
	if size > 0 {
		end, err := completeEnd(f, size)
		if err != nil {
			f.Close()
			return fmt.Errorf("audit: open %s: %w", j.path, err)
		}
		if end < size {
			// Kept aside, not destroyed: a crash leaves a line that was
			// never acknowledged, but a file cut short by hand or by a
			// disk fault looks the same.
			kept, err := keepFragment(f, end, size, j.path+".partial")
			if err != nil {
				f.Close()
				return fmt.Errorf("audit: open %s: keeping its incomplete last line: %w", j.path, err)
			}
			j.log.Warn("the audit file ends with an incomplete line, left by a crash before it was acknowledged; cutting it off",
				"path", j.path, "bytes", size-end, "kept_in", kept)
			if err := f.Truncate(end); err != nil {
				f.Close()
				return fmt.Errorf("audit: open %s: %w", j.path, err)
			}
			size = end
		}
	}
	j.f, j.size = f, size
	return nil
}

// keepFragment appends the bytes of f from start to end, and a newline, to
// the file at path (mode 0600), fsynced, and returns path.
func keepFragment(f *os.File, start, end int64, path string) (string, error) {
	b := make([]byte, end-start, end-start+1)
	if _, err := f.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	p, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := p.Write(append(b, '\n')); err != nil {
		p.Close()
		return "", err
	}
	if err := p.Sync(); err != nil {
		p.Close()
		return "", err
	}
	return path, p.Close()
}

// completeEnd returns the offset just after the file's last newline (0
// when it has none).
func completeEnd(f *os.File, size int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for end := size; end > 0; {
		start := max(0, end-chunk)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// lastLine returns the last complete line of the file at path (without
// its newline), or nil when it has none.
func lastLine(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	end, err := completeEnd(f, fi.Size())
	if err != nil || end == 0 {
		return nil, err
	}
	start, err := completeEnd(f, end-1)
	if err != nil {
		return nil, err
	}
	b := make([]byte, end-1-start)
	if _, err := f.ReadAt(b, start); err != nil {
		return nil, err
	}
	return b, nil
}

// Head returns the seq and hash of the last event in the file, or in the
// newest rotated file when the file is empty.
func (j *JSONL) Head(context.Context) (uint64, string, error) {
	for _, p := range []string{j.path, j.path + ".1"} {
		l, err := lastLine(p)
		if err != nil {
			return 0, "", fmt.Errorf("audit: %s: %w", p, err)
		}
		if l == nil {
			continue
		}
		b, h, err := splitLine(l)
		if err != nil {
			return 0, "", fmt.Errorf("audit: %s: last line: %w", p, err)
		}
		e, err := Decode(b)
		if err != nil {
			return 0, "", fmt.Errorf("audit: %s: last line: %w", p, err)
		}
		return e.Seq, h, nil
	}
	return 0, zeroHash, nil
}

// Write appends the batch's lines, rotating first when they would take
// the file past MaxBytes, and fsyncs.
func (j *JSONL) Write(_ context.Context, batch []Sealed) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return fmt.Errorf("audit: %s is closed", j.path)
	}
	j.buf = j.buf[:0]
	for _, s := range batch {
		j.buf = append(j.buf, s.Body[:len(s.Body)-1]...)
		j.buf = append(j.buf, `,"hash":"`...)
		j.buf = append(j.buf, s.Hash...)
		j.buf = append(j.buf, "\"}\n"...)
	}
	if j.size > 0 && j.size+int64(len(j.buf)) > j.opts.MaxBytes {
		if err := j.rotate(); err != nil {
			return err
		}
	}
	if j.broken != nil {
		return j.broken
	}
	before := j.size
	n, err := j.write(j.f, j.buf)
	j.size += int64(n)
	if err != nil {
		return j.undo(before, fmt.Errorf("audit: write %s: %w", j.path, err))
	}
	if !j.opts.NoFsync {
		if err := j.f.Sync(); err != nil {
			return j.undo(before, fmt.Errorf("audit: fsync %s: %w", j.path, err))
		}
	}
	return nil
}

// undo cuts the file back to size after a write of a batch failed (a full
// disk takes part of a batch): its lines have no place in the chain (as
// the primary, the Log seals the next batch with the same seqs), and a
// partial line would glue itself to the next batch's first line. When the
// file cannot be cut, the sink refuses every later batch. j.mu is held.
func (j *JSONL) undo(size int64, err error) error {
	if j.size == size {
		return err
	}
	if terr := j.f.Truncate(size); terr != nil {
		j.broken = fmt.Errorf("audit: %s ends with %d bytes of a batch that failed, which could not be cut off (%v); the sink takes no more events until it is opened again: %w",
			j.path, j.size-size, terr, err)
		return j.broken
	}
	j.size = size
	return err
}

// rotate renames PATH.i to PATH.i+1 (dropping PATH.Keep), PATH to PATH.1,
// and starts a new PATH. j.mu is held.
func (j *JSONL) rotate() error {
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("audit: fsync %s: %w", j.path, err)
	}
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("audit: close %s: %w", j.path, err)
	}
	j.f = nil
	if err := os.Remove(j.path + "." + strconv.Itoa(j.opts.Keep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("audit: rotate %s: %w", j.path, err)
	}
	for i := j.opts.Keep - 1; i >= 1; i-- {
		from := j.path + "." + strconv.Itoa(i)
		if err := os.Rename(from, j.path+"."+strconv.Itoa(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("audit: rotate %s: %w", j.path, err)
		}
	}
	if err := os.Rename(j.path, j.path+".1"); err != nil {
		return fmt.Errorf("audit: rotate %s: %w", j.path, err)
	}
	if err := j.open(); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(j.path)); err == nil { // make the renames durable
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Close closes the file.
func (j *JSONL) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// VerifyJSONL walks the file at path and the rotated files kept beside it
// (PATH.N … PATH.1, then PATH), and reports the first broken link. Since
// rotation drops the oldest files, the chain is anchored on the first
// event found.
func VerifyJSONL(path string) (*Report, error) {
	files := []string{}
	for i := 1; ; i++ {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err != nil {
			break
		}
		files = append([]string{p}, files...)
		if i > 100000 {
			break
		}
	}
	files = append(files, path)
	v := &Verifier{FromAnywhere: true}
	rep := &Report{}
	for _, p := range files {
		b, err := verifyFile(p, v)
		if err != nil {
			return nil, err
		}
		if b != nil {
			rep.Break = b
			break
		}
	}
	rep.Events = v.Count()
	rep.HeadSeq, rep.HeadHash = v.Last()
	return rep, nil
}

func verifyFile(path string, v *Verifier) (*Break, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	return verifyLines(f, filepath.Base(path), v)
}

// VerifyLines reads events as the JSON Lines, stdout and http sinks write
// them (one line each, the event with its hash last), from wherever the
// chain starts, and reports the first broken link: what a receiver such as
// a SIEM runs over the lines it got. name names the source in a Break.
func VerifyLines(r io.Reader, name string) (*Report, error) {
	v := &Verifier{FromAnywhere: true}
	b, err := verifyLines(r, name, v)
	if err != nil {
		return nil, err
	}
	rep := &Report{Break: b, Events: v.Count()}
	rep.HeadSeq, rep.HeadHash = v.Last()
	return rep, nil
}

func verifyLines(rd io.Reader, name string, v *Verifier) (*Break, error) {
	r := bufio.NewReaderSize(rd, 1<<20)
	for n := 1; ; n++ {
		l, err := r.ReadBytes('\n')
		where := name + ":" + strconv.Itoa(n)
		if errors.Is(err, io.EOF) {
			if len(l) == 0 {
				return nil, nil
			}
			seq, _ := v.Last()
			return &Break{Seq: seq + 1, Where: where, Problem: "truncated line (no newline at the end)"}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("audit: read %s: %w", name, err)
		}
		body, h, serr := splitLine(bytes.TrimSuffix(l, []byte("\n")))
		if serr != nil {
			seq, _ := v.Last()
			return &Break{Seq: seq + 1, Where: where, Problem: serr.Error()}, nil
		}
		if err := v.Next(Record{Body: body, Hash: h, Where: where}); err != nil {
			var b *Break
			if errors.As(err, &b) {
				return b, nil
			}
			return nil, err
		}
	}
}

// Writer writes events to w, one line each, e.g. to standard output for
// a log collector. It keeps no head, so it cannot be the primary, and it
// does not fsync.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewWriter returns a sink writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes the batch's lines in one write.
func (s *Writer) Write(_ context.Context, batch []Sealed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = s.buf[:0]
	for _, e := range batch {
		s.buf = append(s.buf, e.Line()...)
		s.buf = append(s.buf, '\n')
	}
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	return nil
}

// Close does nothing: w belongs to the caller.
func (s *Writer) Close() error { return nil }
