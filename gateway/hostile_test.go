//lint:file-ignore SA1019 sampling and logging, deprecated as of protocol 2026-07-28, are carried by the gateway and tested on purpose

package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// hostileEnv, set in a stdio upstream's environment, makes the test binary
// the hostile upstream instead of running the tests: the same script then
// drives the stdio and the streamable-HTTP upstream.
const hostileEnv = "TOOLGATE_TEST_HOSTILE_UPSTREAM"

func TestMain(m *testing.M) {
	if os.Getenv(hostileEnv) == "stdio" {
		os.Exit(serveHostileStdio(os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// hostile is an MCP server that misbehaves on purpose, one way per tool.
// Its replies are raw JSON-RPC lines (or, for "garbage", not even that).
type hostile struct {
	mu      sync.Mutex
	changed bool            // the tool list has changed
	prevID  json.RawMessage // the id of the last tools/call
}

type hostileRequest struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		ProtocolVersion string         `json:"protocolVersion"`
		Name            string         `json:"name"`
		Arguments       map[string]any `json:"arguments"`
		Meta            struct {
			ProgressToken any `json:"progressToken"`
		} `json:"_meta"`
	} `json:"params"`
}

func rpcResult(id json.RawMessage, result any) string {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
	return string(b)
}

func toolText(id json.RawMessage, text string) string {
	return rpcResult(id, map[string]any{"content": []map[string]string{{"type": "text", "text": text}}})
}

func rpcNote(method string, params any) string {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
	return string(b)
}

// hostileTools are the tools listed before and after "change" is called.
var (
	hostileTools  = []string{"change", "duplicate", "flood", "garbage", "html", "ok", "progress", "status500", "unknown_id", "wrong_id_json"}
	hostileTools2 = []string{"added", "ok"}
)

// replies returns what the server sends for one message, in order. The
// response to the request itself is among them, wherever the tool puts it.
// A flood is made as it is sent, so that the test's memory holds none of it.
func (h *hostile) replies(req *hostileRequest) iter.Seq[string] {
	if req.Params.Name == "flood" && req.Method == "tools/call" {
		return h.flood(req)
	}
	return slices.Values(h.reply(req))
}

// flood sends, interleaved, arguments.logs log messages and
// arguments.progress progress notifications on a token nobody sent, each
// padded, then the answer.
func (h *hostile) flood(req *hostileRequest) iter.Seq[string] {
	return func(yield func(string) bool) {
		logs, _ := req.Params.Arguments["logs"].(float64)
		progress, _ := req.Params.Arguments["progress"].(float64)
		pad := strings.Repeat("x", 512)
		for i := 0; i < int(logs) || i < int(progress); i++ {
			if i < int(logs) && !yield(rpcNote("notifications/message", map[string]any{"level": "info", "data": fmt.Sprintf("flood %d %s", i, pad)})) {
				return
			}
			if i < int(progress) && !yield(rpcNote("notifications/progress", map[string]any{"progressToken": "flood-token", "progress": i, "message": pad})) {
				return
			}
		}
		yield(toolText(req.ID, "flooded"))
	}
}

func (h *hostile) reply(req *hostileRequest) []string {
	if req.ID == nil {
		return nil // a notification
	}
	switch req.Method {
	case "initialize":
		return []string{rpcResult(req.ID, map[string]any{
			"protocolVersion": req.Params.ProtocolVersion,
			"capabilities":    map[string]any{"tools": map[string]any{"listChanged": true}, "logging": map[string]any{}},
			"serverInfo":      map[string]string{"name": "hostile", "version": "1"},
		})}
	case "tools/list":
		h.mu.Lock()
		names := hostileTools
		if h.changed {
			names = hostileTools2
		}
		h.mu.Unlock()
		var tools []map[string]any
		for _, n := range names {
			tools = append(tools, map[string]any{"name": n, "inputSchema": map[string]any{"type": "object"}})
		}
		return []string{rpcResult(req.ID, map[string]any{"tools": tools})}
	case "tools/call":
	default:
		return []string{rpcResult(req.ID, map[string]any{})}
	}
	h.mu.Lock()
	prev := h.prevID
	h.prevID = req.ID
	h.mu.Unlock()
	id := req.ID
	switch req.Params.Name {
	case "unknown_id":
		// Answers to requests the gateway never sent, then the answer.
		return []string{toolText(json.RawMessage(`987654321`), "FORGED"), toolText(json.RawMessage(`"forged"`), "FORGED"), toolText(id, "real")}
	case "duplicate":
		// A replay of the previous call's answer, the answer, and the
		// answer again with other content.
		out := []string{}
		if prev != nil {
			out = append(out, toolText(prev, "FORGED stale"))
		}
		return append(out, toolText(id, "first"), toolText(id, "FORGED second"))
	case "progress":
		// Progress on a token nobody sent, and on the call's own.
		out := []string{rpcNote("notifications/progress", map[string]any{"progressToken": "forged-token", "progress": 1})}
		if tok := req.Params.Meta.ProgressToken; tok != nil {
			out = append(out, rpcNote("notifications/progress", map[string]any{"progressToken": tok, "progress": 1, "total": 2}))
		}
		return append(out, toolText(id, "done"))
	case "change":
		// The tool list changes while the call is under way.
		h.mu.Lock()
		h.changed = true
		h.mu.Unlock()
		return []string{rpcNote("notifications/tools/list_changed", map[string]any{}), toolText(id, "changed")}
	case "garbage":
		return []string{"<html><body>502 Bad Gateway</body></html>", toolText(id, "after garbage")}
	}
	return []string{toolText(id, "ok")}
}

// serveHostileStdio runs the hostile server on newline-delimited JSON-RPC.
func serveHostileStdio(in io.Reader, out io.Writer) int {
	h := &hostile{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	w := bufio.NewWriter(out)
	for sc.Scan() {
		var req hostileRequest
		if json.Unmarshal(sc.Bytes(), &req) != nil {
			continue
		}
		for line := range h.replies(&req) {
			w.WriteString(line)
			w.WriteByte('\n')
		}
		if w.Flush() != nil {
			return 1
		}
	}
	return 0
}

// hostileHTTP serves the hostile server over streamable HTTP, written by
// hand: one reply is a JSON body, several are an event stream (where the
// gateway stops reading at its own answer). Three tools misbehave at the
// HTTP level: "html" answers a web page, "status500" an error page, and
// "wrong_id_json" a JSON answer to another request.
func hostileHTTP(t *testing.T) string {
	t.Helper()
	h := &hostile{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "no standalone stream", http.StatusMethodNotAllowed)
			return
		}
		var req hostileRequest
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if json.Unmarshal(body, &req) != nil {
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		w.Header().Set("Mcp-Session-Id", "hostile-session")
		if req.Method == "tools/call" {
			switch req.Params.Name {
			case "html":
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				io.WriteString(w, "<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>")
				return
			case "status500":
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, "<html><body>Internal Server Error</body></html>")
				return
			case "wrong_id_json":
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, toolText(json.RawMessage(`987654321`), "FORGED"))
				return
			}
		}
		next, stop := iter.Pull(h.replies(&req))
		defer stop()
		first, one := next()
		second, two := next()
		switch {
		case !one:
			w.WriteHeader(http.StatusAccepted)
		case !two:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, first)
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			bw := bufio.NewWriterSize(w, 64<<10)
			event := func(m string) bool {
				_, err := fmt.Fprintf(bw, "event: message\ndata: %s\n\n", m)
				return err == nil
			}
			if !event(first) || !event(second) {
				return
			}
			for m, ok := next(); ok; m, ok = next() {
				if !event(m) {
					return
				}
			}
			bw.Flush()
		}
	}))
	t.Cleanup(func() { ts.CloseClientConnections(); ts.Close() })
	return ts.URL
}

