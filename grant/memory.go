package grant

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/internal/tokentable"
)

// Memory is a GrantStore in memory, for tests and for trying toolgate out:
// its grants are gone when the process ends.
type Memory struct {
	t     *tokentable.Table[*toolgate.Grant]
	epoch atomic.Uint64
}

var _ toolgate.GrantStore = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{t: tokentable.New((*toolgate.Grant).Clone, func(g *toolgate.Grant) tokentable.Key {
		return tokentable.Key{ID: g.ID, Hash: g.TokenHash, Created: g.CreatedAt}
	})}
}

// Create stores a copy of g.
func (m *Memory) Create(_ context.Context, g *toolgate.Grant) error {
	if err := checkNew(g); err != nil {
		return err
	}
	switch idTaken, hashTaken := m.t.Insert(g); {
	case idTaken:
		return errExists(g.ID)
	case hashTaken:
		return errHashTaken()
	}
	return nil
}

// Get returns the grant with id.
func (m *Memory) Get(_ context.Context, id string) (*toolgate.Grant, error) {
	g, ok := m.t.Get(id)
	if !ok {
		return nil, errNotFound(id)
	}
	return g, nil
}

// ByTokenHash returns the grant whose current token has the hash h.
func (m *Memory) ByTokenHash(_ context.Context, h toolgate.TokenHash) (*toolgate.Grant, error) {
	g, ok := m.t.ByHash(h)
	if !ok {
		return nil, errNoHash()
	}
	return g, nil
}

// List returns every grant, oldest first.
func (m *Memory) List(context.Context) ([]*toolgate.Grant, error) {
	return m.t.List(), nil
}

// change applies fn to the grant with id and counts a change that can
// refuse a token.
func (m *Memory) change(id string, fn func(*toolgate.Grant) error) (*toolgate.Grant, error) {
	g, found, err := m.t.Update(id, func(g *toolgate.Grant) error {
		if err := fn(g); err != nil {
			return err
		}
		// Under the table's lock, so that nobody sees the change
		// before the epoch that announces it (a refused hash makes the
		// count one too many, which only costs a cache refresh).
		m.epoch.Add(1)
		return nil
	})
	switch {
	case !found:
		return nil, errNotFound(id)
	case errors.Is(err, tokentable.ErrHashTaken):
		return nil, errHashTaken()
	case err != nil:
		return nil, err
	}
	return g, nil
}

// Revoke marks the grant revoked.
func (m *Memory) Revoke(_ context.Context, id string, at time.Time) (*toolgate.Grant, error) {
	return m.change(id, func(g *toolgate.Grant) error {
		if !g.Revoked {
			g.Revoked, g.RevokedAt = true, at.UTC()
		}
		return nil
	})
}

// Rotate replaces the grant's token hash.
func (m *Memory) Rotate(_ context.Context, id string, h toolgate.TokenHash, at time.Time) (*toolgate.Grant, error) {
	if h.IsZero() {
		return nil, errZeroHash()
	}
	return m.change(id, func(g *toolgate.Grant) error {
		if g.Revoked {
			return errRevoked(id)
		}
		g.TokenHash, g.RotatedAt = h, at.UTC()
		return nil
	})
}

// SetPolicy makes policy the grant's policy.
func (m *Memory) SetPolicy(_ context.Context, id, policy string) (*toolgate.Grant, error) {
	if err := checkText("policy", policy, MaxPolicyLen); err != nil {
		return nil, err
	}
	return m.change(id, func(g *toolgate.Grant) error {
		if g.Revoked {
			return errRevoked(id)
		}
		g.Policy = policy
		return nil
	})
}

// Epoch returns the count of changes that can refuse a token.
func (m *Memory) Epoch(context.Context) (uint64, error) {
	return m.epoch.Load(), nil
}

// Touch records a use of the grant at at, unless a later one is recorded.
func (m *Memory) Touch(_ context.Context, id string, at time.Time) error {
	_, found, _ := m.t.Update(id, func(g *toolgate.Grant) error {
		if at.After(g.LastUsedAt) {
			g.LastUsedAt = at.UTC()
		}
		return nil
	})
	if !found {
		return errNotFound(id)
	}
	return nil
}

// checkNew checks what every store needs of a new grant.
func checkNew(g *toolgate.Grant) error {
	switch {
	case g == nil:
		return toolgate.Errorf(toolgate.Invalid, "grant: no grant to create")
	case !ValidID(g.ID):
		return toolgate.Errorf(toolgate.Invalid, "grant: invalid id %q (want %s and %d base32 characters)", g.ID, IDPrefix, idChars)
	case g.TokenHash.IsZero():
		return errZeroHash()
	case g.Subject == "" || g.Policy == "":
		return toolgate.Errorf(toolgate.Invalid, "grant %s: subject and policy are required", g.ID)
	case g.CreatedAt.IsZero():
		return toolgate.Errorf(toolgate.Invalid, "grant %s: no creation time", g.ID)
	case g.Revoked:
		return toolgate.Errorf(toolgate.Invalid, "grant %s: a new grant cannot be revoked", g.ID)
	}
	return nil
}

func errNotFound(id string) error {
	return toolgate.Errorf(toolgate.NotFound, "grant %s not found", id)
}

func errNoHash() error {
	return toolgate.Errorf(toolgate.NotFound, "no grant has this token")
}

func errExists(id string) error {
	return toolgate.Errorf(toolgate.Conflict, "grant %s exists already", id)
}

func errHashTaken() error {
	return toolgate.Errorf(toolgate.Conflict, "another grant has this token")
}

func errRevoked(id string) error {
	return toolgate.Errorf(toolgate.Conflict, "grant %s is revoked; create a new grant instead", id)
}

func errZeroHash() error {
	return toolgate.Errorf(toolgate.Invalid, "grant: no token hash")
}
