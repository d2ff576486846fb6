package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Sink stores sealed events. Write returns once the batch, in seq order,
// is stored as durably as the sink can (committed, fsynced).
type Sink interface {
	Write(ctx context.Context, batch []Sealed) error
	Close() error
}

// Lossy is a sink that may lose events after its Write returned nil: an
// asynchronous one, such as HTTP. Lost counts them; Stats adds them to the
// sink's SinkErrors.
type Lossy interface {
	Lost() uint64
}

// Chain is a sink that can be the primary: it keeps the chain and knows
// its last committed event. A second technology (Postgres) implements it
// as SQLite does.
type Chain interface {
	Sink
	// Head returns the seq and hash of the last event committed; 0 and
	// 64 zeros when there is none.
	Head(ctx context.Context) (uint64, string, error)
}

// ErrHeadMoved is returned (wrapped) by a Chain's Write when the batch
// does not continue its last committed event: another process appended
// to the same store. The Log reads the head again and reseals the batch.
var ErrHeadMoved = errors.New("audit: the chain's head moved (another writer appended)")

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit: the log is closed")

// Secondary is a sink written after the primary has committed a batch.
type Secondary struct {
	// Name names the sink in logs and errors ("jsonl audit.jsonl").
	Name string
	Sink Sink
	// Continue: a failure of this sink is logged and counted, and calls go
	// on; otherwise (the default) it fails the appends of the batch, and
	// the gateway refuses those calls.
	Continue bool
}

// Options configure a Log.
type Options struct {
	// Primary holds the chain; required.
	Primary Chain
	// PrimaryName names it in errors; default "primary".
	PrimaryName string
	// Secondaries get every batch after the primary committed it.
	Secondaries []Secondary
	// Instance is put in every event that names none.
	Instance string
	// Queue bounds the events waiting to be written: an Append that finds
	// Queue others waiting for the writer waits, up to its context; an
	// Enqueue that finds Queue events held writes them itself. Default
	// 8192.
	Queue int
	// MaxBatch bounds the events written in one transaction. Default 1024.
	MaxBatch int
	// Linger is how long Enqueued events (nobody waits for them: call
	// outcomes) may wait for an Appended one to carry them in its batch,
	// so that a call's outcome and the next call's decision share one
	// write instead of two; when none comes, they are written on their
	// own. Default 20ms; negative: no wait.
	Linger time.Duration
	// Logger receives sink failures; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time

	// Journal, when set, makes Append return once the event is in the
	// journal (see OpenJournal) instead of committed in the primary; the
	// Log moves journaled events into the primary and the secondaries
	// behind, in the order they were appended, and on Open first recovers
	// what the journal files of a stopped process hold. The primary must
	// implement Finder. The Log closes the journal.
	Journal *Journal
	// CommitEvery is how long, with a journal, the Log lets journaled
	// events gather before it commits them in the primary (fewer, larger
	// transactions: a row costs less in a large one), unless MaxBatch of
	// them wait, Sync (or a read through ReadAfter) waits for them, or the
	// Log closes. Default 200ms.
	CommitEvery time.Duration
	// Behind bounds, with a journal, the events journaled but not yet
	// committed in the primary: an append that finds more waits up to 5s
	// for the primary to catch up, then fails. Default 65536.
	Behind int
}

// Stats are a Log's counters.
type Stats struct {
	// Appended counts the events committed in the primary, and Batches
	// the transactions that committed them.
	Appended uint64 `json:"appended"`
	Batches  uint64 `json:"batches"`
	// Failed counts the events an append gave up on.
	Failed uint64 `json:"failed"`
	// Journaled counts the events written to the journal; Behind is how
	// many of them the primary has yet to commit.
	Journaled uint64 `json:"journaled,omitempty"`
	Behind    int    `json:"behind,omitempty"`
	// Failing is the error of the sink the Log is retrying, which refuses
	// appends until it succeeds; empty when none fails.
	Failing string `json:"failing,omitempty"`
	// SinkErrors counts, by secondary, the events it failed to store:
	// those its Write failed, and those an asynchronous sink lost later.
	SinkErrors map[string]uint64 `json:"sink_errors,omitempty"`
}

