// Package oauthtest runs, on loopback, an OAuth authorization server and
// an MCP server it protects (a go-sdk server behind a bearer check), for
// the tests of toolgate's upstream OAuth client. The authorization server
// approves every authorization request at once (no person), so a test
// follows the authorization URL with an HTTP client.
package oauthtest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Options shape the servers.
type Options struct {
	// TokenTTL is the life of an access token; one hour when zero.
	TokenTTL time.Duration
	// Clients are pre-registered clients: id → secret.
	Clients map[string]string
	// ClientKeys are pre-registered clients authenticating with
	// private_key_jwt: id → public key (*ecdsa.PublicKey, *rsa.PublicKey).
	ClientKeys map[string]crypto.PublicKey
	// IdP, when set, is trusted for the JWT bearer grant of cross-app
	// access: the ID-JAGs it signs are exchanged for access tokens.
	IdP *IdP
	// Scopes are the resource's scopes_supported.
	Scopes []string
	// Now is the authorization server's clock; time.Now when nil.
	Now func() time.Time
}

type issued struct {
	client, scope, resource string
	expiry                  time.Time
}

type code struct {
	client, redirect, challenge, resource, scope string
}

// Server is the authorization server and the MCP server it protects.
type Server struct {
	AS  *httptest.Server
	MCP *httptest.Server
	// ResourceURL is the MCP endpoint, the resource tokens are for.
	ResourceURL string

	opts Options
	mu   sync.Mutex
	// registered clients: id → redirect URIs
	registered map[string][]string
	codes      map[string]code
	access     map[string]issued
	refresh    map[string]issued
	// Seen are the Authorization headers the MCP server received.
	seen []string
	// grants counts the token requests by grant type.
	grants map[string]int
	// jtis are the client assertion ids seen, refused when replayed.
	jtis map[string]bool
	// assertions are the client assertions received.
	assertions []string
}

// Start runs both servers until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.TokenTTL == 0 {
		o.TokenTTL = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{opts: o, registered: map[string][]string{}, codes: map[string]code{}, access: map[string]issued{}, refresh: map[string]issued{}, grants: map[string]int{}, jtis: map[string]bool{}}
	s.AS = httptest.NewServer(s.asHandler())
	t.Cleanup(s.AS.Close)
	mcpSrv := mcp.NewServer(&mcp.Implementation{Name: "notes", Version: "1"}, nil)
	mcp.AddTool(mcpSrv, &mcp.Tool{Name: "whoami", Description: "Says who the caller is."}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "hello from notes"}}}, nil, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return mcpSrv }, nil)
	mux := http.NewServeMux()
	s.MCP = httptest.NewServer(mux)
	t.Cleanup(s.MCP.Close)
	s.ResourceURL = s.MCP.URL + "/mcp"
	mux.HandleFunc("GET /.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"resource": s.ResourceURL, "authorization_servers": []string{s.AS.URL}, "scopes_supported": o.Scopes})
	})
	mux.Handle("/mcp", s.protect(h))
	return s
}

// protect refuses requests without a valid token for the resource.
func (s *Server) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		s.mu.Lock()
		if authz != "" {
			s.seen = append(s.seen, authz)
		}
		tok, _ := strings.CutPrefix(authz, "Bearer ")
		is, ok := s.access[tok]
		valid := ok && s.opts.Now().Before(is.expiry) && is.resource == s.ResourceURL
		s.mu.Unlock()
		if !valid {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", resource_metadata="`+s.MCP.URL+`/.well-known/oauth-protected-resource/mcp"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "the upstream's own secret words"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Seen returns the Authorization headers the MCP server received.
func (s *Server) Seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

// Grants returns how many token requests of grant type g were answered.
func (s *Server) Grants(g string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants[g]
}

// RevokeAccess forgets every access token (refresh tokens stay valid), as
// an authorization server that rotated its keys.
func (s *Server) RevokeAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
}

// AccessTokens returns the access tokens issued and still valid.
func (s *Server) AccessTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.access {
		out = append(out, k)
	}
	return out
}

// RefreshTokens returns the refresh tokens issued and still valid.
func (s *Server) RefreshTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.refresh {
		out = append(out, k)
	}
	return out
}

