package approval

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// managers runs fn with a Manager over a fresh store of every
// implementation; the clock starts at t0.
func managers(t *testing.T, poll time.Duration, fn func(t *testing.T, m *Manager, c *clock)) {
	t.Helper()
	stores(t, func(t *testing.T, s Store) {
		c := &clock{t: t0}
		fn(t, NewManager(s, &ManagerOptions{Now: c.Now, Poll: poll}), c)
	})
}

var callArgs = map[string]any{"user_id": "u1", "password": "hunter2", "opts": map[string]any{"force": true}}

func template() *Request {
	return &Request{Tool: "DeleteUser", Server: "clerk", Subject: "alice", Grant: "grt_1", Rule: "/tools/DeleteUser"}
}

func TestManagerRequest(t *testing.T) {
	managers(t, time.Second, func(t *testing.T, m *Manager, c *clock) {
		ctx := context.Background()
		tpl := template()
		tpl.Status, tpl.DecidedBy = Approved, "forged" // ignored
		r, err := m.Request(ctx, tpl, callArgs, nil, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if tpl.ID != "" || tpl.Status != Approved {
			t.Error("Request modified its template")
		}
		if !regexp.MustCompile(`^apr_[0-9a-f]{20}$`).MatchString(r.ID) {
			t.Errorf("ID %q", r.ID)
		}
		key, err := m.store.Key(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(`{"opts":{"force":true},"password":"hunter2","user_id":"u1"}`))
		if r.ArgsHash != hex.EncodeToString(mac.Sum(nil)) {
			t.Errorf("ArgsHash %s, want the HMAC-SHA256 of the canonical arguments under the store's key", r.ArgsHash)
		}
		if string(r.Args) != `{"opts":{"force":true},"password":"[REDACTED]","user_id":"u1"}` {
			t.Errorf("Args %s", r.Args)
		}
		if r.Status != Pending || r.DecidedBy != "" || r.DecidedAt != nil || !r.CreatedAt.Equal(t0) || !r.ExpiresAt.Equal(t0.Add(15*time.Minute)) {
			t.Errorf("request %+v", r)
		}
		got, err := m.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameRequest(t, got, r)
		if l, err := m.List(ctx, Pending, 0); err != nil || len(l) != 1 || l[0].ID != r.ID {
			t.Errorf("List = %v, %v", ids(l), err)
		}
		r2, err := m.Request(ctx, template(), callArgs, nil, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if r2.ID == r.ID || r2.ArgsHash != r.ArgsHash {
			t.Errorf("second request: ID %s (first %s), hash %s (first %s)", r2.ID, r.ID, r2.ArgsHash, r.ArgsHash)
		}

		for _, tc := range []struct {
			name    string
			r       *Request
			args    map[string]any
			timeout time.Duration
		}{
			{"no tool", &Request{Subject: "alice"}, nil, time.Minute},
			{"nil request", nil, nil, time.Minute},
			{"zero timeout", template(), nil, 0},
			{"unencodable args", template(), map[string]any{"f": func() {}}, time.Minute},
		} {
			if _, err := m.Request(ctx, tc.r, tc.args, nil, tc.timeout); err == nil {
				t.Errorf("%s: no error", tc.name)
			}
		}
	})
}

func TestHashArgs(t *testing.T) {
	k1 := bytes.Repeat([]byte{1}, KeySize)
	k2 := bytes.Repeat([]byte{2}, KeySize)
	args := map[string]any{"b": 1, "a": map[string]any{"y": []any{1, "x"}, "x": nil}}
	h := func(key []byte, args map[string]any) string {
		t.Helper()
		s, err := HashArgs(key, args)
		if err != nil {
			t.Fatalf("HashArgs: %v", err)
		}
		return s
	}
	plain := sha256.Sum256([]byte(`{"a":{"x":null,"y":[1,"x"]},"b":1}`))
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"same args, same key", h(k1, args), h(k1, args), true},
		{"key order and number types do not matter",
			h(k1, args), h(k1, map[string]any{"a": map[string]any{"x": nil, "y": []any{float64(1), "x"}}, "b": 1.0}), true},
		{"different args", h(k1, args), h(k1, map[string]any{"a": map[string]any{"x": nil, "y": []any{"x", 1}}, "b": 1}), false},
		{"different key", h(k1, args), h(k2, args), false},
		{"nil and empty arguments", h(k1, nil), h(k1, map[string]any{}), true},
		{"keyed, not a plain digest", h(k1, args), hex.EncodeToString(plain[:]), false},
	}
	for _, tt := range tests {
		if (tt.a == tt.b) != tt.same {
			t.Errorf("%s: %s vs %s, want equal=%v", tt.name, tt.a, tt.b, tt.same)
		}
	}
	for _, key := range [][]byte{nil, {}} {
		if _, err := HashArgs(key, args); err == nil {
			t.Errorf("HashArgs with key %v: no error", key)
		}
	}
}

