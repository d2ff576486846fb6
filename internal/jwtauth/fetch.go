package jwtauth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/toolgate/toolgate"
)

// readFile reads a JWKS file of at most maxJWKSBytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the JWKS file: %w", err)
	}
	defer f.Close()
	return readCapped(f, path)
}

// fetchURL gets a JWKS document of at most maxJWKSBytes from u.
func fetchURL(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching the JWKS: %w", err)
	}
	req.Header.Set("Accept", jwksMediaTypes)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the JWKS from %s: HTTP %d", u, resp.StatusCode)
	}
	return readCapped(resp.Body, u)
}

func readCapped(r io.Reader, from string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the JWKS from %s: %w", from, err)
	}
	if len(data) > maxJWKSBytes {
		return nil, fmt.Errorf("the JWKS from %s is larger than %d bytes", from, maxJWKSBytes)
	}
	return data, nil
}

// GrantTokenPrefix starts every grant token; Dispatch sends such tokens
// to the grant verifier.
const GrantTokenPrefix = "tg_"

// AuthenticateFunc is the shape of grant.Verifier.Verify and
// Verifier.Verify (and of gateway.AuthenticatorFunc).
type AuthenticateFunc func(ctx context.Context, token string) (*toolgate.Grant, error)

// Dispatch returns one authenticate function for both kinds of token: a
// token starting with "tg_" goes to grants, any other to jwts. A nil one
// refuses the tokens it would get with ErrInvalidToken, so that a
// configuration without grants (or without JWTs) answers a token of the
// other kind as it answers any bad token.
func Dispatch(grants, jwts AuthenticateFunc) AuthenticateFunc {
	return func(ctx context.Context, token string) (*toolgate.Grant, error) {
		f := jwts
		if strings.HasPrefix(token, GrantTokenPrefix) {
			f = grants
		}
		if f == nil {
			return nil, ErrInvalidToken
		}
		return f(ctx, token)
	}
}
