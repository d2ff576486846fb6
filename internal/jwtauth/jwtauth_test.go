package jwtauth_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/internal/jwtauth"
	"github.com/toolgate/toolgate/internal/jwtauth/jwttest"
)

const aud = "http://127.0.0.1:8080/mcp"

// clock is a settable time for the key cache's bounds.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newVerifier(t *testing.T, is *jwttest.Issuer, mod func(*jwtauth.Config)) *jwtauth.Verifier {
	t.Helper()
	cfg := jwtauth.Config{Issuer: is.URL, Audience: aud, JWKSURL: is.JWKSURL(), Policy: "support",
		LabelClaims: map[string]string{"team": "team", "tenant": "org"}}
	if mod != nil {
		mod(&cfg)
	}
	v, err := jwtauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyGood(t *testing.T) {
	ctx := context.Background()
	rsaKey := jwttest.NewKey(t, "r1", jose.RS256)
	ecKey := jwttest.NewKey(t, "e1", jose.ES256)
	edKey := jwttest.NewKey(t, "d1", jose.EdDSA)
	psKey := jwttest.NewKey(t, "p1", jose.PS256)
	is := jwttest.NewIssuer(t, rsaKey, ecKey, edKey, psKey)
	v := newVerifier(t, is, nil)
	for _, k := range []*jwttest.Key{rsaKey, ecKey, edKey, psKey} {
		c := is.Claims("alice@example.com", aud)
		c.Extra = map[string]any{"team": "support", "org": 42}
		g, err := v.Verify(ctx, jwttest.Sign(t, k, c))
		if err != nil {
			t.Fatalf("%s: %v", k.Alg, err)
		}
		want := "jwt:" + is.URL + "#alice@example.com"
		if g.ID != want || g.Subject != "alice@example.com" || g.Policy != "support" ||
			g.Labels["team"] != "support" || len(g.Labels) != 1 || g.ExpiresAt.Before(time.Now()) {
			t.Errorf("%s: grant %+v", k.Alg, g)
		}
	}
	if n := is.Fetches.Load(); n != 1 {
		t.Errorf("%d JWKS fetches for four tokens, want 1", n)
	}
	// Another subject claim; an audience among several.
	v2 := newVerifier(t, is, func(c *jwtauth.Config) { c.SubjectClaim = "email" })
	c := is.Claims("u_123", "other")
	c.Audience = []string{"other", aud}
	c.Extra = map[string]any{"email": "bob@example.com"}
	g, err := v2.Verify(ctx, jwttest.Sign(t, rsaKey, c))
	if err != nil || g.Subject != "bob@example.com" || g.ID != "jwt:"+is.URL+"#bob@example.com" {
		t.Fatalf("subject_claim email: %+v %v", g, err)
	}
}

