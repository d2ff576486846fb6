// Package jwtauth verifies JWT bearer tokens issued by one OAuth
// authorization server and turns a verified token into the caller's
// toolgate.Grant: its subject, labels and policy. The issuer's public keys
// come from a JWKS (a URL or a file), cached and refetched within bounds.
// Only asymmetric signature algorithms are accepted; "none" and the HMAC
// algorithms never are, whatever a token's header says.
package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/internal/outbound"
)

// Bounds and defaults.
const (
	// MaxTokenBytes is the largest token Verify looks at; longer ones are
	// refused before any parsing.
	MaxTokenBytes = 8 << 10
	// DefaultRefresh is how often the key set is fetched again.
	DefaultRefresh = 5 * time.Minute
	// DefaultMinRefetch is the shortest time between two fetches of the
	// key set, however many tokens name a key it does not hold: a caller
	// sending random key ids cannot make the gateway hammer the JWKS URL.
	DefaultMinRefetch = 30 * time.Second
	// DefaultMaxStale is how long past its refresh a key set that could
	// not be fetched again is still used. Past it, tokens are answered
	// with Unavailable (fail closed) until a fetch succeeds.
	DefaultMaxStale = time.Hour
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway = 30 * time.Second
	// GrantIDPrefix starts the grant id of every JWT caller:
	// "jwt:<issuer>#<subject>".
	GrantIDPrefix = "jwt:"
	// DefaultSubjectClaim is the claim that names the caller.
	DefaultSubjectClaim = "sub"

	maxJWKSBytes   = 1 << 20
	maxKeys        = 100
	maxSubject     = 256
	maxLabelValue  = 256
	minRSABits     = 2048
	fetchTimeout   = 10 * time.Second
	jwksMediaTypes = "application/jwk-set+json, application/json"
)

// Algorithms are the signature algorithms a Config may name; all of them
// are accepted when it names none. They are all asymmetric.
var Algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// ErrInvalidToken is the one error Verify returns for a token it refuses,
// whatever the reason, so that a caller learns nothing from which. Its
// code is toolgate.Unauthorized.
var ErrInvalidToken = &toolgate.Error{Code: toolgate.Unauthorized, Message: "invalid or expired token"}

// Config says which tokens a Verifier accepts and what identity they give.
type Config struct {
	// Issuer must equal a token's "iss" claim exactly. Required.
	Issuer string
	// Audience must be one of a token's "aud" values. Required.
	Audience string
	// JWKSURL is where the issuer publishes its keys; JWKSFile a file
	// holding them. Exactly one is set.
	JWKSURL  string
	JWKSFile string
	// SubjectClaim names the string claim that becomes the caller's
	// subject; DefaultSubjectClaim when "".
	SubjectClaim string
	// LabelClaims maps a label key to the claim whose string value becomes
	// that label. A claim that is absent or not a string gives no label.
	LabelClaims map[string]string
	// Policy is the named policy that decides every JWT caller's calls.
	Policy string
	// Algorithms restricts the accepted signature algorithms to these
	// (each one of Algorithms); all of Algorithms when empty.
	Algorithms []string
	// Refresh, MinRefetch and MaxStale bound how the key set is cached;
	// the defaults when 0.
	Refresh, MinRefetch, MaxStale time.Duration
	// HTTPClient fetches JWKSURL; a client with a 10s timeout that
	// follows no redirect when nil.
	HTTPClient *http.Client
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Logger receives, at Debug, why a token was refused (never the
	// token), and at Warn, failed key set fetches; nothing when nil.
	Logger *slog.Logger
}

// Verifier checks JWT bearer tokens. Build it with New; it is safe for
// concurrent use.
type Verifier struct {
	cfg   Config
	algs  []jose.SignatureAlgorithm
	fetch func(ctx context.Context) ([]byte, error)
	log   *slog.Logger

	fetchMu sync.Mutex // held by the one fetch in progress

	cmu   sync.RWMutex // guards cache
	cache map[[32]byte]verified

	mu        sync.Mutex // guards the fields below
	keys      []jose.JSONWebKey
	fetched   time.Time // when keys were fetched; zero: never
	attempted time.Time // when the last fetch started
}

// New checks cfg and returns a Verifier for it. It does no I/O: the key
// set is fetched on the first Verify, or by Load.
func New(cfg Config) (*Verifier, error) {
	if err := Check(&cfg); err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg, log: cfg.Logger}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Algorithms) == 0 {
		v.algs = slices.Clone(Algorithms)
	}
	for _, a := range cfg.Algorithms {
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	if cfg.SubjectClaim == "" {
		v.cfg.SubjectClaim = DefaultSubjectClaim
	}
	if v.cfg.Refresh <= 0 {
		v.cfg.Refresh = DefaultRefresh
	}
	if v.cfg.MinRefetch <= 0 {
		v.cfg.MinRefetch = DefaultMinRefetch
	}
	if v.cfg.MaxStale <= 0 {
		v.cfg.MaxStale = DefaultMaxStale
	}
	if cfg.JWKSFile != "" {
		v.fetch = func(context.Context) ([]byte, error) { return readFile(cfg.JWKSFile) }
	} else {
		client := cfg.HTTPClient
		if client == nil {
			client = &http.Client{
				Timeout: fetchTimeout,
				CheckRedirect: func(*http.Request, []*http.Request) error {
					return errors.New("the JWKS URL redirects; configure the URL it redirects to")
				},
			}
		}
		v.fetch = func(ctx context.Context) ([]byte, error) { return fetchURL(ctx, client, cfg.JWKSURL) }
	}
	return v, nil
}

