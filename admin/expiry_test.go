package admin

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/grant"
)

// An expiring token works until its expiry and is refused from that
// instant on, with the error of every other refusal and "expired" in the
// debug log; a token without an expiry never expires. Both stores keep
// the expiry.
func TestVerifyExpiry(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		expires time.Duration // from now; 0 for none
		revoke  bool
		// at is when Verify runs, after the token's expiry (or, without
		// one, after its creation).
		at         time.Duration
		wantOK     bool
		wantStatus string
		wantReason string
	}{
		{"no expiry, a century on", 0, false, 100 * 365 * 24 * time.Hour, true, "active", ""},
		{"a minute before the expiry", time.Hour, false, -time.Minute, true, "active", ""},
		{"a nanosecond before the expiry", time.Hour, false, -time.Nanosecond, true, "active", ""},
		{"at the expiry", time.Hour, false, 0, false, "expired", "expired"},
		{"a day after the expiry", time.Hour, false, 24 * time.Hour, false, "expired", "expired"},
		{"revoked and expired", time.Hour, true, time.Hour, false, "revoked", "revoked"},
	}
	for name, s := range stores(t) {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				spec := Spec{Subject: "alice@example.com", Role: Viewer}
				if tt.expires != 0 {
					spec.ExpiresAt = time.Now().Add(tt.expires)
				}
				tok, secret, err := Create(ctx, s, spec)
				if err != nil {
					t.Fatal(err)
				}
				if !tok.ExpiresAt.Equal(spec.ExpiresAt) {
					t.Fatalf("created with expiry %v, want %v", tok.ExpiresAt, spec.ExpiresAt)
				}
				if tt.revoke {
					if _, err := s.Revoke(ctx, tok.ID, time.Now()); err != nil {
						t.Fatal(err)
					}
				}
				stored, err := s.Get(ctx, tok.ID)
				if err != nil || !stored.ExpiresAt.Equal(tok.ExpiresAt) {
					t.Fatalf("stored %+v, %v: the expiry %v was not kept", stored, err, tok.ExpiresAt)
				}
				ref := tok.ExpiresAt
				if ref.IsZero() {
					ref = tok.CreatedAt
				}
				now := ref.Add(tt.at)
				if got := stored.Status(now); got != tt.wantStatus {
					t.Errorf("Status = %q, want %q", got, tt.wantStatus)
				}

				var logs bytes.Buffer
				v := &Verifier{Store: s, Now: func() time.Time { return now },
					Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
				got, err := v.Verify(ctx, secret)
				if tt.wantOK {
					if err != nil || got.ID != tok.ID {
						t.Fatalf("Verify = %+v, %v; want the token", got, err)
					}
					return
				}
				if err != ErrInvalidToken || got != nil {
					t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", got, err)
				}
				line := logs.String()
				if !strings.Contains(line, "reason="+tt.wantReason) || !strings.Contains(line, "admin_token="+tok.ID) || !strings.Contains(line, "level=DEBUG") {
					t.Errorf("log %q: want the reason %q and the token id at debug", line, tt.wantReason)
				}
				if strings.Contains(line, secret) || strings.Contains(line, secret[len(TokenPrefix):]) {
					t.Errorf("the log holds the token: %q", line)
				}
			})
		}
	}
}

// A database whose admin tokens were made before tokens could expire
// (only migration 001 applied) gains the expires_at column when opened,
// and its tokens keep working, without an expiry.
func TestMigrateFromFirstSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "toolgate.db")
	schema, err := migrations.ReadFile("migrations/001_admin_tokens.sql")
	if err != nil {
		t.Fatal(err)
	}
	secret, hash := grant.NewPrefixedToken(TokenPrefix)
	const id = "adm_aaaaaaaaaaaa"
	created := time.Date(2025, 11, 3, 10, 0, 0, 0, time.UTC)

	// The database as a toolgate with only migration 001 left it.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []struct {
		q    string
		args []any
	}{
		{`CREATE TABLE admin_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`, nil},
		{string(schema), nil},
		{`INSERT INTO admin_migrations (version, name, applied_at) VALUES (1, '001_admin_tokens.sql', ?)`, []any{created.UnixMilli()}},
		{`INSERT INTO admin_tokens (id, token_hash, subject, role, created_at, revoked_at) VALUES (?, ?, 'alice@example.com', 'admin', ?, NULL)`,
			[]any{id, hash[:], created.UnixNano()}},
	} {
		if _, err := old.ExecContext(ctx, stmt.q, stmt.args...); err != nil {
			t.Fatalf("%s: %v", stmt.q, err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	far := time.Now().Add(100 * 365 * 24 * time.Hour)
	got, err := (&Verifier{Store: s, Now: func() time.Time { return far }}).Verify(ctx, secret)
	if err != nil || got.ID != id || got.Role != Admin || !got.CreatedAt.Equal(created) || !got.ExpiresAt.IsZero() {
		t.Fatalf("the old token after the migration: %+v, %v; want it working, without an expiry", got, err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Status(far) != "active" {
		t.Fatalf("list %+v %v", list, err)
	}

	// New tokens in the migrated database keep their expiry.
	exp := time.Now().Add(time.Hour)
	tok, _, err := Create(ctx, s, Spec{Subject: "bob", Role: Viewer, ExpiresAt: exp})
	if err != nil {
		t.Fatal(err)
	}
	if back, err := s.Get(ctx, tok.ID); err != nil || !back.ExpiresAt.Equal(exp) {
		t.Fatalf("new token %+v %v, want the expiry %v", back, err, exp)
	}
	var versions int
	if err := s.View(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM admin_migrations WHERE version = 2`).Scan(&versions)
	}); err != nil || versions != 1 {
		t.Errorf("migration 2 recorded %d times, %v", versions, err)
	}
}
