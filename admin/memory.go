package admin

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/toolgate/toolgate"
)

// Memory is a Store in memory, for tests: its tokens are gone when the
// process ends.
type Memory struct {
	mu     sync.Mutex
	byID   map[string]*Token
	byHash map[toolgate.TokenHash]string
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{byID: map[string]*Token{}, byHash: map[toolgate.TokenHash]string{}}
}

// Create stores a copy of t.
func (m *Memory) Create(_ context.Context, t *Token) error {
	if err := checkNew(t); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[t.ID]; ok {
		return errExists(t.ID)
	}
	if _, ok := m.byHash[t.Hash]; ok {
		return errHashTaken()
	}
	m.byID[t.ID] = t.Clone()
	m.byHash[t.Hash] = t.ID
	return nil
}

// Get returns the token with id.
func (m *Memory) Get(_ context.Context, id string) (*Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.byID[id]
	if !ok {
		return nil, errNotFound(id)
	}
	return t.Clone(), nil
}

// ByHash returns the token whose hash is h.
func (m *Memory) ByHash(_ context.Context, h toolgate.TokenHash) (*Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.byHash[h]
	if !ok {
		return nil, errNoHash()
	}
	return m.byID[id].Clone(), nil
}

// List returns every token, oldest first.
func (m *Memory) List(context.Context) ([]*Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Token, 0, len(m.byID))
	for _, t := range m.byID {
		out = append(out, t.Clone())
	}
	slices.SortFunc(out, func(a, b *Token) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Revoke marks the token revoked.
func (m *Memory) Revoke(_ context.Context, id string, at time.Time) (*Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.byID[id]
	if !ok {
		return nil, errNotFound(id)
	}
	if !t.Revoked {
		t.Revoked, t.RevokedAt = true, at.UTC()
	}
	return t.Clone(), nil
}

// checkNew checks what every store needs of a new token.
func checkNew(t *Token) error {
	switch {
	case t == nil:
		return toolgate.Errorf(toolgate.Invalid, "admin: no token to create")
	case !ValidID(t.ID):
		return toolgate.Errorf(toolgate.Invalid, "admin: invalid token id %q (want %s and 12 base32 characters)", t.ID, IDPrefix)
	case t.Hash.IsZero():
		return toolgate.Errorf(toolgate.Invalid, "admin token %s: no token hash", t.ID)
	case CheckSubject(t.Subject) != nil:
		return CheckSubject(t.Subject)
	case !t.Role.Valid():
		return toolgate.Errorf(toolgate.Invalid, "admin token %s: invalid role %q", t.ID, t.Role)
	case t.CreatedAt.IsZero():
		return toolgate.Errorf(toolgate.Invalid, "admin token %s: no creation time", t.ID)
	case !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(t.CreatedAt):
		return toolgate.Errorf(toolgate.Invalid, "admin token %s: expires at %s, not after its creation", t.ID, t.ExpiresAt.UTC().Format(time.RFC3339))
	case t.Revoked:
		return toolgate.Errorf(toolgate.Invalid, "admin token %s: a new token cannot be revoked", t.ID)
	}
	return nil
}

func errNotFound(id string) error {
	return toolgate.Errorf(toolgate.NotFound, "admin token %s not found", id)
}

func errNoHash() error { return toolgate.Errorf(toolgate.NotFound, "no admin token has this hash") }

func errExists(id string) error {
	return toolgate.Errorf(toolgate.Conflict, "admin token %s exists already", id)
}

func errHashTaken() error {
	return toolgate.Errorf(toolgate.Conflict, "another admin token has this hash")
}
