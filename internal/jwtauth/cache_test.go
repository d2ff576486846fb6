package jwtauth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/toolgate/toolgate/internal/jwtauth"
	"github.com/toolgate/toolgate/internal/jwtauth/jwttest"
)

// A verified token is trusted again until it expires, never after; a
// cached grant is the caller's own copy.
func TestVerifyCache(t *testing.T) {
	ctx := context.Background()
	key := jwttest.NewKey(t, "k1", jose.ES256)
	is := jwttest.NewIssuer(t, key)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, is, func(c *jwtauth.Config) { c.Now = clk.now })
	c := is.Claims("alice", aud)
	c.Expiry = clk.now().Add(30 * time.Second)
	c.Extra = map[string]any{"team": "support"}
	token := jwttest.Sign(t, key, c)
	g, err := v.Verify(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	g.Labels["team"] = "admin" // must not reach the cache
	is.SetFailing(true)        // a cached token needs no key fetch
	again, err := v.Verify(ctx, token)
	if err != nil || again.Labels["team"] != "support" {
		t.Fatalf("cached: %+v %v", again, err)
	}
	// Past its expiry (and the leeway), the cache does not keep it alive.
	clk.add(30*time.Second + jwtauth.Leeway)
	if _, err := v.Verify(ctx, token); err == nil {
		t.Fatal("an expired token was accepted from the cache")
	}
	// A refusal is not cached: the same bad token is refused every time,
	// and a good one after it still verifies.
	bad := token[:len(token)-3] + strings.Repeat("A", 3)
	for range 2 {
		if _, err := v.Verify(ctx, bad); err == nil {
			t.Fatal("a tampered token was accepted")
		}
	}
}

// BenchmarkVerify measures a JWT's check per request: the signature
// every time against the cache Verify keeps.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	key := jwttest.NewKey(b, "k1", jose.ES256)
	is := jwttest.NewIssuer(b, key)
	cfg := jwtauth.Config{Issuer: is.URL, Audience: aud, JWKSURL: is.JWKSURL(), Policy: "support"}
	v, err := jwtauth.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	c := is.Claims("alice", aud)
	c.Expiry = time.Now().Add(time.Hour)
	b.Run("cached", func(b *testing.B) {
		token := jwttest.Sign(b, key, c)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("signature", func(b *testing.B) {
		// A new token each time: each one is checked in full.
		tokens := make([]string, 0, 2000)
		for i := range 2000 {
			c := c
			c.Extra = map[string]any{"n": i}
			tokens = append(tokens, jwttest.Sign(b, key, c))
		}
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, tokens[i%len(tokens)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