// Every bad token gets ErrInvalidToken, and nothing else.
func TestVerifyRefusals(t *testing.T) {
	ctx := context.Background()
	key := jwttest.NewKey(t, "k1", jose.RS256)
	stranger := jwttest.NewKey(t, "k1", jose.RS256) // same kid, not published
	is := jwttest.NewIssuer(t, key)
	v := newVerifier(t, is, func(c *jwtauth.Config) { c.MinRefetch = time.Hour })
	good := func() jwttest.Claims { return is.Claims("alice", aud) }
	with := func(f func(*jwttest.Claims)) jwttest.Claims { c := good(); f(&c); return c }
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"garbage", "not.a.jwt"},
		{"alg none", jwttest.Unsigned(good())},
		{"wrong key", jwttest.Sign(t, stranger, good())},
		{"wrong issuer", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.Issuer = "https://evil.example" }))},
		{"no issuer", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.Issuer = "" }))},
		{"wrong audience", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.Audience = []string{"https://other.example/mcp"} }))},
		{"no audience", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.Audience = nil }))},
		{"expired", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.Expiry = time.Now().Add(-time.Hour) }))},
		{"no exp", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.Expiry = time.Time{} }))},
		{"not yet valid", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.NotBefore = time.Now().Add(time.Hour) }))},
		{"issued in the future", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.IssuedAt = time.Now().Add(time.Hour) }))},
		{"oversized", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.Extra = map[string]any{"pad": strings.Repeat("x", 9000)} }))},
		{"HS256 with the public key", jwttest.SignWith(t, key.PublicKeyDER(t), jose.HS256, "k1", good())},
		{"HS256 with the JWK's modulus", jwttest.SignWith(t, []byte(string(is.JWKS())), jose.HS256, "k1", good())},
		{"missing subject", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.Subject = "" }))},
		{"subject not a string", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.Subject = ""; c.Extra = map[string]any{"sub": 7} }))},
		{"subject with a line break", jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.Subject = "alice\nadmin" }))},
		{"unknown kid", jwttest.SignWith(t, key.Priv, jose.RS256, "k9", good())},
		{"alg the key is not for", jwttest.SignWith(t, key.Priv, jose.PS256, "k1", good())},
		{"truncated signature", func() string { s := jwttest.Sign(t, key, good()); return s[:len(s)-4] }()},
		{"tampered payload", func() string {
			s := jwttest.Sign(t, key, good())
			parts := strings.Split(s, ".")
			other := strings.Split(jwttest.Sign(t, key, with(func(c *jwttest.Claims) { c.Subject = "admin" })), ".")
			return parts[0] + "." + other[1] + "." + parts[2]
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := v.Verify(ctx, tc.token)
			if !errors.Is(err, jwtauth.ErrInvalidToken) || g != nil {
				t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", g, err)
			}
		})
	}
}

// A token for an unknown kid makes the verifier refetch the key set, at
// most once per MinRefetch, so that a key the issuer just added works and
// random kids cannot make it hammer the JWKS URL.
func TestRefetchBounded(t *testing.T) {
	ctx := context.Background()
	old := jwttest.NewKey(t, "old", jose.ES256)
	next := jwttest.NewKey(t, "new", jose.ES256)
	is := jwttest.NewIssuer(t, old)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, is, func(c *jwtauth.Config) { c.Now = clk.now; c.MinRefetch = 30 * time.Second })
	if _, err := v.Verify(ctx, jwttest.Sign(t, old, is.Claims("a", aud))); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		kid := "random-" + string(rune('a'+i%26))
		if _, err := v.Verify(ctx, jwttest.SignWith(t, old.Priv, jose.ES256, kid, is.Claims("a", aud))); !errors.Is(err, jwtauth.ErrInvalidToken) {
			t.Fatalf("random kid: %v", err)
		}
	}
	if n := is.Fetches.Load(); n != 1 {
		t.Fatalf("%d fetches after 50 unknown kids within the bound, want 1", n)
	}
	// The issuer rotates: the new key works once the bound has passed.
	is.SetKeys(old, next)
	tok := jwttest.Sign(t, next, is.Claims("a", aud))
	if _, err := v.Verify(ctx, tok); !errors.Is(err, jwtauth.ErrInvalidToken) {
		t.Fatalf("within the bound: %v", err)
	}
	clk.add(31 * time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("after the bound: %v", err)
	}
	if n := is.Fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	// Concurrent unknown kids after the bound: still one fetch.
	clk.add(31 * time.Second)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = v.Verify(ctx, jwttest.SignWith(t, old.Priv, jose.ES256, "x"+string(rune('a'+i)), is.Claims("a", aud)))
		}()
	}
	wg.Wait()
	if n := is.Fetches.Load(); n != 3 {
		t.Fatalf("%d fetches after 20 concurrent unknown kids, want 3", n)
	}
}

