package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/toolgate/toolgate/internal/outbound"
)

// Defaults of an http sink.
const (
	DefaultHTTPBatch      = 100
	DefaultHTTPFlush      = time.Second
	DefaultHTTPTimeout    = 10 * time.Second
	DefaultHTTPQueue      = 10000
	DefaultHTTPBackoff    = time.Second
	DefaultHTTPMaxBackoff = 30 * time.Second
)

// HTTPContentType is the Content-Type of an http sink's requests: the body
// is JSON Lines, each line an event exactly as sealed (hash last).
const HTTPContentType = "application/x-ndjson"

// HeaderSeqs names the request header that gives the first and last seq
// of the batch ("12-111"): the same on every retry of a batch, so that a
// receiver can drop a batch it already stored.
const HeaderSeqs = "Toolgate-Audit-Seqs"

// HTTPOptions configure an http sink.
type HTTPOptions struct {
	// URL is the endpoint: https://, or http:// to a loopback address.
	URL string
	// Header is sent with every request. Its values are never logged:
	// they usually hold credentials.
	Header http.Header
	// Batch bounds the events of one request; DefaultHTTPBatch when <= 0.
	Batch int
	// Flush is how long the first event of a batch waits for the batch to
	// fill; DefaultHTTPFlush when <= 0.
	Flush time.Duration
	// Timeout bounds one attempt; DefaultHTTPTimeout when <= 0.
	Timeout time.Duration
	// Retries is how many times a failed request (no answer, or a status
	// other than 2xx) is tried again; 0 for never.
	Retries int
	// Backoff is the wait before the first retry, doubled up to
	// MaxBackoff; DefaultHTTPBackoff and DefaultHTTPMaxBackoff when <= 0.
	Backoff, MaxBackoff time.Duration
	// Queue bounds the events waiting to be sent; DefaultHTTPQueue when
	// <= 0. A batch that does not fit is dropped whole.
	Queue int
	// CloseWait bounds how long Close keeps sending what is queued;
	// Timeout when <= 0.
	CloseWait time.Duration
	// Client sends the requests; by default one that follows no redirect.
	Client *http.Client
	// Logger receives failures and drops; slog.Default() when nil.
	Logger *slog.Logger
}

// HTTP is an asynchronous sink that POSTs events to an endpoint (a SIEM's
// ingest URL) in batches. Write only queues the batch and returns, so it
// never slows the call path; a worker sends the queue in requests of at
// most Batch events, retried with exponential backoff. A batch the queue
// cannot take, or that fails every retry, is dropped, logged and counted:
// an http sink is never the primary, and the Log runs it as an on_error:
// continue secondary. The receiver sees the gap as a broken link.
type HTTP struct {
	opts   HTTPOptions
	header http.Header
	client *http.Client
	log    *slog.Logger

	mu     sync.Mutex
	queue  []queued
	closed bool
	wake   chan struct{} // cap 1: something was queued, or Close was called

	ctx    context.Context // ends when Close stops waiting for the queue
	cancel context.CancelFunc
	done   chan struct{} // closed when the worker has returned

	sent, dropped, lost, failures atomic.Uint64
}

type queued struct {
	seq  uint64
	line []byte
}

var (
	_ Sink  = (*HTTP)(nil)
	_ Lossy = (*HTTP)(nil)
)

