package upstreamauth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolgate/toolgate/internal/upstreamauth"
	"github.com/toolgate/toolgate/internal/upstreamauth/oauthtest"
)

// clock is a settable clock shared by the authorization server and the
// client.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newVault(t *testing.T) *upstreamauth.Vault {
	t.Helper()
	var k upstreamauth.Key
	rand.Read(k[:])
	return &upstreamauth.Vault{Store: &upstreamauth.MemoryStore{}, Key: k}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// call sends an initialize through hc and returns the status.
func call(t *testing.T, hc *http.Client, u string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestLoginAuthorizationCodeThenRefresh(t *testing.T) {
	clk := &clock{t: time.Now()}
	srv := oauthtest.Start(t, oauthtest.Options{TokenTTL: 10 * time.Minute, Scopes: []string{"notes.read"}, Now: clk.now})
	ctx := ctxFor(t)
	tok, err := upstreamauth.Login(ctx, upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, OpenURL: oauthtest.Follow, Now: clk.now, Wait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Resource != srv.ResourceURL || tok.Issuer != srv.AS.URL || tok.RefreshToken == "" || tok.Scope != "notes.read" || !strings.HasPrefix(tok.ClientID, "dyn-") {
		t.Fatalf("token %+v", tok)
	}
	vault := newVault(t)
	if err := vault.Save(ctx, tok); err != nil {
		t.Fatal(err)
	}
	src := &upstreamauth.Source{Server: "notes", ServerURL: srv.ResourceURL, Vault: vault, Now: clk.now}
	hc := &http.Client{Transport: &upstreamauth.Transport{ServerURL: srv.ResourceURL, Credentials: src}}
	if code := call(t, hc, srv.ResourceURL); code != http.StatusOK {
		t.Fatalf("first call: HTTP %d", code)
	}
	// Close to expiry the token is refreshed before use, and saved.
	clk.add(9*time.Minute + 30*time.Second)
	if code := call(t, hc, srv.ResourceURL); code != http.StatusOK {
		t.Fatalf("call near expiry: HTTP %d", code)
	}
	if n := srv.Grants("refresh_token"); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	stored, err := vault.Load(ctx, "notes")
	if err != nil || stored.AccessToken == tok.AccessToken || stored.RefreshToken == tok.RefreshToken {
		t.Errorf("the refreshed token was not saved: %v", err)
	}
	// A token the server no longer accepts is refreshed on its 401 and
	// the request sent again.
	srv.RevokeAccess()
	if code := call(t, hc, srv.ResourceURL); code != http.StatusOK {
		t.Fatalf("call after revocation: HTTP %d", code)
	}
	if n := srv.Grants("refresh_token"); n != 2 {
		t.Errorf("%d refreshes, want 2", n)
	}
}

func TestSourceWithoutTokenNeedsLogin(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{})
	src := &upstreamauth.Source{Server: "notes", ServerURL: srv.ResourceURL, Vault: newVault(t)}
	_, err := src.Token(ctxFor(t))
	var ln *upstreamauth.LoginNeededError
	if !errors.As(err, &ln) || !strings.Contains(ln.PublicMessage(), "toolgate upstream login notes") {
		t.Fatalf("err = %v, want a LoginNeededError", err)
	}
}

func TestClientCredentialsByItself(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{Clients: map[string]string{"bot": "bot-secret"}})
	vault := newVault(t)
	src := &upstreamauth.Source{Server: "notes", ServerURL: srv.ResourceURL, Vault: vault,
		Machine: &upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, Grant: upstreamauth.GrantClientCredentials, ClientID: "bot", ClientSecret: "bot-secret"}}
	hc := &http.Client{Transport: &upstreamauth.Transport{ServerURL: srv.ResourceURL, Credentials: src}}
	if code := call(t, hc, srv.ResourceURL); code != http.StatusOK {
		t.Fatalf("HTTP %d", code)
	}
	srv.RevokeAccess()
	if code := call(t, hc, srv.ResourceURL); code != http.StatusOK {
		t.Fatalf("after revocation: HTTP %d", code)
	}
	if n := srv.Grants("client_credentials"); n != 2 {
		t.Errorf("%d client_credentials requests, want 2", n)
	}
}