// Log is the audit log of one gateway process: the one sequencer of its
// chain and the single writer of its sinks.
type Log struct {
	opts  Options
	log   *slog.Logger
	queue chan *pending

	mu     sync.RWMutex // held for reading while enqueueing, for writing by Close
	closed bool
	done   chan struct{} // closed when the writer has returned

	wmu  sync.Mutex // held by whoever seals and writes a batch
	seq  uint64     // guarded by wmu; with a journal, the committer's
	head string

	hmu  sync.Mutex
	held []*pending // events waiting for the next batch (see Enqueue)
	// lingering: the linger timer is armed for the events held; guarded
	// by hmu.
	lingering bool
	linger    *time.Timer
	// appending counts the Appends in progress: one that writes its own
	// batch yields first only when others may join it.
	appending atomic.Int32

	appended, batches, failed, journaled atomic.Uint64
	// enqueued counts the events Enqueue accepted, written those of them a
	// batch write has dealt with (written or failed): Sync waits for the
	// second to reach the first.
	enqueued, written atomic.Uint64
	sinkErrs          []atomic.Uint64 // by secondary

	behind behind // with a journal: the events the primary has yet to commit
}

type pending struct {
	e       *Event
	payload []byte
	done    chan error // nil: nobody waits (Enqueue), or it writes its own batch
	seg     *segment   // the journal segment holding it
	// appended: by Append, whose caller may read the event once it
	// returns; Enqueue's may not.
	appended bool
}

var donePool = sync.Pool{New: func() any { return make(chan error, 1) }}

