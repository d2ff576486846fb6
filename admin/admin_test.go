package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
	"github.com/toolgate/toolgate/grant"
)

// stores returns a new, empty store of each kind.
func stores(t *testing.T) map[string]Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "toolgate.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return map[string]Store{"memory": NewMemory(), "sqlite": s}
}

func TestRoleAllows(t *testing.T) {
	tests := []struct {
		role, need Role
		want       bool
	}{
		{Viewer, Viewer, true},
		{Viewer, PolicyManager, false},
		{Viewer, Admin, false},
		{PolicyManager, Viewer, true},
		{PolicyManager, PolicyManager, true},
		{PolicyManager, Admin, false},
		{Admin, Viewer, true},
		{Admin, PolicyManager, true},
		{Admin, Admin, true},
		{"", Viewer, false},
		{"root", Viewer, false},
		{Admin, "root", false},
	}
	for _, tt := range tests {
		if got := tt.role.Allows(tt.need); got != tt.want {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.role, tt.need, got, tt.want)
		}
	}
	if _, err := ParseRole("Admin"); toolgate.ErrorCode(err) != toolgate.Invalid {
		t.Errorf("ParseRole(Admin) = %v", err)
	}
}

// Tokens are stored as hashes, verified while not revoked, and refused
// with one error otherwise, in every store.
func TestStoresAndVerify(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			tok, secret, err := Create(ctx, s, "alice@example.com", Admin)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(secret, "tga_") || len(secret) != 47 || !ValidID(tok.ID) || !tok.Hash.IsZero() {
				t.Fatalf("created %+v, %q", tok, secret)
			}
			stored, err := s.Get(ctx, tok.ID)
			if err != nil || stored.Hash != grant.HashToken(secret) || stored.Subject != "alice@example.com" || stored.Role != Admin || stored.Revoked {
				t.Fatalf("stored %+v %v", stored, err)
			}
			if _, _, err := Create(ctx, s, "bob", Viewer); err != nil {
				t.Fatal(err)
			}
			list, err := s.List(ctx)
			if err != nil || len(list) != 2 || list[0].ID != tok.ID || list[1].Subject != "bob" {
				t.Fatalf("list %v %v", list, err)
			}

			v := &Verifier{Store: s}
			got, err := v.Verify(ctx, secret)
			if err != nil || got.ID != tok.ID || got.Role != Admin || !got.Hash.IsZero() {
				t.Fatalf("Verify = %+v, %v", got, err)
			}
			grantToken, _ := grant.NewToken()
			other, _ := grant.NewPrefixedToken(TokenPrefix)
			for _, bad := range []string{"", "tga_", secret + "x", grantToken, other, "tg_" + secret[4:]} {
				if _, err := v.Verify(ctx, bad); err != ErrInvalidToken {
					t.Errorf("Verify(%q) = %v, want ErrInvalidToken", bad, err)
				}
			}

			at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
			r, err := s.Revoke(ctx, tok.ID, at)
			if err != nil || !r.Revoked || !r.RevokedAt.Equal(at) {
				t.Fatalf("revoke %+v %v", r, err)
			}
			if r, _ = s.Revoke(ctx, tok.ID, at.Add(time.Hour)); !r.RevokedAt.Equal(at) {
				t.Errorf("a second revoke moved the time: %v", r.RevokedAt)
			}
			if _, err := v.Verify(ctx, secret); err != ErrInvalidToken {
				t.Errorf("revoked token: %v", err)
			}

			codes := []struct {
				what string
				err  error
				want toolgate.Code
			}{
				{"get unknown", errOf(s.Get(ctx, "adm_aaaaaaaaaaaa")), toolgate.NotFound},
				{"revoke unknown", errOf(s.Revoke(ctx, "adm_aaaaaaaaaaaa", at)), toolgate.NotFound},
				{"same id", s.Create(ctx, &Token{ID: tok.ID, Hash: grant.HashToken("a"), Subject: "s", Role: Viewer, CreatedAt: at}), toolgate.Conflict},
				{"same hash", s.Create(ctx, &Token{ID: grant.NewPrefixedID(IDPrefix), Hash: stored.Hash, Subject: "s", Role: Viewer, CreatedAt: at}), toolgate.Conflict},
				{"bad role", s.Create(ctx, &Token{ID: grant.NewPrefixedID(IDPrefix), Hash: grant.HashToken("b"), Subject: "s", Role: "root", CreatedAt: at}), toolgate.Invalid},
				{"grant id", s.Create(ctx, &Token{ID: grant.NewID(), Hash: grant.HashToken("c"), Subject: "s", Role: Viewer, CreatedAt: at}), toolgate.Invalid},
			}
			for _, c := range codes {
				if got := toolgate.ErrorCode(c.err); got != c.want {
					t.Errorf("%s: %v (code %q), want %s", c.what, c.err, got, c.want)
				}
			}
		})
	}
}

