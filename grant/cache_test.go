package grant

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
)

// lookupStore counts lookups by token hash and can hold one until released.
type lookupStore struct {
	toolgate.GrantStore
	lookups atomic.Int64
	hold    chan chan struct{} // when set, a lookup sends a channel and waits for it to close
}

func (l *lookupStore) ByTokenHash(ctx context.Context, h toolgate.TokenHash) (*toolgate.Grant, error) {
	l.lookups.Add(1)
	g, err := l.GrantStore.ByTokenHash(ctx, h)
	if l.hold != nil {
		release := make(chan struct{})
		l.hold <- release
		<-release
	}
	return g, err
}

func TestVerifierCache(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ls := &lookupStore{GrantStore: s}
			start := time.Now()
			now := start
			v := &Verifier{Store: ls, CacheFor: 30 * time.Second, Now: func() time.Time { return now }}
			g, token, err := Create(ctx, s, Spec{Subject: "alice", Policy: "default", ExpiresAt: start.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			verify := func(wantOK bool, wantLookups int64) {
				t.Helper()
				got, err := v.Verify(ctx, token)
				if ok := err == nil; ok != wantOK {
					t.Fatalf("Verify = %v, %v; want ok=%v", got, err, wantOK)
				}
				if n := ls.lookups.Load(); n != wantLookups {
					t.Fatalf("%d store lookups, want %d", n, wantLookups)
				}
			}
			verify(true, 1)
			verify(true, 1) // cached
			first, _ := v.Verify(ctx, token)
			first.Labels = map[string]string{"role": "admin"} // a caller's change stays its own
			if again, _ := v.Verify(ctx, token); again.Labels != nil {
				t.Fatalf("the cache handed out a shared grant: %v", again.Labels)
			}

			now = start.Add(31 * time.Second) // older than CacheFor: asked again
			verify(true, 2)

			if _, err := s.Revoke(ctx, g.ID, now); err != nil {
				t.Fatal(err)
			}
			verify(true, 2) // still cached: nothing told the verifier
			v.Forget()
			verify(false, 3)
			verify(false, 4) // refusals are never cached
		})
	}
}

func TestVerifierCacheKeepsExpiry(t *testing.T) {
	ctx := context.Background()
	s := NewMemory()
	start := time.Now()
	now := start
	v := &Verifier{Store: s, CacheFor: time.Hour, Now: func() time.Time { return now }}
	_, token, err := Create(ctx, s, Spec{Subject: "alice", Policy: "default", ExpiresAt: start.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, token); err != nil {
		t.Fatal(err)
	}
	now = start.Add(time.Minute)
	if _, err := v.Verify(ctx, token); err != ErrInvalidToken {
		t.Fatalf("an expired token was accepted from the cache: %v", err)
	}
}

// A lookup that began before a revocation must not put the grant it read
// into the cache after Forget.
func TestVerifierForgetDuringLookup(t *testing.T) {
	ctx := context.Background()
	s := NewMemory()
	ls := &lookupStore{GrantStore: s, hold: make(chan chan struct{})}
	v := &Verifier{Store: ls, CacheFor: time.Hour}
	g, token, err := Create(ctx, s, Spec{Subject: "alice", Policy: "default"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { _, err := v.Verify(ctx, token); done <- err }()
	release := <-ls.hold // the lookup read the grant, still active
	if _, err := s.Revoke(ctx, g.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	v.Forget()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err) // it began before the revocation: accepted once
	}
	ls.hold = nil
	if _, err := v.Verify(ctx, token); err != ErrInvalidToken {
		t.Fatalf("the revoked grant was cached by a lookup that raced Forget: %v", err)
	}
}

func TestVerifierCacheSize(t *testing.T) {
	ctx := context.Background()
	s := NewMemory()
	ls := &lookupStore{GrantStore: s}
	v := &Verifier{Store: ls, CacheFor: time.Hour, CacheSize: 2}
	var tokens []string
	for range 3 {
		_, token, err := Create(ctx, s, Spec{Subject: "alice", Policy: "default"})
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, token)
	}
	for _, tok := range tokens {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	v.mu.RLock()
	n := len(v.cache)
	v.mu.RUnlock()
	if n > 2 {
		t.Fatalf("the cache holds %d tokens, bound 2", n)
	}
}

// Watch sees a revocation made through another handle on the same file,
// as the CLI or another replica would make it.
func TestVerifierWatchSeesOtherProcesses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "toolgate.db")
	mine, err := OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	other, err := OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	v := &Verifier{Store: mine, CacheFor: time.Hour}
	g, token, err := Create(ctx, other, Spec{Subject: "alice", Policy: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, token); err != nil {
		t.Fatal(err)
	}
	go v.Watch(ctx, 10*time.Millisecond)
	if _, err := other.Revoke(ctx, g.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := v.Verify(ctx, token)
		if err == ErrInvalidToken {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a revocation by another handle was not seen in 5s: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEpoch(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			epoch := func() uint64 {
				t.Helper()
				n, err := s.Epoch(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			e0 := epoch()
			g, _, err := Create(ctx, s, Spec{Subject: "alice", Policy: "default"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Touch(ctx, g.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if epoch() != e0 {
				t.Fatal("create or touch moved the epoch: nothing a cache holds changed")
			}
			steps := []struct {
				name string
				do   func() error
			}{
				{"set policy", func() error { return second(s.SetPolicy(ctx, g.ID, "support")) }},
				{"rotate", func() error { _, _, err := Rotate(ctx, s, g.ID); return err }},
				{"revoke", func() error { return second(s.Revoke(ctx, g.ID, time.Now())) }},
			}
			last := e0
			for _, st := range steps {
				if err := st.do(); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if e := epoch(); e == last {
					t.Fatalf("%s did not move the epoch", st.name)
				} else {
					last = e
				}
			}
			if _, err := s.SetPolicy(ctx, g.ID, "admin"); toolgate.ErrorCode(err) != toolgate.Conflict {
				t.Fatalf("SetPolicy on a revoked grant: %v", err)
			}
			if _, err := s.SetPolicy(ctx, "gr_aaaaaaaaaaaa", "admin"); toolgate.ErrorCode(err) != toolgate.NotFound {
				t.Fatalf("SetPolicy on an unknown grant: %v", err)
			}
			if _, err := s.SetPolicy(ctx, g.ID, " bad"); toolgate.ErrorCode(err) != toolgate.Invalid {
				t.Fatalf("SetPolicy with a bad name: %v", err)
			}
		})
	}
}
