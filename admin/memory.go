package admin

import (
	"context"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/internal/tokentable"
)

// Memory is a Store in memory, for tests: its tokens are gone when the
// process ends.
type Memory struct {
	t *tokentable.Table[*Token]
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{t: tokentable.New((*Token).Clone, func(t *Token) tokentable.Key {
		return tokentable.Key{ID: t.ID, Hash: t.Hash, Created: t.CreatedAt}
	})}
}

// Create stores a copy of t.
func (m *Memory) Create(_ context.Context, t *Token) error {
	if err := checkNew(t); err != nil {
		return err
	}
	switch idTaken, hashTaken := m.t.Insert(t); {
	case idTaken:
		return errExists(t.ID)
	case hashTaken:
		return errHashTaken()
	}
	return nil
}

// Get returns the token with id.
func (m *Memory) Get(_ context.Context, id string) (*Token, error) {
	t, ok := m.t.Get(id)
	if !ok {
		return nil, errNotFound(id)
	}
	return t, nil
}

// ByHash returns the token whose hash is h.
func (m *Memory) ByHash(_ context.Context, h toolgate.TokenHash) (*Token, error) {
	t, ok := m.t.ByHash(h)
	if !ok {
		return nil, errNoHash()
	}
	return t, nil
}

// List returns every token, oldest first.
func (m *Memory) List(context.Context) ([]*Token, error) {
	return m.t.List(), nil
}

// Revoke marks the token revoked.
func (m *Memory) Revoke(_ context.Context, id string, at time.Time) (*Token, error) {
	t, found, _ := m.t.Update(id, func(t *Token) error {
		if !t.Revoked {
			t.Revoked, t.RevokedAt = true, at.UTC()
		}
		return nil
	})
	if !found {
		return nil, errNotFound(id)
	}
	return t, nil
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
