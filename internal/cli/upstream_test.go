package cli

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/internal/upstreamauth/oauthtest"
)

// followWriter is the terminal of `toolgate upstream login --no-browser`:
// it follows the authorization URL the command prints, as a person
// pasting it into a browser would.
type followWriter struct {
	ctx  context.Context
	mu   sync.Mutex
	buf  strings.Builder
	once sync.Once
	errs chan error
}

var authURLRE = regexp.MustCompile(`(?m)^  (http://\S+/authorize\?\S+)$`)

func (w *followWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	m := authURLRE.FindStringSubmatch(w.buf.String())
	w.mu.Unlock()
	if m != nil {
		w.once.Do(func() { go func() { w.errs <- oauthtest.Follow(w.ctx, m[1]) }() })
	}
	return len(p), nil
}

func (w *followWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func oauthConfig(t *testing.T, listen, resource, oauth string) (cfg, dir string) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	dir = writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf("listen: %s\nadmin_listen: off\nauth: none\noauth_key_file: oauth.key\nservers:\n  notes:\n    url: %s\n    oauth: %s\npolicies:\n  default: policy.json\n", listen, resource, oauth),
		"policy.json":   `{"version":"1","default":"allow"}`,
		"oauth.key":     base64.StdEncoding.EncodeToString(key) + "\n",
	})
	return filepath.Join(dir, "toolgate.yaml"), dir
}