// Check reports the first problem of cfg that New would refuse. The
// configuration loader reports the same problems with their positions.
func Check(cfg *Config) error {
	switch {
	case cfg.Issuer == "":
		return errors.New("jwt: issuer is required")
	case cfg.Audience == "":
		return errors.New("jwt: audience is required")
	case (cfg.JWKSURL == "") == (cfg.JWKSFile == ""):
		return errors.New("jwt: exactly one of jwks_url and jwks_file is required")
	case cfg.Policy == "":
		return errors.New("jwt: policy is required")
	}
	if cfg.JWKSURL != "" {
		if err := outbound.CheckURL(cfg.JWKSURL); err != nil {
			return fmt.Errorf("jwt: jwks_url: %w", err)
		}
	}
	for _, a := range cfg.Algorithms {
		if err := CheckAlgorithm(a); err != nil {
			return fmt.Errorf("jwt: algorithms: %w", err)
		}
	}
	return nil
}

// CheckAlgorithm reports whether a is one of Algorithms.
func CheckAlgorithm(a string) error {
	if slices.Contains(Algorithms, jose.SignatureAlgorithm(a)) {
		return nil
	}
	names := make([]string, len(Algorithms))
	for i, x := range Algorithms {
		names[i] = string(x)
	}
	if strings.EqualFold(a, "none") || strings.HasPrefix(strings.ToUpper(a), "HS") {
		return fmt.Errorf("%q is never accepted: tokens must be signed with an asymmetric key (one of %s)", a, strings.Join(names, ", "))
	}
	return fmt.Errorf("%q is not a supported signature algorithm (one of %s)", a, strings.Join(names, ", "))
}

// Issuer is the issuer tokens must name.
func (v *Verifier) Issuer() string { return v.cfg.Issuer }

// Load fetches the key set now, so that a configuration whose keys cannot
// be read is reported at start. Verify fetches it when needed anyway.
func (v *Verifier) Load(ctx context.Context) error {
	keys, err := v.loadKeys(ctx)
	if err != nil {
		return err
	}
	now := v.now()
	v.mu.Lock()
	v.keys, v.fetched, v.attempted = keys, now, now
	v.mu.Unlock()
	return nil
}

