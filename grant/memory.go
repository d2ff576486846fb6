package grant

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/toolgate/toolgate"
)

// Memory is a GrantStore in memory, for tests and for trying toolgate out:
// its grants are gone when the process ends.
type Memory struct {
	mu     sync.Mutex
	byID   map[string]*toolgate.Grant
	byHash map[toolgate.TokenHash]string // token hash → grant id
	epoch  uint64
}

var _ toolgate.GrantStore = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{byID: map[string]*toolgate.Grant{}, byHash: map[toolgate.TokenHash]string{}}
}

// Create stores a copy of g.
func (m *Memory) Create(_ context.Context, g *toolgate.Grant) error {
	if err := checkNew(g); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[g.ID]; ok {
		return errExists(g.ID)
	}
	if _, ok := m.byHash[g.TokenHash]; ok {
		return errHashTaken()
	}
	m.byID[g.ID] = g.Clone()
	m.byHash[g.TokenHash] = g.ID
	return nil
}

// Get returns the grant with id.
func (m *Memory) Get(_ context.Context, id string) (*toolgate.Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.byID[id]
	if !ok {
		return nil, errNotFound(id)
	}
	return g.Clone(), nil
}

// ByTokenHash returns the grant whose current token has the hash h.
func (m *Memory) ByTokenHash(_ context.Context, h toolgate.TokenHash) (*toolgate.Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.byHash[h]
	if !ok {
		return nil, errNoHash()
	}
	return m.byID[id].Clone(), nil
}

// List returns every grant, oldest first.
func (m *Memory) List(context.Context) ([]*toolgate.Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*toolgate.Grant, 0, len(m.byID))
	for _, g := range m.byID {
		out = append(out, g.Clone())
	}
	slices.SortFunc(out, func(a, b *toolgate.Grant) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Revoke marks the grant revoked.
func (m *Memory) Revoke(_ context.Context, id string, at time.Time) (*toolgate.Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.byID[id]
	if !ok {
		return nil, errNotFound(id)
	}
	if !g.Revoked {
		g.Revoked, g.RevokedAt = true, at.UTC()
	}
	m.epoch++
	return g.Clone(), nil
}

// Rotate replaces the grant's token hash.
func (m *Memory) Rotate(_ context.Context, id string, h toolgate.TokenHash, at time.Time) (*toolgate.Grant, error) {
	if h.IsZero() {
		return nil, errZeroHash()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.byID[id]
	if !ok {
		return nil, errNotFound(id)
	}
	if g.Revoked {
		return nil, errRevoked(id)
	}
	if _, ok := m.byHash[h]; ok {
		return nil, errHashTaken()
	}
	delete(m.byHash, g.TokenHash)
	g.TokenHash, g.RotatedAt = h, at.UTC()
	m.byHash[h] = id
	m.epoch++
	return g.Clone(), nil
}

// SetPolicy makes policy the grant's policy.
func (m *Memory) SetPolicy(_ context.Context, id, policy string) (*toolgate.Grant, error) {
	if err := checkText("policy", policy, MaxPolicyLen); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.byID[id]
	if !ok {
		return nil, errNotFound(id)
	}
	if g.Revoked {
		return nil, errRevoked(id)
	}
	g.Policy = policy
	m.epoch++
	return g.Clone(), nil
}

// Epoch returns the count of changes that can refuse a token.
func (m *Memory) Epoch(context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.epoch, nil
}

// Touch records a use of the grant at at, unless a later one is recorded.
func (m *Memory) Touch(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.byID[id]
	if !ok {
		return errNotFound(id)
	}
	if at.After(g.LastUsedAt) {
		g.LastUsedAt = at.UTC()
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