// OpenHTTP checks opts and starts the sink's worker.
func OpenHTTP(opts HTTPOptions) (*HTTP, error) {
	if err := outbound.CheckURL(opts.URL); err != nil {
		return nil, fmt.Errorf("audit: http sink: url %w", err)
	}
	if opts.Retries < 0 {
		return nil, fmt.Errorf("audit: http sink: retries must not be negative, got %d", opts.Retries)
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultHTTPBatch
	}
	if opts.Flush <= 0 {
		opts.Flush = DefaultHTTPFlush
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultHTTPTimeout
	}
	if opts.Queue <= 0 {
		opts.Queue = DefaultHTTPQueue
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultHTTPBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultHTTPMaxBackoff
	}
	if opts.CloseWait <= 0 {
		opts.CloseWait = opts.Timeout
	}
	h := &HTTP{opts: opts, client: opts.Client, log: opts.Logger, header: http.Header{},
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	for k, vs := range opts.Header {
		h.header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	h.header.Set("Content-Type", HTTPContentType)
	h.header.Set("User-Agent", "toolgate-audit/1")
	if h.client == nil {
		h.client = outbound.NewClient()
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	go h.run()
	return h, nil
}

// Write queues the batch and returns at once. When the queue cannot take
// all of it, it drops all of it (counted in Dropped) and says so: the Log
// logs and counts that error for an on_error: continue sink.
func (h *HTTP) Write(_ context.Context, batch []Sealed) error {
	if len(batch) == 0 {
		return nil
	}
	items := make([]queued, len(batch))
	for i, s := range batch {
		items[i].line = append(s.Line(), '\n')
		if s.Event != nil {
			items[i].seq = s.Event.Seq
		}
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	if waiting := len(h.queue); waiting+len(items) > h.opts.Queue {
		h.mu.Unlock()
		n := h.dropped.Add(uint64(len(items)))
		return fmt.Errorf("the queue holds %d of %d events: dropped %d (seq %d-%d; %d dropped so far)",
			waiting, h.opts.Queue, len(items), items[0].seq, items[len(items)-1].seq, n)
	}
	h.queue = append(h.queue, items...)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return nil
}

// Sent counts the events the endpoint acknowledged (a 2xx answer).
func (h *HTTP) Sent() uint64 { return h.sent.Load() }

// Dropped counts the events dropped because the queue was full (Write
// returned an error for them).
func (h *HTTP) Dropped() uint64 { return h.dropped.Load() }

// Lost counts the events Write accepted but that were never acknowledged:
// every retry failed, or Close gave up on them.
func (h *HTTP) Lost() uint64 { return h.lost.Load() }

// Close stops taking events, keeps sending those queued for up to
// CloseWait, then abandons the rest (logged and counted in Lost).
func (h *HTTP) Close() error {
	h.mu.Lock()
	already := h.closed
	h.closed = true
	h.mu.Unlock()
	if !already {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
	t := time.NewTimer(h.opts.CloseWait)
	defer t.Stop()
	select {
	case <-h.done:
	case <-t.C:
	}
	h.cancel()
	<-h.done
	h.mu.Lock()
	left := len(h.queue)
	h.queue = nil
	h.mu.Unlock()
	if left > 0 {
		n := h.lost.Add(uint64(left))
		h.log.Error("audit: http sink closed with events not sent", "url", h.opts.URL, "events", left, "lost_total", n)
	}
	if !already {
		h.log.Info("audit: http sink closed", "url", h.opts.URL, "sent", h.sent.Load(), "dropped", h.dropped.Load(),
			"lost", h.lost.Load(), "failed_requests", h.failures.Load())
	}
	return nil
}

// run sends the queue until Close.
func (h *HTTP) run() {
	defer close(h.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		h.mu.Lock()
		n, closed := len(h.queue), h.closed
		h.mu.Unlock()
		if h.ctx.Err() != nil || (closed && n == 0) {
			return
		}
		if n == 0 {
			select {
			case <-h.wake:
			case <-h.ctx.Done():
			}
			continue
		}
		// Let the batch fill, up to Flush after its first event.
		if n < h.opts.Batch && !closed {
			timer.Reset(h.opts.Flush)
		fill:
			for {
				select {
				case <-h.wake:
					h.mu.Lock()
					n, closed = len(h.queue), h.closed
					h.mu.Unlock()
					if n >= h.opts.Batch || closed {
						break fill
					}
				case <-timer.C:
					break fill
				case <-h.ctx.Done():
					break fill
				}
			}
			timer.Stop()
		}
		h.mu.Lock()
		k := min(len(h.queue), h.opts.Batch)
		batch := h.queue[:k:k]
		h.queue = h.queue[k:]
		h.mu.Unlock()
		if k > 0 {
			h.send(batch)
		}
	}
}

// send posts one batch, retrying with backoff; a batch that fails every
// attempt is dropped, logged and counted.
func (h *HTTP) send(batch []queued) {
	size := 0
	for _, q := range batch {
		size += len(q.line)
	}
	body := make([]byte, 0, size)
	for _, q := range batch {
		body = append(body, q.line...)
	}
	first, last := batch[0].seq, batch[len(batch)-1].seq
	header := h.header.Clone()
	header.Set(HeaderSeqs, strconv.FormatUint(first, 10)+"-"+strconv.FormatUint(last, 10))
	r := outbound.Retry{Retries: h.opts.Retries, Backoff: h.opts.Backoff, MaxBackoff: h.opts.MaxBackoff}
	err := r.Do(h.ctx, func(ctx context.Context) error {
		return outbound.Post(ctx, h.client, h.opts.URL, header, body, h.opts.Timeout)
	}, func(n int, err error) {
		h.failures.Add(1)
		h.log.Warn("audit: http sink: a request failed", "url", h.opts.URL, "seq", first, "events", len(batch),
			"attempt", n, "of", h.opts.Retries+1, "err", err)
	})
	if err == nil {
		h.sent.Add(uint64(len(batch)))
		return
	}
	n := h.lost.Add(uint64(len(batch)))
	why := "every attempt failed"
	if errors.Is(err, outbound.ErrStopped) {
		why = "closed before it was sent"
	}
	h.log.Error("audit: http sink: dropping a batch, "+why, "url", h.opts.URL, "first_seq", first, "last_seq", last,
		"events", len(batch), "lost_total", n, "err", err)
}