// Open reads the primary's head and starts the writer.
func Open(ctx context.Context, opts Options) (*Log, error) {
	if opts.Primary == nil {
		return nil, errors.New("audit: no primary sink")
	}
	if opts.PrimaryName == "" {
		opts.PrimaryName = "primary"
	}
	if opts.Queue <= 0 {
		opts.Queue = 8192
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.Linger == 0 {
		opts.Linger = 20 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CommitEvery <= 0 {
		opts.CommitEvery = 200 * time.Millisecond
	}
	if opts.Behind <= 0 {
		opts.Behind = 65536
	}
	seq, head, err := opts.Primary.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: reading the chain's head: %w", err)
	}
	l := &Log{
		opts: opts, log: opts.Logger, queue: make(chan *pending, opts.Queue), done: make(chan struct{}),
		seq: seq, head: head, sinkErrs: make([]atomic.Uint64, len(opts.Secondaries)),
	}
	if opts.Journal != nil {
		if _, err := l.recover(ctx); err != nil {
			return nil, err
		}
		l.behind.init()
		go l.committer()
	}
	l.linger = time.AfterFunc(time.Hour, l.lingered)
	l.linger.Stop()
	go l.writer()
	return l, nil
}

// prepare fills in what the appender leaves out and encodes the payload,
// in the appender's goroutine, so that the writer only seals.
func (l *Log) prepare(e *Event) (*pending, error) {
	e.Version = Version
	if e.Time.IsZero() {
		e.Time = l.opts.Now()
	}
	e.Time = e.Time.UTC()
	if e.ID == "" {
		e.ID = NewID(e.Time)
	}
	if e.Instance == "" {
		e.Instance = l.opts.Instance
	}
	p, err := encodePayload(e)
	if err != nil {
		return nil, err
	}
	return &pending{e: e, payload: p}, nil
}

// Append adds e to the log and returns once it is committed in the
// primary (and written to every fail-closed secondary), or, with a
// journal, once it is in the journal. It fills in Version, Time, ID and
// Instance when unset, and, without a journal, Seq, PrevHash and Hash.
// When the queue is full it waits, up to ctx. An error means the event may
// or may not be in the log: the caller must act as if it were not.
func (l *Log) Append(ctx context.Context, e *Event) error {
	l.appending.Add(1)
	defer l.appending.Add(-1)
	p, err := l.prepare(e)
	if err != nil {
		return err
	}
	p.appended = true
	// Nobody writing: write it here, with whatever waits, rather than
	// hand it to the writer goroutine and wait to be woken (two goroutine
	// switches, each a scheduling delay on a busy machine).
	if l.wmu.TryLock() {
		l.mu.RLock()
		closed := l.closed
		l.mu.RUnlock()
		if closed {
			l.wmu.Unlock()
			return ErrClosed
		}
		if l.appending.Load() > 1 {
			// Other appenders are on their way: let those ready to run
			// queue their events first, so that they join this batch. Alone,
			// yielding would only delay the call.
			runtime.Gosched()
		}
		batch := l.take(p)
		err := l.write(batch)
		l.wmu.Unlock()
		l.answer(batch, p, err)
		return err
	}
	p.done = donePool.Get().(chan error)
	if err := l.enqueue(ctx, p); err != nil {
		return err
	}
	select {
	case err := <-p.done:
		donePool.Put(p.done)
		return err
	case <-ctx.Done():
		// p.done is left to the writer, which sends into it once.
		return fmt.Errorf("audit: waiting for the event to be committed: %w", ctx.Err())
	}
}

// Enqueue adds e to the log without waiting for it to be written: it
// returns once e is held for the next batch. A failure to write it later
// is logged and counted. The caller must not change e afterwards.
//
// The event waits, for Options.Linger at most, for the next Append to
// write it in its batch, so that a call's outcome and the next call's
// decision share one write; only when none comes in that time is it
// written on its own. Nothing is woken for it meanwhile. When Queue events
// are held already, Enqueue writes them itself before it returns. Events
// one goroutine enqueues are written in that order.
func (l *Log) Enqueue(_ context.Context, e *Event) error {
	p, err := l.prepare(e)
	if err != nil {
		return err
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	l.hmu.Lock()
	l.held = append(l.held, p)
	full := len(l.held) >= l.opts.Queue
	arm := !l.lingering && !full
	l.lingering = l.lingering || arm
	l.hmu.Unlock()
	l.enqueued.Add(1)
	l.mu.RUnlock()
	if full {
		// Written here, in the order held. (After Close nothing is held:
		// Close's last flush took what was.)
		l.flush()
	} else if arm {
		l.linger.Reset(max(l.opts.Linger, 0))
	}
	return nil
}

// lingered runs when the linger timer fires: events Enqueue held that no
// Append took meanwhile are written now.
func (l *Log) lingered() {
	l.hmu.Lock()
	l.lingering = false
	n := len(l.held)
	l.hmu.Unlock()
	if n > 0 {
		l.flushQueued()
	}
}

func (l *Log) enqueue(ctx context.Context, p *pending) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	select {
	case l.queue <- p:
		return nil
	default:
	}
	select {
	case l.queue <- p:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit: the queue is full: %w", ctx.Err())
	}
}

// Close stops accepting events, writes those queued, and closes the sinks.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.done
		return nil
	}
	l.closed = true
	close(l.queue)
	l.mu.Unlock()
	l.linger.Stop()
	<-l.done
	l.wmu.Lock() // an appender writing its own batch finishes first
	defer l.wmu.Unlock()
	var errs []error
	if l.opts.Journal != nil {
		l.behind.close()
		<-l.behind.stopped
		errs = append(errs, l.opts.Journal.close())
	}
	errs = append(errs, l.opts.Primary.Close())
	for _, s := range l.opts.Secondaries {
		errs = append(errs, s.Sink.Close())
	}
	return errors.Join(errs...)
}

// Stats returns the counters.
func (l *Log) Stats() Stats {
	s := Stats{Appended: l.appended.Load(), Batches: l.batches.Load(), Failed: l.failed.Load(), Journaled: l.journaled.Load()}
	if l.opts.Journal != nil {
		s.Behind, s.Failing = l.behind.state()
	}
	for i, sec := range l.opts.Secondaries {
		n := l.sinkErrs[i].Load()
		if lo, ok := sec.Sink.(Lossy); ok {
			n += lo.Lost()
		}
		if n > 0 {
			if s.SinkErrors == nil {
				s.SinkErrors = map[string]uint64{}
			}
			s.SinkErrors[sec.Name] = n
		}
	}
	return s
}