func errOf(_ *Token, err error) error { return err }

func TestCreateChecks(t *testing.T) {
	for _, tt := range []struct {
		subject string
		role    Role
		want    string
	}{
		{"", Admin, "subject is required"},
		{" alice", Admin, "white space"},
		{"al\nice", Admin, "control character"},
		{"alice", "superuser", "role must be"},
	} {
		_, _, err := Create(context.Background(), NewMemory(), tt.subject, tt.role)
		if err == nil || !strings.Contains(err.Error(), tt.want) || toolgate.ErrorCode(err) != toolgate.Invalid {
			t.Errorf("Create(%q, %q) = %v, want %q", tt.subject, tt.role, err, tt.want)
		}
	}
}

// Authenticate and Require over real HTTP: 401 with WWW-Authenticate for
// every refused token, 403 for a role without the right, the token in
// the context otherwise.
func TestMiddleware(t *testing.T) {
	ctx := context.Background()
	store := NewMemory()
	tokens := map[Role]string{}
	for _, r := range Roles {
		_, secret, err := Create(ctx, store, string(r)+"@example.com", r)
		if err != nil {
			t.Fatal(err)
		}
		tokens[r] = secret
	}
	revoked, revokedSecret, _ := Create(ctx, store, "gone@example.com", Admin)
	if _, err := store.Revoke(ctx, revoked.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := FromContext(r.Context())
		WriteJSON(w, http.StatusOK, map[string]string{"subject": t.Subject})
	})
	mux.Handle("GET /read", Require(Viewer, who))
	mux.Handle("PUT /policy", Require(PolicyManager, who))
	mux.Handle("POST /decide", Require(Admin, who))
	ts := httptest.NewServer(Authenticate(&Verifier{Store: store}, nil, mux))
	defer ts.Close()

	tests := []struct {
		name, method, path, auth string
		want                     int
	}{
		{"no header", "GET", "/read", "", 401},
		{"not bearer", "GET", "/read", "Basic " + tokens[Admin], 401},
		{"unknown", "GET", "/read", "Bearer tga_" + strings.Repeat("A", 43), 401},
		{"revoked", "GET", "/read", "Bearer " + revokedSecret, 401},
		{"unknown route needs a token too", "GET", "/nope", "", 401},
		{"viewer reads", "GET", "/read", "Bearer " + tokens[Viewer], 200},
		{"viewer cannot manage policies", "PUT", "/policy", "Bearer " + tokens[Viewer], 403},
		{"viewer cannot decide", "POST", "/decide", "Bearer " + tokens[Viewer], 403},
		{"policy manager reads", "GET", "/read", "Bearer " + tokens[PolicyManager], 200},
		{"policy manager manages policies", "PUT", "/policy", "Bearer " + tokens[PolicyManager], 200},
		{"policy manager cannot decide", "POST", "/decide", "Bearer " + tokens[PolicyManager], 403},
		{"admin decides", "POST", "/decide", "bearer " + tokens[Admin], 200},
		{"admin, unknown route", "GET", "/nope", "Bearer " + tokens[Admin], 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tt.want)
			}
			if www := resp.Header.Get("WWW-Authenticate"); (tt.want == 401) != (www != "") {
				t.Errorf("WWW-Authenticate %q on HTTP %d", www, resp.StatusCode)
			}
		})
	}
}
