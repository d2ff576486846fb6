package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/internal/testpeer"
)

func freeAddr(t *testing.T) string {
	t.Helper()
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
		"toolgate.yaml": fmt.Sprintf("listen: %s\nservers:\n  echo:\n    command: [%q]\npolicies:\n  default: policy.json\n", listen, bin),
		"policy.json":   `{"version":"1","default":"deny","tools":{"echo":{},"DeleteUser":{"action":"deny","on_deny":"no"}}}`,
	})
	return filepath.Join(dir, "toolgate.yaml")
}

// `toolgate serve` end to end: the real command, a stdio upstream, a go-sdk
// client; cancelling the context shuts it down cleanly.
func TestServe(t *testing.T) {
	addr := freeAddr(t)
	cfg := echoConfig(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srvCtx, stop := context.WithCancel(ctx)
	var out, errOut testpeer.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- Main(srvCtx, []string{"serve", "--config", cfg}, strings.NewReader(""), &out, &errOut) }()

	url := "http://" + addr + "/mcp"
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never listened: %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
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
	// The admin API lists what the gateway has seen, classified.
	resp, err := http.Get("http://" + addr + "/admin/tools")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"destructive"`) {
		t.Errorf("GET /admin/tools: %d %s", resp.StatusCode, body)
	}
	cs.Close()
	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after its context ended")
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
		{"no auth off loopback", "listen: 0.0.0.0:0\n", "loopback"},
		{"grants not built yet", "auth: grants\n", "grants"},
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
