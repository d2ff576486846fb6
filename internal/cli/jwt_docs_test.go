package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/jwtauth/jwttest"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// TestDocsJWT serves the JWT example of docs/auth.md: its configuration,
// with a free port, the echo test server for its upstream and a test
// issuer's JWKS URL, passes check; serve accepts a JWT the issuer signed
// and a grant token, answers the metadata the doc shows, and refuses a
// JWT of another key with the WWW-Authenticate the doc shows.
func TestDocsJWT(t *testing.T) {
	data, err := os.ReadFile("../../docs/auth.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	key := jwttest.NewKey(t, "k1", jose.RS256)
	is := jwttest.NewIssuer(t, key)
	addr := freeAddr(t)
	bin := testpeer.BuildEchoServer(t)
	cfgText := docBlock(t, doc, "jwt-config")
	for old, repl := range map[string]string{
		"127.0.0.1:8080": addr,
		"https://auth.example.com/.well-known/jwks.json": is.JWKSURL(),
		"[node, local-server.js]":                        `["` + bin + `"]`,
		"hide: [DeleteUser]":                             "hide: [DeleteUser], tools: {echo: {when: 'identity.labels.team == \"support\"'}}",
	} {
		if !strings.Contains(cfgText, old) {
			t.Fatalf("the doc's configuration has no %q", old)
		}
		cfgText = strings.ReplaceAll(cfgText, old, repl)
	}
	dir := writeFiles(t, map[string]string{"toolgate.yaml": cfgText})
	cfg := filepath.Join(dir, "toolgate.yaml")
	if code, out, errOut := run(t, "check", "--config", cfg); code != 0 {
		t.Fatalf("check of the doc's configuration = %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := run(t, "grant", "create", "--config", cfg, "--subject", "agent:bot", "--policy", "support")
	if code != 0 {
		t.Fatalf("grant create: %d %s", code, errOut)
	}
	grantTok := ""
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "token" {
			grantTok = f[1]
		}
	}
	startServe(t, cfg, addr)
	base := "http://" + addr
	sub := func(s string) string { return strings.ReplaceAll(s, "127.0.0.1:8080", addr) }

	// The metadata, as the doc shows it.
	resp, err := http.Get(base + "/.well-known/oauth-protected-resource/mcp")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got, want any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("metadata %d: %s", resp.StatusCode, body)
	}
	if err := json.Unmarshal([]byte(sub(docBlock(t, doc, "jwt-metadata"))), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("metadata\n got %s\nwant %v", body, want)
	}

	connect := func(token string) (*mcp.ClientSession, error) {
		client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
		return client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp",
			HTTPClient: &http.Client{Transport: &headerTransport{base: http.DefaultTransport, h: http.Header{"Authorization": {"Bearer " + token}}}}}, nil)
	}
	claims := is.Claims("u_1", base+"/mcp")
	claims.Issuer = "https://auth.example.com/"
	claims.Extra = map[string]any{"email": "alice@example.com", "team": "support"}
	cs, err := connect(jwttest.Sign(t, key, claims))
	if err != nil {
		t.Fatalf("connect with a JWT: %v", err)
	}
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
	if err != nil || res.IsError {
		t.Fatalf("echo as alice of team support: %v %+v", err, res)
	}
	gs, err := connect(grantTok)
	if err != nil {
		t.Fatalf("connect with the grant token: %v", err)
	}
	gs.Close()

	// A JWT of a key the issuer does not publish: 401 with the header the doc shows.
	req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+jwttest.Sign(t, jwttest.NewKey(t, "k1", jose.RS256), claims))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, rest, _ := strings.Cut(doc, "every 401 points at it:\n\n```\n")
	line, _, _ := strings.Cut(rest, "\n")
	wantHdr := strings.TrimPrefix(sub(line), "WWW-Authenticate: ")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != wantHdr {
		t.Fatalf("a JWT of another key: %d %q, want 401 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), wantHdr)
	}
}
