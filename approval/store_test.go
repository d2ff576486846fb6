package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toolgate/toolgate/internal/sqlitedb"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// stores runs fn against a fresh store of every implementation.
func stores(t *testing.T, fn func(t *testing.T, s Store)) {
	t.Helper()
	for _, tc := range []struct {
		name string
		open func(t *testing.T) Store
	}{
		{"memory", func(*testing.T) Store { return NewMemoryStore() }},
		{"sqlite", func(t *testing.T) Store {
			s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "approvals.db"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			})
			fn(t, s)
		})
	}
}

func newReq(id string, created time.Time) *Request {
	return &Request{
		ID: id, Tool: "DeleteUser", Server: "clerk", Subject: "alice", Grant: "grt_1", Session: "s1",
		Rule: "/tools/DeleteUser", Args: json.RawMessage(`{"user_id":"u1"}`), ArgsHash: "h1",
		Status: Pending, CreatedAt: created, ExpiresAt: created.Add(15 * time.Minute),
	}
}

func mustCreate(t *testing.T, s Store, rs ...*Request) {
	t.Helper()
	for _, r := range rs {
		if err := s.Create(context.Background(), r); err != nil {
			t.Fatalf("create %s: %v", r.ID, err)
		}
	}
}

func sameRequest(t *testing.T, got, want *Request) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("request\n got %s\nwant %s", g, w)
	}
}

func ids(rs []*Request) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestStoreCreateGet(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		r := newReq("apr_1", t0.In(time.FixedZone("X", 3600)))
		mustCreate(t, s, r)
		got, err := s.Get(ctx, "apr_1")
		if err != nil {
			t.Fatal(err)
		}
		want := newReq("apr_1", t0)
		sameRequest(t, got, want)
		if got.CreatedAt != t0 {
			t.Errorf("CreatedAt = %v (%v), want %v in UTC", got.CreatedAt, got.CreatedAt.Location(), t0)
		}
		got.Tool = "changed" // the store keeps its own copy
		if again, _ := s.Get(ctx, "apr_1"); again.Tool != "DeleteUser" {
			t.Errorf("store shares memory with the caller: tool %q", again.Tool)
		}

		for _, tc := range []struct {
			name string
			r    *Request
		}{
			{"duplicate", newReq("apr_1", t0)},
			{"no id", newReq("", t0)},
			{"bad status", func() *Request { r := newReq("apr_2", t0); r.Status = "maybe"; return r }()},
		} {
			if err := s.Create(ctx, tc.r); err == nil {
				t.Errorf("create %s: no error", tc.name)
			}
		}
		if _, err := s.Get(ctx, "apr_missing"); !errors.Is(err, ErrNotFound) {
			t.Errorf("get missing: %v, want ErrNotFound", err)
		}
	})
}

func TestStoreList(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		for i := range 5 {
			mustCreate(t, s, newReq(fmt.Sprintf("apr_%d", i), t0.Add(time.Duration(i)*time.Second)))
		}
		mustCreate(t, s, newReq("apr_5", t0.Add(4*time.Second))) // same time as apr_4: ID breaks the tie
		if _, err := s.Decide(ctx, "apr_1", Approved, "bob", "", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Decide(ctx, "apr_3", Denied, "bob", "no", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			status Status
			limit  int
			want   []string
		}{
			{"", 0, []string{"apr_5", "apr_4", "apr_3", "apr_2", "apr_1", "apr_0"}},
			{"", 2, []string{"apr_5", "apr_4"}},
			{Pending, 0, []string{"apr_5", "apr_4", "apr_2", "apr_0"}},
			{Pending, 3, []string{"apr_5", "apr_4", "apr_2"}},
			{Approved, -1, []string{"apr_1"}},
			{Denied, 0, []string{"apr_3"}},
			{Expired, 0, []string{}},
		} {
			got, err := s.List(ctx, tc.status, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ids(got)) != fmt.Sprint(tc.want) {
				t.Errorf("List(%q, %d) = %v, want %v", tc.status, tc.limit, ids(got), tc.want)
			}
		}
	})
}