// hostileServer is the hostile upstream named "bad" over one transport.
func hostileServer(t *testing.T, transport string) gateway.Server {
	t.Helper()
	srv := gateway.Server{Name: "bad", Prefix: "bad_", Timeout: 20 * time.Second, BreakerFailures: -1}
	if transport == "http" {
		srv.URL = hostileHTTP(t)
	} else {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		srv.Command = []string{exe}
		srv.Env = map[string]string{hostileEnv: "stdio"}
	}
	return srv
}

// clientLog records what a client session was sent besides answers.
type clientLog struct {
	mu      sync.Mutex
	tokens  []any
	logs    atomic.Int64
	changed chan struct{}
}

func newClientLog() *clientLog { return &clientLog{changed: make(chan struct{}, 16)} }

func (c *clientLog) options() *mcp.ClientOptions {
	return &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			c.mu.Lock()
			c.tokens = append(c.tokens, req.Params.ProgressToken)
			c.mu.Unlock()
		},
		LoggingMessageHandler: func(context.Context, *mcp.LoggingMessageRequest) { c.logs.Add(1) },
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case c.changed <- struct{}{}:
			default:
			}
		},
	}
}

func (c *clientLog) progressTokens() []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.tokens)
}

// hostileGateway serves a gateway in front of bad (the hostile upstream)
// and good (the HTTP echo server), logging at debug level to logs.
func hostileGateway(t *testing.T, bad gateway.Server, logs io.Writer) string {
	t.Helper()
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{bad, {Name: "good", Prefix: "good_", URL: testpeer.GoEchoServer().StartHTTP(t)}},
		Policy:  mustLoad(t, allowAll),
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		// Longer than any test: a flood is logged once.
		LogFloodInterval: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	return url
}

