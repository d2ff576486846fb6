package upstreamauth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/internal/upstreamauth"
	"github.com/toolgate/toolgate/internal/upstreamauth/oauthtest"
)

// TestCrossAppAccess obtains a token with cross-app access: the ID token
// is exchanged at the IdP for an ID-JAG, which the authorization server
// (trusting that IdP) takes with the JWT bearer grant; near expiry the
// whole exchange runs again, reading the ID token afresh. Neither the
// ID token, the ID-JAG, the secrets nor the access tokens are logged.
func TestCrossAppAccess(t *testing.T) {
	tests := []struct {
		name, idpSecret string
	}{
		{name: "IdP client with a secret", idpSecret: "idp-secret-value"},
		{name: "public IdP client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := oauthtest.StartIdP(t, "toolgate-at-idp", tt.idpSecret, "gateway-app")
			clk := &clock{t: time.Now()}
			idp.Now = clk.now
			srv := oauthtest.Start(t, oauthtest.Options{TokenTTL: 10 * time.Minute, Now: clk.now, IdP: idp,
				Clients: map[string]string{"gateway-app": "app-secret-value"}})
			idTokens := []string{idp.IDToken("alice@example.com", time.Hour), idp.IDToken("alice@example.com", 2*time.Hour)}
			reads := 0
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			login := &upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, Grant: upstreamauth.GrantCrossApp,
				ClientID: "gateway-app", ClientSecret: "app-secret-value", Now: clk.now, Logger: log,
				IdP: &upstreamauth.IdP{TokenEndpoint: idp.URL + "/token", ClientID: "toolgate-at-idp", ClientSecret: tt.idpSecret,
					IDToken: func(context.Context) (string, error) {
						tok := idTokens[min(reads, len(idTokens)-1)]
						reads++
						return tok, nil
					}}}
			src := &upstreamauth.Source{Server: "notes", ServerURL: srv.ResourceURL, Vault: newVault(t), Now: clk.now, Logger: log, Machine: login}
			hc := &http.Client{Transport: &upstreamauth.Transport{ServerURL: srv.ResourceURL, Credentials: src}}
			if code := call(t, hc, srv.ResourceURL); code != http.StatusOK {
				t.Fatalf("first call: HTTP %d", code)
			}
			clk.add(9*time.Minute + 30*time.Second)
			if code := call(t, hc, srv.ResourceURL); code != http.StatusOK {
				t.Fatalf("call after renewal: HTTP %d", code)
			}
			ex := idp.Exchanges()
			if n := srv.Grants(upstreamauth.GrantJWTBearer); n != 2 || len(ex) != 2 || ex[0] != idTokens[0] || ex[1] != idTokens[1] {
				t.Fatalf("%d JWT bearer grants, %d exchanges", n, len(ex))
			}
			secrets := append(append(append([]string{"idp-secret-value", "app-secret-value"}, idTokens...), idp.JAGs()...), srv.AccessTokens()...)
			assertNoSecrets(t, logs.String(), secrets)
		})
	}
}

// TestCrossAppAccessRefusals: what goes wrong says where, without
// quoting the ID token or the ID-JAG.
func TestCrossAppAccessRefusals(t *testing.T) {
	idp := oauthtest.StartIdP(t, "toolgate-at-idp", "", "gateway-app")
	other := oauthtest.StartIdP(t, "toolgate-at-idp", "", "gateway-app")
	srv := oauthtest.Start(t, oauthtest.Options{IdP: idp, Clients: map[string]string{"gateway-app": "app-secret-value", "someone-else": "x"}})
	good := idp.IDToken("alice", time.Hour)
	tests := []struct {
		name     string
		endpoint string
		idToken  func(context.Context) (string, error)
		clientID string
		want     string
	}{
		{name: "ID token from another IdP", endpoint: idp.URL + "/token", idToken: func(context.Context) (string, error) { return other.IDToken("alice", time.Hour), nil },
			clientID: "gateway-app", want: "IdP token exchange: authorization server answered invalid_grant"},
		{name: "expired ID token", endpoint: idp.URL + "/token", idToken: func(context.Context) (string, error) { return idp.IDToken("alice", -time.Hour), nil },
			clientID: "gateway-app", want: "invalid_grant"},
		{name: "ID-JAG for another client", endpoint: idp.URL + "/token", idToken: func(context.Context) (string, error) { return good, nil },
			clientID: "someone-else", want: "token endpoint: authorization server answered invalid_grant"},
		{name: "no ID token", endpoint: idp.URL + "/token", idToken: func(context.Context) (string, error) { return "", errors.New("file is empty") },
			clientID: "gateway-app", want: "the ID token: file is empty"},
		{name: "IdP endpoint not http", endpoint: "file:///etc/passwd", idToken: func(context.Context) (string, error) { return good, nil },
			clientID: "gateway-app", want: "is not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := "app-secret-value"
			if tt.clientID == "someone-else" {
				secret = "x"
			}
			_, err := upstreamauth.Login(ctxFor(t), upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, Grant: upstreamauth.GrantCrossApp,
				ClientID: tt.clientID, ClientSecret: secret, IdP: &upstreamauth.IdP{TokenEndpoint: tt.endpoint, IDToken: tt.idToken}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			assertNoSecrets(t, err.Error(), append(append([]string{good, "app-secret-value"}, idp.Exchanges()...), idp.JAGs()...))
		})
	}
}

// TestTokenEndpointRedirectNotFollowed: an IdP token endpoint that
// redirects does not get the ID token sent on to the redirect's target.
func TestTokenEndpointRedirectNotFollowed(t *testing.T) {
	idp := oauthtest.StartIdP(t, "toolgate-at-idp", "", "gateway-app")
	srv := oauthtest.Start(t, oauthtest.Options{IdP: idp, Clients: map[string]string{"gateway-app": "app-secret-value"}})
	var got []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got = append(got, r.PostForm.Get("subject_token"))
	}))
	t.Cleanup(elsewhere.Close)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/token", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	idToken := idp.IDToken("alice", time.Hour)
	_, err := upstreamauth.Login(ctxFor(t), upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, Grant: upstreamauth.GrantCrossApp,
		ClientID: "gateway-app", ClientSecret: "app-secret-value",
		IdP: &upstreamauth.IdP{TokenEndpoint: redirector.URL + "/token", IDToken: func(context.Context) (string, error) { return idToken, nil }}})
	if err == nil || !strings.Contains(err.Error(), "HTTP 307") {
		t.Fatalf("err %v, want the 307 reported", err)
	}
	if len(got) != 0 {
		t.Fatal("the ID token followed the redirect")
	}
}
