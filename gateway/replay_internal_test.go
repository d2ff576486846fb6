package gateway

import (
	"bufio"
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

// The replay log keeps the newest events within both of its bounds, and
// knows only the ids it gave out.
func TestReplayLogBounds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxEvents int
		maxBytes  int64
		sizes     []int
		wantKept  []uint64
	}{
		{"count bound", 3, 1 << 20, []int{1, 1, 1, 1, 1}, []uint64{3, 4, 5}},
		{"byte bound", 100, 10, []int{4, 4, 4, 4}, []uint64{3, 4}},
		{"an event over the byte bound is not kept", 100, 10, []int{4, 11}, nil},
		{"both within", 10, 100, []int{5, 5}, []uint64{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newReplayLog(tc.maxEvents, tc.maxBytes)
			for _, n := range tc.sizes {
				l.record([]byte(strings.Repeat("x", n)))
			}
			got, lost := l.since(0)
			var seqs []uint64
			var bytes int64
			for _, e := range got {
				seqs = append(seqs, e.seq)
				bytes += int64(len(e.data))
			}
			if fmt.Sprint(seqs) != fmt.Sprint(tc.wantKept) {
				t.Errorf("kept %v, want %v", seqs, tc.wantKept)
			}
			if wantLost := len(tc.wantKept) < len(tc.sizes); lost != wantLost {
				t.Errorf("lost = %v, want %v", lost, wantLost)
			}
			if len(got) > tc.maxEvents || bytes > tc.maxBytes || bytes != l.bytes {
				t.Errorf("%d events, %d bytes (accounted %d) over the bounds %d, %d", len(got), bytes, l.bytes, tc.maxEvents, tc.maxBytes)
			}
		})
	}

	a, b := newReplayLog(8, 1<<10), newReplayLog(8, 1<<10)
	a.record([]byte("x"))
	b.record([]byte("y"))
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{a.id(1), true},
		{a.id(0), true}, // before the first event: replay everything
		{b.id(1), false},
		{a.id(2), false}, // not given out yet
		{a.tag, false},
		{a.tag + "-x", false},
		{a.tag + "--1", false},
		{"", false},
		{strings.ToUpper(a.tag) + "-1", false},
	} {
		if _, ok := a.parse(tc.id); ok != tc.ok {
			t.Errorf("parse(%q) = %v, want %v", tc.id, ok, tc.ok)
		}
	}
	if a.tag == b.tag || len(a.tag) != 16 {
		t.Errorf("tags %q and %q: want 16 random hex digits per session", a.tag, b.tag)
	}
}

// sseEvent is one event as a test reads it off the wire.
type sseEvent struct {
	id, data, retry string
}

// rawStream is a GET stream on a connection of its own, read with
// deadlines so that no read of a test waits without bound.
type rawStream struct {
	conn net.Conn
	br   *bufio.Reader
	resp *http.Response
}

func openRawStream(t *testing.T, url, sid, lastID string) *rawStream {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	hdr := ""
	if lastID != "" {
		hdr = "Last-Event-ID: " + lastID + "\r\n"
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: %s\r\n%s\r\n", sid, hdr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &rawStream{conn: conn, br: bufio.NewReader(resp.Body), resp: resp}
}

// next reads the next event, keep-alive comments skipped, or fails the test
// after wait.
func (r *rawStream) next(t *testing.T, wait time.Duration) sseEvent {
	t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(wait))
	var e sseEvent
	seen := false
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && seen:
			return e
		case line == "" || strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			e.id, seen = strings.TrimPrefix(line, "id: "), true
		case strings.HasPrefix(line, "data: "):
			e.data, seen = strings.TrimPrefix(line, "data: "), true
		case strings.HasPrefix(line, "retry: "):
			e.retry, seen = strings.TrimPrefix(line, "retry: "), true
		case strings.HasPrefix(line, "event: "):
			seen = true
		}
	}
}

// quiet reports whether nothing but keep-alives and priming events comes
// within wait.
func (r *rawStream) quiet(t *testing.T, wait time.Duration) (sseEvent, bool) {
	t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(wait))
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return sseEvent{}, true
			}
			t.Fatalf("reading the stream: %v", err)
		}
		if strings.HasPrefix(line, "data: ") && strings.TrimSpace(line) != "data:" {
			return sseEvent{data: strings.TrimSpace(strings.TrimPrefix(line, "data: "))}, false
		}
	}
}

// initRaw opens a session on a gateway without upstreams and returns its id.
func initRaw(t *testing.T, url, version string) string {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + version + `","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatalf("initialize: HTTP %d, no session", resp.StatusCode)
	}
	return sid
}

func note(i int) []byte {
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"n%d"}}`, i)
}

