package cli

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/testpeer"
)

// freeAddr is a loopback address no one listens on, for a serve the test
// starts next. The port is picked below Linux's ephemeral range
// (32768-60999): a port-0 address is free when returned but may be taken
// before serve binds it, by a client connection's local port or another
// package's listener (go test runs packages in parallel), which made serve
// exit with "address already in use" while the test's client reached
// whatever had taken the port. Below that range only another freeAddr
// can pick it, one in thousands of ports.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 64 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func echoConfig(t *testing.T, listen string) string {
	t.Helper()
	bin := testpeer.BuildEchoServer(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf("listen: %s\nadmin_listen: off\nauth: none\nservers:\n  echo:\n    command: [%q]\npolicies:\n  default: policy.json\n", listen, bin),
		"policy.json":   `{"version":"1","default":"deny","tools":{"echo":{},"DeleteUser":{"action":"deny","on_deny":"no"}}}`,
	})
	return filepath.Join(dir, "toolgate.yaml")
}

// startServe runs `toolgate serve --config cfg` and waits until it answers
// at addr. stop ends it and returns its exit code and stderr; the test
// ends it too, if it has not.
func startServe(t *testing.T, cfg, addr string) (out *testpeer.SyncBuffer, stop func() (int, string)) {
	t.Helper()
	return startServeCtx(t, context.Background(), cfg, addr)
}

// startServeCtx is startServe with Main's context derived from parent
// (which may carry a clock, see withClock).
func startServeCtx(t *testing.T, parent context.Context, cfg, addr string) (out *testpeer.SyncBuffer, stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(parent)
	out = new(testpeer.SyncBuffer)
	var errOut testpeer.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), out, &errOut) }()
	stopped := false
	stop = func() (int, string) {
		if stopped {
			return 0, errOut.String()
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code, errOut.String()
		case <-time.After(15 * time.Second):
			return -1, "serve did not stop after its context ended\n" + errOut.String()
		}
	}
	t.Cleanup(func() { stop() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return out, stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never listened: %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// `toolgate serve` end to end: the real command, a stdio upstream, a go-sdk
// client; cancelling the context shuts it down cleanly.
func TestServe(t *testing.T) {
	addr := freeAddr(t)
	cfg := echoConfig(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, stop := startServe(t, cfg, addr)

	url := "http://" + addr + "/mcp"
	if !strings.Contains(out.String(), url) {
		t.Errorf("serve did not print its MCP URL: %q", out.String())
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "via serve"}})
	if err != nil || res.IsError {
		t.Fatalf("echo: %v %+v", err, res)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": "u"}})
	if err != nil || !res.IsError {
		t.Fatalf("DeleteUser should be denied: %v %+v", err, res)
	}
	// The admin API is not on the MCP listener.
	resp, err := http.Get("http://" + addr + "/admin/tools")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /admin/tools on the MCP listener: %d %s, want 404", resp.StatusCode, body)
	}
	cs.Close()
	if code, errOut := stop(); code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut)
	}
}

// `toolgate stdio`: the same gateway on stdin/stdout.
func TestStdio(t *testing.T) {
	cfg := echoConfig(t, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cr, gw2c := io.Pipe()
	gr, c2g := io.Pipe()
	var errOut testpeer.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"stdio", "--config", cfg}, gr, gw2c, &errOut)
		gw2c.Close()
	}()
	client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: cr, Writer: c2g}, nil)
	if err != nil {
		t.Fatalf("connect: %v (%s)", err, errOut.String())
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "via stdio"}})
	if err != nil || res.IsError {
		t.Fatalf("echo: %v %+v", err, res)
	}
	cs.Close()
	c2g.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("stdio exited %d: %s", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("stdio did not stop when stdin closed")
	}
}

func TestServeRefusesUnsafeSettings(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"no auth off loopback", "auth: none\nlisten: 0.0.0.0:0\n", "loopback"},
		{"redis not built yet", "limits: redis://127.0.0.1:6379\n", "in-memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"toolgate.yaml": tc.yaml})
			code, _, errOut := run(t, "serve", "--config", filepath.Join(dir, "toolgate.yaml"))
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want an error mentioning %q", code, errOut, tc.want)
			}
		})
	}
}