// callBound is how long any call to the hostile upstream may take before
// the test calls it a hang: generous, for a loaded machine, and well
// under the server's timeout, so that a timeout's answer is no pass.
const callBound = 15 * time.Second

// Hostile upstreams over stdio and streamable HTTP: every call gets a
// clear answer within a bound, nothing the upstream invented reaches the
// client as if it were real, and the session goes on working.
func TestHostileUpstreams(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tool       string
		transports []string
		token      any    // progress token of the call
		want       string // the result's text, for a call that succeeds
		wantErr    []string
		wantLog    string
		raw        bool // also check the answer's bytes on the wire
		check      func(t *testing.T, ctx context.Context, cs *mcp.ClientSession, seen *clientLog)
	}{
		{name: "responses to ids never sent", tool: "unknown_id", want: "real", raw: true,
			wantLog: "upstream answered an unknown request"},
		{name: "duplicate and replayed responses", tool: "duplicate", want: "first", raw: true,
			wantLog: "upstream answered an unknown request"},
		{name: "progress for an unknown token", tool: "progress", token: "mine", want: "done", raw: true,
			wantLog: "progress for a token",
			check: func(t *testing.T, ctx context.Context, cs *mcp.ClientSession, seen *clientLog) {
				time.Sleep(200 * time.Millisecond) // a stray notification would have come by now
				if got := seen.progressTokens(); !slices.Equal(got, []any{"mine"}) {
					t.Errorf("progress tokens the client saw: %v, want only its own", got)
				}
			}},
		{name: "a line that is not JSON", tool: "garbage", want: "after garbage", transports: []string{"stdio", "http"},
			wantLog: "undecodable"},
		{name: "an HTML page", tool: "html", transports: []string{"http"},
			wantErr: []string{"server bad", "HTTP 200", "text/html"}},
		{name: "HTTP 500", tool: "status500", transports: []string{"http"},
			wantErr: []string{"server bad", "HTTP 500"}},
		{name: "a JSON answer to another request", tool: "wrong_id_json", transports: []string{"http"},
			wantErr: []string{"server bad"}},
		{name: "tool list changes mid-call", tool: "change", want: "changed",
			check: func(t *testing.T, ctx context.Context, cs *mcp.ClientSession, seen *clientLog) {
				select {
				case <-seen.changed:
				case <-time.After(callBound):
					t.Fatal("notifications/tools/list_changed never reached the client")
				}
				var bad []string
				for _, n := range toolNames(t, ctx, cs) {
					if name, ok := strings.CutPrefix(n, "bad_"); ok {
						bad = append(bad, name)
					}
				}
				if !slices.Equal(bad, hostileTools2) {
					t.Errorf("tools/list after the change: %v, want %v", bad, hostileTools2)
				}
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "bad_added"})
				if err != nil || res.IsError || textOf(res) != "ok" {
					t.Errorf("the new tool: %v %+v", err, res)
				}
			}},
	} {
		transports := tc.transports
		if transports == nil {
			transports = []string{"stdio", "http"}
		}
		for _, transport := range transports {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				ctx := testContext(t)
				var logs testpeer.SyncBuffer
				url := hostileGateway(t, hostileServer(t, transport), &logs)
				seen := newClientLog()
				cs := connect(t, ctx, url, seen.options())
				if names := toolNames(t, ctx, cs); !slices.Contains(names, "bad_"+tc.tool) {
					t.Fatalf("tools/list: %v", names)
				}
				// A call first, so that "duplicate" has an answer to replay.
				if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "bad_ok"}); err != nil || textOf(res) != "ok" {
					t.Fatalf("first call: %v %+v", err, res)
				}

				params := &mcp.CallToolParams{Name: "bad_" + tc.tool, Arguments: map[string]any{}}
				if tc.token != nil {
					params.SetProgressToken(tc.token)
				}
				callCtx, cancel := context.WithTimeout(ctx, callBound)
				defer cancel()
				res, err := cs.CallTool(callCtx, params)
				if callCtx.Err() != nil {
					t.Fatalf("no answer within %s", callBound)
				}
				if tc.wantErr != nil {
					var text string
					switch {
					case err != nil:
						text = err.Error()
					case res.IsError:
						text = textOf(res)
					default:
						t.Fatalf("succeeded: %+v", res)
					}
					for _, w := range tc.wantErr {
						if !strings.Contains(text, w) {
							t.Errorf("the answer does not say %q: %s", w, text)
						}
					}
				} else if err != nil || res.IsError || textOf(res) != tc.want {
					var text string
					if res != nil {
						text = textOf(res)
					}
					t.Fatalf("got %v %q (isError %v), want %q", err, text, res != nil && res.IsError, tc.want)
				}
				if tc.check != nil {
					tc.check(t, ctx, cs, seen)
				}
				if tc.raw {
					rawAnswerOnce(t, ctx, url, tc.tool)
				}

				// The session goes on: its next call gets its own answer (not
				// one the upstream sent for another id), and the other
				// upstream is unaffected.
				if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "bad_ok"}); err != nil || textOf(res) != "ok" {
					t.Errorf("the next call: %v %+v", err, res)
				}
				if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "good_echo", Arguments: map[string]any{"message": "fine"}}); err != nil || textOf(res) != "fine" {
					t.Errorf("the other upstream: %v %+v", err, res)
				}
				if strings.Contains(logs.String(), "FORGED") {
					t.Errorf("the log repeats what the upstream sent:\n%s", logs.String())
				}
				if tc.wantLog != "" && !strings.Contains(logs.String(), tc.wantLog) {
					t.Errorf("the log does not say %q:\n%s", tc.wantLog, logs.String())
				}
			})
		}
	}
}

