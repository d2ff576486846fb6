// Package webhook tells an HTTP endpoint about approvals: each new request
// and each decision (approved, denied, expired) reported by an
// approval.Manager (ManagerOptions.OnEvent) is POSTed as a JSON body signed
// with HMAC-SHA256. Deliveries are retried with exponential backoff, one
// after the other, from a bounded queue: Notify never blocks, and drops
// (and logs and counts) an event when the queue is full.
//
// The body never holds a call's arguments, not even redacted: only the
// approval's id, tool, server, subject, grant, rule, status, times and
// decider.
//
// A request carries the headers
//
//	Toolgate-Event: approval.requested | approval.decided
//	Toolgate-Delivery: evt_...  (the same on every retry of one event)
//	Toolgate-Timestamp: Unix seconds when this attempt was signed
//	Toolgate-Signature: v1=HEX
//
// where HEX is the hex HMAC-SHA256, under the shared secret, of the
// timestamp, a ".", and the body's bytes (see Sign and Verify).
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/internal/outbound"
)

// Header names of a delivery.
const (
	HeaderEvent     = "Toolgate-Event"
	HeaderDelivery  = "Toolgate-Delivery"
	HeaderTimestamp = "Toolgate-Timestamp"
	HeaderSignature = "Toolgate-Signature"
)

// Defaults of Options.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultQueue      = 1000
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = time.Minute
	// MinSecretLen is the shortest secret Start accepts.
	MinSecretLen = 16
)

// Options configure a Sender.
type Options struct {
	// URL is the endpoint: https://, or http:// to a loopback host only
	// (127.0.0.0/8, ::1, localhost), since the body would otherwise cross
	// the network in the clear.
	URL string
	// Secret signs every delivery; at least MinSecretLen bytes.
	Secret []byte
	// Timeout bounds one attempt; DefaultTimeout when <= 0.
	Timeout time.Duration
	// Retries is how many times a failed attempt (no answer, or a status
	// other than 2xx) is tried again; 0 for never.
	Retries int
	// Queue bounds the events waiting to be sent; DefaultQueue when <= 0.
	Queue int
	// Backoff is the wait before the first retry, doubled before each
	// next one up to MaxBackoff; DefaultBackoff and DefaultMaxBackoff
	// when <= 0.
	Backoff, MaxBackoff time.Duration
	// Client sends the requests; by default one that follows no redirect
	// (a 3xx answer is a failure).
	Client *http.Client
	// Logger receives failures and drops; slog.Default() when nil.
	Logger *slog.Logger
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// CheckURL reports why u cannot be a webhook endpoint: it must be an
// absolute http:// or https:// URL without credentials or fragment, and
// http:// only to a loopback host (see outbound.CheckURL).
func CheckURL(u string) error { return outbound.CheckURL(u) }

// Body is the JSON document a delivery POSTs.
type Body struct {
	// ID identifies the event; retries of one event carry the same ID, so
	// a receiver can drop duplicates.
	ID string `json:"id"`
	// Type is "approval.requested" or "approval.decided".
	Type approval.EventType `json:"type"`
	// Time is when toolgate saw the event.
	Time time.Time `json:"time"`
	// Approval is the request, without its arguments.
	Approval Approval `json:"approval"`
}

// Approval is what a delivery says of a request: never its arguments.
type Approval struct {
	ID        string          `json:"id"`
	Tool      string          `json:"tool"`
	Server    string          `json:"server"`
	Subject   string          `json:"subject"`
	Grant     string          `json:"grant,omitempty"`
	Rule      string          `json:"rule"`
	Status    approval.Status `json:"status"` // pending, approved, denied or expired
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt time.Time       `json:"expires_at"`
	DecidedAt *time.Time      `json:"decided_at,omitempty"`
	DecidedBy string          `json:"decided_by,omitempty"` // the admin token's subject, or "timeout"
}

func approvalOf(r *approval.Request) Approval {
	return Approval{
		ID: r.ID, Tool: r.Tool, Server: r.Server, Subject: r.Subject, Grant: r.Grant, Rule: r.Rule,
		Status: r.Status, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, DecidedAt: r.DecidedAt, DecidedBy: r.DecidedBy,
	}
}

// Sign returns the Toolgate-Signature value of body sent at timestamp
// (the Toolgate-Timestamp value): "v1=" and the hex HMAC-SHA256 under
// secret of timestamp + "." + body.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a delivery as a receiver should: the signature matches
// (compared in constant time) and the timestamp is within tolerance of
// now, so that a recorded delivery cannot be replayed later.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("webhook: the timestamp is not a number of seconds")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook: the timestamp is %s away from now, more than %s", d.Round(time.Second), tolerance)
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return errors.New("webhook: the signature does not match")
	}
	return nil
}

// delivery is one event waiting to be sent.
type delivery struct {
	id, event string
	body      []byte
}

