package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
)

type readyz struct {
	Ready     bool                     `json:"ready"`
	Upstreams []gateway.UpstreamStatus `json:"upstreams"`
}

func getReadyz(t *testing.T, url string) (int, readyz, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	var r readyz
	if err := json.NewDecoder(teeReader{resp.Body, &body}).Decode(&r); err != nil {
		t.Fatalf("/readyz: %v", err)
	}
	return resp.StatusCode, r, body.String()
}

type teeReader struct {
	r interface{ Read([]byte) (int, error) }
	w *strings.Builder
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.w.Write(p[:n])
	return n, err
}

// pidScript writes a shell script that appends its pid to pids and then
// becomes the stdio echo server, so that a test can kill the process.
func pidScript(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	script := filepath.Join(dir, "echo.sh")
	body := fmt.Sprintf("#!/bin/sh\necho $$ >> %q\nexec %q\n", pids, testpeer.BuildEchoServer(t))
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, pids
}

// onceScript is pidScript whose server starts only once: every later
// start exits 3 at once, so that an outage lasts.
func onceScript(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	script := filepath.Join(dir, "echo.sh")
	body := fmt.Sprintf("#!/bin/sh\nif [ -s %q ]; then echo 'refusing to start again' >&2; exit 3; fi\necho $$ >> %q\nexec %q\n", pids, pids, testpeer.BuildEchoServer(t))
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, pids
}

func readPids(t *testing.T, path string) []int {
	t.Helper()
	data, _ := os.ReadFile(path)
	var out []int
	for _, f := range strings.Fields(string(data)) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// /readyz says per upstream whether it is ready, and why one failed: the
// exit code and the last stderr lines of a process, with the configured
// secret masked there and in the log; the HTTP status of a URL.
func TestReadyzReportsUpstreamsAndMasksSecrets(t *testing.T) {
	const secret = "sk_live_do_not_show_4242"
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	logs := new(testpeer.SyncBuffer)
	states := make(chan gateway.UpstreamStatus, 100)
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{
			{Name: "echo", Prefix: "echo_", Command: []string{testpeer.BuildEchoServer(t)}},
			{Name: "leaky", Prefix: "leaky_", Env: map[string]string{"API_KEY": secret},
				Command: []string{"sh", "-c", `echo "starting with API_KEY=$API_KEY" >&2; echo "npm ERR! 404 Not Found - the package" >&2; exit 3`}},
			{Name: "web", Prefix: "web_", URL: broken.URL, Headers: map[string]string{"Authorization": "Bearer " + secret}},
			{Name: "later", Prefix: "later_", Command: []string{"false"}, Lazy: true},
		},
		Policy:          mustLoad(t, allowAll),
		Logger:          slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnUpstreamState: func(st gateway.UpstreamStatus) { states <- st },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	ts := httptest.NewServer(gw.ReadyHandler())
	t.Cleanup(ts.Close)
	if code, r, _ := getReadyz(t, ts.URL); code != http.StatusServiceUnavailable || r.Ready || r.Upstreams[0].State != gateway.StateStarting {
		t.Fatalf("before the start: %d %+v", code, r)
	}
	gw.StartUpstreams()
	var r readyz
	var body string
	waitFor(t, "every eager upstream to be ready or failed", func() bool {
		var code int
		code, r, body = getReadyz(t, ts.URL)
		settled := code == http.StatusServiceUnavailable
		for _, u := range r.Upstreams {
			settled = settled && (u.State == gateway.StateReady || u.State == gateway.StateFailed || u.State == gateway.StateOnDemand)
		}
		return settled
	})
	byName := map[string]gateway.UpstreamStatus{}
	for _, u := range r.Upstreams {
		byName[u.Name] = u
	}
	if u := byName["echo"]; u.State != gateway.StateReady || u.Tools != len(echoTools) {
		t.Errorf("echo: %+v", u)
	}
	leaky := byName["leaky"]
	for _, want := range []string{"exited with code 3", "npm ERR! 404", "API_KEY=" + gateway.Redacted} {
		if leaky.State != gateway.StateFailed || !strings.Contains(leaky.Reason, want) || leaky.NextAttempt == nil {
			t.Errorf("leaky: want a failure saying %q and a next attempt: %+v", want, leaky)
		}
	}
	if u := byName["web"]; u.State != gateway.StateFailed || !strings.Contains(u.Reason, "HTTP 500") {
		t.Errorf("web: want a failure naming HTTP 500: %+v", u)
	}
	if u := byName["later"]; u.State != gateway.StateOnDemand {
		t.Errorf("later: %+v", u)
	}
	if strings.Contains(body, secret) {
		t.Errorf("/readyz shows the secret: %s", body)
	}
	gw.Close()
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the log shows the secret:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "exited with code 3") {
		t.Errorf("the log does not say why leaky failed:\n%s", logs.String())
	}
	close(states)
	seen := map[gateway.UpstreamState]bool{}
	for st := range states {
		seen[st.State] = true
	}
	if !seen[gateway.StateReady] || !seen[gateway.StateFailed] {
		t.Errorf("OnUpstreamState heard of %v", seen)
	}
}

