package gateway

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/toolgate/toolgate/internal/testpeer"
)

func testSession(t *testing.T, g *Gateway, client string) *session {
	t.Helper()
	id := newSessionID()
	s := &session{
		id: id, label: sessionLabel(id), client: client, g: g,
		flood: newFloodLog(g.log, g.opts.LogFloodInterval),
		out:   make(chan []byte, g.opts.SessionQueue),
		done:  make(chan struct{}),
	}
	if err := g.addSession(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A client that opens a stream and does not read it loses its session once
// its queue fills, with the reason logged; other sessions are unaffected.
// Without an open stream the oldest message is dropped instead.
func TestQueueFullClosesNonReader(t *testing.T) {
	var logs testpeer.SyncBuffer
	g, err := New(&Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), SessionQueue: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	stuck := testSession(t, g, "10.0.0.1")
	stuck.listening.Store(1) // a GET stream is open, and nobody reads it
	quiet := testSession(t, g, "10.0.0.2")
	for i := 0; i < 5; i++ {
		stuck.push([]byte(`{"jsonrpc":"2.0","method":"notifications/message"}`))
	}
	select {
	case <-stuck.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the session of a client that reads nothing was not closed")
	}
	if g.session(stuck.id) != nil {
		t.Error("the closed session can still be found")
	}
	if !strings.Contains(logs.String(), "closing a session: its client does not read the stream it opened") ||
		!strings.Contains(logs.String(), stuck.label) || strings.Contains(logs.String(), stuck.id) {
		t.Errorf("log:\n%s", logs.String())
	}

	// No stream open: the queue keeps the newest messages, and says so once.
	for i := 0; i < 10; i++ {
		quiet.push([]byte{byte('0' + i)})
	}
	if g.session(quiet.id) == nil {
		t.Fatal("a session without a stream was closed")
	}
	var kept []string
	for len(quiet.out) > 0 {
		kept = append(kept, string(<-quiet.out))
	}
	if strings.Join(kept, "") != "6789" {
		t.Errorf("queue kept %q, want the newest four", kept)
	}
	if n := strings.Count(logs.String(), "dropping the oldest server message"); n != 1 {
		t.Errorf("%d lines about dropped messages, want 1 (a minute's worth):\n%s", n, logs.String())
	}
}

// A flood of one kind of line is written once per interval, and the next
// line counts what was held back.
func TestFloodLog(t *testing.T) {
	var logs testpeer.SyncBuffer
	f := newFloodLog(slog.New(slog.NewTextHandler(&logs, nil)), 100*time.Millisecond)
	for i := 0; i < 1000; i++ {
		f.Warn("undecodable", "upstream wrote an undecodable line")
	}
	f.Warn("other", "another kind")
	if n := strings.Count(logs.String(), "undecodable line"); n != 1 {
		t.Fatalf("%d lines for a flood of 1000, want 1:\n%s", n, logs.String())
	}
	time.Sleep(150 * time.Millisecond)
	f.Warn("undecodable", "upstream wrote an undecodable line")
	if !strings.Contains(logs.String(), "suppressed=999") || !strings.Contains(logs.String(), "another kind") {
		t.Fatalf("log:\n%s", logs.String())
	}
}

// Progress tokens that could not serve as map keys are refused in either
// direction, before any code compares them (a hostile upstream's roots/list
// with an object token once crashed the process).
func TestDecodeRefusesHostileTokens(t *testing.T) {
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":7,"method":"roots/list","params":{"_meta":{"progressToken":{}}}}`,
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":[1]}}}`,
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":{"a":1},"progress":1}}`,
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1.5,"progress":1}}`,
	} {
		if _, e := decodeMessage([]byte(body), 64); e == nil || e.Code != codeInvalidRequest {
			t.Errorf("%s: accepted (%v)", body, e)
		}
	}
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":"p"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":42,"progress":1}}`,
	} {
		if _, e := decodeMessage([]byte(body), 64); e != nil {
			t.Errorf("%s: refused: %s", body, e.Message)
		}
	}
}

// The queue's byte budget holds like its count: without a stream the
// oldest messages go, and a message larger than the whole budget is
// dropped; with an unread stream the session is closed.
func TestQueueByteBudget(t *testing.T) {
	var logs testpeer.SyncBuffer
	g, err := New(&Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), SessionQueue: 100, SessionQueueBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	s := testSession(t, g, "10.0.0.3")
	for _, m := range []string{strings.Repeat("a", 60), strings.Repeat("b", 60), strings.Repeat("c", 30)} {
		s.push([]byte(m))
	}
	if len(s.out) != 2 || s.outBytes.Load() != 90 {
		t.Fatalf("queue holds %d messages, %d bytes; want the newest two, 90 bytes", len(s.out), s.outBytes.Load())
	}
	s.push([]byte(strings.Repeat("x", 200)))
	if !strings.Contains(logs.String(), "larger than the session queue's byte budget") {
		t.Errorf("log:\n%s", logs.String())
	}
	s.listening.Store(1)
	s.push([]byte(strings.Repeat("d", 60)))
	s.push([]byte(strings.Repeat("e", 60)))
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the session of a client that reads nothing was not closed")
	}
}

// A client that opens its event stream and stops reading loses the stream
// once a write to it waits longer than StreamWriteTimeout: the gateway's
// writer does not hang on it.
func TestStreamWriteTimeout(t *testing.T) {
	g, err := New(&Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), StreamWriteTimeout: 200 * time.Millisecond, SessionQueue: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ts := httptest.NewServer(g)
	defer ts.Close()
	init := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(init))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sid := resp.Header.Get("Mcp-Session-Id")
	s := g.session(sid)
	if s == nil {
		t.Fatalf("no session (%d)", resp.StatusCode)
	}
	// A GET stream on a raw connection that is never read.
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: %s\r\n\r\n", sid)
	for deadline := time.Now().Add(5 * time.Second); s.listening.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stream never opened")
		}
	}
	// Push until the socket's buffers are full and a write waits; the
	// stream must then end within the timeout (plus scheduling).
	big := []byte(`{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"` + strings.Repeat("x", 256<<10) + `"}}`)
	deadline := time.Now().Add(20 * time.Second)
	for s.listening.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream of a client that reads nothing never ended")
		}
		if len(s.out) < cap(s.out) {
			s.push(big)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if g.session(sid) == nil {
		t.Fatal("the session was closed; only its stream should have ended")
	}
}
