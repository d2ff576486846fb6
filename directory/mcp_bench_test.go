package directory_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/directory"
	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// BenchmarkUpdateUserMCP measures the directory's UpdateUser tool over
// loopback streamable HTTP, directly and through the gateway (with the
// demo's UpdateUser rule: an args schema and a rate limit, here set high),
// interleaved in the same run (testpeer.CompareCalls). Every call is a real
// SQLite (WAL) write.
func BenchmarkUpdateUserMCP(b *testing.B) {
	for _, sessions := range []int{1, 8} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			ctx := context.Background()
			store, err := directory.Open(ctx, filepath.Join(b.TempDir(), "directory.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { store.Close() })
			if _, err := directory.Seed(ctx, store); err != nil {
				b.Fatal(err)
			}
			srv := directory.NewMCPServer(directory.NewService(store, nil), "bench")
			upstream := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
			b.Cleanup(upstream.Close)
			eng, err := policy.Load([]byte(`{"version":"1","default":"deny","tools":{"UpdateUser":{
				"limits":[{"counter":"updateuser_rate","window":"minute","max":100000000,"scope":"grant"}],
				"args":{"properties":{"skip_password_checks":{"const":false}}}}}}`), "bench.json")
			if err != nil {
				b.Fatal(err)
			}
			gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "directory", URL: upstream.URL}}, Policy: eng,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { gw.Close() })
			front := httptest.NewServer(gw)
			b.Cleanup(front.Close)

			params := &mcp.CallToolParams{Name: "UpdateUser", Arguments: map[string]any{"user_id": "user_demo_ada", "first_name": "Ada"}}
			call := func(ctx context.Context, cs *mcp.ClientSession) error {
				res, err := cs.CallTool(ctx, params)
				if err == nil && res.IsError {
					err = errors.New(res.Content[0].(*mcp.TextContent).Text)
				}
				return err
			}
			testpeer.CompareCalls(b, 200, call,
				testpeer.Path{Name: "direct", Sessions: testpeer.OpenSessions(b, upstream.URL, sessions)},
				testpeer.Path{Name: "gateway", Sessions: testpeer.OpenSessions(b, front.URL, sessions)},
			)
		})
	}
}
