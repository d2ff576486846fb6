package grant

import (
	"context"
	"log/slog"
	"time"

	"github.com/toolgate/toolgate"
)

// ErrInvalidToken is the one error Verify returns for a token it refuses:
// missing, malformed, unknown, expired, revoked or replaced by a rotation
// alike, so that the answer tells a caller nothing about which. Its code
// is toolgate.Unauthorized (HTTP 401). Compare with errors.Is.
var ErrInvalidToken = &toolgate.Error{Code: toolgate.Unauthorized, Message: "invalid or expired token"}

// DefaultTouchEvery is how often, at most, a Verifier records that a grant
// was used, when Verifier.TouchEvery is 0.
const DefaultTouchEvery = time.Minute

// Verifier checks bearer tokens against a store. The zero value is not
// usable: set Store. A Verifier is safe for concurrent use.
type Verifier struct {
	// Store holds the grants.
	Store toolgate.GrantStore
	// TouchEvery is how stale a grant's LastUsedAt may be before a verify
	// records the use: DefaultTouchEvery when 0; never recorded when
	// negative. Recording at most once per interval keeps verification
	// from costing a write per call.
	TouchEvery time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Logger receives, at Debug, why a token was refused (with the grant
	// id when one was found, never the token) and, at Warn, a failure to
	// record a use; nothing when nil.
	Logger *slog.Logger
}

// Verify returns the grant whose token is token, when the grant is
// neither revoked nor expired, using a Verifier with the defaults. See
// Verifier.Verify.
func Verify(ctx context.Context, store toolgate.GrantStore, token string) (*toolgate.Grant, error) {
	v := &Verifier{Store: store}
	return v.Verify(ctx, token)
}

// Verify returns the grant whose token is token, when the grant is
// neither revoked nor expired. It returns ErrInvalidToken for every token
// it refuses, and an error with the code toolgate.Unavailable when the
// store could not be read. It records the use (Store.Touch) when the
// grant's LastUsedAt is older than TouchEvery; a failure to record it is
// logged and does not refuse the token. The returned grant's TokenHash is
// zero.
func (v *Verifier) Verify(ctx context.Context, token string) (*toolgate.Grant, error) {
	if token == "" {
		return nil, v.refuse(ctx, "missing", "")
	}
	if !WellFormed(token) {
		return nil, v.refuse(ctx, "malformed", "")
	}
	h := HashToken(token)
	g, err := v.Store.ByTokenHash(ctx, h)
	if toolgate.ErrorCode(err) == toolgate.NotFound {
		return nil, v.refuse(ctx, "unknown", "")
	}
	if err != nil {
		return nil, &toolgate.Error{Code: toolgate.Unavailable, Message: "the grant store is unavailable", Err: err}
	}
	// The store found the grant by its hash; compare again in constant
	// time so that no store's lookup shortcut can accept a wrong token.
	if !HashesEqual(g.TokenHash, h) {
		return nil, v.refuse(ctx, "hash mismatch", g.ID)
	}
	now := v.now()
	switch {
	case g.Revoked:
		return nil, v.refuse(ctx, "revoked", g.ID)
	case g.Expired(now):
		return nil, v.refuse(ctx, "expired", g.ID)
	}
	if every := v.touchEvery(); every >= 0 && (g.LastUsedAt.IsZero() || now.Sub(g.LastUsedAt) >= every) {
		if err := v.Store.Touch(ctx, g.ID, now.UTC()); err != nil {
			v.log().LogAttrs(ctx, slog.LevelWarn, "could not record a grant's use", slog.String("grant", g.ID), slog.Any("error", err))
		} else {
			g.LastUsedAt = now.UTC()
		}
	}
	g.TokenHash = toolgate.TokenHash{}
	return g, nil
}

func (v *Verifier) refuse(ctx context.Context, why, id string) error {
	attrs := []slog.Attr{slog.String("reason", why)}
	if id != "" {
		attrs = append(attrs, slog.String("grant", id))
	}
	v.log().LogAttrs(ctx, slog.LevelDebug, "token refused", attrs...)
	return ErrInvalidToken
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) touchEvery() time.Duration {
	if v.TouchEvery == 0 {
		return DefaultTouchEvery
	}
	return v.TouchEvery
}

func (v *Verifier) log() *slog.Logger {
	if v.Logger != nil {
		return v.Logger
	}
	return slog.New(slog.DiscardHandler)
}