// serve with auth: grants: a grant created with the CLI opens a session
// under its named policy with its token, and nothing opens one without.
func TestServeWithGrants(t *testing.T) {
	addr := freeAddr(t)
	bin := testpeer.BuildEchoServer(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf(`listen: %s
admin_listen: off
auth: grants
store: sqlite://toolgate.db
servers:
  echo:
    command: [%q]
policies:
  support: {version: "1", default: deny, tools: {echo: {}}}
  admin: {version: "1", default: allow}
`, addr, bin),
	})
	cfg := filepath.Join(dir, "toolgate.yaml")
	code, out, errOut := run(t, "grant", "create", "--config", cfg, "--subject", "alice@example.com", "--policy", "support")
	if code != 0 {
		t.Fatalf("grant create: %d %s", code, errOut)
	}
	var token string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "token" {
			token = f[1]
		}
	}
	if !strings.HasPrefix(token, "tg_") {
		t.Fatalf("no token in %q", out)
	}
	startServe(t, cfg, addr)
	url := "http://" + addr + "/mcp"
	body := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("without a token: %d", resp.StatusCode)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url,
		HTTPClient: &http.Client{Transport: &headerTransport{base: http.DefaultTransport, h: http.Header{"Authorization": {"Bearer " + token}}}}}, nil)
	if err != nil {
		t.Fatalf("connect with the grant's token: %v", err)
	}
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
	if err != nil || res.IsError {
		t.Fatalf("echo under the support policy: %v %+v", err, res)
	}
	res, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2}})
	if err != nil || !res.IsError {
		t.Fatalf("add, which the support policy denies: %v %+v", err, res)
	}
}

// serve applies the configuration's HTTP limits: a client that trickles its
// headers, idles on a keep-alive connection or sends oversized headers is
// cut off, while a call that outlasts read_timeout, its events streamed
// back, is not.
func TestServeHTTPLimits(t *testing.T) {
	addr := freeAddr(t)
	bin := testpeer.BuildEchoServer(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf(`listen: %s
auth: none
servers:
  echo:
    command: [%q]
policies:
  default: {version: "1", default: allow}
admin_listen: off
read_header_timeout: 200ms
read_timeout: 1500ms
idle_timeout: 300ms
max_header_bytes: 4KiB
`, addr, bin),
	})
	startServe(t, filepath.Join(dir, "toolgate.yaml"), addr)

	// closedWithin sends req on a new connection and reads until the server
	// closes it, returning what it read and how long that took.
	closedWithin := func(t *testing.T, req string) (string, time.Duration) {
		t.Helper()
		// The server's timers start when it accepts, which can be before
		// Dial returns: measure from before the dial.
		start := time.Now()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(conn)
		if err != nil {
			t.Fatalf("the server did not close the connection: %v (read %q)", err, got)
		}
		return string(got), time.Since(start)
	}
	tests := []struct {
		name     string
		req      string
		min, max time.Duration
		status   string // the response's status line, "" for none
	}{
		{"headers never finished", "GET /healthz HTTP/1.1\r\nHost: x\r\n", 200 * time.Millisecond, 1200 * time.Millisecond, ""},
		{"idle after a request", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 300 * time.Millisecond, 1200 * time.Millisecond, "HTTP/1.1 200 OK"},
		{"headers too large", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 16<<10) + "\r\n\r\n",
			0, 1200 * time.Millisecond, "HTTP/1.1 431 Request Header Fields Too Large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, took := closedWithin(t, tt.req)
			if took < tt.min || took > tt.max {
				t.Errorf("closed after %v, want between %v and %v", took, tt.min, tt.max)
			}
			if line, _, _ := strings.Cut(got, "\r\n"); line != tt.status {
				t.Errorf("status line %q, want %q", line, tt.status)
			}
		})
	}

	t.Run("call longer than read_timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr + "/mcp"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		params := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 2500}}
		params.SetProgressToken("p")
		res, err := cs.CallTool(ctx, params)
		if err != nil || res.IsError || textContent(res) != "slept 2500ms" {
			t.Fatalf("slow call: %v %+v", err, res)
		}
	})
}

