package gateway_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/policy"
)

// A gateway in front of one MCP server, with a policy that allows one tool:
// the agent sees only that tool, and a call to another is refused with the
// reason, never reaching the server.
func Example() {
	ctx := context.Background()

	// The upstream: any MCP server; here a go-sdk server with two tools.
	server := mcp.NewServer(&mcp.Implementation{Name: "upstream", Version: "1"}, nil)
	type msg struct {
		Message string `json:"message"`
	}
	mcp.AddTool(server, &mcp.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in msg) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Message}}}, nil, nil
	})
	mcp.AddTool(server, &mcp.Tool{Name: "DeleteUser"}, func(context.Context, *mcp.CallToolRequest, msg) (*mcp.CallToolResult, any, error) {
		panic("never reached")
	})
	upstream := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	defer upstream.Close()

	eng, err := policy.Load([]byte(`{"version":"1","default":"deny","tools":{"echo":{},"DeleteUser":{"action":"deny","on_deny":"ask a human"}}}`), "policy.json")
	if err != nil {
		log.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{
		Servers: []gateway.Server{{Name: "users", URL: upstream.URL}},
		Policy:  eng,
		Logger:  quietLogger(),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close()
	front := httptest.NewServer(gw) // mount it at /mcp in a real server
	defer front.Close()

	client := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: front.URL}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()
	for _, name := range []string{"echo", "DeleteUser"} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"message": "hi"}})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: isError=%v %s\n", name, res.IsError, res.Content[0].(*mcp.TextContent).Text)
	}
	// Output:
	// echo: isError=false hi
	// DeleteUser: isError=true [POLICY DENIED] ask a human
}
