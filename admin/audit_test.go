package admin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// switchSink is a secondary audit sink that fails while fail is set.
type switchSink struct{ fail atomic.Bool }

func (s *switchSink) Write(context.Context, []audit.Sealed) error {
	if s.fail.Load() {
		return errors.New("no space left on device")
	}
	return nil
}
func (*switchSink) Close() error { return nil }

// TestAuditStatsAPI: GET /admin/audit/stats shows a real Log's counters:
// events appended, commits, primary failures and each failing sink's
// count, to a viewer, beside the other audit routes.
func TestAuditStatsAPI(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	store, err := audit.OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := &switchSink{}
	l, err := audit.Open(ctx, audit.Options{Primary: store, Logger: slog.New(slog.DiscardHandler),
		Secondaries: []audit.Secondary{{Name: "jsonl /var/log/a.jsonl", Sink: bad, Continue: true}}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	mux := http.NewServeMux()
	AuditRoutes(store, slog.New(slog.DiscardHandler))(mux)
	AuditStatsRoutes(l)(mux) // no pattern conflict with /admin/audit/{id}
	get := func(role Role) (int, AuditStats, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/admin/audit/stats", nil)
		if role != "" {
			req = req.WithContext(WithToken(req.Context(), &Token{Subject: "ops", Role: role}))
		}
		mux.ServeHTTP(rec, req)
		var st AuditStats
		if rec.Code == 200 {
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
				t.Fatalf("%v: %s", err, rec.Body)
			}
		}
		return rec.Code, st, rec.Body.String()
	}
	code, st, body := get(Viewer)
	if code != 200 || st.Appended != 0 || st.SinkErrors == nil || !strings.Contains(body, `"sink_errors": {}`) {
		t.Fatalf("before any event: %d %s", code, body)
	}
	for i := 0; i < 3; i++ {
		if err := l.Append(ctx, &audit.Event{Kind: audit.KindDecision, Tool: "echo", Decision: audit.Allowed}); err != nil {
			t.Fatal(err)
		}
	}
	bad.fail.Store(true)
	for i := 0; i < 2; i++ {
		if err := l.Append(ctx, &audit.Event{Kind: audit.KindDecision, Tool: "echo", Decision: audit.Allowed}); err != nil {
			t.Fatal(err) // on_error: continue
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(ctx, &audit.Event{Kind: audit.KindDecision, Tool: "echo"}); err == nil {
		t.Fatal("an append to a deleted store succeeded")
	}
	code, st, body = get(Viewer)
	want := AuditStats{Stats: audit.Stats{Appended: 5, Batches: 5, Failed: 1}, SinkErrors: map[string]uint64{"jsonl /var/log/a.jsonl": 2}}
	if code != 200 || st.Appended != want.Appended || st.Batches != want.Batches || st.Failed != want.Failed ||
		len(st.SinkErrors) != 1 || st.SinkErrors["jsonl /var/log/a.jsonl"] != 2 {
		t.Fatalf("stats %d %s, want %+v", code, body, want)
	}
	if code, _, _ := get(""); code != 401 {
		t.Fatalf("without a token: %d", code)
	}
	if code, _, _ := get(Admin); code != 200 {
		t.Fatalf("as admin: %d", code)
	}
}