// readyz returns /readyz's body once it names the server in a state
// other than starting.
func readyz(t *testing.T, addr, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), want) {
			return string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never said %q: %s", want, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The whole life of an OAuth upstream: serve says a login is needed; the
// login command runs the authorization code flow against a real
// authorization server; serve then calls the tool through, refreshes a
// revoked token, keeps the client's credentials from the upstream and
// the upstream's from the client, and stores nothing in the clear.
func TestUpstreamOAuthLoginServeRefresh(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{Scopes: []string{"notes.read"}})
	addr := freeAddr(t)
	cfg, dir := oauthConfig(t, addr, srv.ResourceURL, "{}")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	code, out, errOut := run(t, "upstream", "status", "--config", cfg)
	if code != 0 || !strings.Contains(out, "not logged in: run toolgate upstream login notes") {
		t.Fatalf("status before login: %d %q %q", code, out, errOut)
	}

	// Without a token, serve says what to do.
	_, stop := startServe(t, cfg, addr)
	body := readyz(t, addr, `"state":"failed"`)
	t.Logf("/readyz without a token: %s", body)
	if !strings.Contains(body, "toolgate upstream login notes") {
		t.Errorf("/readyz does not say a login is needed: %s", body)
	}
	if c, e := stop(); c != 0 {
		t.Fatalf("serve exited %d: %s", c, e)
	}

	// The login, with the URL followed as a browser would.
	w := &followWriter{ctx: ctx, errs: make(chan error, 1)}
	var lerr testpeer.SyncBuffer
	if c := Main(ctx, []string{"upstream", "login", "notes", "--no-browser", "--timeout", "30s", "--config", cfg}, strings.NewReader(""), w, &lerr); c != 0 {
		t.Fatalf("login exited %d: %s\n%s", c, w.String(), lerr.String())
	}
	if err := <-w.errs; err != nil {
		t.Fatalf("following the authorization URL: %v", err)
	}
	if !strings.Contains(w.String(), "Logged in to notes") {
		t.Errorf("login said: %q", w.String())
	}
	code, out, _ = run(t, "upstream", "status", "--config", cfg)
	if code != 0 || !strings.Contains(out, "logged in to "+srv.AS.URL) || !strings.Contains(out, "renewable") {
		t.Errorf("status after login: %d %q", code, out)
	}

	// scan and check --live list the server with the stored token too.
	if c, o, e := run(t, "scan", "--server", "notes", "--config", cfg); c != 0 || !strings.Contains(o, "whoami") {
		t.Errorf("scan: %d %q %q", c, o, e)
	}
	if c, o, e := run(t, "check", "--live", "--config", cfg); c != 0 {
		t.Errorf("check --live: %d %q %q", c, o, e)
	}

	serveOut, stop := startServe(t, cfg, addr)
	readyz(t, addr, `"state":"ready"`)
	// The client sends a bearer token of its own: it must not reach the
	// upstream.
	hc := &http.Client{Transport: &headerTransport{base: http.DefaultTransport, h: http.Header{"Authorization": {"Bearer client-own-token"}}}}
	client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp", HTTPClient: hc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	callWhoami := func(step string) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}})
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return res
	}
	if res := callWhoami("first call"); res.IsError || textContent(res) != "hello from notes" {
		t.Fatalf("first call: %+v", res)
	}
	// The authorization server forgets the access token: the upstream
	// answers 401, toolgate refreshes and sends the call again.
	srv.RevokeAccess()
	if res := callWhoami("after revocation"); res.IsError || textContent(res) != "hello from notes" {
		t.Fatalf("after revocation: %+v", res)
	}
	if n := srv.Grants("refresh_token"); n < 1 {
		t.Errorf("no refresh after the 401")
	}
	for _, h := range srv.Seen() {
		if !strings.HasPrefix(h, "Bearer at-") {
			t.Errorf("the upstream received Authorization %q, not a token of its authorization server", h)
		}
	}

	// Logged out with its token refused: the client reads that an operator
	// must log in, and nothing of the upstream's challenge.
	if c, o, e := run(t, "upstream", "logout", "notes", "--config", cfg); c != 0 || !strings.Contains(o, "Logged out of notes") {
		t.Fatalf("logout: %d %q %q", c, o, e)
	}
	srv.RevokeAccess()
	res := callWhoami("after logout")
	text := textContent(res)
	t.Logf("the client reads: %s", text)
	if !res.IsError || !strings.Contains(text, "toolgate upstream login notes") {
		t.Errorf("after logout: %+v", res)
	}
	for _, leak := range []string{"secret words", "resource_metadata", "invalid_token", "at-", "rt-"} {
		if strings.Contains(text, leak) {
			t.Errorf("the client read %q: %s", leak, text)
		}
	}
	cs.Close()
	code, serveErr := stop()
	if code != 0 {
		t.Fatalf("serve exited %d: %s", code, serveErr)
	}

	// No token, access or refresh, is anywhere in the clear: not in the
	// store (with the audit log), not in the output or the log.
	secrets := append(srv.AccessTokens(), srv.RefreshTokens()...)
	if len(secrets) == 0 {
		t.Fatal("no tokens to look for")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds a token in the clear", filepath.Base(f))
			}
		}
	}
	for _, s := range secrets {
		for name, text := range map[string]string{"serve output": serveOut.String(), "serve log": serveErr, "login output": w.String() + lerr.String()} {
			if strings.Contains(text, s) {
				t.Errorf("the %s holds a token", name)
			}
		}
	}
}

