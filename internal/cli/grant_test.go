package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/grant"
)

const grantConfig = `
servers:
  clerk: {command: [node, local-server.js]}
  docs: {url: "http://127.0.0.1:9000/mcp"}
policies:
  default: {version: "1", default: deny}
  support: {version: "1", default: allow}
auth: grants
store: sqlite://data/toolgate.db
`

// grantEnv writes a configuration with two servers and two policies whose
// store is under a new temporary directory, and returns its path.
func grantEnv(t *testing.T, doc string) string {
	t.Helper()
	dir := writeFiles(t, map[string]string{"toolgate.yaml": doc})
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "toolgate.yaml")
}

var issuedRE = regexp.MustCompile(`^grant  (gr_[a-z2-7]{12})\ntoken  (tg_[A-Za-z0-9_-]{43})\n$`)

// create runs grant create and returns the id and token it printed.
func create(t *testing.T, cfg string, args ...string) (string, string) {
	t.Helper()
	code, out, errOut := run(t, append([]string{"grant", "create", "--config", cfg}, args...)...)
	m := issuedRE.FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.Contains(errOut, "not shown again") {
		t.Fatalf("create %q = %d\nstdout %q\nstderr %q", args, code, out, errOut)
	}
	return m[1], m[2]
}

// verify opens the configuration's store and verifies token.
func verify(t *testing.T, cfg, token string) (*toolgate.Grant, error) {
	t.Helper()
	s, err := grant.OpenSQLite(context.Background(), filepath.Join(filepath.Dir(cfg), "data", "toolgate.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return grant.Verify(context.Background(), s, token)
}

func TestGrantLifecycle(t *testing.T) {
	cfg := grantEnv(t, grantConfig)
	id, token := create(t, cfg, "--subject", "alice@example.com", "--policy", "support",
		"--label", "team=support", "--label", "tier=gold", "--server", "clerk", "--expires", "720h")
	id2, token2 := create(t, cfg, "--subject", "agent:support-bot", "--policy", "default")

	g, err := verify(t, cfg, token)
	if err != nil || g.ID != id || g.Subject != "alice@example.com" || g.Policy != "support" || g.Labels["tier"] != "gold" || !g.AllowsServer("clerk") || g.AllowsServer("docs") || g.ExpiresAt.IsZero() {
		t.Fatalf("verify = %+v, %v", g, err)
	}

	// list, as a table and as JSON; neither shows a token.
	code, out, errOut := run(t, "grant", "list", "--config", cfg)
	if code != 0 || !strings.HasPrefix(out, "ID ") || !strings.Contains(out, id) || !strings.Contains(out, id2) ||
		!strings.Contains(out, "team=support,tier=gold") || !strings.Contains(out, "active") {
		t.Errorf("list = %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, "grant", "list", "--config", cfg, "-o", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 2 || list[0]["id"] != id || list[0]["status"] != "active" || list[1]["subject"] != "agent:support-bot" {
		t.Errorf("list -o json = %d, %v\n%s", code, err, out)
	}
	for _, args := range [][]string{
		{"grant", "list"}, {"grant", "list", "-o", "json"}, {"grant", "show", id}, {"grant", "show", id, "-o", "json"},
	} {
		_, out, errOut := run(t, append(args, "--config", cfg)...)
		for _, tok := range []string{token, token2, token[3:]} {
			if strings.Contains(out+errOut, tok) {
				t.Errorf("%q prints a token:\n%s%s", args, out, errOut)
			}
		}
		if strings.Contains(out, "hash") {
			t.Errorf("%q prints a hash:\n%s", args, out)
		}
	}

	// show
	code, out, _ = run(t, "grant", "show", id, "--config", cfg)
	for _, want := range []string{"id         " + id, "subject    alice@example.com", "policy     support", "servers    clerk", "status     active", "last used  "} {
		if !strings.Contains(out, want) {
			t.Errorf("show = %d, missing %q:\n%s", code, want, out)
		}
	}
	code, out, _ = run(t, "grant", "show", id2, "--config", cfg, "-o", "json")
	var one map[string]any
	if err := json.Unmarshal([]byte(out), &one); code != 0 || err != nil || one["id"] != id2 || one["revoked"] != false || one["expires_at"] != nil {
		t.Errorf("show -o json = %d, %v\n%s", code, err, out)
	}

	// rotate: a new token; the old one is dead at once.
	code, out, _ = run(t, "grant", "rotate", id, "--config", cfg)
	m := issuedRE.FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] != id || m[2] == token {
		t.Fatalf("rotate = %d\n%s", code, out)
	}
	if _, err := verify(t, cfg, token); err != grant.ErrInvalidToken {
		t.Errorf("old token after rotate: %v", err)
	}
	if g, err := verify(t, cfg, m[2]); err != nil || g.ID != id {
		t.Errorf("new token after rotate: %v, %v", g, err)
	}

	// revoke: the token is dead; the grant stays listed; rotate refuses.
	code, out, _ = run(t, "grant", "revoke", id2, "--config", cfg)
	if code != 0 || out != "revoked "+id2+" (agent:support-bot)\n" {
		t.Errorf("revoke = %d, %q", code, out)
	}
	if _, err := verify(t, cfg, token2); err != grant.ErrInvalidToken {
		t.Errorf("token after revoke: %v", err)
	}
	code, out, _ = run(t, "grant", "revoke", id2, "--config", cfg)
	if code != 0 || !strings.Contains(out, "already revoked") {
		t.Errorf("revoke again = %d, %q", code, out)
	}
	code, _, errOut = run(t, "grant", "rotate", id2, "--config", cfg)
	if code != 5 || !strings.Contains(errOut, "is revoked") {
		t.Errorf("rotate revoked = %d, %q", code, errOut)
	}
	code, out, _ = run(t, "grant", "show", id2, "--config", cfg)
	if code != 0 || !strings.Contains(out, "status     revoked") || !strings.Contains(out, "revoked    20") {
		t.Errorf("show revoked = %d\n%s", code, out)
	}

	// rotate -o json and create -o json carry the token and the grant.
	code, out, _ = run(t, "grant", "rotate", id, "--config", cfg, "-o", "json")
	var issued struct {
		Grant map[string]any `json:"grant"`
		Token string         `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &issued); code != 0 || err != nil || issued.Grant["id"] != id || !grant.WellFormed(issued.Token) {
		t.Errorf("rotate -o json = %d, %v\n%s", code, err, out)
	}

	// The store file is private.
	fi, err := os.Stat(filepath.Join(filepath.Dir(cfg), "data", "toolgate.db"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("store file: %v, %v", fi.Mode(), err)
	}
}

func TestGrantErrors(t *testing.T) {
	cfg := grantEnv(t, grantConfig)
	id, _ := create(t, cfg, "--subject", "alice", "--policy", "default")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subject", []string{"create", "--policy", "default"}, 1, "--subject is required"},
		{"no policy", []string{"create", "--subject", "a"}, 1, "--policy is required"},
		{"unknown policy", []string{"create", "--subject", "a", "--policy", "nope"}, 1, `has no policy "nope" (its policies: default, support)`},
		{"unknown server", []string{"create", "--subject", "a", "--policy", "default", "--server", "github"}, 1, `has no server "github" (its servers: clerk, docs)`},
		{"server twice", []string{"create", "--subject", "a", "--policy", "default", "--server", "clerk", "--server", "clerk"}, 1, "named twice"},
		{"label without =", []string{"create", "--subject", "a", "--policy", "default", "--label", "team"}, 1, "want key=value"},
		{"bad label key", []string{"create", "--subject", "a", "--policy", "default", "--label", "te am=x"}, 1, `label key "te am"`},
		{"label twice", []string{"create", "--subject", "a", "--policy", "default", "--label", "t=1", "--label", "t=2"}, 1, "given twice"},
		{"zero expiry", []string{"create", "--subject", "a", "--policy", "default", "--expires", "0s"}, 1, "positive duration"},
		{"negative expiry", []string{"create", "--subject", "a", "--policy", "default", "--expires", "-1h"}, 1, "positive duration"},
		{"bad expiry", []string{"create", "--subject", "a", "--policy", "default", "--expires", "30 days"}, 1, "invalid argument"},
		{"subject with newline", []string{"create", "--subject", "a\nb", "--policy", "default"}, 1, "control character"},
		{"bad output", []string{"list", "-o", "yaml"}, 1, "-o must be table or json"},
		{"show unknown", []string{"show", "gr_aaaaaaaaaaaa"}, 3, "gr_aaaaaaaaaaaa not found"},
		{"show not an id", []string{"show", "alice"}, 1, "is not a grant id"},
		{"revoke unknown", []string{"revoke", "gr_aaaaaaaaaaaa"}, 3, "not found"},
		{"rotate unknown", []string{"rotate", "gr_aaaaaaaaaaaa"}, 3, "not found"},
		{"show without id", []string{"show"}, 1, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, append(append([]string{"grant"}, tt.args...), "--config", cfg)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) || strings.Contains(out, "tg_") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tt.code, tt.want)
			}
		})
	}
	// Nothing but the first grant was created.
	_, out, _ := run(t, "grant", "list", "--config", cfg, "-o", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0]["id"] != id {
		t.Errorf("after the errors: %v\n%s", err, out)
	}
}

func TestGrantStoreFromConfig(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		code int
		want string // in stderr
	}{
		// No policies: any name, with a warning; the default store path.
		{"no policies", "servers: {clerk: {command: [x]}}\n", 0, "names no policies"},
		{"postgres", "policies: {default: {version: \"1\", default: deny}}\nstore: postgres://u:p@db/toolgate\n", 1, "only sqlite:// is available"},
		{"invalid config", "store: 42\n", 1, "store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"toolgate.yaml": tt.doc})
			cfg := filepath.Join(dir, "toolgate.yaml")
			code, _, errOut := run(t, "grant", "create", "--config", cfg, "--subject", "a", "--policy", "whatever")
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q", code, errOut)
			}
			_, err := os.Stat(filepath.Join(dir, "toolgate.db"))
			if (err == nil) != (tt.code == 0) {
				t.Errorf("default store file: %v", err)
			}
		})
	}
	code, _, errOut := run(t, "grant", "list", "--config", filepath.Join(t.TempDir(), "none.yaml"))
	if code != 3 || !strings.Contains(errOut, "none.yaml not found") {
		t.Errorf("missing config: exit %d, %q", code, errOut)
	}
}