// waitResult runs m.Wait in a goroutine.
func waitAsync(ctx context.Context, m *Manager, id string) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		r, err := m.Wait(ctx, id)
		ch <- waitResult{r, err}
	}()
	return ch
}

type waitResult struct {
	r   *Request
	err error
}

func TestWaitWokenByDecide(t *testing.T) {
	for _, approve := range []bool{true, false} {
		t.Run(map[bool]string{true: "approve", false: "deny"}[approve], func(t *testing.T) { testWaitWokenByDecide(t, approve) })
	}
}

func testWaitWokenByDecide(t *testing.T, approve bool) {
	managers(t, time.Hour, func(t *testing.T, m *Manager, _ *clock) { // Poll 1h: only the wake-up can end Wait
		ctx := context.Background()
		r, err := m.Request(ctx, template(), callArgs, nil, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var chans []<-chan waitResult
		for range 3 {
			chans = append(chans, waitAsync(ctx, m, r.ID))
		}
		time.Sleep(20 * time.Millisecond) // let the waiters block
		start := time.Now()
		if _, err := m.Decide(ctx, r.ID, approve, "bob", "ok"); err != nil {
			t.Fatal(err)
		}
		want := Denied
		if approve {
			want = Approved
		}
		released := 0
		for _, ch := range chans {
			select {
			case res := <-ch:
				switch {
				case res.err == nil:
					released++
					if res.r.Status != want || res.r.DecidedBy != "bob" {
						t.Errorf("Wait = %s by %s", res.r.Status, res.r.DecidedBy)
					}
				case approve && errors.Is(res.err, ErrUsed):
				default:
					t.Errorf("Wait: %v", res.err)
				}
			case <-time.After(time.Second):
				t.Fatal("Wait not woken by Decide")
			}
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("waiters woke after %v", d)
		}
		// One approval releases one call; a denial "releases" all waiters.
		if wantReleased := map[bool]int{true: 1, false: 3}[approve]; released != wantReleased {
			t.Errorf("%d waiters returned without error, want %d", released, wantReleased)
		}
		m.mu.Lock()
		n := len(m.wakes)
		m.mu.Unlock()
		if n != 0 {
			t.Errorf("%d wake entries left", n)
		}
	})
}

func TestWaitSeesOtherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "approvals.db")
	open := func() *SQLite {
		s, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	const poll = 50 * time.Millisecond
	gateway := NewManager(open(), &ManagerOptions{Poll: poll})
	cli := NewManager(open(), &ManagerOptions{Poll: poll}) // a second process on the same file
	r, err := gateway.Request(ctx, template(), callArgs, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ch := waitAsync(ctx, gateway, r.ID)
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	if _, err := cli.Decide(ctx, r.ID, true, "bob", ""); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-ch:
		if res.err != nil || res.r.Status != Approved {
			t.Fatalf("Wait = %+v, %v", res.r, res.err)
		}
		// Seen by polling, not by some longer timer; generous, since a
		// loaded machine under -race delays every poll.
		if d := time.Since(start); d > 20*poll {
			t.Errorf("decision seen after %v, Poll is %v", d, poll)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Wait did not see the other process's decision")
	}
	// The waiter used the approval: a retry through the other process gets nothing.
	if got, err := cli.TakeApproved(ctx, "DeleteUser", "alice", "grt_1", callArgs); err != nil || got != nil {
		t.Errorf("TakeApproved after Wait = %v, %v", got, err)
	}
}

func TestWaitExpires(t *testing.T) {
	t.Run("injected clock", func(t *testing.T) {
		managers(t, 20*time.Millisecond, func(t *testing.T, m *Manager, c *clock) {
			ctx := context.Background()
			r, err := m.Request(ctx, template(), callArgs, nil, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			ch := waitAsync(ctx, m, r.ID)
			time.Sleep(30 * time.Millisecond)
			select {
			case res := <-ch:
				t.Fatalf("Wait returned before the clock moved: %+v, %v", res.r, res.err)
			default:
			}
			c.Add(time.Hour)
			select {
			case res := <-ch:
				if res.err != nil {
					t.Fatal(res.err)
				}
				if res.r.Status != Expired || res.r.DecidedBy != "timeout" || res.r.DecidedAt == nil || !res.r.DecidedAt.Equal(t0.Add(time.Hour)) {
					t.Errorf("expired request %+v", res.r)
				}
			case <-time.After(time.Second):
				t.Fatal("Wait did not expire")
			}
			stored, _ := m.Get(ctx, r.ID)
			if stored.Status != Expired {
				t.Errorf("stored status %s", stored.Status)
			}
			if _, err := m.Decide(ctx, r.ID, true, "bob", ""); !errors.Is(err, ErrNotPending) {
				t.Errorf("approving an expired request: %v", err)
			}
		})
	})
	t.Run("real timeout", func(t *testing.T) {
		stores(t, func(t *testing.T, s Store) {
			m := NewManager(s, &ManagerOptions{Poll: time.Hour}) // the timer, not Poll, ends the wait
			ctx := context.Background()
			r, err := m.Request(ctx, template(), callArgs, nil, 150*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := m.Wait(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); got.Status != Expired || d < 100*time.Millisecond || d > time.Second {
				t.Errorf("Wait = %s after %v", got.Status, d)
			}
		})
	})
}

func TestDecideAfterExpiry(t *testing.T) {
	managers(t, time.Second, func(t *testing.T, m *Manager, c *clock) {
		ctx := context.Background()
		r, err := m.Request(ctx, template(), callArgs, nil, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute) // nobody waits; the deadline passes
		if _, err := m.Decide(ctx, r.ID, true, "bob", ""); !errors.Is(err, ErrNotPending) {
			t.Fatalf("Decide after ExpiresAt: %v, want ErrNotPending", err)
		}
		got, _ := m.Get(ctx, r.ID)
		if got.Status != Expired || got.DecidedBy != "timeout" {
			t.Errorf("request %s by %s, want expired by timeout", got.Status, got.DecidedBy)
		}
		if _, err := m.Decide(ctx, "apr_missing", true, "bob", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("Decide missing: %v", err)
		}
	})
}

func TestWaitContext(t *testing.T) {
	managers(t, time.Hour, func(t *testing.T, m *Manager, _ *clock) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		r, err := m.Request(context.Background(), template(), callArgs, nil, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Wait(ctx, r.ID); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want DeadlineExceeded", err)
		}
		if got, _ := m.Get(context.Background(), r.ID); got.Status != Pending {
			t.Errorf("status after the waiter gave up: %s", got.Status)
		}
		if _, err := m.Wait(context.Background(), "apr_missing"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Wait missing: %v", err)
		}
	})
}

// An agent gives up waiting (or the gateway restarts); the human approves
// later; the agent's retry of the same call is released exactly once.
func TestTakeApprovedAfterGivingUp(t *testing.T) {
	managers(t, time.Hour, func(t *testing.T, m *Manager, c *clock) {
		ctx := context.Background()
		r, err := m.Request(ctx, template(), callArgs, nil, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		sameCall := map[string]any{"opts": map[string]any{"force": true}, "user_id": "u1", "password": "hunter2"}
		if got, err := m.TakeApproved(ctx, "DeleteUser", "alice", "grt_1", sameCall); err != nil || got != nil {
			t.Fatalf("TakeApproved before a decision = %v, %v", got, err)
		}
		if _, err := m.Decide(ctx, r.ID, true, "bob", ""); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, tool, subject, grant string
			args                       map[string]any
		}{
			{"other arguments", "DeleteUser", "alice", "grt_1", map[string]any{"user_id": "u2", "password": "hunter2", "opts": map[string]any{"force": true}}},
			{"other secret", "DeleteUser", "alice", "grt_1", map[string]any{"user_id": "u1", "password": "other", "opts": map[string]any{"force": true}}},
			{"other subject", "DeleteUser", "mallory", "grt_1", sameCall},
			{"other grant of the same subject", "DeleteUser", "alice", "grt_2", sameCall},
			{"other tool", "BanUser", "alice", "grt_1", sameCall},
		} {
			if got, err := m.TakeApproved(ctx, tc.tool, tc.subject, tc.grant, tc.args); err != nil || got != nil {
				t.Errorf("%s: TakeApproved = %v, %v", tc.name, got, err)
			}
		}
		got, err := m.TakeApproved(ctx, "DeleteUser", "alice", "grt_1", sameCall)
		if err != nil || got == nil || got.ID != r.ID {
			t.Fatalf("TakeApproved = %v, %v, want %s", got, err, r.ID)
		}
		if got, err := m.TakeApproved(ctx, "DeleteUser", "alice", "grt_1", sameCall); err != nil || got != nil {
			t.Errorf("second TakeApproved = %v, %v", got, err)
		}
		// The original attempt, should it still wait, must not run the call too.
		if _, err := m.Wait(ctx, r.ID); !errors.Is(err, ErrUsed) {
			t.Errorf("Wait after TakeApproved: %v, want ErrUsed", err)
		}

		// valid_for counts from the decision: an approval past the
		// request's own ExpiresAt still releases a retry within it...
		r2, err := m.Request(ctx, template(), callArgs, nil, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Decide(ctx, r2.ID, true, "bob", ""); err != nil {
			t.Fatal(err)
		}
		c.Add(2 * time.Minute)
		if got, err := m.TakeApproved(ctx, "DeleteUser", "alice", "grt_1", sameCall); err != nil || got == nil || got.ID != r2.ID {
			t.Errorf("TakeApproved past ExpiresAt, within valid_for = %v, %v", got, err)
		}
		// ...and none after it.
		r3, err := m.Request(ctx, template(), callArgs, nil, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Decide(ctx, r3.ID, true, "bob", ""); err != nil {
			t.Fatal(err)
		}
		c.Add(m.ValidFor() + time.Nanosecond)
		if got, err := m.TakeApproved(ctx, "DeleteUser", "alice", "grt_1", sameCall); err != nil || got != nil {
			t.Errorf("TakeApproved past valid_for = %v, %v", got, err)
		}
	})
}

// plainStore hides the claim method, as a Store from another package would.
type plainStore struct{ Store }

func TestWaitWithForeignStore(t *testing.T) {
	m := NewManager(plainStore{NewMemoryStore()}, &ManagerOptions{Poll: 10 * time.Millisecond})
	ctx := context.Background()
	r, err := m.Request(ctx, template(), callArgs, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Decide(ctx, r.ID, true, "bob", ""); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Wait(ctx, r.ID); err != nil || got.Status != Approved {
		t.Fatalf("Wait = %v, %v", got, err)
	}
	if _, err := m.Wait(ctx, r.ID); !errors.Is(err, ErrUsed) {
		t.Errorf("second Wait: %v, want ErrUsed", err)
	}
}

// eventLog records the events a Manager reports.
type eventLog struct {
	mu     sync.Mutex
	events []string // "type status id"
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, string(e.Type)+" "+string(e.Request.Status)+" "+e.Request.ID)
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

// A call made again while its first attempt waits joins the pending
// request; every creation and decision is reported once.
func TestAskJoinsAndEvents(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		c := &clock{t: t0}
		log := &eventLog{}
		m := NewManager(s, &ManagerOptions{Now: c.Now, Poll: time.Hour, OnEvent: log.add})
		a, created, err := m.Ask(ctx, template(), callArgs, nil, time.Minute)
		if err != nil || !created {
			t.Fatalf("first Ask = %v, %v, %v", a, created, err)
		}
		b, created, err := m.Ask(ctx, template(), map[string]any{"password": "hunter2", "user_id": "u1", "opts": map[string]any{"force": true}}, nil, time.Minute)
		if err != nil || created || b.ID != a.ID {
			t.Fatalf("same call again: %v, created %v, %v; want to join %s", b, created, err, a.ID)
		}
		other := template()
		other.Grant = "grt_2"
		o, created, err := m.Ask(ctx, other, callArgs, nil, time.Minute)
		if err != nil || !created || o.ID == a.ID {
			t.Fatalf("same call under another grant: %v, created %v, %v", o, created, err)
		}
		if _, err := m.Decide(ctx, o.ID, false, "bob", "no"); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute) // a expires, unwatched
		n, _, err := m.Ask(ctx, template(), callArgs, nil, time.Minute)
		if err != nil || n.ID == a.ID {
			t.Fatalf("Ask after the first expired: %v, %v", n, err)
		}
		if k, err := m.Expire(ctx); err != nil || k != 1 {
			t.Fatalf("Expire = %d, %v; want 1", k, err)
		}
		if k, err := m.Expire(ctx); err != nil || k != 0 {
			t.Fatalf("second Expire = %d, %v; want 0", k, err)
		}
		if got, _ := m.Get(ctx, a.ID); got.Status != Expired {
			t.Errorf("%s: %s after Expire", a.ID, got.Status)
		}
		want := []string{
			"approval.requested pending " + a.ID,
			"approval.requested pending " + o.ID,
			"approval.decided denied " + o.ID,
			"approval.requested pending " + n.ID,
			"approval.decided expired " + a.ID,
		}
		if got := log.list(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// Expire wakes a waiter at once, whatever its Poll.
func TestExpireWakesWaiter(t *testing.T) {
	managers(t, time.Hour, func(t *testing.T, m *Manager, c *clock) {
		ctx := context.Background()
		r, err := m.Request(ctx, template(), callArgs, nil, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		// Wait sleeps until min(Poll, ExpiresAt) by the wall clock; the
		// injected clock passes ExpiresAt at once, so wake it by Expire.
		ch := waitAsync(ctx, m, r.ID)
		c.Add(time.Minute)
		if _, err := m.Expire(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case res := <-ch:
			if res.err != nil || res.r.Status != Expired {
				t.Fatalf("Wait = %+v, %v", res.r, res.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Expire did not wake the waiter")
		}
	})
}