// floodSize is how many notifications of about 600 bytes each (60 MB)
// the flood test's upstream sends during one call: floodLogs log
// messages, which the client gets, and the rest progress on a token
// nobody sent, which it must not. The race detector slows every message
// tenfold, so under it the flood is smaller (the tests of memory, and of
// a flooded session that keeps up, are made without it).
func floodSize() int {
	if raceEnabled {
		return 20_000
	}
	return 100_000
}

func floodLogs() int {
	if raceEnabled {
		return 2_000
	}
	return 30_000
}

// An upstream that floods a session with notifications during a call
// neither grows the gateway's memory with the flood nor slows another
// session on another upstream beyond a generous bound; the call is
// answered, the dropped progress is logged once per interval, and the
// flooded session still works.
func TestHostileUpstreamFlood(t *testing.T) {
	for _, transport := range []string{"stdio", "http"} {
		t.Run(transport, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var logs testpeer.SyncBuffer
			bad := hostileServer(t, transport)
			bad.Timeout = 2 * time.Minute // the flood takes its time to reach the client
			url := hostileGateway(t, bad, &logs)
			seen := newClientLog()
			flooded := connect(t, ctx, url, seen.options())
			other := connect(t, ctx, url, nil)

			runtime.GC()
			base := liveHeapBytes()
			var peak atomic.Uint64
			stopSampling := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stopSampling:
						return
					case <-tick.C:
						if h := liveHeapBytes(); h > peak.Load() {
							peak.Store(h)
						}
					}
				}
			}()

			type answer struct {
				res *mcp.CallToolResult
				err error
			}
			done := make(chan answer, 1)
			go func() {
				res, err := flooded.CallTool(ctx, &mcp.CallToolParams{Name: "bad_flood", Arguments: map[string]any{"logs": floodLogs(), "progress": floodSize() - floodLogs()}})
				done <- answer{res, err}
			}()

			// The other session calls the other upstream throughout: each
			// call within a bound that a starved session would miss.
			const otherBound = 10 * time.Second
			var a answer
			calls, slowest := 0, time.Duration(0)
		loop:
			for ; calls < 10_000; calls++ {
				select {
				case a = <-done:
					break loop
				default:
				}
				callCtx, cancelCall := context.WithTimeout(ctx, otherBound)
				start := time.Now()
				res, err := other.CallTool(callCtx, &mcp.CallToolParams{Name: "good_echo", Arguments: map[string]any{"message": "still here"}})
				cancelCall()
				if err != nil || textOf(res) != "still here" {
					t.Fatalf("the other session's call %d during the flood: %v %+v", calls, err, res)
				}
				slowest = max(slowest, time.Since(start))
				time.Sleep(5 * time.Millisecond) // a steady caller, not a second flood
			}
			if a.res == nil && a.err == nil {
				select {
				case a = <-done:
				case <-ctx.Done():
					t.Fatal("the flooded call was never answered")
				}
			}
			close(stopSampling)
			<-sampled
			t.Logf("%d calls of the other session during the flood, the slowest %s; %d log messages reached the flooded client; heap grew by at most %d MiB",
				calls, slowest, seen.logs.Load(), (peak.Load()-min(base, peak.Load()))>>20)
			if a.err != nil || a.res.IsError || textOf(a.res) != "flooded" {
				t.Fatalf("the flooded call: %v %+v", a.err, a.res)
			}
			if calls == 0 {
				t.Error("the other session made no call during the flood")
			}
			// The flood is about 60 MB on the wire: a gateway that held it
			// would grow by that much. The race detector multiplies memory
			// use, so the bound is checked without it.
			if grown := peak.Load() - min(base, peak.Load()); !raceEnabled && grown > 40<<20 {
				t.Errorf("the heap grew by %d MiB during the flood", grown>>20)
			}
			if got := seen.progressTokens(); len(got) != 0 {
				t.Errorf("the client got %d progress notifications on a token it never sent", len(got))
			}
			if n := strings.Count(logs.String(), "dropping upstream progress"); n != 1 {
				t.Errorf("%d log lines about %d dropped progress notifications, want 1 per interval", n, floodSize()-floodLogs())
			}
			if res, err := flooded.CallTool(ctx, &mcp.CallToolParams{Name: "bad_ok"}); err != nil || textOf(res) != "ok" {
				t.Errorf("the flooded session after the flood: %v %+v", err, res)
			}
		})
	}
}

// rawAnswerOnce calls tool on a session of its own, asking for an event
// stream, so that anything the gateway passed on besides the answer would
// be seen: the stream must hold exactly one answer, the real one, and
// nothing the upstream made up.
func rawAnswerOnce(t *testing.T, ctx context.Context, url, tool string) {
	t.Helper()
	sid := rawSession(t, ctx, url)
	sse := map[string]string{"Accept": "text/event-stream, application/json"}
	post(t, ctx, url, sid, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"bad_ok","arguments":{}}}`, sse)
	r := post(t, ctx, url, sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"bad_`+tool+`","arguments":{},"_meta":{"progressToken":"raw"}}}`, sse)
	if r.status != http.StatusOK || strings.Count(r.body, `"result"`) != 1 || strings.Contains(r.body, "FORGED") || strings.Contains(r.body, "forged") {
		t.Errorf("the answer on the wire: HTTP %d\n%s", r.status, r.body)
	}
}

// liveHeapBytes is the heap that survived the last garbage collection:
// what the process holds, without the garbage a busy moment leaves
// uncollected (which, on a loaded machine, varies with the collector's
// pace rather than with what the gateway keeps).
func liveHeapBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
