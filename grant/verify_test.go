package grant

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate"
)

func TestVerify(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			now := time.Now()
			mk := func(spec Spec) (*toolgate.Grant, string) {
				t.Helper()
				g, token, err := Create(ctx, s, spec)
				if err != nil {
					t.Fatal(err)
				}
				return g, token
			}
			good, goodToken := mk(Spec{Subject: "alice@example.com", Policy: "default", Labels: map[string]string{"team": "support"}})
			_, expiringToken := mk(Spec{Subject: "bob", Policy: "default", ExpiresAt: now.Add(time.Hour)})
			revoked, revokedToken := mk(Spec{Subject: "carol", Policy: "default"})
			if _, err := s.Revoke(ctx, revoked.ID, now); err != nil {
				t.Fatal(err)
			}
			rotated, rotatedAway := mk(Spec{Subject: "dave", Policy: "default"})
			_, rotatedToken, err := Rotate(ctx, s, rotated.ID)
			if err != nil {
				t.Fatal(err)
			}
			unknown, _ := NewToken()
			forged := goodToken[:len(goodToken)-2] + flip(goodToken[len(goodToken)-2:])

			later := func() time.Time { return now.Add(2 * time.Hour) }
			tests := []struct {
				name    string
				token   string
				now     func() time.Time
				subject string // "" when refused
			}{
				{"good", goodToken, nil, "alice@example.com"},
				{"good, later", goodToken, later, "alice@example.com"},
				{"before expiry", expiringToken, nil, "bob"},
				{"rotated: the new token", rotatedToken, nil, "dave"},
				{"missing", "", nil, ""},
				{"malformed", "Bearer " + goodToken, nil, ""},
				{"truncated", goodToken[:len(goodToken)-1], nil, ""},
				{"forged", forged, nil, ""},
				{"unknown", unknown, nil, ""},
				{"expired", expiringToken, later, ""},
				{"revoked", revokedToken, nil, ""},
				{"rotated away", rotatedAway, nil, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					v := &Verifier{Store: s, Now: tt.now}
					g, err := v.Verify(ctx, tt.token)
					if tt.subject != "" {
						if err != nil || g.Subject != tt.subject || !g.TokenHash.IsZero() {
							t.Fatalf("Verify = %+v, %v", g, err)
						}
						return
					}
					// Every refusal is the same error, word for word.
					if g != nil || err != ErrInvalidToken || !errors.Is(err, ErrInvalidToken) ||
						toolgate.ErrorCode(err) != toolgate.Unauthorized || err.Error() != "invalid or expired token" {
						t.Fatalf("Verify = %+v, %v", g, err)
					}
				})
			}
			if g, err := Verify(ctx, s, goodToken); err != nil || g.ID != good.ID || g.Identity().Labels["team"] != "support" {
				t.Errorf("Verify = %+v, %v", g, err)
			}
		})
	}
}

// flip changes the base64url characters s into others of the same shape.
func flip(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c == 'A' {
			b.WriteRune('Q')
		} else {
			b.WriteRune('A')
		}
	}
	return b.String()
}

// countingStore counts Touch calls.
type countingStore struct {
	toolgate.GrantStore
	touches int
	failing bool
}

func (c *countingStore) Touch(ctx context.Context, id string, at time.Time) error {
	c.touches++
	if c.failing {
		return errors.New("disk full")
	}
	return c.GrantStore.Touch(ctx, id, at)
}

func TestVerifyCoalescesTouch(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			cs := &countingStore{GrantStore: s}
			g, token, err := Create(ctx, s, Spec{Subject: "alice", Policy: "default"})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			now := start
			v := &Verifier{Store: cs, Now: func() time.Time { return now }}
			steps := []struct {
				after   time.Duration // since start
				touches int           // total so far
			}{
				{0, 1}, {0, 1}, {time.Second, 1}, {59 * time.Second, 1},
				{time.Minute, 2}, {time.Minute + time.Second, 2}, {3 * time.Minute, 3},
			}
			for _, st := range steps {
				now = start.Add(st.after)
				for range 3 {
					if _, err := v.Verify(ctx, token); err != nil {
						t.Fatal(err)
					}
				}
				if cs.touches != st.touches {
					t.Fatalf("at +%v: %d touches, want %d", st.after, cs.touches, st.touches)
				}
			}
			got, _ := s.Get(ctx, g.ID)
			if !got.LastUsedAt.Equal(start.Add(3 * time.Minute).UTC()) {
				t.Errorf("last used %v", got.LastUsedAt)
			}
		})
	}
}

func TestVerifyTouchFailureIsLogged(t *testing.T) {
	ctx := context.Background()
	s := NewMemory()
	_, token, err := Create(ctx, s, Spec{Subject: "alice", Policy: "default"})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	v := &Verifier{Store: &countingStore{GrantStore: s, failing: true}, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if _, err := v.Verify(ctx, token); err != nil {
		t.Fatalf("a failed touch refused the token: %v", err)
	}
	if _, err := v.Verify(ctx, token[:20]); err != ErrInvalidToken {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "could not record") || !strings.Contains(out, "reason=malformed") || strings.Contains(out, token[3:15]) {
		t.Errorf("log:\n%s", out)
	}
}

// brokenStore fails every lookup.
type brokenStore struct{ toolgate.GrantStore }

func (brokenStore) ByTokenHash(context.Context, toolgate.TokenHash) (*toolgate.Grant, error) {
	return nil, errors.New("database is locked")
}

func TestVerifyStoreFailureIsNotUnauthorized(t *testing.T) {
	token, _ := NewToken()
	_, err := Verify(context.Background(), brokenStore{}, token)
	if toolgate.ErrorCode(err) != toolgate.Unavailable || errors.Is(err, ErrInvalidToken) || toolgate.ErrorMessage(err) != "the grant store is unavailable" {
		t.Errorf("Verify = %v", err)
	}
}
