package gateway_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// A go-sdk upstream with an event store opens every SSE answer with a
// priming event (SEP-1699, protocol 2025-11-25): an id and empty data. The
// gateway passes over it as SSE says (an event whose data is empty is not
// dispatched) instead of taking it for a broken message and warning about
// the upstream on every call.
func TestUpstreamPrimingEventsAreNotMessages(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return echo.Server() },
		&mcp.StreamableHTTPOptions{EventStore: mcp.NewMemoryEventStore(nil)})
	var primed atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&sniffer{ResponseWriter: w, saw: &primed}, r)
	}))
	t.Cleanup(ts.Close)

	var logs testpeer.SyncBuffer
	eng, err := policy.Load([]byte(allowAll), "policy.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: ts.URL}}, Policy: eng,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	cs := connect(t, ctx, url, nil)
	for range 3 {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "primed"}})
		if err != nil || res.IsError || textOf(res) != "primed" {
			t.Fatalf("echo: %v %+v", err, res)
		}
	}
	if primed.Load() == 0 {
		t.Fatal("the upstream sent no priming event: the test no longer tests anything")
	}
	if strings.Contains(logs.String(), "undecodable") {
		t.Errorf("the gateway took a priming event for a message:\n%s", logs.String())
	}
}

// sniffer counts the priming events (an id, then "data: " with nothing
// after it) written through it.
type sniffer struct {
	http.ResponseWriter
	saw *atomic.Int32
}

func (s *sniffer) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("event: prime\n")) || bytes.Contains(p, []byte("\ndata: \n\n")) {
		s.saw.Add(1)
	}
	return s.ResponseWriter.Write(p)
}

func (s *sniffer) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