func textContent(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// The configuration's inherit_env reaches the gateway: a stdio upstream
// started by `toolgate stdio` sees the gateway's secret only with it. The
// upstream command writes its environment to a file, then becomes the echo
// server.
func TestStdioUpstreamInheritEnv(t *testing.T) {
	t.Setenv("TOOLGATE_SECRET_TEST", "xyz")
	bin := testpeer.BuildEchoServer(t)
	for _, tt := range []struct {
		inherit bool
		want    bool
	}{{false, false}, {true, true}} {
		t.Run(fmt.Sprintf("inherit_env=%v", tt.inherit), func(t *testing.T) {
			dir := t.TempDir()
			envFile := filepath.Join(dir, "env")
			cfg := fmt.Sprintf("auth: none\nservers:\n  echo:\n    command: [/bin/sh, -c, 'env > \"$0\" && exec \"$1\"', %q, %q]\n    inherit_env: %v\n    timeout: 5s\n",
				envFile, bin, tt.inherit)
			if err := os.WriteFile(filepath.Join(dir, "toolgate.yaml"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cr, gw2c := io.Pipe()
			gr, c2g := io.Pipe()
			var errOut testpeer.SyncBuffer
			done := make(chan int, 1)
			go func() {
				done <- Main(ctx, []string{"stdio", "--config", filepath.Join(dir, "toolgate.yaml")}, gr, gw2c, &errOut)
				gw2c.Close()
			}()
			client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
			cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: cr, Writer: c2g}, nil)
			if err != nil {
				t.Fatalf("connect: %v (%s)", err, errOut.String())
			}
			if _, err := cs.ListTools(ctx, nil); err != nil {
				t.Fatalf("tools/list: %v (%s)", err, errOut.String())
			}
			data, err := os.ReadFile(envFile)
			if err != nil {
				t.Fatalf("the upstream wrote no environment: %v (%s)", err, errOut.String())
			}
			if got := slices.Contains(strings.Split(string(data), "\n"), "TOOLGATE_SECRET_TEST=xyz"); got != tt.want {
				t.Errorf("the upstream has TOOLGATE_SECRET_TEST: %v, want %v\n%s", got, tt.want, data)
			}
			cs.Close()
			c2g.Close()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("stdio did not stop when stdin closed")
			}
		})
	}
}

// toolgate stdio with auth: grants runs the session as the grant whose
// token is in TOOLGATE_GRANT_TOKEN, under the policy it names; without a
// valid token it does not start.
func TestStdioWithGrant(t *testing.T) {
	bin := testpeer.BuildEchoServer(t)
	dir := writeFiles(t, map[string]string{
		"toolgate.yaml": fmt.Sprintf(`auth: grants
store: sqlite://toolgate.db
servers:
  echo:
    command: [%q]
policies:
  support: {version: "1", default: deny, tools: {echo: {}}}
`, bin),
	})
	cfg := filepath.Join(dir, "toolgate.yaml")
	code, out, errOut := run(t, "grant", "create", "--config", cfg, "--subject", "agent:bot", "--policy", "support")
	if code != 0 {
		t.Fatalf("grant create: %d %s", code, errOut)
	}
	var token, id string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "token" {
			token = f[1]
		} else if len(f) == 2 && f[0] == "grant" {
			id = f[1]
		}
	}
	t.Setenv("TOOLGATE_GRANT_TOKEN", "tg_not-a-token")
	if code, _, errOut := run(t, "stdio", "--config", cfg); code == 0 || !strings.Contains(errOut, "TOOLGATE_GRANT_TOKEN") {
		t.Fatalf("stdio with a bad token: exit %d, %s", code, errOut)
	}
	t.Setenv("TOOLGATE_GRANT_TOKEN", token)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cr, gw2c := io.Pipe()
	gr, c2g := io.Pipe()
	var stderr testpeer.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"stdio", "--config", cfg}, gr, gw2c, &stderr)
		gw2c.Close()
	}()
	client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: cr, Writer: c2g}, nil)
	if err != nil {
		t.Fatalf("connect: %v (%s)", err, stderr.String())
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
	if err != nil || res.IsError {
		t.Fatalf("echo under the grant's policy: %v %+v (%s)", err, res, stderr.String())
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2}})
	if err != nil || !res.IsError {
		t.Fatalf("add, which the grant's policy denies: %v %+v", err, res)
	}
	// Revoked from another process (here, another handle on the store):
	// the running session ends at its next request after the gateway
	// sees the change.
	if code, _, errOut := run(t, "grant", "revoke", "--config", cfg, id); code != 0 {
		t.Fatalf("grant revoke: %d %s", code, errOut)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
		if err != nil {
			if !strings.Contains(err.Error(), "no longer valid") && !strings.Contains(err.Error(), "closed") {
				t.Fatalf("call after revoke: %v", err)
			}
			break
		}
		if res.IsError || time.Now().After(deadline) {
			t.Fatalf("the revoked grant's stdio session still calls tools: %+v", res)
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case code := <-done:
		if code == 0 || !strings.Contains(stderr.String(), "no longer valid") {
			t.Fatalf("stdio after revoke: exit %d, %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("stdio did not stop when its grant was revoked")
	}
	cs.Close()
	c2g.Close()
}

// serve starts its eager upstream, says so on the terminal, and /readyz
// answers 200 once it is ready.
func TestServeReadyz(t *testing.T) {
	addr := freeAddr(t)
	out, stop := startServe(t, echoConfig(t, addr), addr)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			if !strings.Contains(string(body), `"state":"ready"`) {
				t.Errorf("/readyz: %s", body)
			}
			break
		}
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("/readyz: %d %s", resp.StatusCode, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitUntil := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "upstream echo ready: 6 tools") && time.Now().Before(waitUntil) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "upstream echo ready: 6 tools") {
		t.Errorf("serve did not say the upstream is ready: %q", out.String())
	}
	if code, errOut := stop(); code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut)
	}
}

