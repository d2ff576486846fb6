package approval

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// memoryStore is a Store in process memory.
type memoryStore struct {
	key  []byte // argument hash key, generated at construction
	mu   sync.Mutex
	reqs map[string]*memoryEntry
}

type memoryEntry struct {
	r    *Request
	used bool
}

var _ claimer = (*memoryStore)(nil)

// NewMemoryStore returns an empty Store kept in process memory: for tests
// and single-process gateways that accept losing pending approvals on
// restart.
func NewMemoryStore() Store {
	return &memoryStore{key: newKey(), reqs: map[string]*memoryEntry{}}
}

// Key returns the argument hash key generated with the store.
func (s *memoryStore) Key(context.Context) ([]byte, error) { return s.key, nil }

func normalize(r *Request) *Request {
	c := r.clone()
	c.CreatedAt, c.ExpiresAt = utc(c.CreatedAt), utc(c.ExpiresAt)
	if c.DecidedAt != nil {
		t := utc(*c.DecidedAt)
		c.DecidedAt = &t
	}
	return c
}

func (s *memoryStore) Create(_ context.Context, r *Request) error {
	if err := checkNew(r); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.reqs[r.ID]; ok {
		return fmt.Errorf("approval: create %s: duplicate ID", r.ID)
	}
	s.reqs[r.ID] = &memoryEntry{r: normalize(r)}
	return nil
}

func (s *memoryStore) Get(_ context.Context, id string) (*Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.reqs[id]
	if !ok {
		return nil, fmt.Errorf("approval: get %s: %w", id, ErrNotFound)
	}
	return e.r.clone(), nil
}

func (s *memoryStore) List(_ context.Context, status Status, limit int) ([]*Request, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	s.mu.Lock()
	out := []*Request{}
	for _, e := range s.reqs {
		if status == "" || e.r.Status == status {
			out = append(out, e.r.clone())
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *memoryStore) Decide(_ context.Context, id string, to Status, by, reason string, at time.Time) (*Request, error) {
	if err := checkDecision(to); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.reqs[id]
	if !ok {
		return nil, fmt.Errorf("approval: decide %s: %w", id, ErrNotFound)
	}
	if e.r.Status != Pending {
		return nil, fmt.Errorf("approval: decide %s (%s): %w", id, e.r.Status, ErrNotPending)
	}
	at = utc(at)
	e.r.Status, e.r.DecidedAt, e.r.DecidedBy, e.r.Reason = to, &at, by, reason
	return e.r.clone(), nil
}

func (s *memoryStore) TakeApproved(_ context.Context, m Match, since, _ time.Time) (*Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *memoryEntry
	for _, e := range s.reqs {
		r := e.r
		if e.used || r.Status != Approved || !m.matches(r) || r.DecidedAt == nil || r.DecidedAt.Before(since) {
			continue
		}
		if best == nil || older(r, best.r) {
			best = e
		}
	}
	if best == nil {
		return nil, nil
	}
	best.used = true
	return best.r.clone(), nil
}

func (s *memoryStore) FindPending(_ context.Context, m Match, now time.Time) (*Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *Request
	for _, e := range s.reqs {
		r := e.r
		if r.Status != Pending || !m.matches(r) || !r.ExpiresAt.After(now) {
			continue
		}
		if best == nil || r.CreatedAt.After(best.CreatedAt) || (r.CreatedAt.Equal(best.CreatedAt) && r.ID > best.ID) {
			best = r
		}
	}
	if best == nil {
		return nil, nil
	}
	return best.clone(), nil
}

func (s *memoryStore) ExpireDue(_ context.Context, now time.Time) ([]*Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := utc(now)
	var out []*Request
	for _, e := range s.reqs {
		r := e.r
		if r.Status != Pending || r.ExpiresAt.After(now) {
			continue
		}
		t := at
		r.Status, r.DecidedAt, r.DecidedBy, r.Reason = Expired, &t, "timeout", ""
		out = append(out, r.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// older orders the candidates of TakeApproved: first decided, then first
// created, then by ID.
func older(a, b *Request) bool {
	switch {
	case !a.DecidedAt.Equal(*b.DecidedAt):
		return a.DecidedAt.Before(*b.DecidedAt)
	case !a.CreatedAt.Equal(b.CreatedAt):
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

func (s *memoryStore) claim(_ context.Context, id string, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.reqs[id]
	if !ok {
		return false, fmt.Errorf("approval: claim %s: %w", id, ErrNotFound)
	}
	if e.used || e.r.Status != Approved {
		return false, nil
	}
	e.used = true
	return true, nil
}

func (s *memoryStore) Close() error { return nil }
