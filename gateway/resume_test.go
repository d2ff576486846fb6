//lint:file-ignore SA1019 sampling and logging, deprecated as of protocol 2026-07-28, are carried by the gateway and tested on purpose

package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/policy"
)

// dropper is a client transport that can cut the client's GET stream, as a
// network failure would: the client's side of the connection is closed
// mid-stream. It counts the GETs that resumed with Last-Event-ID.
type dropper struct {
	mu      sync.Mutex
	streams []io.Closer
	resumed []string
}

func (d *dropper) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet {
		return resp, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		d.resumed = append(d.resumed, id)
	}
	d.streams = append(d.streams, resp.Body)
	return resp, nil
}

// drop closes the client's open GET streams.
func (d *dropper) drop() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, b := range d.streams {
		_ = b.Close()
	}
	n := len(d.streams)
	d.streams = nil
	return n
}

func (d *dropper) open() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.streams)
}

func (d *dropper) resumes() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.resumed...)
}

// A go-sdk client whose GET stream drops while the upstream sends
// notifications gets every one of them exactly once, in order: it comes
// back with Last-Event-ID and the gateway replays what the dead connection
// swallowed.
func TestGetStreamDropResumesExactlyOnce(t *testing.T) {
	ctx := testContext(t)

	// The upstream: a go-sdk server whose session the test drives, sending
	// notifications that belong to no request (they travel on the
	// gateway's GET stream to the client).
	sessions := make(chan *mcp.ServerSession, 4)
	up := mcp.NewServer(&mcp.Implementation{Name: "notifier", Version: "1"}, &mcp.ServerOptions{
		InitializedHandler: func(_ context.Context, r *mcp.InitializedRequest) { sessions <- r.Session },
	})
	mcp.AddTool(up, &mcp.Tool{Name: "noop"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
	})
	uts := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return up }, nil))
	t.Cleanup(uts.Close)

	eng, err := policy.Load([]byte(allowAll), "policy.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "up", URL: uts.URL}}, Policy: eng, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)

	var mu sync.Mutex
	var got []string
	var drops atomic.Int32
	var warm atomic.Bool
	d := &dropper{}
	arrived := make(chan struct{}, 1024)
	client := mcp.NewClient(&mcp.Implementation{Name: "resumer", Version: "1"}, &mcp.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			msg, _ := r.Params.Data.(string)
			if msg == "warm-up" {
				warm.Store(true) // late ones are not counted
				return
			}
			mu.Lock()
			got = append(got, msg)
			mu.Unlock()
			if msg == "n05" || msg == "n35" {
				drops.Add(int32(d.drop()))
			}
			select {
			case arrived <- struct{}{}:
			default:
			}
		},
	})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: d}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })

	var ss *mcp.ServerSession
	select {
	case ss = <-sessions:
	case <-time.After(20 * time.Second):
		t.Fatal("the upstream session never initialized")
	}
	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "debug"}); err != nil {
		t.Fatal(err)
	}
	send := func(msg string) error {
		// Log messages: progress on a token no request of the client's
		// carries would be dropped by the gateway as forged.
		return ss.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Data: msg})
	}
	notify := func(msg string) {
		t.Helper()
		if err := send(msg); err != nil {
			t.Fatalf("notify %s: %v", msg, err)
		}
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	// Both GET streams (upstream → gateway, gateway → client) are open
	// once a notification makes it through.
	for deadline := time.Now().Add(20 * time.Second); !warm.Load(); {
		if time.Now().After(deadline) {
			t.Fatal("no notification reached the client")
		}
		_ = send("warm-up") // refused until the gateway's GET stream to the upstream is open
		select {
		case <-arrived:
		case <-time.After(200 * time.Millisecond):
		}
	}
	// Two bursts; the client's side drops its stream as it handles the
	// sixth notification of each, while the rest of the burst is on the
	// wire or in its buffers: without a replay those are lost.
	const n = 60
	for burst := range 2 {
		for deadline := time.Now().Add(20 * time.Second); d.open() == 0 || len(d.resumes()) < burst; {
			if time.Now().After(deadline) {
				t.Fatalf("the client did not come back (resumed %d times)", len(d.resumes()))
			}
			time.Sleep(10 * time.Millisecond)
		}
		for i := burst * n / 2; i < (burst+1)*n/2; i++ {
			notify(fmt.Sprintf("n%02d", i))
		}
	}
	// Wait for every notification, and for the client to have come back
	// after the second drop (it may have read the whole burst first).
	for deadline := time.Now().Add(30 * time.Second); (count() < n || len(d.resumes()) < 2) && time.Now().Before(deadline); {
		select {
		case <-arrived:
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Let duplicates, if any, arrive: a replay follows the resuming GET.
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("n%02d", i))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the client got (%d):\n%s\nwant each of %d once, in order", len(got), strings.Join(got, " "), n)
	}
	if drops.Load() < 2 {
		t.Errorf("dropped %d streams, want 2: the test no longer tests anything", drops.Load())
	}
	if r := d.resumes(); len(r) < 2 {
		t.Errorf("the client resumed %d times with Last-Event-ID (%v), want at least 2", len(r), r)
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "noop"}); err != nil {
		t.Errorf("the session is broken after resuming: %v", err)
	}
}