// A machine's upstream: serve gets the token by itself with client
// credentials, no login.
func TestUpstreamOAuthClientCredentials(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{Clients: map[string]string{"gateway-bot": "bot-secret-value"}})
	addr := freeAddr(t)
	cfg, dir := oauthConfig(t, addr, srv.ResourceURL, "{grant: client_credentials, client_id: gateway-bot, client_secret_file: bot.secret}")
	if err := os.WriteFile(filepath.Join(dir, "bot.secret"), []byte("bot-secret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, stop := startServe(t, cfg, addr)
	readyz(t, addr, `"state":"ready"`)
	callNotesWhoami(t, ctx, addr)
	if c, e := stop(); c != 0 {
		t.Fatalf("serve exited %d: %s", c, e)
	}
	if n := srv.Grants("client_credentials"); n < 1 {
		t.Errorf("%d client_credentials requests", n)
	}
	code, out, _ := run(t, "upstream", "status", "--config", cfg)
	if code != 0 || !strings.Contains(out, "client_credentials") || !strings.Contains(out, "logged in to "+srv.AS.URL) {
		t.Errorf("status: %d %q", code, out)
	}
}

// Without a key there is nothing to seal tokens with: check and serve say
// so and how to make one.
func TestUpstreamOAuthNeedsKey(t *testing.T) {
	t.Setenv("TOOLGATE_OAUTH_KEY", "")
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": "listen: 127.0.0.1:0\nadmin_listen: off\nauth: none\nservers:\n  notes:\n    url: http://127.0.0.1:9/mcp\n    oauth: {}\npolicies:\n  default: policy.json\n",
		"policy.json":   `{"version":"1","default":"allow"}`,
	})
	cfg := filepath.Join(dir, "toolgate.yaml")
	for _, args := range [][]string{{"check", "--config", cfg}, {"serve", "--config", cfg}, {"upstream", "login", "notes", "--no-browser", "--config", cfg}} {
		code, _, errOut := run(t, args...)
		if code == 0 || !strings.Contains(errOut, "oauth_key_file") || !strings.Contains(errOut, "TOOLGATE_OAUTH_KEY") {
			t.Errorf("%v: %d %q", args, code, errOut)
		}
	}
}

// A login made while serve runs is used without a restart.
func TestUpstreamOAuthLoginWhileServing(t *testing.T) {
	srv := oauthtest.Start(t, oauthtest.Options{})
	addr := freeAddr(t)
	cfg, _ := oauthConfig(t, addr, srv.ResourceURL, "{}")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, stop := startServe(t, cfg, addr)
	readyz(t, addr, `"state":"failed"`)
	w := &followWriter{ctx: ctx, errs: make(chan error, 1)}
	var lerr testpeer.SyncBuffer
	if c := Main(ctx, []string{"upstream", "login", "notes", "--no-browser", "--config", cfg}, strings.NewReader(""), w, &lerr); c != 0 {
		t.Fatalf("login exited %d: %s\n%s", c, w.String(), lerr.String())
	}
	body := readyz(t, addr, `"state":"ready"`)
	t.Logf("/readyz after the login: %s", body)
	callNotesWhoami(t, ctx, addr)
	if c, e := stop(); c != 0 {
		t.Fatalf("serve exited %d: %s", c, e)
	}
}

// callNotesWhoami connects to serve at addr as an MCP client and calls the
// notes server's whoami, which must answer "hello from notes".
func callNotesWhoami(t *testing.T, ctx context.Context, addr string) {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}})
	if err != nil || res.IsError || textContent(res) != "hello from notes" {
		t.Fatalf("whoami: %v %+v", err, res)
	}
}

// withAuditFile adds a jsonl audit sink, audit.jsonl beside cfg, and
// returns its path.
func withAuditFile(t *testing.T, cfg string) string {
	t.Helper()
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("audit:\n  sinks:\n    - {type: jsonl, path: audit.jsonl}\n"); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(filepath.Dir(cfg), "audit.jsonl")
}

