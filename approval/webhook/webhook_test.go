package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolgate/toolgate/approval"
	"github.com/toolgate/toolgate/approval/webhook"
)

var secret = []byte("0123456789abcdef-test-secret")

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// received is one request a test endpoint got.
type received struct {
	header http.Header
	body   []byte
	err    error // the signature check
}

// endpoint is a loopback receiver that checks every signature and answers
// with the statuses of answer in turn (200 once they run out).
type endpoint struct {
	mu      sync.Mutex
	answer  []int
	got     chan received
	hold    chan struct{} // when not nil, each request waits for it to close
	arrived chan struct{} // with hold: signalled as each request arrives
}

func newEndpoint(t *testing.T, answer ...int) (*endpoint, string) {
	t.Helper()
	e := &endpoint{answer: answer, got: make(chan received, 100)}
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return e, ts.URL + "/hook"
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.hold != nil {
		e.arrived <- struct{}{}
		select {
		case <-e.hold:
		case <-r.Context().Done():
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	err := webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute)
	e.got <- received{r.Header.Clone(), body, err}
	e.mu.Lock()
	status := http.StatusOK
	if len(e.answer) > 0 {
		status, e.answer = e.answer[0], e.answer[1:]
	}
	e.mu.Unlock()
	w.WriteHeader(status)
}

func (e *endpoint) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-e.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery arrived")
		return received{}
	}
}

func start(t *testing.T, opts webhook.Options) *webhook.Sender {
	t.Helper()
	if opts.Secret == nil {
		opts.Secret = secret
	}
	opts.Logger = quiet()
	s, err := webhook.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Close(ctx)
	})
	return s
}

// A new request and its decision reach the endpoint in order, signed, with
// the approval's identity and decision and never its arguments.
func TestDeliveries(t *testing.T) {
	e, url := newEndpoint(t)
	s := start(t, webhook.Options{URL: url, Retries: 1})
	m := approval.NewManager(approval.NewMemoryStore(), &approval.ManagerOptions{OnEvent: s.Notify})
	ctx := context.Background()
	r, err := m.Request(ctx, &approval.Request{Tool: "DeleteUser", Server: "clerk", Subject: "agent:one", Grant: "gr_1", Rule: "/tools/DeleteUser"},
		map[string]any{"user_id": "u-visible-only-in-args", "password": "hunter2hunter2"}, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Decide(ctx, r.ID, true, "alice", "fine"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, want := range []struct {
		event  string
		status approval.Status
		by     string
	}{{"approval.requested", approval.Pending, ""}, {"approval.decided", approval.Approved, "alice"}} {
		got := e.next(t)
		if got.err != nil {
			t.Fatalf("delivery %d: %v", i, got.err)
		}
		for _, leak := range []string{"hunter2", "u-visible-only-in-args", "args", "fine"} {
			if strings.Contains(string(got.body), leak) {
				t.Errorf("delivery %d holds %q: %s", i, leak, got.body)
			}
		}
		var b webhook.Body
		if err := json.Unmarshal(got.body, &b); err != nil {
			t.Fatal(err)
		}
		a := b.Approval
		if string(b.Type) != want.event || got.header.Get(webhook.HeaderEvent) != want.event || a.Status != want.status || a.DecidedBy != want.by ||
			a.ID != r.ID || a.Tool != "DeleteUser" || a.Server != "clerk" || a.Subject != "agent:one" || a.Grant != "gr_1" ||
			a.Rule != "/tools/DeleteUser" || !a.ExpiresAt.Equal(r.ExpiresAt) {
			t.Errorf("delivery %d: %s %s", i, got.header, got.body)
		}
		if got.header.Get(webhook.HeaderDelivery) != b.ID || !strings.HasPrefix(b.ID, "evt_") {
			t.Errorf("delivery id: header %q, body %q", got.header.Get(webhook.HeaderDelivery), b.ID)
		}
		ids = append(ids, b.ID)
	}
	if ids[0] == ids[1] {
		t.Error("two events share a delivery id")
	}
}

// A failed attempt is retried with the same delivery id, signed anew;
// after the last retry the event is given up and counted.
func TestRetries(t *testing.T) {
	t.Run("fails then succeeds", func(t *testing.T) {
		e, url := newEndpoint(t, 500, 503)
		s := start(t, webhook.Options{URL: url, Retries: 3, Backoff: 10 * time.Millisecond})
		s.Notify(event("apr_1"))
		var ids []string
		for range 3 {
			got := e.next(t)
			if got.err != nil {
				t.Fatal(got.err)
			}
			ids = append(ids, got.header.Get(webhook.HeaderDelivery))
		}
		if ids[0] != ids[1] || ids[1] != ids[2] {
			t.Errorf("retries carry delivery ids %v", ids)
		}
		waitFor(t, func() bool { return s.Delivered() == 1 })
		if s.Failed() != 0 {
			t.Errorf("failed %d", s.Failed())
		}
	})
	t.Run("gives up", func(t *testing.T) {
		e, url := newEndpoint(t, 500, 500, 500, 500, 500)
		s := start(t, webhook.Options{URL: url, Retries: 2, Backoff: 10 * time.Millisecond})
		s.Notify(event("apr_1"))
		for range 3 {
			e.next(t)
		}
		waitFor(t, func() bool { return s.Failed() == 1 })
		select {
		case r := <-e.got:
			t.Errorf("a fourth attempt with retries: 2: %s", r.body)
		case <-time.After(100 * time.Millisecond):
		}
		if s.Delivered() != 0 {
			t.Errorf("delivered %d", s.Delivered())
		}
	})
	t.Run("redirect is a failure", func(t *testing.T) {
		target, targetURL := newEndpoint(t)
		mux := http.NewServeMux()
		mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, targetURL, http.StatusTemporaryRedirect)
		})
		ts := httptest.NewServer(mux)
		t.Cleanup(ts.Close)
		s := start(t, webhook.Options{URL: ts.URL + "/hook", Retries: 0})
		s.Notify(event("apr_1"))
		waitFor(t, func() bool { return s.Failed() == 1 })
		if len(target.got) != 0 {
			t.Error("the redirect was followed")
		}
	})
}

