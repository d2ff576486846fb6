package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServerOAuth(t *testing.T) {
	t.Setenv("TG_OAUTH_SECRET", "s3cret-value")
	t.Setenv("TG_OAUTH_EMPTY", "")
	tests := []struct {
		name, yaml string
		want       *OAuth // nil: no oauth
		errs       []string
	}{
		{"none", "servers:\n  h: {url: http://127.0.0.1:1/mcp}\n", nil, nil},
		{"empty mapping is authorization code with dynamic registration", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {}\n",
			&OAuth{Grant: GrantAuthorizationCode}, nil},
		{"null is the same", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth:\n",
			&OAuth{Grant: GrantAuthorizationCode}, nil},
		{"client credentials from env", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {grant: client_credentials, client_id: bot, client_secret_env: TG_OAUTH_SECRET, scopes: [read, write], redirect_port: 8765}\n",
			&OAuth{Grant: GrantClientCredentials, ClientID: "bot", ClientSecret: "s3cret-value", ClientSecretEnv: "TG_OAUTH_SECRET", Scopes: []string{"read", "write"}, RedirectPort: 8765}, nil},
		{"secret by reference", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: app, client_secret: \"${TG_OAUTH_SECRET}\"}\n",
			&OAuth{Grant: GrantAuthorizationCode, ClientID: "app", ClientSecret: "s3cret-value"}, nil},
		{"private key implies private_key_jwt", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {grant: client_credentials, client_id: bot, private_key_file: bot.pem, key_id: k1, signing_alg: ES256}\n",
			&OAuth{Grant: GrantClientCredentials, ClientID: "bot", TokenEndpointAuth: AuthPrivateKeyJWT, PrivateKeyFile: "bot.pem", KeyID: "k1", SigningAlg: "ES256"}, nil},
		{"explicit private_key_jwt", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: app, token_endpoint_auth: private_key_jwt, private_key_file: app.pem}\n",
			&OAuth{Grant: GrantAuthorizationCode, ClientID: "app", TokenEndpointAuth: AuthPrivateKeyJWT, PrivateKeyFile: "app.pem"}, nil},
		{"forced client_secret_post", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: app, client_secret_env: TG_OAUTH_SECRET, token_endpoint_auth: client_secret_post}\n",
			&OAuth{Grant: GrantAuthorizationCode, ClientID: "app", ClientSecret: "s3cret-value", TokenEndpointAuth: AuthClientSecretPost}, nil},
		{"private_key_jwt without a key", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: app, token_endpoint_auth: private_key_jwt}\n", nil,
			[]string{`5:50: servers.h.oauth.token_endpoint_auth: private_key_jwt needs private_key_file`}},
		{"unknown auth method", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: app, token_endpoint_auth: tls_client_auth}\n", nil,
			[]string{`5:50: servers.h.oauth.token_endpoint_auth: must be "client_secret_basic", "client_secret_post" or "private_key_jwt", not "tls_client_auth"`}},
		{"key and secret", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: app, client_secret_env: TG_OAUTH_SECRET, private_key_file: app.pem}\n", nil,
			[]string{`servers.h.oauth: private_key_jwt authenticates with the private key: remove the client secret`}},
		{"key with client_secret_basic", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: app, token_endpoint_auth: client_secret_basic, private_key_file: app.pem}\n", nil,
			[]string{`5:71: servers.h.oauth: private_key_file is for token_endpoint_auth: private_key_jwt, not client_secret_basic`}},
		{"secret method without secret", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: app, token_endpoint_auth: client_secret_basic}\n", nil,
			[]string{`5:50: servers.h.oauth.token_endpoint_auth: client_secret_basic needs a client secret`}},
		{"key without id", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {private_key_file: app.pem}\n", nil,
			[]string{`5:13: servers.h.oauth: a private key needs its client_id`}},
		{"key id without key", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: app, client_secret_env: TG_OAUTH_SECRET, key_id: k1}\n", nil,
			[]string{`servers.h.oauth: key_id needs private_key_file`}},
		{"bad signing alg", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: app, private_key_file: app.pem, signing_alg: HS256}\n", nil,
			[]string{`5:69: servers.h.oauth.signing_alg: must be one of ES256, ES384, ES512, RS256, RS384, RS512, PS256, PS384, PS512, not "HS256"`}},
		{"client credentials with a key and no secret", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {grant: client_credentials}\n", nil,
			[]string{`or a private_key_file`}},
		{"bad grant", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {grant: password}\n", nil,
			[]string{`5:20: servers.h.oauth.grant: must be "authorization_code", "client_credentials" or "cross_app_access", not "password"`}},
		{"cross-app access", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth:\n      grant: cross_app_access\n      client_id: app\n      client_secret_env: TG_OAUTH_SECRET\n      idp: {token_endpoint: https://idp.example.com/token, client_id: tg, client_secret_env: TG_OAUTH_SECRET, id_token_file: id.jwt}\n",
			&OAuth{Grant: GrantCrossApp, ClientID: "app", ClientSecret: "s3cret-value",
				IdP: &OAuthIdP{TokenEndpoint: "https://idp.example.com/token", ClientID: "tg", ClientSecret: "s3cret-value", IDTokenFile: "id.jwt"}}, nil},
		{"cross-app access, ID token from env", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth:\n      grant: cross_app_access\n      client_id: app\n      client_secret_env: TG_OAUTH_SECRET\n      idp: {token_endpoint: https://idp.example.com/token, id_token_env: TG_OAUTH_SECRET}\n",
			&OAuth{Grant: GrantCrossApp, ClientID: "app", ClientSecret: "s3cret-value",
				IdP: &OAuthIdP{TokenEndpoint: "https://idp.example.com/token", IDTokenEnv: "TG_OAUTH_SECRET"}}, nil},
		{"cross-app access without idp", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {grant: cross_app_access, client_id: app, client_secret_env: TG_OAUTH_SECRET}\n", nil,
			[]string{`5:5: servers.h.oauth: grant: cross_app_access needs idp`}},
		{"idp without cross-app access", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {idp: {token_endpoint: https://idp/t, id_token_file: x}}\n", nil,
			[]string{`5:13: servers.h.oauth.idp: is for grant: cross_app_access only`}},
		{"idp incomplete", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {grant: cross_app_access, client_id: app, client_secret_env: TG_OAUTH_SECRET, idp: {client_secret: x}}\n", nil,
			[]string{`servers.h.oauth.idp: needs token_endpoint`, `servers.h.oauth.idp: needs the ID token: id_token_file or id_token_env`, `servers.h.oauth.idp: a client secret needs its client_id`}},
		{"idp bad endpoint and two tokens", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {grant: cross_app_access, client_id: app, client_secret_env: TG_OAUTH_SECRET, idp: {token_endpoint: \"ftp://x\", id_token_file: a, id_token_env: TG_OAUTH_SECRET}}\n", nil,
			[]string{`servers.h.oauth.idp.token_endpoint: must be the IdP's http(s) token endpoint URL, not "ftp://x"`, `servers.h.oauth.idp.id_token_env: set one of id_token_file and id_token_env`}},
		{"idp token env unset", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {grant: cross_app_access, client_id: app, client_secret_env: TG_OAUTH_SECRET, idp: {token_endpoint: https://idp/t, id_token_env: TG_OAUTH_UNSET_X}}\n", nil,
			[]string{`servers.h.oauth.idp.id_token_env: environment variable TG_OAUTH_UNSET_X is not set`}},
		{"cross-app access without client", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {grant: cross_app_access, idp: {token_endpoint: https://idp/t, id_token_file: x}}\n", nil,
			[]string{`grant: cross_app_access needs a client_id`, `grant: cross_app_access needs a secret`}},
		{"client credentials without id nor secret", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {grant: client_credentials}\n", nil,
			[]string{`5:5: servers.h.oauth: grant: client_credentials needs a client_id`, `needs a secret`}},
		{"unset env", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: a, client_secret_env: TG_OAUTH_UNSET_X}\n", nil,
			[]string{`servers.h.oauth.client_secret_env: environment variable TG_OAUTH_UNSET_X is not set`}},
		{"empty env", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: a, client_secret_env: TG_OAUTH_EMPTY}\n", nil,
			[]string{`environment variable TG_OAUTH_EMPTY is empty`}},
		{"two secrets", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: a, client_secret_env: TG_OAUTH_SECRET, client_secret_file: s.txt}\n", nil,
			[]string{`set one of client_secret, client_secret_env and client_secret_file`}},
		{"secret without id", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_secret_env: TG_OAUTH_SECRET}\n", nil,
			[]string{`servers.h.oauth: a client secret needs its client_id`}},
		{"unknown key", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {scope: [a]}\n", nil,
			[]string{`servers.h.oauth: unknown key "scope" (did you mean "scopes"?)`}},
		{"scope with a space", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {scopes: [\"a b\"]}\n", nil,
			[]string{`scope "a b" may not hold spaces`}},
		{"port out of range", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {redirect_port: 70000}\n", nil,
			[]string{`servers.h.oauth.redirect_port`}},
		{"metadata url must be https", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_metadata_url: http://x/c.json}\n", nil,
			[]string{`must be an https:// URL with a path`}},
		{"command server", "servers:\n  h:\n    command: [x]\n    oauth: {}\n", nil,
			[]string{`5:5: servers.h.oauth: only applies to url servers`}},
		{"sse server", "servers:\n  h:\n    url: http://127.0.0.1:1/sse\n    transport: sse\n    oauth: {}\n", nil,
			[]string{`6:5: servers.h.oauth: applies to streamable-HTTP servers only`}},
		{"authorization header too", "servers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    headers: {Authorization: Bearer x}\n    oauth: {}\n", nil,
			[]string{`5:15: servers.h.headers: sets Authorization, which oauth sets`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte("auth: none\n"+tt.yaml), "t.yaml")
			if len(tt.errs) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tt.errs)
				}
				for _, want := range tt.errs {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error\n%v\nlacks %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := c.Servers["h"].OAuth
			if (got == nil) != (tt.want == nil) {
				t.Fatalf("oauth = %+v, want %+v", got, tt.want)
			}
			if got == nil {
				return
			}
			if got.Grant != tt.want.Grant || got.ClientID != tt.want.ClientID || got.ClientSecret != tt.want.ClientSecret ||
				strings.Join(got.Scopes, " ") != strings.Join(tt.want.Scopes, " ") || got.RedirectPort != tt.want.RedirectPort ||
				got.TokenEndpointAuth != tt.want.TokenEndpointAuth || filepath.Base(got.PrivateKeyFile) != filepath.Base(tt.want.PrivateKeyFile) ||
				got.KeyID != tt.want.KeyID || got.SigningAlg != tt.want.SigningAlg || (got.IdP == nil) != (tt.want.IdP == nil) {
				t.Errorf("oauth = %+v, want %+v", got, tt.want)
			}
			if g, w := got.IdP, tt.want.IdP; g != nil && w != nil && (g.TokenEndpoint != w.TokenEndpoint || g.ClientID != w.ClientID || g.ClientSecret != w.ClientSecret ||
				filepath.Base(g.IDTokenFile) != filepath.Base(w.IDTokenFile) || g.IDTokenEnv != w.IDTokenEnv) {
				t.Errorf("oauth = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOAuthPathsResolved(t *testing.T) {
	c, err := Parse([]byte("auth: none\noauth_key_file: keys/oauth.key\nservers:\n  h:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: a, client_secret_file: secret.txt}\n  k:\n    url: http://127.0.0.1:1/mcp\n    oauth: {client_id: a, private_key_file: keys/a.pem}\n"), "/etc/toolgate/toolgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.FromSlash("/etc/toolgate/keys/oauth.key"); c.OAuthKeyFile != want {
		t.Errorf("oauth_key_file = %q, want %q", c.OAuthKeyFile, want)
	}
	if want := filepath.FromSlash("/etc/toolgate/secret.txt"); c.Servers["h"].OAuth.ClientSecretFile != want {
		t.Errorf("client_secret_file = %q, want %q", c.Servers["h"].OAuth.ClientSecretFile, want)
	}
	if want := filepath.FromSlash("/etc/toolgate/keys/a.pem"); c.Servers["k"].OAuth.PrivateKeyFile != want {
		t.Errorf("private_key_file = %q, want %q", c.Servers["k"].OAuth.PrivateKeyFile, want)
	}
}

// TestDocsOAuthExample parses the oauth example of docs/config.md, which
// is also docs/examples/config/oauth.yaml.
func TestDocsOAuthExample(t *testing.T) {
	t.Setenv("BILLING_CLIENT_SECRET", "example-secret")
	t.Setenv("WIKI_CLIENT_SECRET", "example-secret")
	data, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "<!-- example:oauth-config -->\n```yaml\n")
	if !ok {
		t.Fatal("no example:oauth-config block")
	}
	block, _, _ := strings.Cut(rest, "```")
	file, err := os.ReadFile("../docs/examples/config/oauth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(file), block) {
		t.Error("docs/examples/config/oauth.yaml differs from the example in docs/config.md")
	}
	c, err := Parse([]byte(block), "/etc/toolgate/toolgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if o := c.Servers["billing"].OAuth; o == nil || o.Grant != GrantClientCredentials || o.ClientSecret != "example-secret" {
		t.Errorf("billing's oauth: %+v", o)
	}
	if o := c.Servers["notes"].OAuth; o == nil || o.Grant != GrantAuthorizationCode || len(o.Scopes) != 2 {
		t.Errorf("notes' oauth: %+v", o)
	}
	if o := c.Servers["crm"].OAuth; o == nil || o.TokenEndpointAuth != AuthPrivateKeyJWT || o.PrivateKeyFile != filepath.FromSlash("/etc/toolgate/keys/crm-client.pem") || o.KeyID == "" {
		t.Errorf("crm's oauth: %+v", o)
	}
	if o := c.Servers["wiki"].OAuth; o == nil || o.Grant != GrantCrossApp || o.IdP == nil || o.IdP.IDTokenFile != "/run/toolgate/id-token" {
		t.Errorf("wiki's oauth: %+v", o)
	}
}
