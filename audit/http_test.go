package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolgate/toolgate/audit"
)

// receiver is a loopback SIEM: it keeps the bodies it acknowledged.
type receiver struct {
	mu       sync.Mutex
	bodies   [][]byte
	attempts int
	fail     int // the first fail requests answer 503
	hold     chan struct{}
	t        *testing.T
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.hold != nil {
		select {
		case <-r.hold:
		case <-req.Context().Done():
			return
		}
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("reading a request: %v", err)
	}
	if ct := req.Header.Get("Content-Type"); ct != audit.HTTPContentType {
		r.t.Errorf("Content-Type %q, want %q", ct, audit.HTTPContentType)
	}
	if a := req.Header.Get("Authorization"); a != "Bearer s3cret" {
		r.t.Errorf("Authorization %q", a)
	}
	if req.Header.Get(audit.HeaderSeqs) == "" {
		r.t.Errorf("no %s header", audit.HeaderSeqs)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.attempts <= r.fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	r.bodies = append(r.bodies, b)
}

func (r *receiver) got() ([][]byte, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), r.attempts
}

func openHTTP(t *testing.T, url string, o audit.HTTPOptions) *audit.HTTP {
	t.Helper()
	o.URL = url
	o.Header = http.Header{"Authorization": {"Bearer s3cret"}}
	o.Backoff, o.MaxBackoff = time.Millisecond, 4*time.Millisecond
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h, err := audit.OpenHTTP(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHTTPSinkSendsTheChain(t *testing.T) {
	for _, tt := range []struct {
		name          string
		events, batch int
	}{
		{"one event", 1, 10},
		{"several batches", 55, 10},
		{"one batch", 30, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{t: t}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			h := openHTTP(t, srv.URL+"/ingest", audit.HTTPOptions{Batch: tt.batch, Flush: 10 * time.Millisecond, Retries: 2})
			l := openLog(t, openSQLite(t, filepath.Join(t.TempDir(), "a.db")), audit.Secondary{Name: "http", Sink: h, Continue: true})
			for i := range tt.events {
				if err := l.Append(context.Background(), decision("t", i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			bodies, _ := rc.got()
			for _, b := range bodies {
				if n := bytes.Count(b, []byte("\n")); n > tt.batch {
					t.Errorf("a request of %d events, more than batch %d", n, tt.batch)
				}
			}
			rep, err := audit.VerifyLines(bytes.NewReader(bytes.Join(bodies, nil)), "received")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Break != nil || rep.Events != uint64(tt.events) || rep.HeadSeq != uint64(tt.events) {
				t.Fatalf("received %d events up to seq %d, break %v; want %d whole", rep.Events, rep.HeadSeq, rep.Break, tt.events)
			}
			if !bytes.Contains(bodies[0], []byte(`"seq":1,"prev_hash":"`+strings.Repeat("0", 64)+`"`)) {
				t.Errorf("the first event is not seq 1 after 64 zeros: %.200s", bodies[0])
			}
			if h.Sent() != uint64(tt.events) || h.Lost() != 0 || h.Dropped() != 0 {
				t.Errorf("sent %d lost %d dropped %d", h.Sent(), h.Lost(), h.Dropped())
			}
		})
	}
}

func TestHTTPSinkRetries(t *testing.T) {
	for _, tt := range []struct {
		name               string
		fail, retries      int
		wantAttempts       int
		wantSent, wantLost uint64
	}{
		{"succeeds at once", 0, 3, 1, 5, 0},
		{"succeeds on the third attempt", 2, 3, 3, 5, 0},
		{"retries run out", 10, 2, 3, 0, 5},
		{"no retries", 10, 0, 1, 0, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{t: t, fail: tt.fail}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			var logs syncBuffer
			h := openHTTP(t, srv.URL, audit.HTTPOptions{Batch: 5, Flush: time.Second, Retries: tt.retries, CloseWait: 5 * time.Second,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			l := openLog(t, openSQLite(t, filepath.Join(t.TempDir(), "a.db")), audit.Secondary{Name: "http", Sink: h, Continue: true})
			for i := range 5 {
				if err := l.Append(context.Background(), decision("t", i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			_, attempts := rc.got()
			if attempts != tt.wantAttempts || h.Sent() != tt.wantSent || h.Lost() != tt.wantLost {
				t.Errorf("attempts %d sent %d lost %d; want %d, %d, %d", attempts, h.Sent(), h.Lost(), tt.wantAttempts, tt.wantSent, tt.wantLost)
			}
			out := logs.String()
			if strings.Contains(out, "s3cret") {
				t.Errorf("a header value was logged: %s", out)
			} else if tt.wantLost > 0 && !strings.Contains(out, "lost_total=5") {
				t.Errorf("the loss was not logged with its count: %s", out)
			}
			if !strings.Contains(out, fmt.Sprintf("sent=%d dropped=0 lost=%d", tt.wantSent, tt.wantLost)) {
				t.Errorf("Close did not log the totals: %s", out)
			}
			if got := l.Stats().SinkErrors["http"]; got != tt.wantLost {
				t.Errorf("Stats().SinkErrors[http] = %d, want %d", got, tt.wantLost)
			}
		})
	}
}

// TestHTTPSinkStuck: an endpoint that never answers slows no Append; the
// queue fills, the overflow is dropped and counted, and Close gives up
// after CloseWait.
func TestHTTPSinkStuck(t *testing.T) {
	rc := &receiver{t: t, hold: make(chan struct{})}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	defer close(rc.hold) // before srv.Close, which waits for the handlers
	h := openHTTP(t, srv.URL, audit.HTTPOptions{Batch: 5, Flush: time.Millisecond, Timeout: time.Minute, Queue: 20, CloseWait: 50 * time.Millisecond})
	l := openLog(t, openSQLite(t, filepath.Join(t.TempDir(), "a.db")), audit.Secondary{Name: "http", Sink: h, Continue: true})
	const n = 200
	var worst time.Duration
	start := time.Now()
	appended := make(chan error, 1)
	go func() {
		for i := range n {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			t0 := time.Now()
			err := l.Append(ctx, decision("t", i))
			worst = max(worst, time.Since(t0))
			cancel()
			if err != nil {
				appended <- err
				return
			}
		}
		appended <- nil
	}()
	select {
	case err := <-appended:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the appends did not finish in 20s: the stuck endpoint blocks the call path")
	}
	// The request timeout is a minute: an Append that waited for the
	// endpoint would take that long.
	if worst > time.Second || time.Since(start) > 10*time.Second {
		t.Fatalf("the slowest of %d appends took %s (all: %s): the stuck endpoint slowed the call path", n, worst, time.Since(start))
	}
	if h.Dropped() == 0 || l.Stats().SinkErrors["http"] < h.Dropped() {
		t.Errorf("dropped %d, Stats().SinkErrors %v: the overflow was not counted", h.Dropped(), l.Stats().SinkErrors)
	}
	t0 := time.Now()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("Close took %s with CloseWait 50ms", d)
	}
	if h.Sent() != 0 || h.Sent()+h.Lost()+h.Dropped() != n {
		t.Errorf("sent %d + lost %d + dropped %d, want 0 + ... = %d", h.Sent(), h.Lost(), h.Dropped(), n)
	}
}

func TestOpenHTTPRefuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    audit.HTTPOptions
		want string
	}{
		{"plain http off loopback", audit.HTTPOptions{URL: "http://siem.example/ingest"}, "loopback"},
		{"not http", audit.HTTPOptions{URL: "ftp://siem.example/"}, "https://"},
		{"credentials", audit.HTTPOptions{URL: "https://u:p@siem.example/"}, "credentials"},
		{"negative retries", audit.HTTPOptions{URL: "https://siem.example/", Retries: -1}, "retries"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := audit.OpenHTTP(tt.o)
			if err == nil {
				h.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
