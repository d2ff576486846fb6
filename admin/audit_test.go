package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/toolgate/toolgate/audit"
)

func TestAuditAPI(t *testing.T) {
	store, err := audit.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(context.Background(), audit.Options{Primary: store})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	old := &audit.Event{Kind: audit.KindDecision, Tool: "echo", Subject: "bob", Decision: audit.Denied, Time: time.Now().Add(-2 * time.Hour)}
	for _, e := range []*audit.Event{
		old,
		{Kind: audit.KindDecision, Tool: "echo", Subject: "alice", Decision: audit.Allowed},
		{Kind: audit.KindDecision, Tool: "add", Subject: "alice", Decision: audit.RateLimited},
	} {
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	AuditRoutes(store, nil)(mux)
	as := func(role Role) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mux.ServeHTTP(w, r.WithContext(WithToken(r.Context(), &Token{Subject: "ops", Role: role})))
		})
	}
	tests := []struct {
		role   Role
		query  string
		status int
		events int
	}{
		{Viewer, "", 200, 3},
		{Viewer, "?tool=echo", 200, 2},
		{Viewer, "?subject=alice&decision=rate_limited", 200, 1},
		{Viewer, "?since=1h", 200, 2},
		{Viewer, "?limit=1", 200, 1},
		{Viewer, "?decision=maybe", 400, 0},
		{Viewer, "?since=yesterday", 400, 0},
		{Viewer, "?limit=0", 400, 0},
		{Viewer, "?kind=other", 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			rec := httptest.NewRecorder()
			as(tt.role).ServeHTTP(rec, httptest.NewRequest("GET", "/admin/audit"+tt.query, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				return
			}
			var body struct{ Events []audit.Event }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Events) != tt.events {
				t.Fatalf("%d events, want %d (%v): %s", len(body.Events), tt.events, err, rec.Body)
			}
		})
	}
	rec := httptest.NewRecorder()
	as(Viewer).ServeHTTP(rec, httptest.NewRequest("GET", "/admin/audit/"+old.ID, nil))
	var e audit.Event
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Subject != "bob" || e.Hash == "" {
		t.Fatalf("get: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	as(Viewer).ServeHTTP(rec, httptest.NewRequest("GET", "/admin/audit/nope", nil))
	if rec.Code != 404 {
		t.Fatalf("get of a missing id: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/audit", nil)) // no token
	if rec.Code != 401 {
		t.Fatalf("without a token: %d", rec.Code)
	}
}