func TestTokenOnlyToItsResource(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{Clients: map[string]string{"bot": "bot-secret"}})
	src := &upstreamauth.Source{Server: "notes", ServerURL: srv.ResourceURL, Vault: newVault(t),
		Machine: &upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, Grant: upstreamauth.GrantClientCredentials, ClientID: "bot", ClientSecret: "bot-secret"}}
	tr := &upstreamauth.Transport{ServerURL: srv.ResourceURL, Credentials: src}
	// A request elsewhere (a redirect target, another path) carries no
	// token, and an Authorization header it had is dropped.
	req, _ := http.NewRequest(http.MethodGet, srv.MCP.URL+"/elsewhere", nil)
	req.Header.Set("Authorization", "Bearer client-token")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, h := range srv.Seen() {
		t.Errorf("the server saw Authorization %q on another path", h)
	}
}

func TestCallbackTakesOnlyItsState(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{})
	ctx := ctxFor(t)
	var wrong int
	open := func(ctx context.Context, authURL string) error {
		// A forged redirect with another state is refused and changes
		// nothing; the real one then completes the login.
		resp, err := http.Get(authURL)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	intercept := func(ctx context.Context, authURL string) error {
		i := strings.Index(authURL, "redirect_uri=")
		redirect := authURL[i+len("redirect_uri="):]
		redirect, _, _ = strings.Cut(redirect, "&")
		redirect = strings.ReplaceAll(strings.ReplaceAll(redirect, "%3A", ":"), "%2F", "/")
		resp, err := http.Get(redirect + "?code=forged&state=forged")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusBadRequest {
			wrong++
		}
		return open(ctx, authURL)
	}
	tok, err := upstreamauth.Login(ctx, upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, OpenURL: intercept, Wait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if wrong != 1 || tok.AccessToken == "" {
		t.Errorf("forged redirects refused: %d, token %v", wrong, tok.AccessToken != "")
	}
}

func TestLoginRefusesResourceMismatch(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{})
	// The same host, another path: the metadata speaks for /mcp only.
	_, err := upstreamauth.Login(ctxFor(t), upstreamauth.LoginOptions{Server: "x", ServerURL: srv.MCP.URL + "/other", OpenURL: oauthtest.Follow,
		Challenge: &upstreamauth.Challenge{ResourceMetadata: srv.MCP.URL + "/.well-known/oauth-protected-resource/mcp"}})
	if err == nil || !strings.Contains(err.Error(), "refusing to get a token for another resource") {
		t.Fatalf("err = %v", err)
	}
}

