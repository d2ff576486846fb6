package audit

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// behind holds, with a journal, the events journaled but not yet committed
// in the primary, for the committer goroutine.
type behind struct {
	mu      sync.Mutex
	events  []*pending
	handed  uint64 // events handed over so far
	settled uint64 // of which committed (or given up on at Close)
	failure error  // the error of the sink being retried
	closing bool
	gaveUp  bool          // the committer left a batch in the journal at Close; its goroutine's own
	changed chan struct{} // closed and replaced when settled or failure change
	kick    chan struct{} // wakes the committer; capacity 1
	// hurry ends the committer's wait for a batch to gather: someone
	// waits for the events behind (Sync); capacity 1.
	hurry   chan struct{}
	stopped chan struct{} // closed when the committer has returned
}

func (b *behind) init() {
	b.changed = make(chan struct{})
	b.kick = make(chan struct{}, 1)
	b.hurry = make(chan struct{}, 1)
	b.stopped = make(chan struct{})
}

// notify wakes whoever waits on changed. b.mu is held.
func (b *behind) notify() {
	close(b.changed)
	b.changed = make(chan struct{})
}

func (b *behind) wake() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

func (b *behind) close() {
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()
	b.wake()
	select {
	case b.hurry <- struct{}{}:
	default:
	}
}

func (b *behind) state() (int, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failure != nil {
		return len(b.events), b.failure.Error()
	}
	return len(b.events), ""
}

func (b *behind) setFailure(err error) {
	b.mu.Lock()
	if (b.failure == nil) != (err == nil) || (err != nil && b.failure.Error() != err.Error()) {
		b.failure = err
		b.notify()
	}
	b.mu.Unlock()
}

// behindWait bounds how long an append waits for the primary to catch up.
const behindWait = 5 * time.Second

// journal writes the batch to the journal and hands it to the committer.
// l.wmu is held.
func (l *Log) journal(batch []*pending) error {
	b := &l.behind
	b.mu.Lock()
	failure := b.failure
	b.mu.Unlock()
	if failure != nil {
		l.failed.Add(uint64(len(batch)))
		return fmt.Errorf("audit: refusing while a sink fails: %w", failure)
	}
	seg, err := l.opts.Journal.append(batch)
	if err != nil {
		l.failed.Add(uint64(len(batch)))
		return err
	}
	l.journaled.Add(uint64(len(batch)))
	for _, p := range batch {
		p.seg = seg
		if p.appended {
			// The committer seals a copy: the appender may read its
			// event once Append returns (an enqueuer may not).
			c := *p.e
			p.e = &c
		}
	}
	// Journaled events are always handed over (they must reach the
	// primary), but an append that finds the primary too far behind
	// waits for it, then fails: the gateway refuses the call.
	var deadline *time.Timer
	b.mu.Lock()
	for len(b.events) >= l.opts.Behind && !b.closing {
		if deadline == nil {
			deadline = time.NewTimer(behindWait)
			defer deadline.Stop()
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			b.mu.Lock()
			b.events = append(b.events, batch...)
			b.handed += uint64(len(batch))
			n := len(b.events)
			b.mu.Unlock()
			b.wake()
			return fmt.Errorf("audit: %s is %d events behind the journal", l.opts.PrimaryName, n)
		}
		b.mu.Lock()
	}
	b.events = append(b.events, batch...)
	b.handed += uint64(len(batch))
	b.mu.Unlock()
	b.wake()
	return nil
}

// Sync waits until every event appended or enqueued before it is
// committed in the primary (with a journal; without one, Append already
// waits for that, and Sync only waits for enqueued events to be written).
func (l *Log) Sync(ctx context.Context) error {
	if err := l.flushEnqueued(ctx); err != nil || l.opts.Journal == nil {
		return err
	}
	b := &l.behind
	b.mu.Lock()
	target := b.handed
	if b.settled < target {
		select {
		case b.hurry <- struct{}{}:
		default:
		}
	}
	for b.settled < target {
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("audit: waiting for the primary to commit: %w", ctx.Err())
		}
		b.mu.Lock()
	}
	b.mu.Unlock()
	return nil
}

// flushEnqueued writes the events enqueued before it was called: those
// held, and waits for those another writer has just taken (an Append's
// batch, the linger's) to be written.
func (l *Log) flushEnqueued(ctx context.Context) error {
	target := l.enqueued.Load()
	l.flushQueued()
	if l.written.Load() >= target {
		return nil
	}
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for l.written.Load() < target {
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("audit: waiting for enqueued events to be written: %w", ctx.Err())
		}
		l.flushQueued()
	}
	return nil
}

// flushQueued writes what the appenders queued and Enqueue held.
func (l *Log) flushQueued() {
	l.mu.RLock()
	closed := l.closed
	l.mu.RUnlock()
	if !closed {
		l.flush()
	}
}

