package upstreamauth

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseDocuments feeds hostile bytes to every parser of what an
// authorization server or a protected resource sends: none may panic,
// and what they accept holds only http(s) endpoints.
func FuzzParseDocuments(f *testing.F) {
	for _, s := range []string{
		`{"resource":"https://a/mcp","authorization_servers":["https://as"],"scopes_supported":["x"]}`,
		`{"issuer":"https://as","authorization_endpoint":"https://as/a","token_endpoint":"https://as/t","registration_endpoint":"https://as/r"}`,
		`{"access_token":"x","token_type":"Bearer","expires_in":3600,"refresh_token":"r"}`,
		`{"error":"invalid_grant","error_description":"no"}`,
		`{"token_endpoint":"javascript:alert(1)"}`,
		`{"access_token":"x","token_type":"mac"}`,
		`{"access_token":"j","issued_token_type":"urn:ietf:params:oauth:token-type:id-jag","token_type":"N_A"}`,
		`[]`, `null`, `{"expires_in":-1,"access_token":"a"}`,
		strings.Repeat(`[`, 10000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if jag, err := parseExchangeResponse(b); err == nil && jag == "" {
			t.Fatal("accepted an exchange answer without a token")
		}
		if m, err := ParseResourceMetadata(b); err == nil {
			if checkURL(m.Resource, "r") != nil || len(m.AuthorizationServers) == 0 {
				t.Fatalf("accepted %+v", m)
			}
		}
		if m, err := ParseServerMetadata(b); err == nil {
			if checkURL(m.TokenEndpoint, "t") != nil {
				t.Fatalf("accepted %+v", m)
			}
		}
		if r, err := parseTokenResponse(b); err == nil {
			if r.AccessToken == "" || r.ExpiresIn < 0 {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

// FuzzParseChallenge feeds hostile WWW-Authenticate values to the
// challenge parser.
func FuzzParseChallenge(f *testing.F) {
	for _, s := range []string{
		`Bearer resource_metadata="https://a/.well-known/oauth-protected-resource", scope="a b"`,
		`Basic realm="x", Bearer error="insufficient_scope", scope=admin`,
		`Bearer scope="unterminated`, `Bearer ,,,, =, ="`, `Digest a=b, Bearer`, `Bearer a="\"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		c, ok := ParseChallenge([]string{h})
		if !ok && c != (Challenge{}) {
			t.Fatalf("no challenge but %+v", c)
		}
		if len(c.Scope) > len(h) || len(c.ResourceMetadata) > len(h) {
			t.Fatalf("values longer than the header: %+v", c)
		}
	})
}

// FuzzParseClientKey feeds hostile bytes to the private key parser: it
// may not panic, and a key it accepts signs.
func FuzzParseClientKey(f *testing.F) {
	for _, s := range []string{
		"", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n",
		"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" + strings.Repeat("-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n", 20),
	} {
		f.Add([]byte(s), "")
	}
	f.Fuzz(func(t *testing.T, b []byte, alg string) {
		k, err := ParseClientKey(b, "", alg)
		if err != nil {
			return
		}
		if _, err := k.Assertion("c", "https://as", time.Unix(1e9, 0)); err != nil {
			t.Fatalf("an accepted key does not sign: %v", err)
		}
	})
}