func TestStoreListDefaultLimit(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		for i := range defaultLimit + 5 {
			mustCreate(t, s, newReq(fmt.Sprintf("apr_%03d", i), t0.Add(time.Duration(i)*time.Millisecond)))
		}
		got, err := s.List(context.Background(), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != defaultLimit || got[0].ID != "apr_104" {
			t.Errorf("List = %d requests starting with %s, want %d starting with apr_104", len(got), got[0].ID, defaultLimit)
		}
	})
}

func TestStoreDecide(t *testing.T) {
	for _, tc := range []struct {
		name    string
		id      string
		first   Status // decision made before, "" for none
		to      Status
		wantErr error
		invalid bool
	}{
		{name: "approve", id: "apr_1", to: Approved},
		{name: "deny", id: "apr_1", to: Denied},
		{name: "expire", id: "apr_1", to: Expired},
		{name: "approved twice", id: "apr_1", first: Approved, to: Approved, wantErr: ErrNotPending},
		{name: "deny approved", id: "apr_1", first: Approved, to: Denied, wantErr: ErrNotPending},
		{name: "approve expired", id: "apr_1", first: Expired, to: Approved, wantErr: ErrNotPending},
		{name: "approve denied", id: "apr_1", first: Denied, to: Approved, wantErr: ErrNotPending},
		{name: "missing", id: "apr_x", to: Approved, wantErr: ErrNotFound},
		{name: "back to pending", id: "apr_1", to: Pending, invalid: true},
		{name: "unknown status", id: "apr_1", to: "maybe", invalid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stores(t, func(t *testing.T, s Store) {
				ctx := context.Background()
				mustCreate(t, s, newReq("apr_1", t0))
				if tc.first != "" {
					if _, err := s.Decide(ctx, "apr_1", tc.first, "carol", "first", t0.Add(time.Second)); err != nil {
						t.Fatal(err)
					}
				}
				at := t0.Add(time.Minute)
				got, err := s.Decide(ctx, tc.id, tc.to, "bob", "looks fine", at)
				switch {
				case tc.invalid:
					if err == nil {
						t.Fatal("no error")
					}
				case tc.wantErr != nil:
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("err = %v, want %v", err, tc.wantErr)
					}
				default:
					if err != nil {
						t.Fatal(err)
					}
					want := newReq("apr_1", t0)
					want.Status, want.DecidedAt, want.DecidedBy, want.Reason = tc.to, &at, "bob", "looks fine"
					sameRequest(t, got, want)
					stored, err := s.Get(ctx, "apr_1")
					if err != nil {
						t.Fatal(err)
					}
					sameRequest(t, stored, want)
				}
				if tc.first != "" { // the earlier decision stands
					r, _ := s.Get(ctx, "apr_1")
					if r.Status != tc.first || r.DecidedBy != "carol" {
						t.Errorf("after a refused decision: %s by %s, want %s by carol", r.Status, r.DecidedBy, tc.first)
					}
				}
			})
		})
	}
}

func TestStoreConcurrentDecide(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		mustCreate(t, s, newReq("apr_1", t0))
		var ok, notPending atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				to := Approved
				if i%2 == 1 {
					to = Denied
				}
				_, err := s.Decide(ctx, "apr_1", to, fmt.Sprintf("user%d", i), "", t0.Add(time.Minute))
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ErrNotPending):
					notPending.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 || notPending.Load() != 19 {
			t.Errorf("%d decisions succeeded and %d got ErrNotPending, want 1 and 19", ok.Load(), notPending.Load())
		}
	})
}

