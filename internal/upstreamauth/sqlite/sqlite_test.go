package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/toolgate/toolgate/internal/upstreamauth"
	"github.com/toolgate/toolgate/internal/upstreamauth/sqlite"
)

func TestTokens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "toolgate.db")
	st, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Get(ctx, "a"); !errors.Is(err, upstreamauth.ErrNoToken) {
		t.Fatalf("Get of nothing: %v", err)
	}
	steps := []struct {
		name   string
		do     func() error
		want   []string
		wantA  string
		hadDel bool
	}{
		{"put a", func() error { return st.Put(ctx, "a", []byte("one")) }, []string{"a"}, "one", false},
		{"replace a", func() error { return st.Put(ctx, "a", []byte("two")) }, []string{"a"}, "two", false},
		{"put b", func() error { return st.Put(ctx, "b", []byte("x")) }, []string{"a", "b"}, "two", false},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		names, err := st.List(ctx)
		if err != nil || !slices.Equal(names, s.want) {
			t.Errorf("%s: List = %v, %v; want %v", s.name, names, err, s.want)
		}
		if b, err := st.Get(ctx, "a"); err != nil || string(b) != s.wantA {
			t.Errorf("%s: Get(a) = %q, %v", s.name, b, err)
		}
	}
	if had, err := st.Delete(ctx, "a"); !had || err != nil {
		t.Errorf("Delete(a) = %v, %v", had, err)
	}
	if had, err := st.Delete(ctx, "a"); had || err != nil {
		t.Errorf("second Delete(a) = %v, %v", had, err)
	}
	// Reopened, the file keeps what was stored.
	st.Close()
	st2, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if b, err := st2.Get(ctx, "b"); err != nil || string(b) != "x" {
		t.Errorf("after reopening: %q, %v", b, err)
	}
}