func TestSealedTokens(t *testing.T) {
	ctx := ctxFor(t)
	v := newVault(t)
	tok := &upstreamauth.Token{Server: "a", AccessToken: "at-secret", RefreshToken: "rt-secret"}
	if err := v.Save(ctx, tok); err != nil {
		t.Fatal(err)
	}
	raw, _ := v.Store.Get(ctx, "a")
	if strings.Contains(string(raw), "secret") {
		t.Error("the stored bytes hold the token in the clear")
	}
	// Moved to another server's name, it does not open.
	v.Store.Put(ctx, "b", raw)
	if _, err := v.Load(ctx, "b"); err == nil {
		t.Error("a token sealed for a opened as b's")
	}
	other := &upstreamauth.Vault{Store: v.Store}
	if _, err := other.Load(ctx, "a"); err == nil {
		t.Error("a token opened with another key")
	}
	if got, err := v.Load(ctx, "a"); err != nil || got.AccessToken != "at-secret" {
		t.Errorf("Load = %v, %v", got, err)
	}
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{strings.Repeat("ab", 32), true},
		{"q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=", true},
		{"q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k", true},
		{"short", false},
		{strings.Repeat("ab", 31), false},
	}
	for _, tt := range tests {
		if _, err := upstreamauth.ParseKey(tt.in); (err == nil) != tt.ok {
			t.Errorf("ParseKey(%q): %v", tt.in, err)
		}
	}
	if _, err := upstreamauth.LoadKey("", func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "oauth_key_file") {
		t.Errorf("no key: %v", err)
	}
}

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    upstreamauth.Challenge
		ok      bool
	}{
		{"none", nil, upstreamauth.Challenge{}, false},
		{"basic only", []string{`Basic realm="x"`}, upstreamauth.Challenge{}, false},
		{"bearer", []string{`Bearer resource_metadata="https://a/.well-known/oauth-protected-resource", scope="a b"`},
			upstreamauth.Challenge{ResourceMetadata: "https://a/.well-known/oauth-protected-resource", Scope: "a b"}, true},
		{"after basic", []string{`Basic realm="x", Bearer error="insufficient_scope", scope=admin`},
			upstreamauth.Challenge{Error: "insufficient_scope", Scope: "admin"}, true},
		{"second header", []string{`Basic realm="x"`, `bearer scope="q\"r"`}, upstreamauth.Challenge{Scope: `q"r`}, true},
		{"bare", []string{`Bearer`}, upstreamauth.Challenge{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := upstreamauth.ParseChallenge(tt.headers)
			if ok != tt.ok || got != tt.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// A refresh the authorization server refuses needs a login; one that
// could not reach it is tried again later, the stored token kept.
func TestRefreshFailures(t *testing.T) {
	clk := &clock{t: time.Now()}
	srv := oauthtest.Start(t, oauthtest.Options{TokenTTL: 10 * time.Minute, Now: clk.now})
	ctx := ctxFor(t)
	tok, err := upstreamauth.Login(ctx, upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, OpenURL: oauthtest.Follow, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		tokenEndpoint string
		refresh       string
		loginNeeded   bool
	}{
		{"unreachable", "http://127.0.0.1:1/token", tok.RefreshToken, false},
		{"refused", tok.TokenEndpoint, "rt-unknown", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := *tok
			bad.TokenEndpoint, bad.RefreshToken = tt.tokenEndpoint, tt.refresh
			vault := newVault(t)
			vault.Save(ctx, &bad)
			now := func() time.Time { return clk.now().Add(time.Hour) } // expired
			src := &upstreamauth.Source{Server: "notes", ServerURL: srv.ResourceURL, Vault: vault, Now: now}
			_, err := src.Token(ctx)
			var ln *upstreamauth.LoginNeededError
			if err == nil || errors.As(err, &ln) != tt.loginNeeded {
				t.Errorf("err = %v, login needed: want %v", err, tt.loginNeeded)
			}
		})
	}
}

// Two processes share the store: the one that refreshes second finds its
// refresh token spent, and takes the token the first one stored.
func TestRefreshRaceBetweenProcesses(t *testing.T) {
	clk := &clock{t: time.Now()}
	srv := oauthtest.Start(t, oauthtest.Options{TokenTTL: 10 * time.Minute, Now: clk.now})
	ctx := ctxFor(t)
	tok, err := upstreamauth.Login(ctx, upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, OpenURL: oauthtest.Follow, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	vault := newVault(t)
	vault.Save(ctx, tok)
	a := &upstreamauth.Source{Server: "notes", ServerURL: srv.ResourceURL, Vault: vault, Now: clk.now}
	b := &upstreamauth.Source{Server: "notes", ServerURL: srv.ResourceURL, Vault: vault, Now: clk.now}
	if _, err := a.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Token(ctx); err != nil {
		t.Fatal(err)
	}
	clk.add(9*time.Minute + 30*time.Second) // both want to refresh
	ta, err := a.Token(ctx)
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	tb, err := b.Token(ctx)
	if err != nil {
		t.Fatalf("second process: %v", err)
	}
	if ta != tb {
		t.Errorf("the second process uses another token than the one stored")
	}
}

// The browser that brings the code back gets the page saying so: the
// callback server is shut down after the handler has written it, not
// closed under it (which the browser would see as a reset connection
// after a good login). Each login is followed by a real client; the
// race it guards against is narrow, so it runs several logins.
func TestLoginBrowserSeesThePage(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{Scopes: []string{"notes.read"}})
	ctx := ctxFor(t)
	for i := range 8 {
		followed := make(chan error, 1)
		// The browser lives on after the login returns: it follows
		// with the test's context, not the login's.
		open := func(_ context.Context, u string) error {
			go func() { followed <- oauthtest.Follow(ctx, u) }()
			return nil
		}
		if _, err := upstreamauth.Login(ctx, upstreamauth.LoginOptions{Server: "notes", ServerURL: srv.ResourceURL, OpenURL: open, Wait: 10 * time.Second}); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		select {
		case err := <-followed:
			if err != nil {
				t.Fatalf("login %d: the browser saw %v", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("login %d: the browser never finished", i)
		}
	}
}