// A machine's upstream authenticating with a private key: serve signs a
// client assertion for each token request, and neither the key nor an
// assertion nor a token reaches its output; check refuses a file that
// holds no usable key without quoting it.
func TestUpstreamOAuthPrivateKeyJWT(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	srv := oauthtest.Start(t, oauthtest.Options{ClientKeys: map[string]crypto.PublicKey{"gateway-bot": k.Public()}})
	addr := freeAddr(t)
	cfg, dir := oauthConfig(t, addr, srv.ResourceURL, "{grant: client_credentials, client_id: gateway-bot, private_key_file: bot.pem, key_id: bot-1}")
	if err := os.WriteFile(filepath.Join(dir, "bot.pem"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	auditFile := withAuditFile(t, cfg)
	if code, out, errOut := run(t, "check", "--config", cfg); code != 0 {
		t.Fatalf("check: %d %s %s", code, out, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, stop := startServe(t, cfg, addr)
	readyz(t, addr, `"state":"ready"`)
	callNotesWhoami(t, ctx, addr)
	code, errOut := stop()
	if code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut)
	}
	if n := srv.Grants("client_credentials"); n < 1 || len(srv.Assertions()) < 1 {
		t.Fatalf("%d client_credentials requests, %d assertions", n, len(srv.Assertions()))
	}
	audit, err := os.ReadFile(auditFile)
	if err != nil || !strings.Contains(string(audit), "whoami") {
		t.Fatalf("audit log: %v %s", err, audit)
	}
	all := out.String() + errOut + string(audit)
	secrets := append([]string{base64.StdEncoding.EncodeToString(der)[:40]}, srv.Assertions()...)
	secrets = append(secrets, srv.AccessTokens()...)
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("serve's output holds a secret (%.12s…)", s)
		}
	}
	// A key file holding something else is refused, without quoting it.
	bad := "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n"
	if err := os.WriteFile(filepath.Join(dir, "bot.pem"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "check", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "servers.notes.oauth.private_key_file") || strings.Contains(errOut, "c2VjcmV0") {
		t.Errorf("check with a bad key: %d %q", code, errOut)
	}
}

// Cross-app access: serve exchanges the ID token in a file at the IdP
// for an ID-JAG, and the ID-JAG for a token, by itself; neither the ID
// token, the ID-JAG, the secrets nor the token reaches its output.
func TestUpstreamOAuthCrossApp(t *testing.T) {
	idp := oauthtest.StartIdP(t, "toolgate-at-idp", "idp-secret-value", "gateway-app")
	srv := oauthtest.Start(t, oauthtest.Options{IdP: idp, Clients: map[string]string{"gateway-app": "app-secret-value"}})
	addr := freeAddr(t)
	cfg, dir := oauthConfig(t, addr, srv.ResourceURL, fmt.Sprintf("{grant: cross_app_access, client_id: gateway-app, client_secret_file: app.secret, "+
		"idp: {token_endpoint: %q, client_id: toolgate-at-idp, client_secret_file: idp.secret, id_token_file: id.jwt}}", idp.URL+"/token"))
	idToken := idp.IDToken("alice@example.com", time.Hour)
	for name, v := range map[string]string{"app.secret": "app-secret-value\n", "idp.secret": "idp-secret-value\n", "id.jwt": idToken + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	auditFile := withAuditFile(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, stop := startServe(t, cfg, addr)
	readyz(t, addr, `"state":"ready"`)
	callNotesWhoami(t, ctx, addr)
	code, errOut := stop()
	if code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut)
	}
	audit, err := os.ReadFile(auditFile)
	if err != nil || !strings.Contains(string(audit), "whoami") {
		t.Fatalf("audit log: %v %s", err, audit)
	}
	if n := srv.Grants("urn:ietf:params:oauth:grant-type:jwt-bearer"); n < 1 || len(idp.Exchanges()) < 1 {
		t.Fatalf("%d JWT bearer grants, %d exchanges", n, len(idp.Exchanges()))
	}
	all := out.String() + errOut + string(audit)
	secrets := append(append([]string{idToken, "idp-secret-value", "app-secret-value"}, idp.JAGs()...), srv.AccessTokens()...)
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("serve's output holds a secret (%.12s…)", s)
		}
	}
	code, stdout, _ := run(t, "upstream", "status", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "cross_app_access") || !strings.Contains(stdout, "logged in to "+srv.AS.URL) {
		t.Errorf("status: %d %q", code, stdout)
	}
	// An empty ID token file: the login says so, without a secret.
	if err := os.WriteFile(filepath.Join(dir, "id.jwt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut = run(t, "upstream", "login", "notes", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "id.jwt is empty") {
		t.Errorf("login with an empty ID token: %d %q %q", code, stdout, errOut)
	}
	for _, s := range secrets {
		if strings.Contains(stdout+errOut, s) {
			t.Errorf("login's output holds a secret (%.12s…)", s)
		}
	}
}
