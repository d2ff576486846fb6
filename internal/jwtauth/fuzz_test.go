package jwtauth_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/toolgate/toolgate/internal/jwtauth"
	"github.com/toolgate/toolgate/internal/jwtauth/jwttest"
)

// FuzzVerify feeds arbitrary tokens to a verifier whose keys come from a
// file: it must never panic, never fetch, and refuse everything but
// tokens that the test's key signed.
func FuzzVerify(f *testing.F) {
	key := jwttest.NewKey(f, "k", jose.ES256)
	is := jwttest.NewIssuer(f, key)
	path := filepath.Join(f.TempDir(), "jwks.json")
	if err := os.WriteFile(path, is.JWKS(), 0o600); err != nil {
		f.Fatal(err)
	}
	v, err := jwtauth.New(jwtauth.Config{Issuer: is.URL, Audience: aud, JWKSFile: path, Policy: "p",
		LabelClaims: map[string]string{"team": "team"}})
	if err != nil {
		f.Fatal(err)
	}
	if err := v.Load(context.Background()); err != nil {
		f.Fatal(err)
	}
	good := is.Claims("alice", aud)
	good.Expiry = time.Now().Add(24 * time.Hour)
	good.Extra = map[string]any{"team": "support"}
	signed := jwttest.Sign(f, key, good)
	f.Add(signed)
	f.Add(jwttest.Unsigned(good))
	f.Add(jwttest.SignWith(f, key.PublicKeyDER(f), jose.HS256, "k", good))
	f.Add(jwttest.SignWith(f, key.Priv, jose.ES256, "other", good))
	f.Add(signed[:len(signed)-3])
	f.Add(strings.Replace(signed, ".", "..", 1))
	f.Add("")
	f.Add("..")
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.")
	f.Add("eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiYjY0Il0sImI2NCI6ZmFsc2V9.e30.AAAA")
	f.Add(`{"payload":"e30","signatures":[]}`)
	f.Fuzz(func(t *testing.T, token string) {
		g, err := v.Verify(context.Background(), token)
		if err != nil {
			if g != nil || !errors.Is(err, jwtauth.ErrInvalidToken) {
				t.Fatalf("Verify = %+v, %v", g, err)
			}
			return
		}
		if g == nil {
			t.Fatalf("no grant and no error")
		}
		if len(token) > jwtauth.MaxTokenBytes || g.Subject == "" || g.ID != "jwt:"+is.URL+"#"+g.Subject || g.Policy != "p" {
			t.Fatalf("accepted %q as %+v", token, g)
		}
	})
}
