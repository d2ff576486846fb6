package approval

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ManagerOptions configures a Manager. The zero value is usable.
type ManagerOptions struct {
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Poll is how often waiters re-read the store, so that a decision
	// written by another process or replica is seen; 1s when <= 0.
	Poll time.Duration
}

// Manager creates requests and lets callers wait for decisions. It is safe
// for concurrent use.
type Manager struct {
	store Store
	now   func() time.Time
	poll  time.Duration

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
	m := &Manager{store: store, now: time.Now, poll: time.Second, wakes: map[string]*wake{}}
	if opts != nil {
		if opts.Now != nil {
			m.now = opts.Now
		}
		if opts.Poll > 0 {
			m.poll = opts.Poll
		}
	}
	return m
}

// Request stores a new pending request built from r (which is not
// modified): ID, Status, CreatedAt, ExpiresAt (now + timeout), ArgsHash and
// the redacted Args are filled from args; decision fields are cleared.
func (m *Manager) Request(ctx context.Context, r *Request, args map[string]any, timeout time.Duration) (*Request, error) {
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
	n.Args = Redact(args)
	n.ArgsHash = hash
	n.Status = Pending
	n.CreatedAt = now
	n.ExpiresAt = now.Add(timeout)
	n.DecidedAt, n.DecidedBy, n.Reason = nil, "", ""
	if err := m.store.Create(ctx, n); err != nil {
		return nil, err
	}
	return n.clone(), nil
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
		t, err = m.store.TakeApproved(ctx, r.Tool, r.Subject, r.ArgsHash, m.now())
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
		if _, err := m.store.Decide(ctx, id, Expired, "timeout", "", now); err != nil {
			return nil, err
		}
		m.notify(id)
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
	return d, nil
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

// TakeApproved returns an approved, unexpired request for the same tool,
// subject and arguments that has not released a call yet, and marks it
// used; nil, nil when there is none. The gateway calls it when an agent
// retries a call that was approved after its first attempt gave up (for
// example across a restart).
func (m *Manager) TakeApproved(ctx context.Context, tool, subject string, args map[string]any) (*Request, error) {
	hash, err := m.hash(ctx, args)
	if err != nil {
		return nil, err
	}
	return m.store.TakeApproved(ctx, tool, subject, hash, m.now())
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
