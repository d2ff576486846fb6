package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/toolgate/toolgate/grant"
)

// BenchmarkAuthenticate measures what auth: grants adds to each request
// before the session sees it: reading and consuming the bearer header,
// the failure-limit check, the token's verification (cached, as serve runs
// it, against a SQLite store) and the caller put in the context. The
// target is at most 5 µs.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	store, err := grant.OpenSQLite(ctx, filepath.Join(b.TempDir(), "grants.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	_, token, err := grant.Create(ctx, store, grant.Spec{Subject: "bench", Policy: "bench", Labels: map[string]string{"team": "support"}})
	if err != nil {
		b.Fatal(err)
	}
	v := &grant.Verifier{Store: store, CacheFor: 30 * time.Second}
	g, err := New(&Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Authenticator: AuthenticatorFunc(v.Verify)})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/mcp", nil)
	header := []string{"Bearer " + token}
	b.ReportAllocs()
	for b.Loop() {
		r.Header["Authorization"] = header // consumed by every call
		if ar := g.authenticate(w, r); ar == nil || callerOf(ar) == nil {
			b.Fatal("refused")
		}
	}
}
