package gateway_test

//lint:file-ignore SA1019 sampling is deprecated as of protocol 2026-07-28; the multi round-trip test answers a sampling input request

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
)

// A go-sdk v1.8.0 client on its default revision (2026-07-28) reaches an
// upstream of the same revision through the gateway without a handshake:
// server/discover, then stateless requests.
func TestStatelessClientModernUpstream(t *testing.T) {
	ctx := testContext(t)
	echo := testpeer.GoEchoServer()
	_, url := newGateway(t, allowAll, gateway.Server{Name: "echo", URL: echo.StartStatelessHTTP(t)})
	cs := connect(t, ctx, url, nil)
	if v := cs.InitializeResult().ProtocolVersion; v != "2026-07-28" {
		t.Fatalf("negotiated %q, want 2026-07-28", v)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := textOf(res); got != "hi" {
		t.Errorf("echo answered %q", got)
	}
}

var _ = context.Background

// modernHeaders are the HTTP headers of a 2026-07-28 request.
func modernHeaders(method, name string) map[string]string {
	h := map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": method}
	if name != "" {
		h["Mcp-Name"] = name
	}
	return h
}
