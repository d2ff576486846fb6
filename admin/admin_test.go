package admin

import (
	"context"
	"io"
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
			tok, secret, err := Create(ctx, s, Spec{Subject: "alice@example.com", Role: Admin})
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
			if _, _, err := Create(ctx, s, Spec{Subject: "bob", Role: Viewer}); err != nil {
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
				{"expires at creation", s.Create(ctx, &Token{ID: grant.NewPrefixedID(IDPrefix), Hash: grant.HashToken("d"), Subject: "s", Role: Viewer, CreatedAt: at, ExpiresAt: at}), toolgate.Invalid},
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
		name string
		spec Spec
		want string
	}{
		{"no subject", Spec{Subject: "", Role: Admin}, "subject is required"},
		{"spaces", Spec{Subject: " alice", Role: Admin}, "white space"},
		{"newline", Spec{Subject: "al\nice", Role: Admin}, "control character"},
		{"unknown role", Spec{Subject: "alice", Role: "superuser"}, "role must be"},
		{"expired already", Spec{Subject: "alice", Role: Admin, ExpiresAt: time.Now().Add(-time.Hour)}, "is not in the future"},
		// Create reads the clock after this line: the expiry is not after it.
		{"expires now", Spec{Subject: "alice", Role: Admin, ExpiresAt: time.Now()}, "is not in the future"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := NewMemory()
			_, _, err := Create(context.Background(), store, tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) || toolgate.ErrorCode(err) != toolgate.Invalid {
				t.Errorf("Create(%+v) = %v, want Invalid %q", tt.spec, err, tt.want)
			}
			if list, _ := store.List(context.Background()); len(list) != 0 {
				t.Errorf("a refused spec stored %v", list)
			}
		})
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
		_, secret, err := Create(ctx, store, Spec{Subject: string(r) + "@example.com", Role: r})
		if err != nil {
			t.Fatal(err)
		}
		tokens[r] = secret
	}
	revoked, revokedSecret, _ := Create(ctx, store, Spec{Subject: "gone@example.com", Role: Admin})
	if _, err := store.Revoke(ctx, revoked.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	// The verifier's clock runs two hours ahead: this token has expired
	// for it, the ones without an expiry have not.
	_, expiredSecret, err := Create(ctx, store, Spec{Subject: "late@example.com", Role: Admin, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return time.Now().Add(2 * time.Hour) }
	mux := http.NewServeMux()
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := FromContext(r.Context())
		WriteJSON(w, http.StatusOK, map[string]string{"subject": t.Subject})
	})
	mux.Handle("GET /read", Require(Viewer, who))
	mux.Handle("PUT /policy", Require(PolicyManager, who))
	mux.Handle("POST /decide", Require(Admin, who))
	ts := httptest.NewServer(Authenticate(&Verifier{Store: store, Now: clock}, nil, mux))
	defer ts.Close()
	do := func(t *testing.T, method, path, auth string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)
	}
	// Every refused token gets exactly the answer an unknown one gets.
	unknownCode, unknownWWW, unknownBody := do(t, "GET", "/read", "Bearer tga_"+strings.Repeat("B", 43))
	if unknownCode != 401 || unknownWWW != `Bearer realm="toolgate-admin"` || !strings.Contains(unknownBody, ErrInvalidToken.Message) {
		t.Fatalf("unknown token: HTTP %d, WWW-Authenticate %q, body %q", unknownCode, unknownWWW, unknownBody)
	}

	tests := []struct {
		name, method, path, auth string
		want                     int
	}{
		{"no header", "GET", "/read", "", 401},
		{"not bearer", "GET", "/read", "Basic " + tokens[Admin], 401},
		{"unknown", "GET", "/read", "Bearer tga_" + strings.Repeat("A", 43), 401},
		{"revoked", "GET", "/read", "Bearer " + revokedSecret, 401},
		{"expired", "GET", "/read", "Bearer " + expiredSecret, 401},
		{"expired, admin route", "POST", "/decide", "Bearer " + expiredSecret, 401},
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
			code, www, body := do(t, tt.method, tt.path, tt.auth)
			if code != tt.want {
				t.Fatalf("HTTP %d, want %d", code, tt.want)
			}
			if code == 401 && (www != unknownWWW || body != unknownBody) {
				t.Errorf("WWW-Authenticate %q, body %q; an unknown token gets %q, %q", www, body, unknownWWW, unknownBody)
			}
			if code != 401 && www != "" {
				t.Errorf("WWW-Authenticate %q on HTTP %d", www, code)
			}
		})
	}
}