func TestStoreTakeApproved(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		mk := func(id, tool, subject, grant, hash string, status Status, decided time.Duration) {
			r := newReq(id, t0)
			r.Tool, r.Subject, r.Grant, r.ArgsHash = tool, subject, grant, hash
			mustCreate(t, s, r)
			if status != Pending {
				if _, err := s.Decide(ctx, id, status, "bob", "", t0.Add(decided)); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Retries look at approvals decided from t0+5m on (valid_for 5m at t0+10m).
		mk("apr_ok", "DeleteUser", "alice", "grt_1", "h1", Approved, 6*time.Minute)
		mk("apr_denied", "DeleteUser", "alice", "grt_1", "h2", Denied, 6*time.Minute)
		mk("apr_pending", "DeleteUser", "alice", "grt_1", "h3", Pending, 0)
		mk("apr_expired", "DeleteUser", "alice", "grt_1", "h4", Expired, 6*time.Minute)
		mk("apr_stale", "DeleteUser", "alice", "grt_1", "h5", Approved, 4*time.Minute) // approved longer ago than valid_for
		mk("apr_edge", "DeleteUser", "alice", "grt_1", "h7", Approved, 5*time.Minute)  // exactly valid_for ago
		mk("apr_two_b", "BanUser", "alice", "grt_1", "h6", Approved, 8*time.Minute)
		mk("apr_two_a", "BanUser", "alice", "grt_1", "h6", Approved, 7*time.Minute)
		since, now := t0.Add(5*time.Minute), t0.Add(10*time.Minute)
		for _, tc := range []struct {
			name  string
			match Match
			want  string // ID, "" for none
		}{
			{"approved", Match{"DeleteUser", "alice", "grt_1", "h1"}, "apr_ok"},
			{"approved only once", Match{"DeleteUser", "alice", "grt_1", "h1"}, ""},
			{"denied", Match{"DeleteUser", "alice", "grt_1", "h2"}, ""},
			{"pending", Match{"DeleteUser", "alice", "grt_1", "h3"}, ""},
			{"expired status", Match{"DeleteUser", "alice", "grt_1", "h4"}, ""},
			{"approved before since", Match{"DeleteUser", "alice", "grt_1", "h5"}, ""},
			{"approved at since", Match{"DeleteUser", "alice", "grt_1", "h7"}, "apr_edge"},
			{"other subject", Match{"BanUser", "mallory", "grt_1", "h6"}, ""},
			{"other grant", Match{"BanUser", "alice", "grt_2", "h6"}, ""},
			{"no grant", Match{"BanUser", "alice", "", "h6"}, ""},
			{"other tool", Match{"UnbanUser", "alice", "grt_1", "h6"}, ""},
			{"two approvals: first decided", Match{"BanUser", "alice", "grt_1", "h6"}, "apr_two_a"},
			{"two approvals: second", Match{"BanUser", "alice", "grt_1", "h6"}, "apr_two_b"},
			{"two approvals: none left", Match{"BanUser", "alice", "grt_1", "h6"}, ""},
		} {
			r, err := s.TakeApproved(ctx, tc.match, since, now)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got := ""
			if r != nil {
				got = r.ID
				if r.Status != Approved {
					t.Errorf("%s: status %s", tc.name, r.Status)
				}
			}
			if got != tc.want {
				t.Errorf("%s: took %q, want %q", tc.name, got, tc.want)
			}
		}
	})
}

