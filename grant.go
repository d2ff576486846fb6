package toolgate

import (
	"context"
	"maps"
	"slices"
	"time"
)

// TokenHashSize is the size of a TokenHash: a SHA-256 digest.
const TokenHashSize = 32

// TokenHash is the SHA-256 digest of a grant's bearer token. Stores keep
// only this digest; the token itself is shown once, when it is issued, and
// never stored.
type TokenHash [TokenHashSize]byte

// IsZero reports whether h is the zero hash, which no token has.
func (h TokenHash) IsZero() bool { return h == TokenHash{} }

// Grant binds a bearer token to who uses it (Subject) and what they may do
// (Policy, Servers). It is the caller's identity once its token is
// verified. A grant is never deleted: revoking it keeps the record, so the
// audit log's grant ids stay meaningful.
type Grant struct {
	// ID names the grant: "gr_" and 12 random lowercase base32 characters.
	ID string `json:"id"`
	// TokenHash is the digest of the grant's current token. It never
	// appears in JSON.
	TokenHash TokenHash `json:"-"`
	// Subject names who uses the grant: "alice@example.com",
	// "agent:support-bot".
	Subject string `json:"subject"`
	// Policy is the name of the policy (a key of the configuration's
	// policies) that decides the grant's calls.
	Policy string `json:"policy"`
	// Labels are attributes that conditions can read
	// (identity.labels.team == "support").
	Labels map[string]string `json:"labels,omitempty"`
	// Servers are the upstream servers the grant may reach; empty means
	// every configured server.
	Servers []string `json:"servers,omitempty"`
	// CreatedAt is when the grant was created.
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the grant's token stops working; zero for never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// LastUsedAt is when the token was last verified, to within the
	// interval at which verifiers record it; zero for never.
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	// RotatedAt is when the token was last replaced; zero for never.
	RotatedAt time.Time `json:"rotated_at,omitzero"`
	// Revoked is set once the grant is revoked, which is final.
	Revoked bool `json:"revoked"`
	// RevokedAt is when the grant was revoked; zero while it is not.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Expired reports whether the grant has an expiry and now is at or past it.
func (g *Grant) Expired(now time.Time) bool {
	return !g.ExpiresAt.IsZero() && !now.Before(g.ExpiresAt)
}

// Active reports whether the grant's token is accepted at now: neither
// revoked nor expired.
func (g *Grant) Active(now time.Time) bool { return !g.Revoked && !g.Expired(now) }

// Status names where the grant stands at now: "revoked", "expired" or
// "active".
func (g *Grant) Status(now time.Time) string {
	switch {
	case g.Revoked:
		return "revoked"
	case g.Expired(now):
		return "expired"
	}
	return "active"
}

// AllowsServer reports whether the grant may reach the named upstream
// server: every server when Servers is empty.
func (g *Grant) AllowsServer(name string) bool {
	return len(g.Servers) == 0 || slices.Contains(g.Servers, name)
}

// Identity is the identity of a caller who presented the grant's token.
func (g *Grant) Identity() *Identity {
	return &Identity{Subject: g.Subject, Grant: g.ID, Policy: g.Policy, Labels: maps.Clone(g.Labels)}
}

// Clone returns a deep copy of g.
func (g *Grant) Clone() *Grant {
	c := *g
	c.Labels = maps.Clone(g.Labels)
	c.Servers = slices.Clone(g.Servers)
	return &c
}

// GrantStore keeps grants. Its errors are *Error values with the code
// NotFound for an unknown id or hash and Conflict for an id or token hash
// already taken or a change a grant's state forbids; other failures wrap
// the cause. Implementations are safe for concurrent use and return
// copies: changing a returned Grant changes nothing in the store.
type GrantStore interface {
	// Create stores a new grant; g.ID and g.TokenHash must be set.
	Create(ctx context.Context, g *Grant) error
	// Get returns the grant with id.
	Get(ctx context.Context, id string) (*Grant, error)
	// ByTokenHash returns the grant whose current token has the hash h.
	ByTokenHash(ctx context.Context, h TokenHash) (*Grant, error)
	// List returns every grant, revoked ones included, oldest first.
	List(ctx context.Context) ([]*Grant, error)
	// Revoke marks the grant revoked at at. Revoking a revoked grant
	// changes nothing and is not an error.
	Revoke(ctx context.Context, id string, at time.Time) (*Grant, error)
	// Rotate replaces the grant's token hash with h at at, in one step:
	// the old token stops working at once. A revoked grant cannot be
	// rotated (Conflict).
	Rotate(ctx context.Context, id string, h TokenHash, at time.Time) (*Grant, error)
	// SetPolicy makes policy the grant's policy. A revoked grant cannot
	// change (Conflict).
	SetPolicy(ctx context.Context, id, policy string) (*Grant, error)
	// Touch records that the grant was used at at, unless a later use is
	// recorded already.
	Touch(ctx context.Context, id string, at time.Time) error
	// Epoch returns a number that moves on with every change that can
	// refuse a token accepted before it (Revoke, Rotate, SetPolicy), made
	// through any handle on the same store, in any process. A verifier
	// that caches what it verified polls it and forgets its cache when it
	// moves.
	Epoch(ctx context.Context) (uint64, error)
}