// Every eager upstream ready: /readyz answers 200.
func TestReadyzAllReady(t *testing.T) {
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{
			{Name: "s", Prefix: "s_", Command: []string{testpeer.BuildEchoServer(t)}},
			{Name: "h", Prefix: "h_", URL: testpeer.GoEchoServer().StartHTTP(t)},
		},
		Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	ts := httptest.NewServer(gw.ReadyHandler())
	t.Cleanup(ts.Close)
	gw.StartUpstreams()
	waitFor(t, "/readyz 200", func() bool {
		code, r, _ := getReadyz(t, ts.URL)
		return code == http.StatusOK && r.Ready && r.Upstreams[0].Tools == len(echoTools) && r.Upstreams[1].Tools == len(echoTools)
	})
}

// The gateway's own connection to a stdio upstream is restarted, with
// backoff, when its process dies.
func TestProbeRestartsAStdioUpstream(t *testing.T) {
	script, pids := pidScript(t)
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "echo", Command: []string{script}}},
		Logger:  quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	gw.StartUpstreams()
	waitFor(t, "the first start", func() bool { return gw.Upstreams()[0].State == gateway.StateReady })
	first := readPids(t, pids)
	if len(first) != 1 {
		t.Fatalf("pids %v", first)
	}
	if err := syscall.Kill(first[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restart", func() bool {
		st := gw.Upstreams()[0]
		return st.State == gateway.StateReady && st.Restarts == 1
	})
	if got := readPids(t, pids); len(got) != 2 {
		t.Errorf("pids after the restart: %v", got)
	}
}

// A client session's stdio upstream that dies: the call in flight gets an
// answer within a second, and the calls after it an isError result naming
// the server, not a silent loss.
func TestSessionUpstreamDiesMidCall(t *testing.T) {
	ctx := testContext(t)
	script, pids := onceScript(t)
	url := newGatewayWith(t, allowAll, gateway.Options{Servers: []gateway.Server{{Name: "echo", Command: []string{script}}}})
	cs := connect(t, ctx, url, nil)
	started := make(chan struct{})
	type answer struct {
		res *mcp.CallToolResult
		err error
		at  time.Time
	}
	done := make(chan answer, 1)
	go func() {
		close(started)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 20000}})
		done <- answer{res, err, time.Now()}
	}()
	<-started
	time.Sleep(300 * time.Millisecond) // the call reaches the upstream
	p := readPids(t, pids)
	if len(p) != 1 {
		t.Fatalf("pids %v", p)
	}
	killed := time.Now()
	if err := syscall.Kill(p[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var a answer
	select {
	case a = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the call in flight was not answered")
	}
	if d := a.at.Sub(killed); d > time.Second {
		t.Errorf("the call in flight was answered %s after the upstream died", d)
	}
	if a.err == nil && (a.res == nil || !a.res.IsError) {
		t.Errorf("the call in flight succeeded: %+v", a.res)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "x"}})
	if err != nil || !res.IsError || !strings.Contains(textOf(res), "server echo is unavailable") {
		t.Fatalf("a call during the outage: %v %+v", err, res)
	}
}

