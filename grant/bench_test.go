package grant

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkVerify measures what checking a grant token costs a request:
// a SQLite lookup every time, against the cache serve runs with.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "toolgate.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	_, token, err := Create(ctx, s, Spec{Subject: "bench", Policy: "default", Labels: map[string]string{"team": "support"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name     string
		cacheFor time.Duration
	}{{"sqlite", 0}, {"sqlite+cache", 30 * time.Second}} {
		b.Run(bc.name, func(b *testing.B) {
			v := &Verifier{Store: s, CacheFor: bc.cacheFor}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