func (s *Server) asHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                           s.AS.URL,
			"authorization_endpoint":                           s.AS.URL + "/authorize",
			"token_endpoint":                                   s.AS.URL + "/token",
			"registration_endpoint":                            s.AS.URL + "/register",
			"response_types_supported":                         []string{"code"},
			"grant_types_supported":                            []string{"authorization_code", "refresh_token", "client_credentials"},
			"code_challenge_methods_supported":                 []string{"S256"},
			"token_endpoint_auth_methods_supported":            []string{"client_secret_basic", "private_key_jwt", "none"},
			"token_endpoint_auth_signing_alg_values_supported": []string{"ES256", "ES384", "RS256", "PS256"},
		})
	})
	mux.HandleFunc("POST /register", func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			RedirectURIs []string `json:"redirect_uris"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&m); err != nil || len(m.RedirectURIs) == 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client_metadata"})
			return
		}
		id := "dyn-" + random()
		s.mu.Lock()
		s.registered[id] = m.RedirectURIs
		s.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]any{"client_id": id, "redirect_uris": m.RedirectURIs, "token_endpoint_auth_method": "none"})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.mu.Lock()
		uris, dyn := s.registered[q.Get("client_id")]
		_, pre := s.opts.Clients[q.Get("client_id")]
		_, keyed := s.opts.ClientKeys[q.Get("client_id")]
		pre = pre || keyed
		s.mu.Unlock()
		redirect := q.Get("redirect_uri")
		switch {
		case !dyn && !pre:
			http.Error(w, "unknown client", http.StatusBadRequest)
			return
		case dyn && !slices.Contains(uris, redirect):
			http.Error(w, "redirect_uri not registered", http.StatusBadRequest)
			return
		case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
			http.Error(w, "PKCE S256 required", http.StatusBadRequest)
			return
		case q.Get("resource") != s.ResourceURL:
			http.Error(w, "unknown resource", http.StatusBadRequest)
			return
		}
		c := random()
		s.mu.Lock()
		s.codes[c] = code{client: q.Get("client_id"), redirect: redirect, challenge: q.Get("code_challenge"), resource: q.Get("resource"), scope: q.Get("scope")}
		s.mu.Unlock()
		u, err := url.Parse(redirect)
		if err != nil {
			http.Error(w, "bad redirect_uri", http.StatusBadRequest)
			return
		}
		rq := u.Query()
		rq.Set("code", c)
		rq.Set("state", q.Get("state"))
		u.RawQuery = rq.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", s.token)
	return mux
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	f := r.PostForm
	client := f.Get("client_id")
	authenticated := false
	if id, secret, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if want, known := s.opts.Clients[id]; !known || want != secret {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return
		}
		client, authenticated = id, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Get("client_assertion_type") != "" || f.Get("client_assertion") != "" {
		id, err := s.verifyAssertion(f)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": err.Error()})
			return
		}
		client, authenticated = id, true
	}
	var grant issued
	switch gt := f.Get("grant_type"); gt {
	case "authorization_code":
		c, ok := s.codes[f.Get("code")]
		delete(s.codes, f.Get("code"))
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if !ok || c.client != client || c.redirect != f.Get("redirect_uri") || c.resource != f.Get("resource") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		grant = issued{client: client, scope: c.scope, resource: c.resource}
	case "refresh_token":
		old, ok := s.refresh[f.Get("refresh_token")]
		if !ok || old.client != client || f.Get("resource") != old.resource {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		delete(s.refresh, f.Get("refresh_token")) // rotated
		grant = old
	case "client_credentials":
		_, known := s.opts.Clients[client]
		_, keyed := s.opts.ClientKeys[client]
		if !known && !keyed || f.Get("resource") != s.ResourceURL {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return
		}
		grant = issued{client: client, scope: f.Get("scope"), resource: f.Get("resource")}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if s.opts.IdP == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
			return
		}
		if !authenticated {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return
		}
		c, err := s.verifyJAG(f.Get("assertion"), client)
		if err != nil || f.Get("resource") != "" && f.Get("resource") != s.ResourceURL {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		grant = issued{client: client, scope: c.Scope, resource: c.Resource}
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	s.grants[f.Get("grant_type")]++
	grant.expiry = s.opts.Now().Add(s.opts.TokenTTL)
	at := "at-" + random()
	s.access[at] = grant
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(s.opts.TokenTTL / time.Second), "scope": grant.scope}
	if gt := f.Get("grant_type"); gt != "client_credentials" && gt != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		rt := "rt-" + random()
		s.refresh[rt] = grant
		resp["refresh_token"] = rt
	}
	writeJSON(w, http.StatusOK, resp)
}

// Assertions returns the client assertions the token endpoint received.
func (s *Server) Assertions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.assertions)
}

// verifyAssertion checks a private_key_jwt client assertion (RFC 7523):
// signed by the client's registered key with an asymmetric algorithm,
// iss and sub the client id, aud the issuer, unexpired, living at most
// five minutes, its jti never seen before. It returns the client id.
func (s *Server) verifyAssertion(f url.Values) (string, error) {
	if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return "", errors.New("unknown client_assertion_type")
	}
	raw := f.Get("client_assertion")
	s.assertions = append(s.assertions, raw)
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512})
	if err != nil {
		return "", errors.New("the assertion does not parse")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return "", errors.New("the assertion has no claims")
	}
	key, ok := s.opts.ClientKeys[unverified.Issuer]
	if !ok {
		return "", errors.New("unknown client")
	}
	var c jwt.Claims
	if err := tok.Claims(key, &c); err != nil {
		return "", errors.New("bad signature")
	}
	now := s.opts.Now()
	switch {
	case c.Subject != c.Issuer:
		return "", errors.New("sub is not the client id")
	case f.Get("client_id") != "" && f.Get("client_id") != c.Issuer:
		return "", errors.New("client_id is not the assertion's")
	case c.Expiry == nil || c.IssuedAt == nil || c.ID == "":
		return "", errors.New("exp, iat and jti are required")
	case c.Expiry.Time().Sub(c.IssuedAt.Time()) > 5*time.Minute:
		return "", errors.New("the assertion lives longer than five minutes")
	case s.jtis[c.ID]:
		return "", errors.New("the assertion was replayed")
	}
	if err := c.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{s.AS.URL}, Time: now}, 30*time.Second); err != nil {
		return "", err
	}
	s.jtis[c.ID] = true
	return c.Issuer, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func random() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Follow gets authURL with an HTTP client that follows the redirect to the
// login's loopback listener, as a browser would.
func Follow(ctx context.Context, authURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &url.Error{Op: "GET", URL: authURL, Err: http.ErrNotSupported}
	}
	return nil
}
