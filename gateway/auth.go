package gateway

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/policy"
)

// Authenticator turns a bearer token into the grant it belongs to. It
// returns one error for every token it refuses (missing, malformed,
// unknown, expired, revoked), so that a caller learns nothing from which.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*toolgate.Grant, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, token string) (*toolgate.Grant, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, token string) (*toolgate.Grant, error) {
	return f(ctx, token)
}

// authFailures bounds the refused tokens one client address may present
// per minute; beyond it the address gets 429 without a lookup.
const authFailures = 20

type grantKey struct{}

// caller is who sent an HTTP request: the grant its token belongs to (nil
// when authentication is off) and the token's hash.
type caller struct {
	grant *toolgate.Grant
	hash  [32]byte
	// bound: the session the token opens ends when the token is later
	// refused (see tokenBound).
	bound bool
}

// tokenBound reports whether a session opened with token ends once the
// token is refused: a grant token (tg_...) is, since its refusal means
// the grant was revoked, rotated or expired. A JWT is not: a client
// replaces an expiring JWT with a fresh one for the same identity, and
// the session, bound to that identity, lives on.
func tokenBound(token string) bool { return strings.HasPrefix(token, "tg_") }

func callerOf(r *http.Request) *caller {
	c, _ := r.Context().Value(grantKey{}).(*caller)
	return c
}

// authenticate checks the request's bearer token. It answers the request
// itself, with 401 (or 429 after too many refusals from the address), and
// returns nil when the request may not go on. The client's Authorization
// header is consumed here: no upstream ever sees it.
func (g *Gateway) authenticate(w http.ResponseWriter, r *http.Request) *http.Request {
	if g.opts.Authenticator == nil {
		return r
	}
	token, ok := bearer(r)
	r.Header.Del("Authorization")
	if r.URL.RawQuery != "" {
		if q := r.URL.Query(); q.Has("access_token") || q.Has("token") {
			ok = false // a token in a URL ends up in logs and histories: refused
		}
	}
	addr := clientAddr(r)
	if !g.authFails.allowed(addr, time.Now()) {
		w.Header().Set("Retry-After", "60")
		writeJSONError(w, http.StatusTooManyRequests, encodeErrorNullID(codeInvalidRequest, "too many failed authentication attempts; retry later"))
		return nil
	}
	var gr *toolgate.Grant
	var err error
	if ok {
		gr, err = g.opts.Authenticator.Authenticate(r.Context(), token)
	}
	hash := sha256.Sum256([]byte(token))
	if !ok || err != nil || gr == nil {
		if ok && toolgate.ErrorCode(err) == toolgate.Unavailable {
			g.log.Error("authentication unavailable", "err", err)
			writeJSONError(w, http.StatusServiceUnavailable, encodeErrorNullID(codeUnavailable, "authentication is unavailable; retry later"))
			return nil
		}
		// Logged without the token or which check refused it (the
		// verifier says that at debug level): enough to see, and to ban,
		// an address that guesses.
		if n := g.authFails.failed(addr, time.Now()); n == authFailures {
			g.log.Warn("too many failed authentication attempts: the address is refused for the rest of the minute", "addr", addr, "path", r.URL.Path)
		} else if n < authFailures {
			g.log.Info("authentication refused", "addr", addr, "path", r.URL.Path, "token_given", ok)
		}
		g.endSessionOfToken(r.Header.Get("Mcp-Session-Id"), hash)
		g.unauthorized(w, r)
		return nil
	}
	return r.WithContext(context.WithValue(r.Context(), grantKey{}, &caller{grant: gr, hash: hash, bound: tokenBound(token)}))
}

// unauthorized answers 401, the same for every refused token. With a
// protected resource configured, WWW-Authenticate names its metadata.
func (g *Gateway) unauthorized(w http.ResponseWriter, r *http.Request) {
	msg := "unauthorized: a valid grant token is required (Authorization: Bearer tg_...)"
	challenge := `Bearer realm="toolgate"`
	if g.opts.ProtectedResource != nil {
		msg = "unauthorized: a valid bearer token is required (Authorization: Bearer ...)"
		if u := g.metadataURL(r, endpointOf(r)); u != "" {
			challenge += `, resource_metadata="` + u + `"`
		}
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeJSONError(w, http.StatusUnauthorized, encodeErrorNullID(codeInvalidRequest, msg))
}

// failures counts refused tokens per client address over a fixed minute.
type failures struct {
	mu sync.Mutex
	m  map[string]*failWindow
}

type failWindow struct {
	start time.Time
	n     int
}

// allowed reports whether addr may present another token: fewer than
// authFailures were refused in its current minute.
func (f *failures) allowed(addr string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.m[addr]
	return w == nil || now.Sub(w.start) >= time.Minute || w.n < authFailures
}

// failed records a refused token from addr and returns how many were
// refused in its current minute.
func (f *failures) failed(addr string, now time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil || len(f.m) > 100000 {
		f.m = map[string]*failWindow{} // bounded: a flood of addresses starts afresh
	}
	w := f.m[addr]
	if w == nil || now.Sub(w.start) >= time.Minute {
		w = &failWindow{start: now}
		f.m[addr] = w
	}
	w.n++
	return w.n
}

// endSessionOfToken ends the session sid when it was opened with the
// token of hash, which was just refused: revoking a grant ends its
// sessions on their next request.
func (g *Gateway) endSessionOfToken(sid string, hash [32]byte) {
	if sid == "" {
		return
	}
	g.mu.Lock()
	s := g.sessions[sid]
	if s == nil || s.tokenHash != hash {
		g.mu.Unlock()
		return
	}
	g.forgetLocked(s)
	g.mu.Unlock()
	g.log.Info("session ended: its grant's token is no longer valid", "session", s.logID(), "grant", s.ident.Grant)
	go s.close()
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// sessionFor returns the session sid when it belongs to the caller: a
// session opened with one grant is unknown to every other.
func (g *Gateway) sessionFor(r *http.Request, sid string) *session {
	s := g.session(sid)
	if s == nil || s.stateless {
		return nil
	}
	if c := callerOf(r); c != nil && s.ident.Grant != c.grant.ID {
		return nil
	}
	if s.endpoint != endpointOf(r) { // a session lives on the endpoint that opened it
		return nil
	}
	return s
}

// SetNamedPolicy makes e the policy of the grants that name it; nil
// removes it, so that those grants' calls are denied with "(no policy)".
func (g *Gateway) SetNamedPolicy(name string, e *policy.Engine) {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.named.Load()
	m := make(map[string]*policy.Engine, len(*old)+1)
	for k, v := range *old {
		m[k] = v
	}
	if e == nil {
		delete(m, name)
	} else {
		m[name] = e
	}
	g.named.Store(&m)
}

// policyFor is the policy that decides id's calls: with authentication
// on, the one its grant names (nil when there is none); without, the
// gateway's policy.
func (g *Gateway) policyFor(id *toolgate.Identity) *policy.Engine {
	if g.opts.Authenticator == nil {
		return g.Policy()
	}
	return (*g.named.Load())[id.Policy]
}