// committer is the goroutine that, with a journal, commits journaled
// events in the primary and writes them to the secondaries, in order.
func (l *Log) committer() {
	b := &l.behind
	defer close(b.stopped)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		b.mu.Lock()
		for len(b.events) == 0 && !b.closing {
			b.mu.Unlock()
			<-b.kick
			b.mu.Lock()
		}
		if len(b.events) == 0 && b.closing {
			b.mu.Unlock()
			return
		}
		// Let a batch gather, unless it is large already.
		if len(b.events) < l.opts.MaxBatch && !b.closing {
			b.mu.Unlock()
			linger.Reset(l.opts.CommitEvery)
			select {
			case <-linger.C:
			case <-b.hurry:
				linger.Stop()
			}
			b.mu.Lock()
		}
		n := min(len(b.events), l.opts.MaxBatch)
		batch := b.events[:n:n]
		closing := b.closing
		b.mu.Unlock()

		l.commitJournaled(batch, closing)

		b.mu.Lock()
		b.events = b.events[n:]
		if len(b.events) == 0 {
			b.events = nil // let the array go
		}
		b.settled += uint64(n)
		b.notify()
		b.mu.Unlock()
	}
}

// commitJournaled commits batch in the primary and writes it to the
// secondaries, retrying (and refusing appends meanwhile) while the primary
// or a fail-closed secondary fails; at Close it gives up after a few
// tries, and the events stay in the journal for the next Log.
func (l *Log) commitJournaled(batch []*pending, closing bool) {
	b := &l.behind
	if b.gaveUp {
		// An earlier batch stayed in the journal: committing a later one
		// would put it in the primary before it, and recovery, which
		// replays what follows the last event the primary holds, would
		// skip the earlier one. This one stays in the journal too.
		l.failed.Add(uint64(len(batch)))
		return
	}
	backoff := 50 * time.Millisecond
	tries := 0
	retry := func(err error) bool {
		b.setFailure(err)
		tries++
		b.mu.Lock()
		closing = closing || b.closing
		b.mu.Unlock()
		if closing && tries >= 3 {
			return false
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 5*time.Second)
		return true
	}
	var sealed []Sealed
	for {
		var err error
		sealed, err = l.commitPrimary(batch)
		if err == nil {
			break
		}
		l.log.Error("the audit log's primary failed; appends are refused until it succeeds", "events", len(batch), "err", err)
		if !retry(err) {
			b.gaveUp = true
			l.failed.Add(uint64(len(batch)))
			l.log.Error("audit events left in the journal at close: they enter the log when the gateway starts again", "events", len(batch))
			return
		}
	}
	l.settleJournal(batch)
	for i, sec := range l.opts.Secondaries {
		for first := true; ; first = false {
			err := sec.Sink.Write(context.Background(), sealed)
			if err == nil {
				break
			}
			if first {
				l.sinkFailed(i, len(batch), err)
			}
			if sec.Continue {
				break
			}
			if !retry(fmt.Errorf("%s: %w", sec.Name, err)) {
				l.log.Error("audit events not written to a sink at close", "sink", sec.Name, "events", len(batch))
				break
			}
		}
	}
	b.setFailure(nil)
}

// settleJournal tells the journal that the primary holds batch.
func (l *Log) settleJournal(batch []*pending) {
	var seg *segment
	n := 0
	for _, p := range batch {
		if p.seg != seg {
			if seg != nil {
				l.opts.Journal.committed(seg, n)
			}
			seg, n = p.seg, 0
		}
		n++
	}
	if seg != nil {
		l.opts.Journal.committed(seg, n)
	}
}

// ReadAfter returns r reading through l: every read first waits (up to
// readSyncWait) for l to commit what was appended before it, so that a
// reader in the gateway's own process, such as the admin API, sees every
// event appended before the request.
func (l *Log) ReadAfter(r Reader) Reader {
	if l == nil || l.opts.Journal == nil {
		return r
	}
	return &syncedReader{r: r, l: l}
}

// readSyncWait bounds the wait of a read for the primary to catch up.
const readSyncWait = 2 * time.Second

type syncedReader struct {
	r Reader
	l *Log
}

func (s *syncedReader) sync(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, readSyncWait)
	defer cancel()
	if err := s.l.Sync(ctx); err != nil {
		s.l.log.Warn("reading the audit log before it caught up with the journal", "err", err)
	}
}

func (s *syncedReader) Query(ctx context.Context, f Filter) ([]*Event, error) {
	s.sync(ctx)
	return s.r.Query(ctx, f)
}

func (s *syncedReader) Get(ctx context.Context, id string) (*Event, error) {
	s.sync(ctx)
	return s.r.Get(ctx, id)
}