// A slow endpoint never blocks the caller: Notify returns at once, and
// events past the queue's bound are dropped and counted.
func TestSlowEndpointDoesNotBlock(t *testing.T) {
	e, url := newEndpoint(t)
	e.hold, e.arrived = make(chan struct{}), make(chan struct{}, 100)
	s := start(t, webhook.Options{URL: url, Queue: 2, Timeout: time.Minute})
	m := approval.NewManager(approval.NewMemoryStore(), &approval.ManagerOptions{OnEvent: s.Notify})
	ctx := context.Background()
	ask := func() *approval.Request {
		r, err := m.Request(ctx, &approval.Request{Tool: "DeleteUser", Subject: "agent:one"}, nil, nil, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := ask()
	select { // the first event is being sent, and stuck
	case <-e.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the first event was not sent")
	}
	begin := time.Now()
	if _, err := m.Decide(ctx, first.ID, false, "alice", ""); err != nil {
		t.Fatal(err)
	}
	for range 9 {
		if _, err := m.Decide(ctx, ask().ID, false, "alice", ""); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("19 events took %v with a stuck endpoint", d)
	}
	// Two of the 19 wait in the queue: the other 17 were dropped.
	if s.Dropped() != 17 {
		t.Errorf("dropped %d, want 17", s.Dropped())
	}
	close(e.hold)
	for range 3 {
		if got := e.next(t); got.err != nil {
			t.Fatal(got.err)
		}
	}
	waitFor(t, func() bool { return s.Delivered() == 3 })
}

func TestStartChecks(t *testing.T) {
	for _, tc := range []struct {
		url    string
		secret string
		want   string // "" for accepted
	}{
		{"https://hooks.example.com/toolgate", string(secret), ""},
		{"http://127.0.0.1:9000/hook", string(secret), ""},
		{"http://[::1]:9000/hook", string(secret), ""},
		{"http://localhost/hook", string(secret), ""},
		{"http://hooks.example.com/hook", string(secret), "only allowed to a loopback address"},
		{"http://10.0.0.1/hook", string(secret), "only allowed to a loopback address"},
		{"ftp://127.0.0.1/hook", string(secret), "https://"},
		{"https://user:pw@hooks.example.com/", string(secret), "credentials"},
		{"https:///nohost", string(secret), "no host"},
		{"https://hooks.example.com/#frag", string(secret), "fragment"},
		{"https://hooks.example.com/", "short", "at least 16 bytes"},
	} {
		s, err := webhook.Start(webhook.Options{URL: tc.url, Secret: []byte(tc.secret), Logger: quiet()})
		if s != nil {
			s.Close(context.Background())
		}
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		}
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_767_225_600, 0)
	body := []byte(`{"id":"evt_1"}`)
	ts := "1767225600"
	sig := webhook.Sign(secret, ts, body)
	for _, tc := range []struct {
		name, ts, sig string
		body          string
		secret        string
		now           time.Time
		ok            bool
	}{
		{"valid", ts, sig, string(body), string(secret), now, true},
		{"within tolerance", ts, sig, string(body), string(secret), now.Add(4 * time.Minute), true},
		{"replayed later", ts, sig, string(body), string(secret), now.Add(6 * time.Minute), false},
		{"from the future", ts, sig, string(body), string(secret), now.Add(-6 * time.Minute), false},
		{"body changed", ts, sig, `{"id":"evt_2"}`, string(secret), now, false},
		{"timestamp changed", "1767225601", sig, string(body), string(secret), now, false},
		{"other secret", ts, sig, string(body), "another-secret-of-16", now, false},
		{"no v1= prefix", ts, strings.TrimPrefix(sig, "v1="), string(body), string(secret), now, false},
		{"not a timestamp", "yesterday", sig, string(body), string(secret), now, false},
	} {
		err := webhook.Verify([]byte(tc.secret), tc.ts, tc.sig, []byte(tc.body), tc.now, 5*time.Minute)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func event(id string) approval.Event {
	return approval.Event{Type: approval.EventRequested, Request: &approval.Request{ID: id, Tool: "DeleteUser", Status: approval.Pending}}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
	}
}
