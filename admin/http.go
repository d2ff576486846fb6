package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/toolgate/toolgate"
)

// Authenticator turns a bearer token into the admin token's record; a
// *Verifier is one. It returns an error with the code Unauthorized for a
// token it refuses.
type Authenticator interface {
	Verify(ctx context.Context, secret string) (*Token, error)
}

type ctxKey struct{}

// WithToken returns ctx carrying the authenticated admin token t.
func WithToken(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the admin token Authenticate accepted for the
// request whose context is ctx, or nil.
func FromContext(ctx context.Context) *Token {
	t, _ := ctx.Value(ctxKey{}).(*Token)
	return t
}

// Realm is the realm of the WWW-Authenticate header of a 401 answer.
const Realm = "toolgate-admin"

// Authenticate serves next only to requests with a valid admin token in
// "Authorization: Bearer": every other request is answered 401, with a
// WWW-Authenticate header and the same message whatever was wrong with
// the token; 503 when the token store cannot be read. A nil auth refuses
// every request. log receives store failures; nothing when nil.
func Authenticate(auth Authenticator, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := bearer(r)
		var t *Token
		var err error = ErrInvalidToken
		if ok && auth != nil {
			t, err = auth.Verify(r.Context(), secret)
		}
		switch {
		case err == nil:
			next.ServeHTTP(w, r.WithContext(WithToken(r.Context(), t)))
		case toolgate.ErrorCode(err) == toolgate.Unauthorized:
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
			WriteError(w, http.StatusUnauthorized, ErrInvalidToken.Message)
		default:
			if log != nil {
				log.Error("admin authentication failed", "err", err)
			}
			WriteError(w, http.StatusServiceUnavailable, "the admin token store is unavailable")
		}
	})
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// Require serves h only to requests whose admin token (Authenticate put
// it in the context) has a role that allows need; others get 403.
func Require(need Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := FromContext(r.Context())
		if t == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
			WriteError(w, http.StatusUnauthorized, ErrInvalidToken.Message)
			return
		}
		if !t.Role.Allows(need) {
			WriteError(w, http.StatusForbidden, fmt.Sprintf("the role %s may not %s %s: it needs the role %s", t.Role, r.Method, r.URL.Path, need))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// WriteJSON answers with v as indented JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError answers with {"error": msg}, the admin API's one error shape.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}