// Without a key set the verifier fails closed: Unavailable, never a grant;
// a key set that cannot be refreshed serves until MaxStale, then fails
// closed too.
func TestFailClosed(t *testing.T) {
	ctx := context.Background()
	key := jwttest.NewKey(t, "k", jose.EdDSA)
	is := jwttest.NewIssuer(t, key)
	is.SetFailing(true)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, is, func(c *jwtauth.Config) {
		c.Now, c.Refresh, c.MinRefetch, c.MaxStale = clk.now, time.Minute, 10*time.Second, time.Hour
	})
	tok := jwttest.Sign(t, key, is.Claims("a", aud))
	for range 3 {
		if g, err := v.Verify(ctx, tok); g != nil || toolgate.ErrorCode(err) != toolgate.Unavailable {
			t.Fatalf("JWKS down: %+v %v", g, err)
		}
	}
	if n := is.Fetches.Load(); n != 1 {
		t.Fatalf("%d fetches while down within the bound, want 1", n)
	}
	if err := v.Load(ctx); err == nil {
		t.Fatal("Load with the JWKS down")
	}
	is.SetFailing(false)
	clk.add(11 * time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("JWKS back: %v", err)
	}
	is.SetFailing(true)
	clk.add(30 * time.Minute) // due for refresh, which fails: the old set serves
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("stale set within MaxStale: %v", err)
	}
	clk.add(time.Hour)
	if g, err := v.Verify(ctx, tok); g != nil || toolgate.ErrorCode(err) != toolgate.Unavailable {
		t.Fatalf("stale set past MaxStale: %+v %v", g, err)
	}
}