// Verify returns the grant a JWT stands for: its id is
// "jwt:<issuer>#<subject>", its subject the SubjectClaim, its labels those
// of LabelClaims, its policy Config.Policy and its expiry the token's.
// It returns ErrInvalidToken for every token it refuses, and an error
// with the code toolgate.Unavailable when no usable key set could be
// fetched (fail closed).
//
// A token it accepted is accepted again, without checking its signature,
// until it expires or for CacheFor, whichever comes first: a signature
// check costs tens of microseconds per request. Refusals are not cached.
func (v *Verifier) Verify(ctx context.Context, token string) (*toolgate.Grant, error) {
	if token == "" || len(token) > MaxTokenBytes {
		return v.verify(ctx, token)
	}
	h := sha256.Sum256([]byte(token))
	now := v.now()
	v.cmu.RLock()
	c, ok := v.cache[h]
	v.cmu.RUnlock()
	if ok && now.Before(c.until) {
		return c.grant.Clone(), nil
	}
	g, err := v.verify(ctx, token)
	if err != nil {
		return nil, err
	}
	until := now.Add(CacheFor)
	if g.ExpiresAt.Before(until) {
		until = g.ExpiresAt
	}
	v.cmu.Lock()
	if v.cache == nil || len(v.cache) >= cacheSize {
		v.cache = make(map[[32]byte]verified) // full: start afresh
	}
	v.cache[h] = verified{grant: g.Clone(), until: until}
	v.cmu.Unlock()
	return g, nil
}

// CacheFor is how long a verified JWT is accepted again without checking
// its signature (never past its expiry).
const CacheFor = time.Minute

// cacheSize bounds the verified tokens remembered.
const cacheSize = 10000

// verified is a token accepted by verify, and until when to trust that.
type verified struct {
	grant *toolgate.Grant
	until time.Time
}

func (v *Verifier) verify(ctx context.Context, token string) (*toolgate.Grant, error) {
	if token == "" {
		return nil, v.refuse(ctx, "missing")
	}
	if len(token) > MaxTokenBytes {
		return nil, v.refuse(ctx, "too large")
	}
	tok, err := jwt.ParseSigned(token, v.algs)
	if err != nil {
		return nil, v.refuse(ctx, "malformed or algorithm not accepted")
	}
	if len(tok.Headers) != 1 {
		return nil, v.refuse(ctx, "not exactly one signature")
	}
	h := tok.Headers[0]
	key, err := v.key(ctx, h.KeyID, jose.SignatureAlgorithm(h.Algorithm))
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	var raw map[string]any
	if err := tok.Claims(key.Key, &std, &raw); err != nil {
		return nil, v.refuse(ctx, "bad signature or claims")
	}
	if std.Expiry == nil {
		return nil, v.refuse(ctx, "no exp claim")
	}
	exp := jwt.Expected{Issuer: v.cfg.Issuer, AnyAudience: jwt.Audience{v.cfg.Audience}, Time: v.now()}
	if err := std.ValidateWithLeeway(exp, Leeway); err != nil {
		return nil, v.refuse(ctx, strings.TrimPrefix(err.Error(), "go-jose/go-jose/jwt: "))
	}
	sub, ok := raw[v.cfg.SubjectClaim].(string)
	if !ok || !textOK(sub, maxSubject) {
		return nil, v.refuse(ctx, "no usable subject claim "+v.cfg.SubjectClaim)
	}
	var labels map[string]string
	for k, claim := range v.cfg.LabelClaims {
		s, ok := raw[claim].(string)
		if !ok || !textOK(s, maxLabelValue) {
			continue
		}
		if labels == nil {
			labels = map[string]string{}
		}
		labels[k] = s
	}
	g := &toolgate.Grant{
		ID:        GrantIDPrefix + v.cfg.Issuer + "#" + sub,
		Subject:   sub,
		Policy:    v.cfg.Policy,
		Labels:    labels,
		ExpiresAt: std.Expiry.Time().UTC(),
	}
	if std.IssuedAt != nil {
		g.CreatedAt = std.IssuedAt.Time().UTC()
	}
	return g, nil
}

