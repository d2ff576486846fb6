package grant

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
)

// stores returns a new, empty store of each kind.
func stores(t *testing.T) map[string]toolgate.GrantStore {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "toolgate.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return map[string]toolgate.GrantStore{"memory": NewMemory(), "sqlite": s}
}

func TestSpecCheck(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := func() Spec { return Spec{Subject: "alice@example.com", Policy: "default"} }
	tests := []struct {
		name string
		edit func(*Spec)
		want string // "" for valid; else a part of the message
	}{
		{"minimal", func(*Spec) {}, ""},
		{"everything", func(s *Spec) {
			s.Subject, s.Labels, s.Servers, s.ExpiresAt = "agent:support-bot", map[string]string{"team": "support", "app.kubernetes.io/name": "x", "empty": ""}, []string{"clerk", "docs"}, now.Add(time.Hour)
		}, ""},
		{"no subject", func(s *Spec) { s.Subject = "" }, "subject is required"},
		{"spaced subject", func(s *Spec) { s.Subject = " alice" }, "white space"},
		{"control in subject", func(s *Spec) { s.Subject = "al\nice" }, "control character"},
		{"long subject", func(s *Spec) { s.Subject = strings.Repeat("a", 257) }, "longer than 256"},
		{"bad UTF-8", func(s *Spec) { s.Subject = "\xff" }, "UTF-8"},
		{"no policy", func(s *Spec) { s.Policy = "" }, "policy is required"},
		{"label key with space", func(s *Spec) { s.Labels = map[string]string{"a b": "x"} }, `label key "a b"`},
		{"label key empty", func(s *Spec) { s.Labels = map[string]string{"": "x"} }, `label key ""`},
		{"label key ends with dash", func(s *Spec) { s.Labels = map[string]string{"team-": "x"} }, `label key "team-"`},
		{"label key too long", func(s *Spec) { s.Labels = map[string]string{strings.Repeat("k", 64): "x"} }, "label key"},
		{"label value control", func(s *Spec) { s.Labels = map[string]string{"team": "a\x00"} }, "control character"},
		{"label value long", func(s *Spec) { s.Labels = map[string]string{"team": strings.Repeat("v", 257)} }, "longer than 256"},
		{"empty server", func(s *Spec) { s.Servers = []string{""} }, "server is required"},
		{"server twice", func(s *Spec) { s.Servers = []string{"a", "a"} }, "named twice"},
		{"expired", func(s *Spec) { s.ExpiresAt = now }, "not in the future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok()
			tt.edit(&s)
			err := s.Check(now)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Check = %v, want an error containing %q", err, tt.want)
			case err != nil && toolgate.ErrorCode(err) != toolgate.Invalid:
				t.Errorf("code %s", toolgate.ErrorCode(err))
			}
		})
	}
}

func TestParseLabel(t *testing.T) {
	tests := []struct {
		in, k, v string
		ok       bool
	}{
		{"team=support", "team", "support", true},
		{"team=", "team", "", true},
		{"url=a=b", "url", "a=b", true},
		{"team", "", "", false},
		{"=x", "", "", false},
		{"tëam=x", "", "", false},
	}
	for _, tt := range tests {
		k, v, err := ParseLabel(tt.in)
		if (err == nil) != tt.ok || k != tt.k || v != tt.v {
			t.Errorf("ParseLabel(%q) = %q, %q, %v", tt.in, k, v, err)
		}
	}
}