func TestJWKSFileAndKeyFiltering(t *testing.T) {
	ctx := context.Background()
	key := jwttest.NewKey(t, "k", jose.ES256)
	is := jwttest.NewIssuer(t, key)
	// The file holds a symmetric key, an encryption key and the real one:
	// only the last is used.
	doc := `{"keys":[{"kty":"oct","kid":"k","k":"` + octSecret + `"},` +
		`{"kty":"EC","use":"enc","kid":"enc","crv":"P-256","x":"` + xOf(t, is.JWKS()) + `","y":"` + yOf(t, is.JWKS()) + `"},` +
		`{"kty":"XYZ","kid":"odd"},` + strings.TrimSuffix(strings.TrimPrefix(string(is.JWKS()), `{"keys":[`), `]}`) + `]}`
	keys, err := jwtauth.ParseKeySet([]byte(doc))
	if err != nil || len(keys) != 1 || keys[0].KeyID != "k" || !keys[0].IsPublic() {
		t.Fatalf("ParseKeySet: %d keys, %v", len(keys), err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, is, func(c *jwtauth.Config) { c.JWKSURL, c.JWKSFile = "", path })
	if err := v.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, jwttest.Sign(t, key, is.Claims("a", aud))); err != nil {
		t.Fatal(err)
	}
	// HS256 signed with the oct key's secret is refused: HMAC is never accepted.
	if _, err := v.Verify(ctx, jwttest.SignWith(t, []byte("0123456789abcdef0123456789abcdef"), jose.HS256, "k", is.Claims("a", aud))); !errors.Is(err, jwtauth.ErrInvalidToken) {
		t.Fatalf("HS256 with the oct key: %v", err)
	}
	for _, bad := range []string{`{}`, `{"keys":[]}`, `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, `nope`} {
		if _, err := jwtauth.ParseKeySet([]byte(bad)); err == nil {
			t.Errorf("ParseKeySet(%s): no error", bad)
		}
	}
}

// octSecret is base64url("0123456789abcdef0123456789abcdef").
const octSecret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"

func xOf(t *testing.T, jwks []byte) string { return field(t, jwks, "x") }
func yOf(t *testing.T, jwks []byte) string { return field(t, jwks, "y") }

func field(t *testing.T, jwks []byte, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(string(jwks), `"`+name+`":"`)
	if !ok {
		t.Fatalf("no %s in %s", name, jwks)
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

func TestConfigChecks(t *testing.T) {
	base := jwtauth.Config{Issuer: "https://auth.example.com", Audience: "a", JWKSURL: "https://auth.example.com/jwks", Policy: "p"}
	for _, tc := range []struct {
		name string
		mod  func(*jwtauth.Config)
		want string
	}{
		{"ok", func(*jwtauth.Config) {}, ""},
		{"loopback http", func(c *jwtauth.Config) { c.JWKSURL = "http://127.0.0.1:9/jwks" }, ""},
		{"no issuer", func(c *jwtauth.Config) { c.Issuer = "" }, "issuer"},
		{"no audience", func(c *jwtauth.Config) { c.Audience = "" }, "audience"},
		{"both sources", func(c *jwtauth.Config) { c.JWKSFile = "x" }, "exactly one"},
		{"no source", func(c *jwtauth.Config) { c.JWKSURL = "" }, "exactly one"},
		{"plain http", func(c *jwtauth.Config) { c.JWKSURL = "http://auth.example.com/jwks" }, "https"},
		{"no policy", func(c *jwtauth.Config) { c.Policy = "" }, "policy"},
		{"HS256", func(c *jwtauth.Config) { c.Algorithms = []string{"HS256"} }, "never accepted"},
		{"none", func(c *jwtauth.Config) { c.Algorithms = []string{"none"} }, "never accepted"},
		{"unknown alg", func(c *jwtauth.Config) { c.Algorithms = []string{"RS999"} }, "not a supported"},
	} {
		c := base
		tc.mod(&c)
		_, err := jwtauth.New(c)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// Algorithms restricts what is accepted even among the asymmetric ones.
func TestAlgorithmsRestricted(t *testing.T) {
	ctx := context.Background()
	rs := jwttest.NewKey(t, "r", jose.RS256)
	es := jwttest.NewKey(t, "e", jose.ES256)
	is := jwttest.NewIssuer(t, rs, es)
	v := newVerifier(t, is, func(c *jwtauth.Config) { c.Algorithms = []string{"ES256"} })
	if _, err := v.Verify(ctx, jwttest.Sign(t, es, is.Claims("a", aud))); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, jwttest.Sign(t, rs, is.Claims("a", aud))); !errors.Is(err, jwtauth.ErrInvalidToken) {
		t.Fatalf("RS256 when only ES256 is accepted: %v", err)
	}
}

// A token without kid is verified only when the set holds one key.
func TestNoKid(t *testing.T) {
	ctx := context.Background()
	a := jwttest.NewKey(t, "a", jose.ES256)
	b := jwttest.NewKey(t, "b", jose.ES256)
	is := jwttest.NewIssuer(t, a)
	v := newVerifier(t, is, func(c *jwtauth.Config) { c.MinRefetch = time.Nanosecond; c.Refresh = time.Nanosecond })
	tok := jwttest.SignWith(t, a.Priv, jose.ES256, "", is.Claims("x", aud))
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("one key, no kid: %v", err)
	}
	is.SetKeys(a, b)
	// Another token: the one above is accepted from the cache until it
	// expires, as every verified token is.
	tok = jwttest.SignWith(t, a.Priv, jose.ES256, "", is.Claims("y", aud))
	if _, err := v.Verify(ctx, tok); !errors.Is(err, jwtauth.ErrInvalidToken) {
		t.Fatalf("two keys, no kid: %v", err)
	}
}

func TestDispatch(t *testing.T) {
	ctx := context.Background()
	mark := func(name string) jwtauth.AuthenticateFunc {
		return func(context.Context, string) (*toolgate.Grant, error) { return &toolgate.Grant{ID: name}, nil }
	}
	both := jwtauth.Dispatch(mark("grants"), mark("jwt"))
	for tok, want := range map[string]string{"tg_abc": "grants", "eyJ.x.y": "jwt", "tgx": "jwt", "": "jwt"} {
		if g, _ := both(ctx, tok); g.ID != want {
			t.Errorf("%q went to %s, want %s", tok, g.ID, want)
		}
	}
	onlyJWT := jwtauth.Dispatch(nil, mark("jwt"))
	if _, err := onlyJWT(ctx, "tg_abc"); !errors.Is(err, jwtauth.ErrInvalidToken) {
		t.Errorf("a grant token without grants: %v", err)
	}
	onlyGrants := jwtauth.Dispatch(mark("grants"), nil)
	if _, err := onlyGrants(ctx, "eyJ.x.y"); !errors.Is(err, jwtauth.ErrInvalidToken) {
		t.Errorf("a JWT without jwt: %v", err)
	}
}