// textOK reports whether s is a usable subject or label value: not empty,
// at most max bytes of valid UTF-8, no control characters, no surrounding
// spaces.
func textOK(s string, max int) bool {
	if s == "" || len(s) > max || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// key returns the key that verifies a token with kid and alg. It fetches
// the key set when there is none, when it is due for refresh, or when it
// holds no such key, at most once per MinRefetch.
func (v *Verifier) key(ctx context.Context, kid string, alg jose.SignatureAlgorithm) (*jose.JSONWebKey, error) {
	now := v.now()
	keys, fetched, attempted := v.state()
	k := pick(keys, kid, alg)
	due := keys == nil || now.Sub(fetched) >= v.cfg.Refresh
	if k != nil && !due {
		return k, nil
	}
	if now.Sub(attempted) >= v.cfg.MinRefetch {
		v.refetch(ctx)
		keys, fetched, _ = v.state()
		k = pick(keys, kid, alg)
	}
	if keys == nil || now.Sub(fetched) >= v.cfg.Refresh+v.cfg.MaxStale {
		return nil, &toolgate.Error{Code: toolgate.Unavailable, Message: "the issuer's keys (JWKS) could not be fetched"}
	}
	if k == nil {
		return nil, v.refuse(ctx, "no key for kid "+kidForLog(kid)+" and alg "+string(alg))
	}
	return k, nil
}

func kidForLog(kid string) string {
	if len(kid) > 64 {
		kid = kid[:64] + "…"
	}
	return fmt.Sprintf("%q", kid)
}

func (v *Verifier) state() ([]jose.JSONWebKey, time.Time, time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.keys, v.fetched, v.attempted
}

// refetch fetches the key set unless another fetch started less than
// MinRefetch ago. It does not let the caller's cancellation cut a fetch
// other requests wait for.
func (v *Verifier) refetch(ctx context.Context) {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	now := v.now()
	v.mu.Lock()
	if !v.attempted.IsZero() && now.Sub(v.attempted) < v.cfg.MinRefetch {
		v.mu.Unlock()
		return // fetched (or tried) while this caller waited
	}
	v.attempted = now
	v.mu.Unlock()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	keys, err := v.loadKeys(fctx)
	if err != nil {
		v.log.LogAttrs(ctx, slog.LevelWarn, "could not fetch the JWT issuer's keys", slog.String("issuer", v.cfg.Issuer), slog.Any("error", err))
		return
	}
	v.mu.Lock()
	v.keys, v.fetched = keys, now
	v.mu.Unlock()
	v.log.LogAttrs(ctx, slog.LevelDebug, "fetched the JWT issuer's keys", slog.String("issuer", v.cfg.Issuer), slog.Int("keys", len(keys)))
}

func (v *Verifier) loadKeys(ctx context.Context) ([]jose.JSONWebKey, error) {
	data, err := v.fetch(ctx)
	if err != nil {
		return nil, err
	}
	return ParseKeySet(data)
}

// pick returns the key of keys that verifies alg with the key id kid.
// A token without a kid is verified only when the set holds one key.
func pick(keys []jose.JSONWebKey, kid string, alg jose.SignatureAlgorithm) *jose.JSONWebKey {
	if kid == "" && len(keys) != 1 {
		return nil
	}
	for i := range keys {
		k := &keys[i]
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != string(alg) {
			continue
		}
		if fits(k.Key, alg) {
			return k
		}
	}
	return nil
}

// fits reports whether key is a public key of the type alg needs.
func fits(key any, alg jose.SignatureAlgorithm) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return k.Curve == elliptic.P256()
		case jose.ES384:
			return k.Curve == elliptic.P384()
		case jose.ES512:
			return k.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

// ParseKeySet decodes a JWKS document and keeps its usable signature
// keys: public (a private key's public half), asymmetric, RSA of at least
// 2048 bits, not marked for encryption. Keys it cannot decode are left
// out; a set with no usable key is an error.
func ParseKeySet(data []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decoding the JWKS: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range doc.Keys {
		if len(keys) == maxKeys {
			break
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue // a key type this build does not know
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub := k.Public()
		if !pub.Valid() || !pub.IsPublic() {
			continue // symmetric keys are never used
		}
		if r, ok := pub.Key.(*rsa.PublicKey); ok && r.N.BitLen() < minRSABits {
			continue
		}
		keys = append(keys, pub)
	}
	if len(keys) == 0 {
		return nil, errors.New("the JWKS holds no usable signature key")
	}
	return keys, nil
}

func (v *Verifier) refuse(ctx context.Context, why string) error {
	v.log.LogAttrs(ctx, slog.LevelDebug, "JWT refused", slog.String("reason", why))
	return ErrInvalidToken
}

func (v *Verifier) now() time.Time {
	if v.cfg.Now != nil {
		return v.cfg.Now()
	}
	return time.Now()
}
