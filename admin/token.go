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
	Revoked   bool               `json:"revoked"`
	RevokedAt time.Time          `json:"revoked_at,omitzero"`
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

// Create stores a new admin token for subject with role and returns it
// and the token itself, which is kept nowhere: show it once.
func Create(ctx context.Context, store Store, subject string, role Role) (*Token, string, error) {
	if err := CheckSubject(subject); err != nil {
		return nil, "", err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return nil, "", err
	}
	secret, h := grant.NewPrefixedToken(TokenPrefix)
	t := &Token{ID: grant.NewPrefixedID(IDPrefix), Hash: h, Subject: subject, Role: role, CreatedAt: time.Now().UTC()}
	if err := store.Create(ctx, t); err != nil {
		return nil, "", err
	}
	out := t.Clone()
	out.Hash = toolgate.TokenHash{}
	return out, secret, nil
}

// ErrInvalidToken is the one error Verify returns for a token it refuses:
// missing, malformed, unknown or revoked alike. Its code is Unauthorized.
var ErrInvalidToken = &toolgate.Error{Code: toolgate.Unauthorized, Message: "a valid admin token is required (Authorization: Bearer tga_...)"}

// Verifier checks admin tokens against a store. Set Store; it is safe
// for concurrent use.
type Verifier struct {
	Store Store
	// Logger receives, at Debug, why a token was refused (never the
	// token); nothing when nil.
	Logger *slog.Logger
}

// Verify returns the token's record when it is known and not revoked,
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
	if t.Revoked {
		return nil, v.refuse(ctx, "revoked", t.ID)
	}
	t.Hash = toolgate.TokenHash{}
	return t, nil
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
