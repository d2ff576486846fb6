package upstreamauth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Grants a server's oauth settings may name.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	// GrantCrossApp is cross-app access: a token for an ID-JAG the
	// enterprise IdP issues in exchange for the user's ID token.
	GrantCrossApp = "cross_app_access"
)

// Token is everything kept of one server's authorization: the tokens, and
// what refreshing them needs (the client and the token endpoint). It is
// stored sealed; its secrets are never logged.
type Token struct {
	Server        string    `json:"server"`
	Resource      string    `json:"resource"`
	Issuer        string    `json:"issuer"`
	TokenEndpoint string    `json:"token_endpoint"`
	Grant         string    `json:"grant"`
	ClientID      string    `json:"client_id"`
	ClientSecret  string    `json:"client_secret,omitempty"`
	AuthMethod    string    `json:"auth_method"`
	AccessToken   string    `json:"access_token"`
	RefreshToken  string    `json:"refresh_token,omitempty"`
	Expiry        time.Time `json:"expiry,omitzero"`
	Scope         string    `json:"scope,omitempty"`
	Obtained      time.Time `json:"obtained"`
}

// Client is how toolgate identifies itself to an authorization server.
type Client struct {
	ID     string
	Secret string
	// AuthMethod is client_secret_basic, client_secret_post,
	// private_key_jwt or none.
	AuthMethod string
	// Key signs the client assertions of private_key_jwt, whose audience
	// is Audience (the authorization server's issuer).
	Key      *ClientKey
	Audience string
}

// tokenRequest posts form to the token endpoint, authenticating as cl,
// and reads the answer; now dates a client assertion.
func tokenRequest(ctx context.Context, hc *http.Client, endpoint string, cl Client, form url.Values, now time.Time) (*tokenResponse, error) {
	status, body, err := postToken(ctx, hc, endpoint, cl, form, now)
	if err != nil {
		return nil, err
	}
	t, perr := parseTokenResponse(body)
	if status != http.StatusOK {
		var oe *OAuthError
		if errors.As(perr, &oe) {
			return nil, fmt.Errorf("token endpoint: %w", oe)
		}
		return nil, fmt.Errorf("token endpoint answered HTTP %d", status)
	}
	if perr != nil {
		return nil, fmt.Errorf("token endpoint: %w", perr)
	}
	return t, nil
}

// postToken posts form to a token endpoint, authenticating as cl (no
// authentication for a client without an id), and returns the status
// and at most MaxDocument+1 bytes of the answer.
func postToken(ctx context.Context, hc *http.Client, endpoint string, cl Client, form url.Values, now time.Time) (int, []byte, error) {
	switch cl.AuthMethod {
	case "client_secret_post":
		form.Set("client_id", cl.ID)
		form.Set("client_secret", cl.Secret)
	case "client_secret_basic":
	case "private_key_jwt":
		if cl.Key == nil {
			return 0, nil, errors.New("private_key_jwt needs the client's private key (oauth.private_key_file)")
		}
		a, err := cl.Key.Assertion(cl.ID, cl.Audience, now)
		if err != nil {
			return 0, nil, err
		}
		form.Set("client_id", cl.ID)
		form.Set("client_assertion_type", AssertionType)
		form.Set("client_assertion", a)
	default:
		if cl.ID != "" {
			form.Set("client_id", cl.ID)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if cl.AuthMethod == "client_secret_basic" {
		req.SetBasicAuth(url.QueryEscape(cl.ID), url.QueryEscape(cl.Secret))
	}
	// A token endpoint is not followed elsewhere: a redirect would carry
	// the form (a secret, a code, an ID token) to another server.
	nc := *hc
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := nc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocument+1))
	if err != nil {
		return 0, nil, fmt.Errorf("token endpoint: %w", err)
	}
	return resp.StatusCode, body, nil
}

// apply puts a token response into t.
func (t *Token) apply(r *tokenResponse, now time.Time) {
	t.AccessToken = r.AccessToken
	if r.RefreshToken != "" {
		t.RefreshToken = r.RefreshToken
	}
	t.Expiry = time.Time{}
	if r.ExpiresIn > 0 {
		t.Expiry = now.Add(time.Duration(min(r.ExpiresIn, 10*365*86400)) * time.Second)
	}
	if r.Scope != "" {
		t.Scope = r.Scope
	}
	t.Obtained = now
}

