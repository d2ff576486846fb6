package approval

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/toolgate/toolgate/redact"
)

// ManagerOptions configures a Manager. The zero value is usable.
type ManagerOptions struct {
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Poll is how often waiters re-read the store, so that a decision
	// written by another process or replica is seen; 1s when <= 0.
	Poll time.Duration
	// ValidFor is how long after its approval an approved request may
	// still release a retried call (TakeApproved); DefaultValidFor when
	// <= 0.
	ValidFor time.Duration
	// OnEvent, when set, is told of every request created and every
	// decision (approved, denied, expired) this Manager makes or sees
	// through Expire. It is called synchronously and must not block.
	OnEvent func(Event)
}

// DefaultValidFor is how long an approval can release a retried call
// when ManagerOptions.ValidFor is not set.
const DefaultValidFor = 10 * time.Minute

// EventType names what happened to a request.
type EventType string

// The events a Manager reports to ManagerOptions.OnEvent.
const (
	// EventRequested: a new pending request.
	EventRequested EventType = "approval.requested"
	// EventDecided: a request was approved, denied or expired.
	EventDecided EventType = "approval.decided"
)

// Event is one change of a request. Request is a copy that the receiver
// may keep; its Args are redacted, but a receiver that sends the event
// elsewhere should leave them out all the same.
type Event struct {
	Type    EventType
	Request *Request
}

// Manager creates requests and lets callers wait for decisions. It is safe
// for concurrent use.
type Manager struct {
	store    Store
	now      func() time.Time
	poll     time.Duration
	validFor time.Duration
	onEvent  func(Event)

	mu    sync.Mutex
	wakes map[string]*wake // by request ID, while someone waits
}

// wake is closed (ch) when the request is decided through this Manager.
type wake struct {
	ch      chan struct{}
	waiters int
}

// NewManager returns a Manager over store. opts may be nil.
func NewManager(store Store, opts *ManagerOptions) *Manager {
	m := &Manager{store: store, now: time.Now, poll: time.Second, validFor: DefaultValidFor, wakes: map[string]*wake{}}
	if opts != nil {
		if opts.Now != nil {
			m.now = opts.Now
		}
		if opts.Poll > 0 {
			m.poll = opts.Poll
		}
		if opts.ValidFor > 0 {
			m.validFor = opts.ValidFor
		}
		m.onEvent = opts.OnEvent
	}
	return m
}

// ValidFor is how long after its approval a request may release a
// retried call.
func (m *Manager) ValidFor() time.Duration { return m.validFor }

// emit reports an event to OnEvent.
func (m *Manager) emit(t EventType, r *Request) {
	if m.onEvent != nil && r != nil {
		m.onEvent(Event{Type: t, Request: r.clone()})
	}
}

// Request stores a new pending request built from r (which is not
// modified): ID, Status, CreatedAt, ExpiresAt (now + timeout), ArgsHash and
// Args are filled from args; decision fields are cleared. Args are args
// with secrets masked by rd (the policy rule's redact pointers, on top of
// the redact package's rules; nil for those rules alone). The hash is of
// the unmasked args.
func (m *Manager) Request(ctx context.Context, r *Request, args map[string]any, rd *redact.Redactor, timeout time.Duration) (*Request, error) {
	if r == nil || r.Tool == "" {
		return nil, errors.New("approval: request needs a tool")
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("approval: request %s: timeout must be positive, got %v", r.Tool, timeout)
	}
	hash, err := m.hash(ctx, args)
	if err != nil {
		return nil, fmt.Errorf("approval: request %s: %w", r.Tool, err)
	}
	now := utc(m.now())
	n := r.clone()
	n.ID = newID()
	n.Args = rd.Args(args)
	n.ArgsHash = hash
	n.Status = Pending
	n.CreatedAt = now
	n.ExpiresAt = now.Add(timeout)
	n.DecidedAt, n.DecidedBy, n.Reason = nil, "", ""
	if err := m.store.Create(ctx, n); err != nil {
		return nil, err
	}
	m.emit(EventRequested, n)
	return n.clone(), nil
}

// Ask returns the pending request of the same call as r (same tool,
// subject and grant, same arguments) when there is one that has not
// expired, and otherwise stores a new one as Request does; created
// reports which. An agent that calls again while its first call waits
// thus joins the approval already put to a human instead of asking again.
func (m *Manager) Ask(ctx context.Context, r *Request, args map[string]any, rd *redact.Redactor, timeout time.Duration) (req *Request, created bool, err error) {
	if r == nil || r.Tool == "" {
		return nil, false, errors.New("approval: request needs a tool")
	}
	hash, err := m.hash(ctx, args)
	if err != nil {
		return nil, false, fmt.Errorf("approval: request %s: %w", r.Tool, err)
	}
	p, err := m.store.FindPending(ctx, Match{Tool: r.Tool, Subject: r.Subject, Grant: r.Grant, ArgsHash: hash}, m.now())
	if err != nil {
		return nil, false, err
	}
	if p != nil {
		return p, false, nil
	}
	n, err := m.Request(ctx, r, args, rd, timeout)
	return n, err == nil, err
}

