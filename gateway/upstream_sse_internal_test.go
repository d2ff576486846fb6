package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func dialSSE(ctx context.Context, url string) (*sseUpstream, error) {
	log := quietLog()
	srv := &Server{Name: "legacy", URL: url, Transport: TransportSSE}
	return startSSEUpstream(ctx, srv, http.DefaultClient, log, newFloodLog(log, time.Minute), func(message) {})
}

// streamWith answers GET with an event stream that starts with head and
// then stays open until the request ends.
func streamWith(head string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, head)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
}

// Every way a URL can fail to be a legacy SSE server is refused with an
// error that says which; an endpoint (or a redirect) to another origin
// is refused before anything is sent there.
func TestSSEUpstreamRefusals(t *testing.T) {
	var elsewhere atomic.Int32 // requests that reached the other origin
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer other.Close()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"html page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, "<html><body>hello</body></html>")
		}, "answered text/html, not an event stream"},
		{"not found", http.NotFound, "answered HTTP 404 (transport: sse wants the server's legacy SSE endpoint"},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, "answered HTTP 500"},
		{"stream ends before the endpoint", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, ": hello\n\n")
		}, "ended before its endpoint event"},
		{"message before the endpoint", streamWith("event: message\ndata: {}\n\n"), `began with a "message" event, not the endpoint`},
		{"endpoint on another origin", streamWith("event: endpoint\ndata: " + other.URL + "/messages?sessionId=1\n\n"), "names another origin"},
		{"endpoint with another scheme", streamWith("event: endpoint\ndata: https://" + strings.TrimPrefix(other.URL, "http://") + "/m\n\n"), "names another origin"},
		{"endpoint scheme-relative elsewhere", streamWith("event: endpoint\ndata: //" + strings.TrimPrefix(other.URL, "http://") + "/m\n\n"), "names another origin"},
		{"endpoint with credentials", func(w http.ResponseWriter, r *http.Request) {
			streamWith("event: endpoint\ndata: http://user:pw@"+r.Host+"/m\n\n")(w, r)
		}, "carries credentials"},
		{"empty endpoint", streamWith("event: endpoint\ndata: \ndata:  \n\n"), "endpoint event is empty"},
		{"endpoint too large", streamWith("event: endpoint\ndata: /" + strings.Repeat("a", 9<<10) + "\n\n"), "too large"},
		{"redirect to another origin", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/sse", http.StatusFound)
		}, "redirect to another origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(tt.handler)
			defer ts.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			u, err := dialSSE(ctx, ts.URL+"/sse")
			if err == nil {
				u.close()
				t.Fatalf("dial succeeded, want an error saying %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d requests reached the other origin", n)
	}
}

// A server that never sends its endpoint cannot hold the start past its
// bound.
func TestSSEUpstreamEndpointTimeout(t *testing.T) {
	ts := httptest.NewServer(streamWith(": waiting\n\n"))
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := dialSSE(ctx, ts.URL)
	if err == nil || !strings.Contains(err.Error(), "no endpoint event") {
		t.Fatalf("err = %v, want no endpoint event in time", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the start took %s", d)
	}
}

// A relative endpoint resolves against the stream's URL; a call whose
// stream ends before the answer fails at once, saying so, as does every
// call after.
func TestSSEUpstreamStreamEnds(t *testing.T) {
	endStream := make(chan struct{})
	var posted atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "event: endpoint\ndata: messages?sessionId=abc#frag\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-endStream:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /v1/messages", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sessionId") != "abc" {
			http.Error(w, "wrong session", http.StatusBadRequest)
			return
		}
		posted.Add(1)
		w.WriteHeader(http.StatusAccepted)
		close(endStream) // the server goes away before answering
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	u, err := dialSSE(ctx, ts.URL+"/v1/sse")
	if err != nil {
		t.Fatal(err)
	}
	defer u.close()
	if want := ts.URL + "/v1/messages?sessionId=abc"; u.endpoint != want {
		t.Errorf("endpoint = %q, want %q", u.endpoint, want)
	}
	id := intID(1)
	_, _, err = u.call(ctx, &jsonrpc.Request{ID: id, Method: "ping"}, encodeRequest(id, "ping", nil), nil)
	if !errors.Is(err, errUpstreamClosed) || !strings.Contains(err.Error(), "ended its event stream") {
		t.Fatalf("call: err = %v, want the stream's end", err)
	}
	if posted.Load() != 1 {
		t.Errorf("posted %d messages, want 1", posted.Load())
	}
	id = intID(2)
	if _, _, err = u.call(ctx, &jsonrpc.Request{ID: id, Method: "ping"}, encodeRequest(id, "ping", nil), nil); !errors.Is(err, errUpstreamClosed) {
		t.Fatalf("call after the end: err = %v", err)
	}
	if posted.Load() != 1 {
		t.Errorf("a call after the stream's end was posted")
	}
}

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"http://h:80/sse", "http://h/messages", true},
		{"https://h/sse", "https://H:443/m", true},
		{"http://h:8080/sse", "http://h:8081/m", false},
		{"http://h/sse", "https://h/m", false},
		{"http://h/sse", "http://h.evil/m", false},
		{"http://127.0.0.1:9/sse", "http://localhost:9/m", false},
	}
	for _, tt := range tests {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if got := sameOrigin(a, b); got != tt.want {
			t.Errorf("sameOrigin(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// A POST the server never answers cannot outlive the session: closing
// the upstream ends it, and close returns.
func TestSSEUpstreamCloseEndsHangingPost(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sse", streamWith("event: endpoint\ndata: /messages\n\n"))
	mux.HandleFunc("POST /messages", func(w http.ResponseWriter, r *http.Request) {
		// Read, so that the server sees the client go; then never answer.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	u, err := dialSSE(ctx, ts.URL+"/sse")
	if err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() {
		sent <- u.send(context.Background(), []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	}()
	time.Sleep(50 * time.Millisecond)
	closed := make(chan struct{})
	go func() { u.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("close did not return")
	}
	select {
	case err := <-sent:
		if err == nil {
			t.Error("the hanging POST succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the POST outlived the session")
	}
}