// A client session's stdio upstream that dies is started again with
// backoff: calls work again, and the client is told its tools changed.
func TestSessionUpstreamRestarts(t *testing.T) {
	ctx := testContext(t)
	script, pids := pidScript(t)
	url := newGatewayWith(t, allowAll, gateway.Options{Servers: []gateway.Server{{Name: "echo", Command: []string{script}}}})
	changed := make(chan struct{}, 4)
	cs := connect(t, ctx, url, &mcp.ClientOptions{ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
		changed <- struct{}{}
	}})
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "before"}}); err != nil || res.IsError {
		t.Fatalf("before: %v %+v", err, res)
	}
	p := readPids(t, pids)
	if len(p) != 1 {
		t.Fatalf("pids %v", p)
	}
	if err := syscall.Kill(p[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the session's upstream to be started again", func() bool { return len(readPids(t, pids)) == 2 })
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the client was not told its tools changed")
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "after"}})
	if err != nil || res.IsError || !strings.Contains(textOf(res), "after") {
		t.Fatalf("a call after the restart: %v %+v", err, res)
	}
}

// An HTTP upstream that fails repeatedly opens its circuit: calls are
// answered at once, naming the server, without reaching it; /readyz says
// so; once the server is back, the trial call closes the circuit.
func TestHTTPUpstreamCircuitBreaker(t *testing.T) {
	ctx := testContext(t)
	var failing atomic.Bool
	var reached atomic.Int32
	echo := testpeer.GoEchoServer().HTTPHandler()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"tools/call"`)) {
			reached.Add(1)
			if failing.Load() {
				http.Error(w, "upstream is broken", http.StatusBadGateway)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		echo.ServeHTTP(w, r)
	}))
	t.Cleanup(up.Close)
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "docs", URL: up.URL, Lazy: true, BreakerFailures: 3, BreakerCooldown: 300 * time.Millisecond}},
		Policy:  mustLoad(t, allowAll), Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, url := newGatewayFrom(t, gw)
	ready := httptest.NewServer(gw.ReadyHandler())
	t.Cleanup(ready.Close)
	cs := connect(t, ctx, url, nil)
	call := func() *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	failing.Store(true)
	for i := 0; i < 3; i++ {
		if res := call(); !res.IsError || !strings.Contains(textOf(res), "server docs is unavailable") {
			t.Fatalf("call %d: %+v", i, res)
		}
	}
	if n := reached.Load(); n != 3 {
		t.Fatalf("the upstream got %d calls, want 3", n)
	}
	_, r, _ := getReadyz(t, ready.URL)
	if st := r.Upstreams[0]; st.Circuit != "open" || !strings.Contains(st.CircuitReason, "502") {
		t.Fatalf("/readyz while open: %+v", st)
	}
	for i := 0; i < 5; i++ {
		if res := call(); !res.IsError || !strings.Contains(textOf(res), "server docs is unavailable") {
			t.Fatalf("call while open: %+v", res)
		}
	}
	if n := reached.Load(); n != 3 {
		t.Fatalf("calls reached the upstream while the circuit was open: %d", n)
	}
	failing.Store(false)
	time.Sleep(400 * time.Millisecond)
	if res := call(); res.IsError {
		t.Fatalf("the trial call: %+v", res)
	}
	if res := call(); res.IsError {
		t.Fatalf("after the trial: %+v", res)
	}
	if _, r, _ := getReadyz(t, ready.URL); r.Upstreams[0].Circuit != "" {
		t.Fatalf("/readyz after the trial: %+v", r.Upstreams[0])
	}
}