// writer is the goroutine that writes the events of the appenders that
// found another writing: one batch is written at a time (wmu), by this
// goroutine or by an appender that found nobody writing (see Append).
func (l *Log) writer() {
	defer close(l.done)
	for {
		p, ok := <-l.queue
		if !ok {
			l.flush()
			return
		}
		l.hold(p)
		// Let appenders that are ready to run (those the last batch woke,
		// say) queue their events first, so that they join this batch: at
		// low load there are none and this costs nothing.
		runtime.Gosched()
		l.flush()
	}
}

// hold keeps p, taken from the queue, for the next batch.
func (l *Log) hold(p *pending) {
	l.hmu.Lock()
	l.held = append(l.held, p)
	l.hmu.Unlock()
}

// take returns the events held and those queued (at most MaxBatch), then
// own, if any. l.wmu is held.
func (l *Log) take(own *pending) []*pending {
	l.hmu.Lock()
	batch := l.held
	l.held = nil
	l.hmu.Unlock()
fill:
	for len(batch) < l.opts.MaxBatch {
		select {
		case p, ok := <-l.queue:
			if !ok {
				break fill
			}
			batch = append(batch, p)
		default:
			break fill
		}
	}
	if own != nil {
		batch = append(batch, own)
	}
	return batch
}

// flush writes every event held or queued, in batches.
func (l *Log) flush() {
	for {
		l.wmu.Lock()
		batch := l.take(nil)
		if len(batch) == 0 {
			l.wmu.Unlock()
			return
		}
		err := l.write(batch)
		l.wmu.Unlock()
		l.answer(batch, nil, err)
	}
}

// answer tells the appenders of batch, but own, how writing it went.
func (l *Log) answer(batch []*pending, own *pending, err error) {
	var enqueued uint64
	for _, p := range batch {
		switch {
		case p == own:
		case p.done != nil:
			p.done <- err
		default:
			enqueued++
			if err != nil {
				l.log.Error("an audit event could not be written", "id", p.e.ID, "kind", p.e.Kind, "err", err)
			}
		}
	}
	l.written.Add(enqueued)
}

// write stores a batch the appenders handed over: with a journal, in the
// journal (then hands it to the committer); otherwise in the sinks.
func (l *Log) write(batch []*pending) error {
	if l.opts.Journal != nil {
		return l.journal(batch)
	}
	return l.commit(batch)
}

// commit seals the batch after the head and commits it in the primary,
// then writes it to the secondaries.
func (l *Log) commit(batch []*pending) error {
	sealed, err := l.commitPrimary(batch)
	if err != nil {
		l.failed.Add(uint64(len(batch)))
		return err
	}
	var failed error
	for i, sec := range l.opts.Secondaries {
		if serr := sec.Sink.Write(context.Background(), sealed); serr != nil {
			l.sinkFailed(i, len(batch), serr)
			if !sec.Continue && failed == nil {
				failed = fmt.Errorf("audit: %s: %w", sec.Name, serr)
			}
		}
	}
	return failed
}

func (l *Log) sinkFailed(i, events int, err error) {
	sec := l.opts.Secondaries[i]
	l.sinkErrs[i].Add(uint64(events))
	l.log.Error("an audit sink failed", "sink", sec.Name, "events", events, "continue", sec.Continue, "err", err)
}

// commitPrimary seals the batch after the head and commits it in the
// primary, once more after resealing when another writer moved the head.
func (l *Log) commitPrimary(batch []*pending) ([]Sealed, error) {
	ctx := context.Background()
	var err error
	sealed := make([]Sealed, 0, len(batch))
	for attempt := 0; attempt < 3; attempt++ {
		sealed = sealed[:0]
		seq, head := l.seq, l.head
		for _, p := range batch {
			seq++
			s := seal(p.e, p.payload, seq, head)
			head = s.Hash
			sealed = append(sealed, s)
		}
		err = l.opts.Primary.Write(ctx, sealed)
		if err == nil {
			l.seq, l.head = seq, head
			break
		}
		if !errors.Is(err, ErrHeadMoved) {
			break
		}
		s, h, herr := l.opts.Primary.Head(ctx)
		if herr != nil {
			err = herr
			break
		}
		l.seq, l.head = s, h
	}
	if err != nil {
		return nil, fmt.Errorf("audit: %s: %w", l.opts.PrimaryName, err)
	}
	l.batches.Add(1)
	l.appended.Add(uint64(len(batch)))
	return sealed, nil
}