// client is the token's client; key signs its assertions when it
// authenticates with private_key_jwt (the key is never stored with the
// token).
func (t *Token) client(key *ClientKey) Client {
	return Client{ID: t.ClientID, Secret: t.ClientSecret, AuthMethod: t.AuthMethod, Key: key, Audience: t.Issuer}
}

// Refresh renews t: with its refresh token, or, for client credentials,
// by asking again. The resource parameter binds the new token to the
// same server. A client authenticating with private_key_jwt needs
// RefreshWithKey.
func Refresh(ctx context.Context, hc *http.Client, t *Token, now time.Time) (*Token, error) {
	return RefreshWithKey(ctx, hc, t, nil, now)
}

// RefreshWithKey is Refresh for a client that signs its token requests
// with key (private_key_jwt); key may be nil for any other client.
func RefreshWithKey(ctx context.Context, hc *http.Client, t *Token, key *ClientKey, now time.Time) (*Token, error) {
	n := *t
	form := url.Values{"resource": {t.Resource}}
	switch {
	case t.RefreshToken != "":
		form.Set("grant_type", "refresh_token")
		form.Set("refresh_token", t.RefreshToken)
	case t.Grant == GrantClientCredentials:
		form.Set("grant_type", GrantClientCredentials)
		if t.Scope != "" {
			form.Set("scope", t.Scope)
		}
	default:
		return nil, errors.New("the token has expired and there is no refresh token")
	}
	r, err := tokenRequest(ctx, hc, t.TokenEndpoint, t.client(key), form, now)
	if err != nil {
		return nil, err
	}
	n.apply(r, now)
	return &n, nil
}

// Key is the 32-byte key tokens are sealed with.
type Key [32]byte

// KeyEnv is the environment variable that may hold the key.
const KeyEnv = "TOOLGATE_OAUTH_KEY"

// ParseKey reads a key written as 64 hex digits or as base64 (standard or
// URL alphabet, padded or not) of 32 bytes.
func ParseKey(s string) (Key, error) {
	var k Key
	s = strings.TrimSpace(s)
	var b []byte
	var err error
	if len(s) == 64 {
		b, err = hex.DecodeString(s)
	}
	if b == nil || err != nil {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err = enc.DecodeString(s); err == nil {
				break
			}
		}
	}
	if err != nil || len(b) != len(k) {
		return k, errors.New("the key must be 32 random bytes, written as 64 hex digits or in base64 (head -c 32 /dev/urandom | base64)")
	}
	copy(k[:], b)
	return k, nil
}

// LoadKey reads the key from file (when not "") or else from the
// environment variable KeyEnv; getenv is os.Getenv when nil.
func LoadKey(file string, getenv func(string) string) (Key, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return Key{}, fmt.Errorf("oauth key file: %w", err)
		}
		k, err := ParseKey(string(b))
		if err != nil {
			return Key{}, fmt.Errorf("oauth key file %s: %w", file, err)
		}
		return k, nil
	}
	v := getenv(KeyEnv)
	if v == "" {
		return Key{}, fmt.Errorf("no key to seal upstream tokens with: set oauth_key_file in the configuration or the environment variable %s (32 random bytes: head -c 32 /dev/urandom | base64)", KeyEnv)
	}
	k, err := ParseKey(v)
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", KeyEnv, err)
	}
	return k, nil
}

// seal encrypts t with AES-256-GCM; the server's name is authenticated
// with it, so that one server's sealed token cannot pass for another's.
func seal(k Key, t *Token) ([]byte, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(k)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, aad(t.Server)), nil
}

// unseal decrypts what seal made for server.
func unseal(k Key, server string, sealed []byte) (*Token, error) {
	aead, err := newAEAD(k)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("sealed token too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], aad(server))
	if err != nil {
		return nil, errors.New("cannot open the stored token: it was sealed with another key (or altered); run toolgate upstream login again")
	}
	var t Token
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, fmt.Errorf("stored token: %w", err)
	}
	return &t, nil
}

func aad(server string) []byte { return []byte("toolgate upstream token v1\x00" + server) }

func newAEAD(k Key) (cipher.AEAD, error) {
	b, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
