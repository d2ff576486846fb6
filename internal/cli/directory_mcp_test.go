package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/directory"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// `toolgate directory mcp`: the directory's tools over stdio.
func TestDirectoryMCPStdio(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cr, out := io.Pipe()
	in, cw := io.Pipe()
	var errOut testpeer.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"directory", "mcp", "--data", t.TempDir(), "--seed"}, in, out, &errOut)
		out.Close()
	}()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, &mcp.IOTransport{Reader: cr, Writer: cw}, nil)
	if err != nil {
		t.Fatalf("connect: %v (%s)", err, errOut.String())
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "GetUser", Arguments: map[string]any{"user_id": "user_demo_grace"}})
	if err != nil || res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "Hopper") {
		t.Fatalf("GetUser: %v %+v", err, res)
	}
	cs.Close()
	cw.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("directory mcp did not stop when stdin closed")
	}
}

// The directory's /mcp sits behind the same secret key as its REST API.
func TestDirectoryMCPNeedsTheSecretKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := directory.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := directory.NewService(store, nil)
	ts := httptest.NewServer(directory.NewHandler(svc, &directory.HandlerOptions{SecretKeys: []string{"sk_test_k"}, MCP: directory.NewMCPServer(svc, "t")}))
	defer ts.Close()
	client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	if _, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp"}, nil); err == nil {
		t.Fatal("connected to /mcp without the secret key")
	}
	hc := &http.Client{Transport: &headerTransport{base: http.DefaultTransport, h: http.Header{"Authorization": {"Bearer sk_test_k"}}}}
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp", HTTPClient: hc}, nil)
	if err != nil {
		t.Fatalf("with the key: %v", err)
	}
	defer cs.Close()
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
}