// Sender delivers events to one endpoint. It is safe for concurrent use.
type Sender struct {
	opts   Options
	client *http.Client
	log    *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	closed bool
	queue  chan delivery

	ctx       context.Context // ends when Close gives up on the queue
	cancel    context.CancelFunc
	drain     chan struct{} // closed by Close: send what is queued, then stop
	done      chan struct{} // closed when the worker stops
	closeOnce sync.Once

	delivered, failed, dropped atomic.Uint64
}

// Start checks opts and starts the Sender's worker. Call Close to stop it.
func Start(opts Options) (*Sender, error) {
	if err := CheckURL(opts.URL); err != nil {
		return nil, fmt.Errorf("webhook: url %w", err)
	}
	if len(opts.Secret) < MinSecretLen {
		return nil, fmt.Errorf("webhook: the secret must have at least %d bytes, it has %d", MinSecretLen, len(opts.Secret))
	}
	if opts.Retries < 0 {
		return nil, fmt.Errorf("webhook: retries must not be negative, got %d", opts.Retries)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	s := &Sender{opts: opts, client: opts.Client, log: opts.Logger, now: opts.Now,
		queue: make(chan delivery, opts.Queue), drain: make(chan struct{}), done: make(chan struct{})}
	if s.client == nil {
		s.client = outbound.NewClient()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// Notify queues e for delivery and returns at once. When the queue is
// full the event is dropped, logged and counted (Dropped). Events after
// Close are ignored. It fits approval.ManagerOptions.OnEvent.
func (s *Sender) Notify(e approval.Event) {
	if e.Request == nil {
		return
	}
	d, err := s.encode(e)
	if err != nil {
		s.log.Error("webhook: encoding an event failed", "approval", e.Request.ID, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.queue <- d:
	default:
		n := s.dropped.Add(1)
		s.log.Warn("webhook: queue full, dropping an event", "event", d.event, "approval", e.Request.ID,
			"queue", cap(s.queue), "dropped_total", n)
	}
}

func (s *Sender) encode(e approval.Event) (delivery, error) {
	var id [10]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand documents it)
	b := Body{ID: "evt_" + hex.EncodeToString(id[:]), Type: e.Type, Time: s.now().UTC(), Approval: approvalOf(e.Request)}
	body, err := json.Marshal(b)
	if err != nil {
		return delivery{}, err
	}
	return delivery{id: b.ID, event: string(e.Type), body: body}, nil
}

// Delivered, Failed and Dropped count the events sent (a 2xx answer),
// given up on after every retry, and dropped because the queue was full.
func (s *Sender) Delivered() uint64 { return s.delivered.Load() }

// Failed counts the events given up on after every retry.
func (s *Sender) Failed() uint64 { return s.failed.Load() }

// Dropped counts the events dropped because the queue was full.
func (s *Sender) Dropped() uint64 { return s.dropped.Load() }

// Close stops taking events and sends those queued until ctx ends; then
// it abandons the rest (logging how many) and returns once the worker has
// stopped.
func (s *Sender) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.drain)
	})
	select {
	case <-s.done:
	case <-ctx.Done():
		s.cancel()
		<-s.done
	}
	s.cancel()
	if n := len(s.queue); n > 0 {
		s.log.Warn("webhook: stopped with events not sent", "events", n)
	}
	return nil
}

func (s *Sender) run() {
	defer close(s.done)
	for {
		select {
		case d := <-s.queue:
			s.deliver(d)
		case <-s.drain:
			for {
				select {
				case d := <-s.queue:
					if s.ctx.Err() != nil {
						return
					}
					s.deliver(d)
				default:
					return
				}
			}
		}
	}
}

// deliver sends d, retrying with backoff, until it succeeds, the retries
// run out, or the Sender is closed.
func (s *Sender) deliver(d delivery) {
	r := outbound.Retry{Retries: s.opts.Retries, Backoff: s.opts.Backoff, MaxBackoff: s.opts.MaxBackoff}
	err := r.Do(s.ctx, func(ctx context.Context) error { return s.post(ctx, d) }, func(n int, err error) {
		s.log.Debug("webhook: attempt failed", "delivery", d.id, "attempt", n, "err", err)
	})
	switch {
	case err == nil:
		s.delivered.Add(1)
	case s.ctx.Err() != nil:
		// Closed: Close reports what was left.
	default:
		s.failed.Add(1)
		s.log.Warn("webhook: giving up on an event", "event", d.event, "delivery", d.id, "attempts", s.opts.Retries+1, "err", err)
	}
}

// post makes one attempt.
func (s *Sender) post(ctx context.Context, d delivery) error {
	ts := strconv.FormatInt(s.now().Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "toolgate-webhook/1")
	h.Set(HeaderEvent, d.event)
	h.Set(HeaderDelivery, d.id)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Sign(s.opts.Secret, ts, d.body))
	return outbound.Post(ctx, s.client, s.opts.URL, h, d.body, s.opts.Timeout)
}