func TestStoreFindPending(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		old, newer, short := newReq("apr_old", t0), newReq("apr_new", t0.Add(time.Second)), newReq("apr_short", t0.Add(2*time.Second))
		short.ExpiresAt = t0.Add(time.Minute)
		decided := newReq("apr_decided", t0.Add(3*time.Second))
		mustCreate(t, s, old, newer, short, decided)
		if _, err := s.Decide(ctx, "apr_decided", Denied, "bob", "", t0.Add(4*time.Second)); err != nil {
			t.Fatal(err)
		}
		m := MatchOf(old)
		for _, tc := range []struct {
			name  string
			match Match
			now   time.Time
			want  string
		}{
			{"newest unexpired", m, t0.Add(time.Minute), "apr_new"},
			{"before the short one expires", m, t0.Add(30 * time.Second), "apr_short"},
			{"all expired", m, t0.Add(time.Hour), ""},
			{"other grant", Match{m.Tool, m.Subject, "grt_2", m.ArgsHash}, t0, ""},
			{"other arguments", Match{m.Tool, m.Subject, m.Grant, "h2"}, t0, ""},
		} {
			r, err := s.FindPending(ctx, tc.match, tc.now)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got := ""
			if r != nil {
				got = r.ID
			}
			if got != tc.want {
				t.Errorf("%s: found %q, want %q", tc.name, got, tc.want)
			}
		}
	})
}

func TestStoreExpireDue(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		a, b, c := newReq("apr_a", t0), newReq("apr_b", t0), newReq("apr_c", t0)
		b.ExpiresAt = t0.Add(time.Hour)
		mustCreate(t, s, a, b, c)
		if _, err := s.Decide(ctx, "apr_c", Approved, "bob", "", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(15 * time.Minute) // apr_a's ExpiresAt exactly
		due, err := s.ExpireDue(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(due); len(got) != 1 || got[0] != "apr_a" || due[0].Status != Expired || due[0].DecidedBy != "timeout" || !due[0].DecidedAt.Equal(now) {
			t.Fatalf("ExpireDue = %+v", due)
		}
		if r, _ := s.Get(ctx, "apr_a"); r.Status != Expired {
			t.Errorf("stored status %s", r.Status)
		}
		if again, err := s.ExpireDue(ctx, now); err != nil || len(again) != 0 {
			t.Errorf("second ExpireDue = %v, %v", ids(again), err)
		}
		if r, _ := s.Get(ctx, "apr_b"); r.Status != Pending {
			t.Errorf("apr_b: %s", r.Status)
		}
	})
}

func TestStoreTakeApprovedConcurrent(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		mustCreate(t, s, newReq("apr_1", t0))
		if _, err := s.Decide(ctx, "apr_1", Approved, "bob", "", t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		var taken atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				r, err := s.TakeApproved(ctx, MatchOf(newReq("", t0)), t0, t0.Add(time.Minute))
				if err != nil {
					t.Error(err)
				}
				if r != nil {
					taken.Add(1)
				}
			})
		}
		wg.Wait()
		if taken.Load() != 1 {
			t.Errorf("%d calls released by one approval, want 1", taken.Load())
		}
	})
}

func TestSQLiteReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "approvals.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, newReq("apr_pending", t0), newReq("apr_denied", t0.Add(time.Second)), newReq("apr_used", t0.Add(2*time.Second)))
	if _, err := s.Decide(ctx, "apr_denied", Denied, "bob", "no", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decide(ctx, "apr_used", Approved, "bob", "", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if r, err := s.TakeApproved(ctx, MatchOf(newReq("", t0)), t0, t0.Add(2*time.Minute)); err != nil || r == nil || r.ID != "apr_used" {
		t.Fatalf("TakeApproved = %v, %v", r, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = OpenSQLite(ctx, path) // migrations run again without harm
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		id   string
		want Status
	}{{"apr_pending", Pending}, {"apr_denied", Denied}, {"apr_used", Approved}} {
		r, err := s.Get(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != tc.want {
			t.Errorf("%s after reopen: %s, want %s", tc.id, r.Status, tc.want)
		}
	}
	if r, err := s.TakeApproved(ctx, MatchOf(newReq("", t0)), t0, t0.Add(3*time.Minute)); err != nil || r != nil {
		t.Errorf("used approval released again after reopen: %v, %v", r, err)
	}
	r, err := s.Decide(ctx, "apr_pending", Approved, "bob", "after restart", t0.Add(5*time.Minute))
	if err != nil {
		t.Fatalf("decide after reopen: %v", err)
	}
	if r.Status != Approved || r.Reason != "after restart" {
		t.Errorf("decided after reopen: %+v", r)
	}
	if r, err := s.TakeApproved(ctx, MatchOf(newReq("", t0)), t0, t0.Add(6*time.Minute)); err != nil || r == nil || r.ID != "apr_pending" {
		t.Errorf("TakeApproved after reopen = %v, %v", r, err)
	}
}

func TestStoreKey(t *testing.T) {
	var keys [][]byte
	stores(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		k, err := s.Key(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(k) != KeySize || bytes.Equal(k, make([]byte, KeySize)) {
			t.Fatalf("key %x: want %d random bytes", k, KeySize)
		}
		again, err := s.Key(ctx)
		if err != nil || !bytes.Equal(again, k) {
			t.Fatalf("second Key = %x, %v; want %x", again, err, k)
		}
		keys = append(keys, k)
	})
	if len(keys) == 2 && bytes.Equal(keys[0], keys[1]) {
		t.Error("two fresh stores have the same key")
	}
}

// TestSQLiteKeyPersists checks that the key survives a reopen, so that a
// retry after a restart still matches its approval, and that another file
// gets another key.
func TestSQLiteKeyPersists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := func(path string) []byte {
		t.Helper()
		s, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		k, err := s.Key(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a := filepath.Join(dir, "a.db")
	first, second, other := key(a), key(a), key(filepath.Join(dir, "b.db"))
	if !bytes.Equal(first, second) {
		t.Errorf("key changed across reopen: %x then %x", first, second)
	}
	if bytes.Equal(first, other) {
		t.Error("two database files have the same key")
	}

	// A call approved before the restart is released by its retry after it.
	s, err := OpenSQLite(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(s, &ManagerOptions{Now: func() time.Time { return t0 }})
	r, err := m.Request(ctx, &Request{Tool: "DeleteUser", Subject: "alice"}, callArgs, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Decide(ctx, r.ID, true, "bob", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenSQLite(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m = NewManager(s, &ManagerOptions{Now: func() time.Time { return t0.Add(time.Minute) }})
	got, err := m.TakeApproved(ctx, "DeleteUser", "alice", "", callArgs)
	if err != nil || got == nil || got.ID != r.ID {
		t.Fatalf("TakeApproved after reopen = %v, %v; want %s", got, err, r.ID)
	}
}

// TestSQLiteFileDeleted checks that the store refuses to go on once its
// file is gone, instead of writing approvals nobody will ever read.
func TestSQLiteFileDeleted(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "approvals.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustCreate(t, s, newReq("apr_1", t0))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	err = s.Create(ctx, newReq("apr_2", t0))
	var fe *sqlitedb.FileChangedError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), path+" was deleted or replaced") {
		t.Fatalf("Create after the file was deleted = %v, want a FileChangedError", err)
	}
	if _, err := s.Get(ctx, "apr_1"); !errors.As(err, &fe) {
		t.Errorf("Get after the file was deleted = %v, want a FileChangedError", err)
	}
	if _, err := s.List(ctx, "", 0); !errors.As(err, &fe) {
		t.Errorf("List after the file was deleted = %v, want a FileChangedError", err)
	}
}

func TestSQLiteKeyNotOpen(t *testing.T) {
	if _, err := NewSQLite(filepath.Join(t.TempDir(), "a.db")).Key(context.Background()); err == nil {
		t.Error("Key on a store that is not open: no error")
	}
}

func TestOpenSQLiteBadPath(t *testing.T) {
	for _, p := range []string{"", "a.db?mode=ro", filepath.Join(t.TempDir(), "missing", "dir", "a.db")} {
		if s, err := OpenSQLite(context.Background(), p); err == nil {
			s.Close()
			t.Errorf("OpenSQLite(%q): no error", p)
		}
	}
}
