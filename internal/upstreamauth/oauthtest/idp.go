package oauthtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// IdP is an enterprise identity provider on loopback: it signs ID tokens
// for the tests and exchanges them (RFC 8693) for ID-JAGs, identity
// assertion JWT authorization grants, that an authorization server
// started with Options.IdP accepts with the JWT bearer grant.
type IdP struct {
	*httptest.Server
	// ClientID and ClientSecret are the client the IdP knows (ID tokens
	// are issued to ClientID); with ClientSecret set the exchange must
	// authenticate with client_secret_basic.
	ClientID, ClientSecret string
	// JAGClientID is the client_id claim of the ID-JAGs: the client the
	// user's organization allows at the MCP authorization server.
	JAGClientID string
	// Now is the IdP's clock; time.Now when nil.
	Now func() time.Time

	key *ecdsa.PrivateKey
	mu  sync.Mutex
	// exchanges are the subject tokens received.
	exchanges []string
	jags      []string
}

// StartIdP runs an IdP until the test ends.
func StartIdP(t testing.TB, clientID, clientSecret, jagClientID string) *IdP {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &IdP{ClientID: clientID, ClientSecret: clientSecret, JAGClientID: jagClientID, key: k}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", p.token)
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *IdP) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// PublicKey verifies what the IdP signs.
func (p *IdP) PublicKey() crypto.PublicKey { return p.key.Public() }

func (p *IdP) sign(typ string, claims any) string {
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key}, opts)
	if err != nil {
		panic(err)
	}
	s, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		panic(err)
	}
	return s
}

// IDToken signs an ID token of user sub for the IdP's client, living ttl.
func (p *IdP) IDToken(sub string, ttl time.Duration) string {
	now := p.now()
	return p.sign("JWT", jwt.Claims{Issuer: p.URL, Subject: sub, Audience: jwt.Audience{p.ClientID},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(ttl))})
}

// Exchanges returns the subject tokens the IdP received.
func (p *IdP) Exchanges() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.exchanges)
}

// JAGs returns the ID-JAGs the IdP issued.
func (p *IdP) JAGs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.jags)
}

// jagClaims are an ID-JAG's claims.
type jagClaims struct {
	jwt.Claims
	Resource string `json:"resource"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope,omitempty"`
}

func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	f := r.PostForm
	if p.ClientSecret != "" {
		id, secret, ok := r.BasicAuth()
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if !ok || id != p.ClientID || secret != p.ClientSecret {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return
		}
	}
	p.mu.Lock()
	p.exchanges = append(p.exchanges, f.Get("subject_token"))
	p.mu.Unlock()
	switch {
	case f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	case f.Get("requested_token_type") != "urn:ietf:params:oauth:token-type:id-jag" ||
		f.Get("subject_token_type") != "urn:ietf:params:oauth:token-type:id_token" ||
		f.Get("audience") == "" || f.Get("resource") == "":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	tok, err := jwt.ParseSigned(f.Get("subject_token"), []jose.SignatureAlgorithm{jose.ES256})
	var c jwt.Claims
	if err == nil {
		err = tok.Claims(p.key.Public(), &c)
	}
	if err == nil {
		err = c.ValidateWithLeeway(jwt.Expected{Issuer: p.URL, AnyAudience: jwt.Audience{p.ClientID}, Time: p.now()}, 30*time.Second)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "the ID token is not valid"})
		return
	}
	now := p.now()
	jag := p.sign("oauth-id-jag+jwt", jagClaims{
		Claims: jwt.Claims{Issuer: p.URL, Subject: c.Subject, Audience: jwt.Audience{f.Get("audience")},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: random()},
		Resource: f.Get("resource"), ClientID: p.JAGClientID, Scope: f.Get("scope"),
	})
	p.mu.Lock()
	p.jags = append(p.jags, jag)
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"access_token": jag, "issued_token_type": "urn:ietf:params:oauth:token-type:id-jag", "token_type": "N_A"})
}

// verifyJAG checks an ID-JAG presented by client: signed by the trusted
// IdP, typed oauth-id-jag+jwt, for this issuer and resource, issued to
// client, unexpired.
func (s *Server) verifyJAG(raw, client string) (jagClaims, error) {
	var c jagClaims
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return c, errors.New("the assertion does not parse")
	}
	if typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string); typ != "oauth-id-jag+jwt" {
		return c, errors.New("the assertion is not an ID-JAG")
	}
	if err := tok.Claims(s.opts.IdP.PublicKey(), &c); err != nil {
		return c, errors.New("bad signature")
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: s.opts.IdP.URL, AnyAudience: jwt.Audience{s.AS.URL}, Time: s.opts.Now()}, 30*time.Second); err != nil {
		return c, err
	}
	switch {
	case c.ClientID != client:
		return c, errors.New("the ID-JAG is for another client")
	case c.Resource != s.ResourceURL:
		return c, errors.New("the ID-JAG is for another resource")
	}
	return c, nil
}
