package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/admin"
	"github.com/toolgate/toolgate/grant"
)

// adminConfig names its auth explicitly: the admin token commands must not
// depend on the default.
const adminConfig = `
servers:
  clerk: {command: [node, local-server.js]}
policies:
  default: {version: "1", default: deny}
auth: grants
store: sqlite://data/toolgate.db
`

var adminIssuedRE = regexp.MustCompile(`^admin token  (adm_[a-z2-7]{12}) \(([^,]+), ([a-z_]+)\)\ntoken        (tga_[A-Za-z0-9_-]{43})\nexpires      (never|\S+)\n$`)

// openAdminStore opens the admin tokens of a configuration grantEnv wrote.
func openAdminStore(t *testing.T, cfg string) *admin.SQLite {
	t.Helper()
	s, err := admin.OpenSQLite(context.Background(), filepath.Join(filepath.Dir(cfg), "data", "toolgate.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// admin token create --expires: the expiry is stored, printed in both
// outputs and enforced by the verifier; without it there is none.
func TestAdminTokenCreateExpiry(t *testing.T) {
	cfg := grantEnv(t, adminConfig)
	before := time.Now()
	tests := []struct {
		name       string
		args       []string
		wantExpiry time.Duration // from the run; 0 for none
	}{
		{"no expiry", nil, 0},
		{"30 days", []string{"--expires", "720h"}, 720 * time.Hour},
		{"90 minutes", []string{"--expires", "90m"}, 90 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/table", func(t *testing.T) {
			start := time.Now()
			code, out, errOut := run(t, append([]string{"admin", "token", "create", "--config", cfg, "--subject", "alice@example.com", "--role", "viewer"}, tt.args...)...)
			m := adminIssuedRE.FindStringSubmatch(out)
			if code != 0 || m == nil || !strings.Contains(errOut, "not shown again") {
				t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
			}
			tok, err := openAdminStore(t, cfg).Get(context.Background(), m[1])
			if err != nil {
				t.Fatal(err)
			}
			checkExpiry(t, tok.ExpiresAt, start, tt.wantExpiry)
			if want := formatTime(tok.ExpiresAt, "never"); m[5] != want {
				t.Errorf("printed expiry %q, want %q", m[5], want)
			}
			// The verifier takes the token until its expiry, and not after.
			v := &admin.Verifier{Store: openAdminStore(t, cfg)}
			if _, err := v.Verify(context.Background(), m[4]); err != nil {
				t.Errorf("Verify now: %v", err)
			}
			v.Now = func() time.Time { return start.Add(tt.wantExpiry + time.Minute) }
			if _, err := v.Verify(context.Background(), m[4]); (err == nil) != (tt.wantExpiry == 0) {
				t.Errorf("Verify a minute after the expiry: %v", err)
			}
		})
		t.Run(tt.name+"/json", func(t *testing.T) {
			start := time.Now()
			code, out, errOut := run(t, append([]string{"admin", "token", "create", "--config", cfg, "--subject", "bob@example.com", "--role", "admin", "-o", "json"}, tt.args...)...)
			var doc struct {
				AdminToken map[string]any `json:"admin_token"`
				Token      string         `json:"token"`
			}
			if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || !strings.HasPrefix(doc.Token, "tga_") {
				t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
			}
			if doc.AdminToken["status"] != "active" {
				t.Errorf("status %v, want active", doc.AdminToken["status"])
			}
			raw, ok := doc.AdminToken["expires_at"]
			if tt.wantExpiry == 0 {
				if ok {
					t.Errorf("expires_at %v on a token that never expires; want the key absent", raw)
				}
				return
			}
			s, _ := raw.(string)
			at, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatalf("expires_at %v: %v", raw, err)
			}
			checkExpiry(t, at, start, tt.wantExpiry)
		})
	}
	if t.Failed() {
		return
	}
	// Every token above was made after before: none of them is expired.
	list, err := openAdminStore(t, cfg).List(context.Background())
	if err != nil || len(list) != 2*len(tests) {
		t.Fatalf("list %v %v", list, err)
	}
	for _, tok := range list {
		if tok.Expired(before) {
			t.Errorf("%s expired at once", tok.ID)
		}
	}
}

// checkExpiry checks that at is want after start (zero for want 0),
// allowing for the time a run takes.
func checkExpiry(t *testing.T, at, start time.Time, want time.Duration) {
	t.Helper()
	if want == 0 {
		if !at.IsZero() {
			t.Errorf("expiry %v, want none", at)
		}
		return
	}
	if lo, hi := start.Add(want), time.Now().Add(want); at.Before(lo) || at.After(hi) {
		t.Errorf("expiry %v, want between %v and %v", at, lo, hi)
	}
}

// admin token list shows each token's expiry and its status: active,
// expired or revoked (revoked wins over expired).
func TestAdminTokenListStatus(t *testing.T) {
	ctx := context.Background()
	cfg := grantEnv(t, adminConfig)
	activeID, _ := adminToken(t, cfg, "active@example.com", "viewer")
	code, out, _ := run(t, "admin", "token", "create", "--config", cfg, "--subject", "later@example.com", "--role", "admin", "--expires", "720h")
	m := adminIssuedRE.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("create --expires: exit %d %q", code, out)
	}
	laterID := m[1]

	// Tokens whose expiry has passed cannot be made through Create: store
	// them as they would be a while after it.
	store := openAdminStore(t, cfg)
	past := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	expiredID, goneID := grant.NewPrefixedID(admin.IDPrefix), grant.NewPrefixedID(admin.IDPrefix)
	for _, tok := range []*admin.Token{
		{ID: expiredID, Hash: grant.HashToken("expired"), Subject: "expired@example.com", Role: admin.Admin, CreatedAt: past, ExpiresAt: past.Add(time.Hour)},
		{ID: goneID, Hash: grant.HashToken("gone"), Subject: "gone@example.com", Role: admin.Admin, CreatedAt: past, ExpiresAt: past.Add(time.Hour)},
	} {
		if err := store.Create(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errOut := run(t, "admin", "token", "revoke", "--config", cfg, goneID); code != 0 {
		t.Fatalf("revoke an expired token: exit %d %q %q", code, out, errOut)
	}

	want := map[string]struct{ status, expires string }{
		activeID:  {"active", "never"},
		laterID:   {"active", m[5]},
		expiredID: {"expired", "2025-01-02T04:04:05Z"},
		goneID:    {"revoked", "2025-01-02T04:04:05Z"},
	}

	code, out, errOut := run(t, "admin", "token", "list", "--config", cfg, "-o", "json")
	var views []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &views) != nil || len(views) != len(want) {
		t.Fatalf("list -o json: exit %d %q %q", code, out, errOut)
	}
	for _, v := range views {
		id, _ := v["id"].(string)
		w, ok := want[id]
		if !ok {
			t.Errorf("unexpected token %v", v)
			continue
		}
		if v["status"] != w.status {
			t.Errorf("%s: status %v, want %s", id, v["status"], w.status)
		}
		if _, has := v["expires_at"]; has != (w.expires != "never") {
			t.Errorf("%s: expires_at %v, want %s", id, v["expires_at"], w.expires)
		}
	}

	code, out, errOut = run(t, "admin", "token", "list", "--config", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 1+len(want) || strings.Join(strings.Fields(lines[0]), " ") != "ID SUBJECT ROLE STATUS CREATED EXPIRES" {
		t.Fatalf("list: exit %d %q %q", code, out, errOut)
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		w, ok := want[f[0]]
		if !ok || len(f) != 6 || f[3] != w.status || f[5] != w.expires {
			t.Errorf("row %q, want status %s and expiry %s", line, w.status, w.expires)
		}
	}
}

func TestAdminTokenErrors(t *testing.T) {
	cfg := grantEnv(t, adminConfig)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"zero expiry", []string{"--expires", "0s"}, 1, "--expires must be a positive duration"},
		{"negative expiry", []string{"--expires", "-1h"}, 1, "--expires must be a positive duration"},
		{"not a duration", []string{"--expires", "30 days"}, 1, "invalid argument"},
		{"days are not a unit", []string{"--expires", "30d"}, 1, "invalid argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"admin", "token", "create", "--config", cfg, "--subject", "a", "--role", "admin"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) || strings.Contains(out, "tga_") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tt.code, tt.want)
			}
		})
	}
	if code, out, _ := run(t, "admin", "token", "list", "--config", cfg); code != 0 || strings.TrimSpace(out) != "no admin tokens" {
		t.Errorf("after the errors: exit %d %q", code, out)
	}
}