func newReplayGateway(t *testing.T, opts Options) (*Gateway, string, *testpeer.SyncBuffer) {
	t.Helper()
	var logs testpeer.SyncBuffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	g, err := New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	ts := httptest.NewServer(g)
	t.Cleanup(ts.Close)
	return g, ts.URL, &logs
}

// Every event of a GET stream carries an id; a 2025-11-25 stream opens
// with a priming event (an id, a retry field, empty data), older revisions
// with none; resuming after an id replays exactly the events after it, in
// order, and then goes on live.
func TestStreamResumesAfterLastEventID(t *testing.T) {
	for _, version := range []string{"2025-11-25", "2025-06-18"} {
		t.Run(version, func(t *testing.T) {
			g, url, _ := newReplayGateway(t, Options{})
			sid := initRaw(t, url, version)
			s := g.session(sid)
			st := openRawStream(t, url, sid, "")
			if st.resp.StatusCode != http.StatusOK {
				t.Fatalf("GET: HTTP %d", st.resp.StatusCode)
			}
			if version == "2025-11-25" {
				p := st.next(t, 5*time.Second)
				if p.id == "" || p.data != "" || p.retry != "1000" {
					t.Fatalf("first event %+v, want a priming event with an id and retry: 1000", p)
				}
			}
			var ids []string
			for i := range 5 {
				s.push(note(i))
				e := st.next(t, 5*time.Second)
				if e.id == "" || e.data != string(note(i)) {
					t.Fatalf("event %d: %+v", i, e)
				}
				ids = append(ids, e.id)
			}
			st.conn.Close()
			// While no stream is open, new messages wait in the queue.
			for i := 5; i < 7; i++ {
				s.push(note(i))
			}
			st2 := openRawStream(t, url, sid, ids[1])
			if st2.resp.StatusCode != http.StatusOK {
				t.Fatalf("resuming GET: HTTP %d", st2.resp.StatusCode)
			}
			var got []string
			for len(got) < 5 {
				e := st2.next(t, 5*time.Second)
				if e.data == "" {
					continue // priming
				}
				got = append(got, e.data)
			}
			want := []string{string(note(2)), string(note(3)), string(note(4)), string(note(5)), string(note(6))}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("after resuming:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if e, ok := st2.quiet(t, 300*time.Millisecond); !ok {
				t.Fatalf("an event more than once: %+v", e)
			}
		})
	}
}

// A Last-Event-ID of another session, or a forged one, is not honoured:
// the stream opens afresh and replays nothing of either session.
func TestStreamIgnoresForeignLastEventID(t *testing.T) {
	g, url, logs := newReplayGateway(t, Options{})
	a, b := initRaw(t, url, "2025-11-25"), initRaw(t, url, "2025-11-25")
	sa, sb := g.session(a), g.session(b)
	stA := openRawStream(t, url, a, "")
	stA.next(t, 5*time.Second) // priming
	var aIDs []string
	for i := range 3 {
		sa.push(note(i))
		aIDs = append(aIDs, stA.next(t, 5*time.Second).id)
	}
	stB := openRawStream(t, url, b, "")
	primeB := stB.next(t, 5*time.Second)
	// B's stream goes further than A's: an id of A's taken for one of B's
	// would replay B's later events.
	for i := range 6 {
		sb.push(note(100 + i))
		stB.next(t, 5*time.Second)
	}
	stB.conn.Close()
	waitNotListening(t, sb)
	tagB, _, _ := strings.Cut(primeB.id, "-")
	for _, id := range []string{aIDs[0], tagB + "-99", tagB + "-x", "0", "../" + aIDs[0]} {
		st := openRawStream(t, url, b, id)
		if st.resp.StatusCode != http.StatusOK {
			t.Fatalf("GET with Last-Event-ID %q: HTTP %d", id, st.resp.StatusCode)
		}
		if p := st.next(t, 5*time.Second); p.data != "" {
			t.Fatalf("Last-Event-ID %q: first event %+v, want the priming event", id, p)
		}
		if e, ok := st.quiet(t, 300*time.Millisecond); !ok {
			t.Fatalf("Last-Event-ID %q replayed %+v", id, e)
		}
		st.conn.Close()
		// The next GET may come before the gateway saw this one end.
		waitNotListening(t, sb)
	}
	if !strings.Contains(logs.String(), "ignoring a Last-Event-ID that names no event") {
		t.Errorf("log:\n%s", logs.String())
	}
}

func waitNotListening(t *testing.T, s *session) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); s.listening.Load() != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the closed stream never ended")
		}
	}
}