// Wait blocks until request id is decided or expires, or ctx ends.
//
// An expired request is marked Expired in the store with DecidedBy
// "timeout" and returned with a nil error, as are denied ones. An approved
// request is marked used before it is returned, so that it releases this
// one call only: if the approval was already used (taken by a retry via
// TakeApproved, or returned by another Wait), Wait returns an error
// wrapping ErrUsed. When ctx ends Wait returns ctx.Err() and the request
// stays pending until it expires.
//
// Decisions made through this Manager wake waiters at once; others are
// seen within Poll.
func (m *Manager) Wait(ctx context.Context, id string) (*Request, error) {
	for {
		w := m.acquire(id)
		r, err := m.store.Get(ctx, id)
		if err != nil {
			m.release(id, w)
			return nil, err
		}
		if r.Status != Pending {
			m.release(id, w)
			return m.finish(ctx, r)
		}
		now := m.now()
		if !now.Before(r.ExpiresAt) {
			m.release(id, w)
			e, err := m.store.Decide(ctx, id, Expired, "timeout", "", now)
			if errors.Is(err, ErrNotPending) {
				continue // decided meanwhile: read it again
			}
			if err != nil {
				return nil, err
			}
			m.notify(id)
			m.emit(EventDecided, e)
			return e, nil
		}
		t := time.NewTimer(min(m.poll, r.ExpiresAt.Sub(now)))
		select {
		case <-w.ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			m.release(id, w)
			return nil, ctx.Err()
		}
		t.Stop()
		m.release(id, w)
	}
}

// finish marks an approved request used; other decided requests are
// returned as they are.
func (m *Manager) finish(ctx context.Context, r *Request) (*Request, error) {
	if r.Status != Approved {
		return r, nil
	}
	var ok bool
	var err error
	if c, isClaimer := m.store.(claimer); isClaimer {
		ok, err = c.claim(ctx, r.ID, m.now())
	} else {
		var t *Request
		t, err = m.store.TakeApproved(ctx, MatchOf(r), time.Time{}, m.now())
		ok = t != nil
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("approval: wait %s: %w", r.ID, ErrUsed)
	}
	return r, nil
}

// Decide approves or denies pending request id at the Manager's current
// time and wakes its waiters. A request past its ExpiresAt is marked
// Expired instead and an error wrapping ErrNotPending is returned.
func (m *Manager) Decide(ctx context.Context, id string, approve bool, by, reason string) (*Request, error) {
	r, err := m.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status != Pending {
		return nil, fmt.Errorf("approval: decide %s (%s): %w", id, r.Status, ErrNotPending)
	}
	now := m.now()
	if !now.Before(r.ExpiresAt) {
		e, err := m.store.Decide(ctx, id, Expired, "timeout", "", now)
		if err != nil {
			return nil, err
		}
		m.notify(id)
		m.emit(EventDecided, e)
		return nil, fmt.Errorf("approval: decide %s (expired): %w", id, ErrNotPending)
	}
	to := Denied
	if approve {
		to = Approved
	}
	d, err := m.store.Decide(ctx, id, to, by, reason, now)
	if err != nil {
		return nil, err
	}
	m.notify(id)
	m.emit(EventDecided, d)
	return d, nil
}

// Expire marks every pending request past its ExpiresAt expired, wakes
// their waiters and reports each to OnEvent; it returns how many there
// were. A request nobody waits for any more (its call gave up) expires
// only this way, so the gateway calls Expire every few seconds.
func (m *Manager) Expire(ctx context.Context) (int, error) {
	due, err := m.store.ExpireDue(ctx, m.now())
	if err != nil {
		return 0, err
	}
	for _, r := range due {
		m.notify(r.ID)
		m.emit(EventDecided, r)
	}
	return len(due), nil
}

// Get returns request id.
func (m *Manager) Get(ctx context.Context, id string) (*Request, error) {
	return m.store.Get(ctx, id)
}

// List returns requests with status (all when ""), newest first, at most
// limit (100 when limit <= 0).
func (m *Manager) List(ctx context.Context, status Status, limit int) ([]*Request, error) {
	return m.store.List(ctx, status, limit)
}

// TakeApproved returns an approved request for the same call (tool,
// subject, grant and arguments) that was approved at most ValidFor ago and
// has not released a call yet, and marks it used; nil, nil when there is
// none. The gateway calls it first for every call that needs an approval,
// so that an agent retrying a call approved after its first attempt stopped
// waiting goes through, exactly once, even when several retries race.
func (m *Manager) TakeApproved(ctx context.Context, tool, subject, grant string, args map[string]any) (*Request, error) {
	hash, err := m.hash(ctx, args)
	if err != nil {
		return nil, err
	}
	now := m.now()
	return m.store.TakeApproved(ctx, Match{Tool: tool, Subject: subject, Grant: grant, ArgsHash: hash}, now.Add(-m.validFor), now)
}

// hash computes the argument hash under the store's key.
func (m *Manager) hash(ctx context.Context, args map[string]any) (string, error) {
	key, err := m.store.Key(ctx)
	if err != nil {
		return "", fmt.Errorf("approval: argument hash key: %w", err)
	}
	return HashArgs(key, args)
}

func (m *Manager) acquire(id string) *wake {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.wakes[id]
	if w == nil {
		w = &wake{ch: make(chan struct{})}
		m.wakes[id] = w
	}
	w.waiters++
	return w
}

func (m *Manager) release(id string, w *wake) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.waiters--
	if w.waiters == 0 && m.wakes[id] == w {
		delete(m.wakes, id)
	}
}

func (m *Manager) notify(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.wakes[id]; w != nil {
		close(w.ch)
		delete(m.wakes, id)
	}
}
