package admin

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/grant"
)

// TokenPrefix starts every admin token; a grant token ("tg_") is never
// accepted as one.
const TokenPrefix = "tga_"

// IDPrefix starts every admin token's id.
const IDPrefix = "adm_"

// MaxSubjectLen bounds a token's subject.
const MaxSubjectLen = 256

// Role is what an admin token may do.
type Role string

// The roles, from the least to the most powerful.
const (
	// Viewer reads: approvals, tools and their risk, audit queries.
	Viewer Role = "viewer"
	// PolicyManager reads, and manages policies and their attachment to
	// grants; it never sees or makes tokens or upstream credentials.
	PolicyManager Role = "policy_manager"
	// Admin may do everything, approval decisions included.
	Admin Role = "admin"
)

// Roles lists every role, from the least to the most powerful.
var Roles = []Role{Viewer, PolicyManager, Admin}

func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether a token with role r may use a route that needs
// the role need: every role includes the ones before it in Roles.
func (r Role) Allows(need Role) bool { return r.Valid() && need.Valid() && r.rank() >= need.rank() }

// ParseRole returns the role named s, or an error with the code Invalid.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.Valid() {
		return r, nil
	}
	return "", toolgate.Errorf(toolgate.Invalid, "role must be admin, policy_manager or viewer, not %q", s)
}

// Token is an admin token as stored: never the token itself, only its hash.
type Token struct {
	ID        string             `json:"id"`
	Hash      toolgate.TokenHash `json:"-"`
	Subject   string             `json:"subject"`
	Role      Role               `json:"role"`
	CreatedAt time.Time          `json:"created_at"`
	// ExpiresAt is when the token stops working; zero for never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Revoked   bool      `json:"revoked"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Expired reports whether the token has an expiry and now is at or past it.
func (t *Token) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// Status names where the token stands at now: "revoked", "expired" or
// "active". A revoked token is "revoked" even once its expiry has passed.
func (t *Token) Status(now time.Time) string {
	switch {
	case t.Revoked:
		return "revoked"
	case t.Expired(now):
		return "expired"
	}
	return "active"
}

// Clone returns a copy of t.
func (t *Token) Clone() *Token {
	c := *t
	return &c
}

// Store keeps admin tokens. Errors carry toolgate codes: NotFound for an
// unknown id or hash, Conflict for a duplicate id or hash, Invalid for a
// token that cannot be stored.
type Store interface {
	Create(ctx context.Context, t *Token) error
	Get(ctx context.Context, id string) (*Token, error)
	ByHash(ctx context.Context, h toolgate.TokenHash) (*Token, error)
	// List returns every token, oldest first.
	List(ctx context.Context) ([]*Token, error)
	// Revoke marks the token revoked; a revoked token keeps its first
	// revocation time.
	Revoke(ctx context.Context, id string, at time.Time) (*Token, error)
}

// ValidID reports whether id has the shape of an admin token id.
func ValidID(id string) bool { return grant.ValidPrefixedID(IDPrefix, id) }

// CheckSubject reports a problem with a subject: empty, too long, not
// UTF-8, with surrounding white space or a control character.
func CheckSubject(s string) error {
	switch {
	case s == "":
		return toolgate.Errorf(toolgate.Invalid, "subject is required (who uses the token, e.g. alice@example.com)")
	case len(s) > MaxSubjectLen:
		return toolgate.Errorf(toolgate.Invalid, "subject is longer than %d bytes", MaxSubjectLen)
	case !utf8.ValidString(s):
		return toolgate.Errorf(toolgate.Invalid, "subject %q is not valid UTF-8", s)
	case strings.TrimSpace(s) != s:
		return toolgate.Errorf(toolgate.Invalid, "subject %q starts or ends with white space", s)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return toolgate.Errorf(toolgate.Invalid, "subject %q contains a control character", s)
	}
	return nil
}

// Spec is what a new admin token is made of.
type Spec struct {
	// Subject names who uses the token; required (see CheckSubject).
	Subject string
	// Role is what the token may do; required.
	Role Role
	// ExpiresAt is when the token stops working; zero for never.
	ExpiresAt time.Time
}

// Check reports the first problem with s as an error with the code
// Invalid. now is the time the token would be created: an expiry must
// come after it.
func (s *Spec) Check(now time.Time) error {
	if err := CheckSubject(s.Subject); err != nil {
		return err
	}
	if _, err := ParseRole(string(s.Role)); err != nil {
		return err
	}
	if !s.ExpiresAt.IsZero() && !s.ExpiresAt.After(now) {
		return toolgate.Errorf(toolgate.Invalid, "the expiry %s is not in the future", s.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// Create stores a new admin token made from spec and returns it and the
// token itself, which is kept nowhere: show it once.
func Create(ctx context.Context, store Store, spec Spec) (*Token, string, error) {
	now := time.Now().UTC()
	if err := spec.Check(now); err != nil {
		return nil, "", err
	}
	secret, h := grant.NewPrefixedToken(TokenPrefix)
	t := &Token{ID: grant.NewPrefixedID(IDPrefix), Hash: h, Subject: spec.Subject, Role: spec.Role, CreatedAt: now}
	if !spec.ExpiresAt.IsZero() {
		t.ExpiresAt = spec.ExpiresAt.UTC()
	}
	if err := store.Create(ctx, t); err != nil {
		return nil, "", err
	}
	out := t.Clone()
	out.Hash = toolgate.TokenHash{}
	return out, secret, nil
}

// ErrInvalidToken is the one error Verify returns for a token it refuses:
// missing, malformed, unknown, expired or revoked alike. Its code is Unauthorized.
var ErrInvalidToken = &toolgate.Error{Code: toolgate.Unauthorized, Message: "a valid admin token is required (Authorization: Bearer tga_...)"}

// Verifier checks admin tokens against a store. Set Store; it is safe
// for concurrent use.
type Verifier struct {
	Store Store
	// Logger receives, at Debug, why a token was refused (never the
	// token); nothing when nil.
	Logger *slog.Logger
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Verify returns the token's record when it is known, not revoked and
// not expired,
// ErrInvalidToken for every token it refuses, and an error with the code
// Unavailable when the store could not be read. The record's Hash is zero.
func (v *Verifier) Verify(ctx context.Context, secret string) (*Token, error) {
	if !grant.WellFormedPrefixed(TokenPrefix, secret) {
		return nil, v.refuse(ctx, "missing or malformed", "")
	}
	h := grant.HashToken(secret)
	t, err := v.Store.ByHash(ctx, h)
	if toolgate.ErrorCode(err) == toolgate.NotFound {
		return nil, v.refuse(ctx, "unknown", "")
	}
	if err != nil {
		return nil, &toolgate.Error{Code: toolgate.Unavailable, Message: "the admin token store is unavailable", Err: err}
	}
	if !grant.HashesEqual(t.Hash, h) {
		return nil, v.refuse(ctx, "hash mismatch", t.ID)
	}
	switch {
	case t.Revoked:
		return nil, v.refuse(ctx, "revoked", t.ID)
	case t.Expired(v.now()):
		return nil, v.refuse(ctx, "expired", t.ID)
	}
	t.Hash = toolgate.TokenHash{}
	return t, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) refuse(ctx context.Context, why, id string) error {
	if v.Logger != nil {
		attrs := []slog.Attr{slog.String("reason", why)}
		if id != "" {
			attrs = append(attrs, slog.String("admin_token", id))
		}
		v.Logger.LogAttrs(ctx, slog.LevelDebug, "admin token refused", attrs...)
	}
	return ErrInvalidToken
}