// The replay buffer holds its bounds: a client that comes back after more
// events than it keeps gets the newest ones it kept, and the loss is
// logged.
func TestStreamReplayBound(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		sent int
		want int
	}{
		{"events", Options{ReplayEvents: 8}, 20, 8},
		// Each note is 89 bytes: 5 fit in 445.
		{"bytes", Options{ReplayEvents: 100, ReplayBytes: 445}, 20, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, url, logs := newReplayGateway(t, tc.opts)
			sid := initRaw(t, url, "2025-11-25")
			s := g.session(sid)
			st := openRawStream(t, url, sid, "")
			prime := st.next(t, 5*time.Second)
			for i := range tc.sent {
				s.push(note(10 + i))
				st.next(t, 5*time.Second)
			}
			st.conn.Close()
			st2 := openRawStream(t, url, sid, prime.id)
			var got []string
			for {
				e := st2.next(t, 5*time.Second)
				if e.data == "" {
					break // the priming event comes after the replay
				}
				got = append(got, e.data)
			}
			if len(got) != tc.want {
				t.Fatalf("replayed %d events, want the newest %d", len(got), tc.want)
			}
			for i, d := range got {
				if want := string(note(10 + tc.sent - tc.want + i)); d != want {
					t.Fatalf("replayed event %d: %s, want %s", i, d, want)
				}
			}
			if !strings.Contains(logs.String(), "resumed its stream after events no longer kept") {
				t.Errorf("the loss was not logged:\n%s", logs.String())
			}
		})
	}
}

// A GET that resumes with an id of the session's stream takes the place of
// a stream the gateway still holds open (its connection may be dead
// without the gateway knowing yet); a GET without one, or with an id that
// names nothing here, still gets 409 while a stream is open.
func TestResumingGetTakesOverOpenStream(t *testing.T) {
	g, url, _ := newReplayGateway(t, Options{})
	sid := initRaw(t, url, "2025-11-25")
	s := g.session(sid)
	old := openRawStream(t, url, sid, "")
	prime := old.next(t, 5*time.Second)
	s.push(note(1))
	first := old.next(t, 5*time.Second)
	tag, _, _ := strings.Cut(prime.id, "-")
	for _, id := range []string{"", tag + "-999"} {
		st := openRawStream(t, url, sid, id)
		if st.resp.StatusCode != http.StatusConflict {
			t.Fatalf("a second GET with Last-Event-ID %q: HTTP %d, want 409", id, st.resp.StatusCode)
		}
	}
	s.push(note(2)) // written to the old stream, which the client never reads
	old.next(t, 5*time.Second)
	st := openRawStream(t, url, sid, first.id)
	if st.resp.StatusCode != http.StatusOK {
		t.Fatalf("resuming GET: HTTP %d", st.resp.StatusCode)
	}
	if e := st.next(t, 5*time.Second); e.data != string(note(2)) {
		t.Fatalf("resumed stream began with %+v, want the event after %s", e, first.id)
	}
	// The old stream was ended.
	_ = old.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, old.br); err != nil {
		t.Fatalf("the replaced stream did not end: %v", err)
	}
	if p := st.next(t, 5*time.Second); p.data != "" || p.id == "" {
		t.Fatalf("after the replay: %+v, want the priming event", p)
	}
	s.push(note(3))
	if e := st.next(t, 5*time.Second); e.data != string(note(3)) {
		t.Fatalf("live event after the replay: %+v", e)
	}
}

// While no stream is open, messages wait in the session queue, within its
// bound (the oldest go first); a client that resumes gets the ones that
// waited, numbered after what it saw, and nothing twice.
func TestStreamDisconnectedQueueBound(t *testing.T) {
	g, url, _ := newReplayGateway(t, Options{SessionQueue: 4, ReplayEvents: 8})
	sid := initRaw(t, url, "2025-11-25")
	s := g.session(sid)
	st := openRawStream(t, url, sid, "")
	st.next(t, 5*time.Second) // priming
	var last sseEvent
	for i := range 2 {
		s.push(note(i))
		last = st.next(t, 5*time.Second)
	}
	st.conn.Close()
	waitNotListening(t, s)
	for i := 2; i < 12; i++ {
		s.push(note(i))
	}
	st2 := openRawStream(t, url, sid, last.id)
	if p := st2.next(t, 5*time.Second); p.data != "" {
		t.Fatalf("first event %+v: nothing was left to replay, want the priming event", p)
	}
	_, lastN, _ := strings.Cut(last.id, "-")
	prev := lastN
	for i := 8; i < 12; i++ {
		e := st2.next(t, 5*time.Second)
		if e.data != string(note(i)) {
			t.Fatalf("got %s, want the newest %d queued messages in order, from %s", e.data, 4, note(8))
		}
		_, n, _ := strings.Cut(e.id, "-")
		if len(n) < len(prev) || len(n) == len(prev) && n <= prev {
			t.Fatalf("event id %s does not come after %s", e.id, prev)
		}
		prev = n
	}
	if e, ok := st2.quiet(t, 300*time.Millisecond); !ok {
		t.Fatalf("more than the queue's bound: %+v", e)
	}
}
