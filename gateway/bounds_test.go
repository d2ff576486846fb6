package gateway_test

import (
	"bytes"
	"context"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// A call the upstream does not answer in time is cancelled upstream and
// answered with an error that says which bound to raise: the server's
// timeout, or the tool's timeout in the policy when it sets one.
func TestCallTimeout(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	eng, err := policy.Load([]byte(`{"version":"1","default":"allow","tools":{"slow":{},"echo":{"timeout":"150ms"}}}`), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t), Timeout: 300 * time.Millisecond}},
		Policy:  eng, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	cs := connect(t, ctx, url, nil)

	start := time.Now()
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 5000}})
	if err == nil || !strings.Contains(err.Error(), "did not answer within 300ms") || !strings.Contains(err.Error(), "the server's timeout") {
		t.Fatalf("slow call: err = %v, want the server's timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the timeout took %s", d)
	}
	waitFor(t, "the upstream to see the cancellation", func() bool { return echo.Cancellations() == 1 })

	// Fast calls are unaffected.
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 10}}); err != nil || res.IsError {
		t.Fatalf("fast call: %v %+v", err, res)
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}}); err != nil || textOf(res) != "hi" {
		t.Fatalf("echo: %v %+v", err, res)
	}
}

// The policy's per-tool timeout overrides the server's.
func TestCallTimeoutFromPolicy(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	eng, err := policy.Load([]byte(`{"version":"1","default":"allow","tools":{"slow":{"timeout":"200ms"}}}`), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t), Timeout: time.Minute}},
		Policy:  eng, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	cs := connect(t, ctx, url, nil)
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 5000}})
	if err == nil || !strings.Contains(err.Error(), "within 200ms") || !strings.Contains(err.Error(), "the tool's timeout in the policy") {
		t.Fatalf("err = %v, want the policy's timeout", err)
	}
}

// One client address holds at most MaxSessionsPerClient sessions; ending
// one frees its place.
func TestSessionsPerClient(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}},
		Logger:  quietLogger(), MaxSessionsPerClient: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	a := rawSession(t, ctx, url)
	rawSession(t, ctx, url)
	r := post(t, ctx, url, "", initBody, nil)
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "too many sessions from this client address") {
		t.Fatalf("third session: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", a)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", err, resp)
	}
	resp.Body.Close()
	rawSession(t, ctx, url)
}

// Sixteen concurrent 4 MiB bodies, each as costly to decode as a body of
// that size can be, keep the gateway's heap within its in-flight budget.
func TestMemoryPerRequestBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector multiplies memory use; the bound is measured without it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	echo := testpeer.GoEchoServer()
	eng, err := policy.Load([]byte(`{"version":"1","default":"allow","tools":{"DeleteUser":{"action":"deny"}}}`), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}},
		Policy:  eng, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	sid := rawSession(t, ctx, url)

	// 4 MiB of one-digit numbers: the most values a body of that size holds.
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"DeleteUser","arguments":{"user_id":"u","pad":[`)
	for b.Len() < 4<<20-16 {
		b.WriteString("7,")
	}
	b.WriteString(`7]}}}`)
	body := b.Bytes()

	runtime.GC()
	base := heapBytes()
	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				if h := heapBytes(); h > peak {
					peak = h
				}
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Mcp-Session-Id", sid)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var out bytes.Buffer
			_, _ = out.ReadFrom(resp.Body)
			// Served and refused by the policy, or (on a slow machine) told
			// to retry when the budget stayed full: both keep the bound.
			busy := resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(out.String(), "busy")
			if !busy && (resp.StatusCode != 200 || !strings.Contains(out.String(), "POLICY DENIED")) {
				errs <- &httpError{resp.StatusCode, out.String()}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	const bound = 300 << 20
	t.Logf("heap: %d MiB before, %d MiB at the peak", base>>20, peak>>20)
	if peak > bound {
		t.Fatalf("the heap peaked at %d MiB, over the %d MiB bound", peak>>20, bound>>20)
	}
}

type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string {
	if len(e.body) > 200 {
		e.body = e.body[:200]
	}
	return http.StatusText(e.status) + ": " + e.body
}

// heapBytes is the memory of the process's live and not yet collected heap
// objects.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// A stdio upstream that stops reading its stdin cannot hold a call, or the
// session's end, beyond the server's timeout: the write has a deadline,
// and a server that misses it is stopped.
func TestStdioUpstreamThatStopsReading(t *testing.T) {
	ctx := testContext(t)
	node := testpeer.Node(t)
	script := testpeer.RepoRoot(t) + "/e2e/node/stuck-server.mjs"
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "stuck", Command: []string{node, script}, Timeout: 2 * time.Second}},
		Policy:  mustLoad(t, `{"version":"1","default":"allow"}`), Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	sid := rawSession(t, ctx, url)
	// 1 MiB of arguments: far more than a pipe holds.
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}}`
	start := time.Now()
	r := post(t, ctx, url, sid, body, nil)
	if d := time.Since(start); d > 15*time.Second { // bounded by the 2s timeout, not the 30s default
		t.Fatalf("the call took %s", d)
	}
	t.Logf("answer: %.300s", r.body)
	// A JSON-RPC error (the call timed out) or an isError result (the
	// server, stopped for not reading, is unavailable): never a success.
	if !strings.Contains(r.body, `"error"`) && !strings.Contains(r.body, `"isError":true`) {
		t.Fatalf("the call to a stuck upstream: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", sid)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", err, resp)
	}
	done := make(chan struct{})
	go func() { gw.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("closing the gateway waited on the stuck upstream")
	}
}

func mustLoad(t *testing.T, doc string) *policy.Engine {
	t.Helper()
	eng, err := policy.Load([]byte(doc), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// The gateway holds at most MaxSessions sessions in all.
func TestMaxSessions(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "echo", URL: echo.StartHTTP(t)}},
		Logger:  quietLogger(), MaxSessions: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	rawSession(t, ctx, url)
	rawSession(t, ctx, url)
	if r := post(t, ctx, url, "", initBody, nil); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "too many sessions") {
		t.Fatalf("third session: %d %s", r.status, r.body)
	}
}
