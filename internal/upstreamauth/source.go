package upstreamauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store keeps sealed tokens by server name. Implementations hold only the
// sealed bytes: they never see a token in the clear.
type Store interface {
	// Get returns the sealed token of server, or ErrNoToken.
	Get(ctx context.Context, server string) ([]byte, error)
	// Put stores (or replaces) the sealed token of server.
	Put(ctx context.Context, server string, sealed []byte) error
	// Delete removes it and reports whether there was one.
	Delete(ctx context.Context, server string) (bool, error)
	// List returns the servers with a stored token, sorted.
	List(ctx context.Context) ([]string, error)
}

// ErrNoToken is Store.Get's error for a server without a token.
var ErrNoToken = errors.New("no token stored")

// Vault seals tokens into a Store and opens them out of it.
type Vault struct {
	Store Store
	Key   Key
}

// Load returns the token of server, or an error wrapping ErrNoToken.
func (v *Vault) Load(ctx context.Context, server string) (*Token, error) {
	b, err := v.Store.Get(ctx, server)
	if err != nil {
		return nil, err
	}
	return unseal(v.Key, server, b)
}

// Save seals t and stores it under t.Server.
func (v *Vault) Save(ctx context.Context, t *Token) error {
	b, err := seal(v.Key, t)
	if err != nil {
		return err
	}
	return v.Store.Put(ctx, t.Server, b)
}

// MemoryStore is a Store in memory, for one process.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ Store = (*MemoryStore)(nil)

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, server string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[server]
	if !ok {
		return nil, ErrNoToken
	}
	return b, nil
}

// Put implements Store.
func (s *MemoryStore) Put(_ context.Context, server string, sealed []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[server] = sealed
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, server string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[server]
	delete(s.m, server)
	return ok, nil
}

// List implements Store.
func (s *MemoryStore) List(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.m))
	for k := range s.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// LoginNeededError says a server has no usable token and a person must
// run toolgate upstream login. Its message is safe to show a client.
type LoginNeededError struct {
	Server string
	// Reason is why (for the log and the operator), never a secret.
	Reason string
}

func (e *LoginNeededError) Error() string {
	return fmt.Sprintf("upstream %s needs a login (%s): run `toolgate upstream login %s`", e.Server, e.Reason, e.Server)
}

// PublicMessage is what a client of the gateway may be told.
func (e *LoginNeededError) PublicMessage() string {
	return fmt.Sprintf("upstream %s is not logged in to its authorization server: an operator must run `toolgate upstream login %s`", e.Server, e.Server)
}

// refreshBefore is how long before its expiry a token is renewed.
const refreshBefore = time.Minute

// Source hands out a server's current access token, renewing it before
// it expires and when the server refuses it, and saving every new one.
// A server using client credentials (Machine set) gets its token by
// itself; one using the authorization code grant needs a login first.
type Source struct {
	Server    string
	ServerURL string
	Vault     *Vault
	// HTTPClient reaches the authorization server; http.DefaultClient
	// when nil.
	HTTPClient *http.Client
	// Machine, when set, obtains a token with no person involved (the
	// client credentials grant).
	Machine *LoginOptions
	// Key signs the client assertions of a client authenticating with
	// private_key_jwt; Machine.Key when nil.
	Key    *ClientKey
	Now    func() time.Time
	Logger *slog.Logger

	mu  sync.Mutex
	cur *Token
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Source) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Source) key() *ClientKey {
	if s.Key == nil && s.Machine != nil {
		return s.Machine.Key
	}
	return s.Key
}

func (s *Source) hc() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return http.DefaultClient
}

// Token returns the access token to send to the server.
func (s *Source) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		if err := s.loadLocked(ctx); err != nil {
			return "", err
		}
	}
	if !s.cur.Expiry.IsZero() && s.now().Add(refreshBefore).After(s.cur.Expiry) {
		if err := s.renewLocked(ctx, nil); err != nil {
			return "", err
		}
	}
	return s.cur.AccessToken, nil
}

// loadLocked reads the stored token, or gets one for a machine.
func (s *Source) loadLocked(ctx context.Context) error {
	t, err := s.Vault.Load(ctx, s.Server)
	switch {
	case errors.Is(err, ErrNoToken) && s.Machine != nil:
		return s.machineLocked(ctx, nil)
	case errors.Is(err, ErrNoToken):
		return &LoginNeededError{Server: s.Server, Reason: "no token stored"}
	case err != nil:
		return &LoginNeededError{Server: s.Server, Reason: err.Error()}
	}
	if !covers(t.Resource, s.ServerURL) {
		return &LoginNeededError{Server: s.Server, Reason: fmt.Sprintf("the stored token is for %s, and the server is now at %s", t.Resource, s.ServerURL)}
	}
	s.cur = t
	return nil
}