func TestStores(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			_, h := NewToken()
			g := &toolgate.Grant{ID: NewID(), TokenHash: h, Subject: "alice@example.com", Policy: "default",
				Labels: map[string]string{"team": "support"}, Servers: []string{"clerk"},
				CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
			if err := s.Create(ctx, g); err != nil {
				t.Fatal(err)
			}
			g2 := &toolgate.Grant{ID: NewID(), TokenHash: HashToken("other"), Subject: "agent:bot", Policy: "p", CreatedAt: created.Add(time.Second)}
			if err := s.Create(ctx, g2); err != nil {
				t.Fatal(err)
			}

			// What was stored comes back, by id and by hash.
			for _, get := range []func() (*toolgate.Grant, error){
				func() (*toolgate.Grant, error) { return s.Get(ctx, g.ID) },
				func() (*toolgate.Grant, error) { return s.ByTokenHash(ctx, h) },
			} {
				got, err := get()
				if err != nil {
					t.Fatal(err)
				}
				if got.ID != g.ID || got.TokenHash != h || got.Subject != g.Subject || got.Policy != g.Policy ||
					got.Labels["team"] != "support" || len(got.Servers) != 1 || got.Servers[0] != "clerk" ||
					!got.CreatedAt.Equal(created) || !got.ExpiresAt.Equal(g.ExpiresAt) || got.Revoked || !got.LastUsedAt.IsZero() {
					t.Errorf("got %+v", got)
				}
			}
			got, _ := s.Get(ctx, g2.ID)
			if got.Labels != nil || got.Servers != nil || !got.ExpiresAt.IsZero() {
				t.Errorf("grant without options: %+v", got)
			}

			// Errors carry codes.
			codes := []struct {
				what string
				err  error
				want toolgate.Code
			}{
				{"create same id", s.Create(ctx, &toolgate.Grant{ID: g.ID, TokenHash: HashToken("x"), Subject: "s", Policy: "p", CreatedAt: created}), toolgate.Conflict},
				{"create same hash", s.Create(ctx, &toolgate.Grant{ID: NewID(), TokenHash: h, Subject: "s", Policy: "p", CreatedAt: created}), toolgate.Conflict},
				{"create bad id", s.Create(ctx, &toolgate.Grant{ID: "x", TokenHash: HashToken("y"), Subject: "s", Policy: "p", CreatedAt: created}), toolgate.Invalid},
				{"create no hash", s.Create(ctx, &toolgate.Grant{ID: NewID(), Subject: "s", Policy: "p", CreatedAt: created}), toolgate.Invalid},
				{"get unknown", second(s.Get(ctx, "gr_aaaaaaaaaaaa")), toolgate.NotFound},
				{"hash unknown", second(s.ByTokenHash(ctx, HashToken("nope"))), toolgate.NotFound},
				{"revoke unknown", second(s.Revoke(ctx, "gr_aaaaaaaaaaaa", created)), toolgate.NotFound},
				{"rotate unknown", second(s.Rotate(ctx, "gr_aaaaaaaaaaaa", HashToken("z"), created)), toolgate.NotFound},
				{"rotate onto a taken hash", second(s.Rotate(ctx, g.ID, g2.TokenHash, created)), toolgate.Conflict},
				{"touch unknown", s.Touch(ctx, "gr_aaaaaaaaaaaa", created), toolgate.NotFound},
			}
			for _, c := range codes {
				if toolgate.ErrorCode(c.err) != c.want {
					t.Errorf("%s: %v (code %s), want %s", c.what, c.err, toolgate.ErrorCode(c.err), c.want)
				}
			}

			// Touch keeps the latest use.
			t1, t0 := created.Add(2*time.Minute), created.Add(time.Minute)
			for _, at := range []time.Time{t1, t0} {
				if err := s.Touch(ctx, g.ID, at); err != nil {
					t.Fatal(err)
				}
			}
			if got, _ := s.Get(ctx, g.ID); !got.LastUsedAt.Equal(t1) {
				t.Errorf("last used %v, want %v", got.LastUsedAt, t1)
			}

			// Rotate swaps the hash at once.
			_, h2 := NewToken()
			rot, err := s.Rotate(ctx, g.ID, h2, t1)
			if err != nil || rot.TokenHash != h2 || !rot.RotatedAt.Equal(t1) {
				t.Fatalf("rotate = %+v, %v", rot, err)
			}
			if _, err := s.ByTokenHash(ctx, h); toolgate.ErrorCode(err) != toolgate.NotFound {
				t.Errorf("old hash after rotate: %v", err)
			}
			if got, err := s.ByTokenHash(ctx, h2); err != nil || got.ID != g.ID {
				t.Errorf("new hash after rotate: %v, %v", got, err)
			}

			// Revoke is final and idempotent; a revoked grant cannot rotate.
			r1, err := s.Revoke(ctx, g.ID, t1)
			if err != nil || !r1.Revoked || !r1.RevokedAt.Equal(t1) {
				t.Fatalf("revoke = %+v, %v", r1, err)
			}
			r2, err := s.Revoke(ctx, g.ID, t1.Add(time.Hour))
			if err != nil || !r2.RevokedAt.Equal(t1) {
				t.Errorf("revoke again = %+v, %v", r2, err)
			}
			if _, err := s.Rotate(ctx, g.ID, HashToken("again"), t1); toolgate.ErrorCode(err) != toolgate.Conflict {
				t.Errorf("rotate revoked: %v", err)
			}

			// List: oldest first, revoked included.
			list, err := s.List(ctx)
			if err != nil || len(list) != 2 || list[0].ID != g.ID || list[1].ID != g2.ID || !list[0].Revoked {
				t.Errorf("list = %v, %v", list, err)
			}

			// Returned grants are copies.
			list[1].Labels = map[string]string{"x": "y"}
			if got, _ := s.Get(ctx, g2.ID); got.Labels != nil {
				t.Errorf("changing a returned grant changed the store")
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }
