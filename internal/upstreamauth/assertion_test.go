package upstreamauth_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/toolgate/toolgate/internal/upstreamauth"
	"github.com/toolgate/toolgate/internal/upstreamauth/oauthtest"
)

// pemKey writes k as a PEM block of the given kind: "pkcs8", "sec1" or
// "pkcs1".
func pemKey(t *testing.T, k crypto.Signer, kind string) []byte {
	t.Helper()
	var der []byte
	var typ string
	var err error
	switch kind {
	case "pkcs8":
		typ = "PRIVATE KEY"
		der, err = x509.MarshalPKCS8PrivateKey(k)
	case "sec1":
		typ = "EC PRIVATE KEY"
		der, err = x509.MarshalECPrivateKey(k.(*ecdsa.PrivateKey))
	case "pkcs1":
		typ = "RSA PRIVATE KEY"
		der = x509.MarshalPKCS1PrivateKey(k.(*rsa.PrivateKey))
	}
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func ecKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaKey(t *testing.T, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestClientCredentialsPrivateKeyJWT gets, renews and uses a client
// credentials token authenticating with signed assertions, for each kind
// of key; the authorization server verifies every assertion.
func TestClientCredentialsPrivateKeyJWT(t *testing.T) {
	rsa2048 := rsaKey(t, 2048)
	tests := []struct {
		name, kind, alg, wantAlg string
		key                      crypto.Signer
	}{
		{name: "P-256 PKCS8", kind: "pkcs8", key: ecKey(t, elliptic.P256()), wantAlg: "ES256"},
		{name: "P-256 SEC1", kind: "sec1", key: ecKey(t, elliptic.P256()), wantAlg: "ES256"},
		{name: "P-384", kind: "pkcs8", key: ecKey(t, elliptic.P384()), wantAlg: "ES384"},
		{name: "RSA PKCS1", kind: "pkcs1", key: rsa2048, wantAlg: "RS256"},
		{name: "RSA PS256", kind: "pkcs8", key: rsa2048, alg: "PS256", wantAlg: "PS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Now()}
			srv := oauthtest.Start(t, oauthtest.Options{TokenTTL: 10 * time.Minute, Now: clk.now,
				ClientKeys: map[string]crypto.PublicKey{"bot": tt.key.Public()}})
			pemBytes := pemKey(t, tt.key, tt.kind)
			file := filepath.Join(t.TempDir(), "key.pem")
			if err := os.WriteFile(file, pemBytes, 0o600); err != nil {
				t.Fatal(err)
			}
			key, err := upstreamauth.LoadClientKey(file, "k1", tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			src := &upstreamauth.Source{Server: "notes", ServerURL: srv.ResourceURL, Vault: newVault(t), Now: clk.now, Logger: log,
				Machine: &upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, Grant: upstreamauth.GrantClientCredentials,
					ClientID: "bot", Key: key, Now: clk.now, Logger: log}}
			hc := &http.Client{Transport: &upstreamauth.Transport{ServerURL: srv.ResourceURL, Credentials: src}}
			if code := call(t, hc, srv.ResourceURL); code != http.StatusOK {
				t.Fatalf("first call: HTTP %d", code)
			}
			clk.add(9*time.Minute + 30*time.Second) // within refreshBefore of expiry
			if code := call(t, hc, srv.ResourceURL); code != http.StatusOK {
				t.Fatalf("call after renewal: HTTP %d", code)
			}
			if n := srv.Grants("client_credentials"); n != 2 {
				t.Fatalf("%d client credentials grants, want 2", n)
			}
			as := srv.Assertions()
			if len(as) != 2 || as[0] == as[1] {
				t.Fatalf("assertions %d, want 2 distinct", len(as))
			}
			tok, err := jwt.ParseSigned(as[0], []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tt.wantAlg)})
			if err != nil {
				t.Fatalf("assertion not signed with %s: %v", tt.wantAlg, err)
			}
			if kid := tok.Headers[0].KeyID; kid != "k1" {
				t.Errorf("kid %q", kid)
			}
			var c jwt.Claims
			if err := tok.Claims(tt.key.Public(), &c); err != nil {
				t.Fatal(err)
			}
			if c.Issuer != "bot" || c.Subject != "bot" || len(c.Audience) != 1 || c.Audience[0] != srv.AS.URL || c.ID == "" ||
				c.Expiry.Time().Sub(c.IssuedAt.Time()) > 5*time.Minute {
				t.Errorf("claims %+v", c)
			}
			secrets := append([]string{string(pemBytes), base64.StdEncoding.EncodeToString(pemBytes)}, as...)
			secrets = append(secrets, srv.AccessTokens()...)
			assertNoSecrets(t, logs.String(), secrets)
		})
	}
}

// assertNoSecrets fails when out holds any of secrets (or the PEM body
// of one).
func assertNoSecrets(t *testing.T, out string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		probe := s
		if b, _ := pem.Decode([]byte(s)); b != nil {
			probe = base64.StdEncoding.EncodeToString(b.Bytes)[:40]
		}
		if strings.Contains(out, probe) {
			t.Errorf("output holds a secret (%.12s…):\n%s", probe, out)
		}
	}
}

// TestPrivateKeyJWTAuthorizationCode logs in with the authorization code
// grant as a client authenticating with assertions, and refreshes.
func TestPrivateKeyJWTAuthorizationCode(t *testing.T) {
	k := ecKey(t, elliptic.P256())
	clk := &clock{t: time.Now()}
	srv := oauthtest.Start(t, oauthtest.Options{TokenTTL: 10 * time.Minute, Now: clk.now, ClientKeys: map[string]crypto.PublicKey{"app": k.Public()}})
	key, err := upstreamauth.ParseClientKey(pemKey(t, k, "pkcs8"), "", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	tok, err := upstreamauth.Login(ctx, upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, ClientID: "app", Key: key,
		OpenURL: oauthtest.Follow, Now: clk.now, Wait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AuthMethod != "private_key_jwt" || tok.ClientSecret != "" || tok.RefreshToken == "" {
		t.Fatalf("token %+v", tok)
	}
	if _, err := upstreamauth.Refresh(ctx, http.DefaultClient, tok, clk.now()); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("refresh without the key: %v", err)
	}
	n, err := upstreamauth.RefreshWithKey(ctx, http.DefaultClient, tok, key, clk.now())
	if err != nil {
		t.Fatal(err)
	}
	if n.AccessToken == tok.AccessToken || srv.Grants("refresh_token") != 1 || len(srv.Assertions()) != 2 {
		t.Fatalf("refresh: %d refresh grants, %d assertions", srv.Grants("refresh_token"), len(srv.Assertions()))
	}
}

// TestPrivateKeyJWTWrongKey: an assertion signed with another key is
// refused, and the error quotes neither the key nor the assertion.
func TestPrivateKeyJWTWrongKey(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{ClientKeys: map[string]crypto.PublicKey{"bot": ecKey(t, elliptic.P256()).Public()}})
	other := pemKey(t, ecKey(t, elliptic.P256()), "pkcs8")
	key, err := upstreamauth.ParseClientKey(other, "", "ES256")
	if err != nil {
		t.Fatal(err)
	}
	_, err = upstreamauth.Login(ctxFor(t), upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL,
		Grant: upstreamauth.GrantClientCredentials, ClientID: "bot", Key: key})
	var oe *upstreamauth.OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_client" {
		t.Fatalf("err %v, want invalid_client", err)
	}
	assertNoSecrets(t, err.Error(), append([]string{string(other)}, srv.Assertions()...))
}

func TestParseClientKey(t *testing.T) {
	p256 := pemKey(t, ecKey(t, elliptic.P256()), "pkcs8")
	small := pemKey(t, rsaKey(t, 1024), "pkcs8")
	p224 := pemKey(t, ecKey(t, elliptic.P224()), "pkcs8")
	cert := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	tests := []struct {
		name string
		data string
		alg  string
		want string // "" for success, else part of the error
	}{
		{name: "P-256", data: string(p256)},
		{name: "certificate then key", data: cert + string(p256)},
		{name: "alg for another key", data: string(p256), alg: "RS256", want: "does not suit"},
		{name: "unknown alg", data: string(p256), alg: "HS256", want: "does not suit"},
		{name: "RSA 1024", data: string(small), want: "at least 2048"},
		{name: "P-224", data: string(p224), want: "P-256"},
		{name: "empty", data: "", want: "no PEM"},
		{name: "not PEM", data: "hello", want: "no PEM"},
		{name: "certificate only", data: cert, want: "no PEM"},
		{name: "public key", data: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", want: "not a private key"},
		{name: "encrypted", data: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", want: "encrypted"},
		{name: "garbage DER", data: "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n", want: "does not parse"},
		{name: "too large", data: strings.Repeat("A", upstreamauth.MaxKeyFile+1), want: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := upstreamauth.ParseClientKey([]byte(tt.data), "", tt.alg)
			if tt.want == "" {
				if err != nil || k == nil {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "c2VjcmV0") || (len(tt.data) > 80 && strings.Contains(err.Error(), tt.data[30:70])) {
				t.Fatalf("the error quotes the key: %v", err)
			}
		})
	}
}