// `toolgate serve` with legacy HTTP+SSE on both sides: an old client on
// /sse, an old server behind transport: sse. Without legacy_sse the
// front is not there.
func TestServeLegacySSE(t *testing.T) {
	echo := testpeer.GoEchoServer()
	up := httptest.NewServer(mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return echo.Server() }, nil))
	t.Cleanup(func() { up.CloseClientConnections(); up.Close() })
	policy := `{"version":"1","default":"deny","tools":{"echo":{},"DeleteUser":{"action":"deny","on_deny":"no"}}}`
	for _, legacy := range []bool{true, false} {
		t.Run(fmt.Sprint("legacy_sse=", legacy), func(t *testing.T) {
			addr := freeAddr(t)
			dir := writeFiles(t, map[string]string{
				"toolgate.yaml": fmt.Sprintf("listen: %s\nadmin_listen: off\nauth: none\nlegacy_sse: %v\nservers:\n  old:\n    url: %s/sse\n    transport: sse\npolicies:\n  default: policy.json\n", addr, legacy, up.URL),
				"policy.json":   policy,
			})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, stop := startServe(t, filepath.Join(dir, "toolgate.yaml"), addr)
			sseURL := "http://" + addr + "/sse"
			if legacy != strings.Contains(out.String(), sseURL) {
				t.Errorf("serve's output %q: mentions %s: %v, want %v", out.String(), sseURL, !legacy, legacy)
			}
			if !legacy {
				resp, err := http.Get(sseURL)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET /sse without legacy_sse: %d, want 404", resp.StatusCode)
				}
				return
			}
			client := mcp.NewClient(&mcp.Implementation{Name: "old", Version: "1"}, nil)
			cs, err := client.Connect(ctx, &mcp.SSEClientTransport{Endpoint: sseURL}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "old to old"}})
			if err != nil || res.IsError {
				t.Fatalf("echo: %v %+v", err, res)
			}
			res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "DeleteUser", Arguments: map[string]any{"user_id": "u"}})
			if err != nil || !res.IsError {
				t.Fatalf("DeleteUser should be denied: %v %+v", err, res)
			}
			if n := echo.Calls("DeleteUser"); n != 0 {
				t.Errorf("the server executed DeleteUser %d times", n)
			}
			cs.Close()
			if code, errOut := stop(); code != 0 {
				t.Fatalf("serve exited %d: %s", code, errOut)
			}
		})
	}
}
