package grant

import (
	"context"
	"log/slog"
	"sync"
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

// DefaultCacheSize is how many verified tokens a Verifier with a cache
// remembers at most, when Verifier.CacheSize is 0.
const DefaultCacheSize = 10000

// Verifier checks bearer tokens against a store. The zero value is not
// usable: set Store. A Verifier is safe for concurrent use, and must not
// be copied once used.
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
	// CacheFor is how long a verified token is accepted again without
	// asking the store; 0 asks the store on every call. A cached grant
	// still expires on time. Forget drops the cache, and Watch drops it
	// whenever the store's Epoch moves, so that a revocation made in this
	// process takes effect at once and one made elsewhere within Watch's
	// period; CacheFor bounds how stale the cache can be if Watch is not
	// running. Refused tokens are never cached.
	CacheFor time.Duration
	// CacheSize bounds the tokens remembered: DefaultCacheSize when 0.
	CacheSize int

	mu    sync.RWMutex
	gen   uint64 // moves on with every Forget
	cache map[toolgate.TokenHash]*cached
}

// cached is a verified token's grant and when it was verified.
type cached struct {
	grant *toolgate.Grant
	at    time.Time
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
	now := v.now()
	if g := v.cached(ctx, h, now); g != nil {
		return g, nil
	}
	v.mu.RLock()
	gen := v.gen
	v.mu.RUnlock()
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
	v.remember(h, g, now, gen)
	return g, nil
}

// cached returns a copy of the grant of the token of hash h when it was
// verified within CacheFor and has not expired since, recording a use as
// Verify does; else nil.
func (v *Verifier) cached(ctx context.Context, h toolgate.TokenHash, now time.Time) *toolgate.Grant {
	if v.CacheFor <= 0 {
		return nil
	}
	v.mu.RLock()
	c := v.cache[h]
	var g *toolgate.Grant
	if c != nil && now.Sub(c.at) < v.CacheFor && !c.grant.Expired(now) {
		g = c.grant.Clone()
	}
	v.mu.RUnlock()
	if g == nil {
		return nil
	}
	if every := v.touchEvery(); every >= 0 && now.Sub(g.LastUsedAt) >= every {
		if err := v.Store.Touch(ctx, g.ID, now.UTC()); err != nil {
			v.log().LogAttrs(ctx, slog.LevelWarn, "could not record a grant's use", slog.String("grant", g.ID), slog.Any("error", err))
		} else {
			g.LastUsedAt = now.UTC()
			v.mu.Lock()
			if c := v.cache[h]; c != nil {
				c.grant.LastUsedAt = g.LastUsedAt
			}
			v.mu.Unlock()
		}
	}
	return g
}

// remember caches g as the grant of the token of hash h, unless the cache
// was forgotten since the lookup began (gen): what a revocation raced
// with must not outlive it.
func (v *Verifier) remember(h toolgate.TokenHash, g *toolgate.Grant, now time.Time, gen uint64) {
	if v.CacheFor <= 0 {
		return
	}
	size := v.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.gen != gen {
		return
	}
	if v.cache == nil || len(v.cache) >= size {
		v.cache = make(map[toolgate.TokenHash]*cached) // full: start afresh
	}
	v.cache[h] = &cached{grant: g.Clone(), at: now}
}

// Forget drops every cached verification: the next call of each token
// asks the store. Call it after changing a grant in this process.
func (v *Verifier) Forget() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.gen++
	v.cache = nil
}

// Watch polls the store's Epoch every period until ctx ends, and drops
// the cache whenever it moves or cannot be read, and at its first read:
// what was cached before Watch began is not trusted across a change Watch
// did not see.
func (v *Verifier) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var last uint64
	known := false
	for {
		cur, err := v.Store.Epoch(ctx)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			v.log().LogAttrs(ctx, slog.LevelWarn, "could not read the grant store's epoch; verified tokens are checked again", slog.Any("error", err))
			v.Forget()
			known = false
		case !known || cur != last:
			v.Forget()
			last, known = cur, true
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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
