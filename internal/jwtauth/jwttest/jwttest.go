// Package jwttest is a test authorization server: it makes its own
// signing keys, serves their JWKS on a loopback httptest server, and
// signs tokens, good and bad, for tests of JWT authentication.
package jwttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Key is a signing key with its id and algorithm.
type Key struct {
	ID   string
	Alg  jose.SignatureAlgorithm
	Priv crypto.Signer
}

// NewKey makes a key for alg: RS256/PS256 (RSA 2048), ES256 (P-256) or
// EdDSA (Ed25519).
func NewKey(t testing.TB, id string, alg jose.SignatureAlgorithm) *Key {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("jwttest: no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &Key{ID: id, Alg: alg, Priv: priv}
}

// JWK is the key's public half as a JWK.
func (k *Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Priv.Public(), KeyID: k.ID, Algorithm: string(k.Alg), Use: "sig"}
}

// Issuer is a test authorization server.
type Issuer struct {
	// URL is the issuer's identifier, the base URL of its server.
	URL string
	// Fetches counts the requests for the JWKS.
	Fetches atomic.Int64

	mu   sync.Mutex
	keys []*Key
	fail bool
	srv  *httptest.Server
}

// NewIssuer starts an issuer holding keys, with its JWKS at URL+"/jwks".
func NewIssuer(t testing.TB, keys ...*Key) *Issuer {
	t.Helper()
	is := &Issuer{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", is.serveJWKS)
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	is.URL = is.srv.URL
	return is
}

// JWKSURL is where the issuer serves its keys.
func (is *Issuer) JWKSURL() string { return is.URL + "/jwks" }

// SetKeys replaces the published keys.
func (is *Issuer) SetKeys(keys ...*Key) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = keys
}

// SetFailing makes the JWKS endpoint answer 500 (true) or the keys again.
func (is *Issuer) SetFailing(fail bool) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.fail = fail
}

// JWKS is the published key set document.
func (is *Issuer) JWKS() []byte {
	is.mu.Lock()
	defer is.mu.Unlock()
	set := jose.JSONWebKeySet{}
	for _, k := range is.keys {
		set.Keys = append(set.Keys, k.JWK())
	}
	b, _ := json.Marshal(set)
	return b
}

func (is *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	is.Fetches.Add(1)
	is.mu.Lock()
	fail := is.fail
	is.mu.Unlock()
	if fail {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	_, _ = w.Write(is.JWKS())
}

// Claims are the registered claims of a test token and any others.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	Expiry    time.Time // zero: no exp
	NotBefore time.Time
	IssuedAt  time.Time
	Extra     map[string]any
}

// Claims returns typical claims of a token the issuer gives sub for aud,
// valid for an hour from now.
func (is *Issuer) Claims(sub, aud string) Claims {
	now := time.Now()
	return Claims{Issuer: is.URL, Subject: sub, Audience: []string{aud}, Expiry: now.Add(time.Hour), IssuedAt: now.Add(-time.Second)}
}

// Sign signs c with k, its id in the kid header.
func Sign(t testing.TB, k *Key, c Claims) string {
	t.Helper()
	return SignWith(t, k.Priv, k.Alg, k.ID, c)
}

// SignWith signs c with key under alg, with kid as the header's key id
// (none when ""). key may be []byte for the HMAC algorithms.
func SignWith(t testing.TB, key any, alg jose.SignatureAlgorithm, kid string, c Claims) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sig).Claims(c.payload()).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (c Claims) payload() map[string]any {
	m := map[string]any{}
	for k, v := range c.Extra {
		m[k] = v
	}
	if c.Issuer != "" {
		m["iss"] = c.Issuer
	}
	if c.Subject != "" {
		m["sub"] = c.Subject
	}
	if len(c.Audience) == 1 {
		m["aud"] = c.Audience[0]
	} else if len(c.Audience) > 1 {
		m["aud"] = c.Audience
	}
	for name, t := range map[string]time.Time{"exp": c.Expiry, "nbf": c.NotBefore, "iat": c.IssuedAt} {
		if !t.IsZero() {
			m[name] = t.Unix()
		}
	}
	return m
}

// Unsigned returns c as a token with "alg": "none" and no signature.
func Unsigned(c Claims) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	p, _ := json.Marshal(c.payload())
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "."
}

// PublicKeyDER is the key's public half in DER (PKIX) form: the bytes an
// algorithm-confusion attack uses as an HMAC secret.
func (k *Key) PublicKeyDER(t testing.TB) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(k.Priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