func (s *Source) machineLocked(ctx context.Context, c *Challenge) error {
	o := *s.Machine
	o.Challenge = c
	t, err := Login(ctx, o)
	if err != nil {
		return fmt.Errorf("upstream %s: obtaining a token: %w", s.Server, err)
	}
	if err := s.Vault.Save(ctx, t); err != nil {
		return fmt.Errorf("upstream %s: saving its token: %w", s.Server, err)
	}
	s.log().Info("upstream token obtained", "server", s.Server, "grant", t.Grant, "expires", t.Expiry)
	s.cur = t
	return nil
}

// renewLocked refreshes the current token (or, failing that, asks again
// for a machine).
func (s *Source) renewLocked(ctx context.Context, c *Challenge) error {
	if c == nil && s.Machine != nil && s.cur.RefreshToken == "" && s.cur.Grant == GrantCrossApp {
		// Nothing to refresh with: the exchange runs again.
		return s.machineLocked(ctx, nil)
	}
	if c == nil {
		t, err := RefreshWithKey(ctx, s.hc(), s.cur, s.key(), s.now())
		if err == nil {
			if err := s.Vault.Save(ctx, t); err != nil {
				return fmt.Errorf("upstream %s: saving its token: %w", s.Server, err)
			}
			s.log().Info("upstream token refreshed", "server", s.Server, "expires", t.Expiry)
			s.cur = t
			return nil
		}
		// Another process sharing the store (a second gateway, a scan)
		// may have refreshed first, spending the refresh token: its
		// token is the one to use.
		if stored, lerr := s.Vault.Load(ctx, s.Server); lerr == nil && stored.RefreshToken != s.cur.RefreshToken && covers(stored.Resource, s.ServerURL) {
			s.cur = stored
			if stored.Expiry.IsZero() || s.now().Add(refreshBefore).Before(stored.Expiry) {
				return nil
			}
			if t, err2 := RefreshWithKey(ctx, s.hc(), stored, s.key(), s.now()); err2 == nil {
				if err := s.Vault.Save(ctx, t); err != nil {
					return fmt.Errorf("upstream %s: saving its token: %w", s.Server, err)
				}
				s.cur = t
				return nil
			}
		}
		s.log().Warn("upstream token refresh failed", "server", s.Server, "err", err)
		var oe *OAuthError
		if !errors.As(err, &oe) && s.cur.RefreshToken != "" {
			// The authorization server could not be asked (unreachable,
			// a 5xx): the refresh token may still be good, so the next
			// request tries again rather than asking for a login.
			return fmt.Errorf("upstream %s: refreshing its token: %w", s.Server, err)
		}
		if s.Machine == nil {
			s.cur = nil
			return &LoginNeededError{Server: s.Server, Reason: "refreshing the token failed: " + err.Error()}
		}
	}
	if s.Machine == nil {
		s.cur = nil
		return &LoginNeededError{Server: s.Server, Reason: "the server asks for scope " + strings.TrimSpace(c.Scope)}
	}
	return s.machineLocked(ctx, c)
}

// Unauthorized is told that the server refused sent with status (401 or
// 403) and challenge headers; it returns the token to try again with, or
// an error when there is none.
func (s *Source) Unauthorized(ctx context.Context, sent string, status int, challenge []string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.AccessToken != sent {
		return s.cur.AccessToken, nil // renewed meanwhile
	}
	// Another process (toolgate upstream login) may have stored a new one.
	s.cur = nil
	if err := s.loadLocked(ctx); err != nil {
		return "", err
	}
	if s.cur.AccessToken != sent {
		return s.cur.AccessToken, nil
	}
	c, _ := ParseChallenge(challenge)
	if status == http.StatusForbidden {
		if c.Error != "insufficient_scope" {
			return "", fmt.Errorf("upstream %s refused the token (HTTP 403)", s.Server)
		}
		if c.Scope != "" && s.cur.Scope != "" {
			c.Scope = mergeScopes(s.cur.Scope, c.Scope)
		}
		if err := s.renewLocked(ctx, &c); err != nil {
			return "", err
		}
		return s.cur.AccessToken, nil
	}
	if err := s.renewLocked(ctx, nil); err != nil {
		return "", err
	}
	return s.cur.AccessToken, nil
}

// mergeScopes joins two space-separated scope lists without repeats.
func mergeScopes(a, b string) string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(strings.Fields(a), strings.Fields(b)...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}
