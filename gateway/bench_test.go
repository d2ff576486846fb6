package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/grant"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// BenchmarkLoopbackToolsCall measures tools/call over loopback streamable
// HTTP, go-sdk client → go-sdk server: directly, through the gateway, and
// (for scale) through a bare httputil.ReverseProxy, in the same run and
// interleaved round by round (testpeer.CompareCalls).
//
// Reported per path: calls/s and p50/p99 latency; for the gateway, the
// reverse proxy and the gateway with auth: grants (tokens verified against
// a SQLite grant store on every request), the throughput ratio against
// direct and the p50 added.
func BenchmarkLoopbackToolsCall(b *testing.B) {
	for _, sessions := range []int{1, 8} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			benchLoopback(b, sessions)
		})
	}
}

func benchLoopback(b *testing.B, sessions int) {
	echo := testpeer.GoEchoServer()
	// Servers close on Cleanup, after the sessions OpenSessions registered
	// later (Cleanup runs last-in first-out).
	upstream := httptest.NewServer(echo.HTTPHandler())
	b.Cleanup(upstream.Close)

	eng, err := policy.Load([]byte(`{"version":"1","default":"deny","tools":{"echo":{"limits":[{"counter":"echo","window":"second","max":1000000000,"scope":"session"}]}}}`), "bench.json")
	if err != nil {
		b.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: upstream.URL}}, Policy: eng, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { gw.Close() })
	front := httptest.NewServer(gw)
	b.Cleanup(front.Close)
	target, err := url.Parse(upstream.URL)
	if err != nil {
		b.Fatal(err)
	}
	// The same gateway with auth: grants, its tokens in a SQLite store.
	grants, err := grant.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "grants.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { grants.Close() })
	_, token, err := grant.Create(context.Background(), grants, grant.Spec{Subject: "bench", Policy: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	// As serve runs it: verified tokens cached, the store's epoch watched.
	verifier := &grant.Verifier{Store: grants, CacheFor: 30 * time.Second}
	wctx, stopWatch := context.WithCancel(context.Background())
	b.Cleanup(stopWatch)
	go verifier.Watch(wctx, 250*time.Millisecond)
	gwAuth, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: upstream.URL}},
		Logger: quietLogger(), Authenticator: gateway.AuthenticatorFunc(verifier.Verify)})
	if err != nil {
		b.Fatal(err)
	}
	gwAuth.SetNamedPolicy("bench", eng)
	b.Cleanup(func() { gwAuth.Close() })
	frontAuth := httptest.NewServer(gwAuth)
	b.Cleanup(frontAuth.Close)
	withToken := &http.Client{Transport: bearerTransport{token}}

	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1
	proxy := httptest.NewServer(rp)
	b.Cleanup(proxy.Close)

	params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "benchmark"}}
	call := func(ctx context.Context, cs *mcp.ClientSession) error {
		res, err := cs.CallTool(ctx, params)
		if err == nil && res.IsError {
			err = errors.New("tool error")
		}
		return err
	}
	testpeer.CompareCalls(b, 400, call,
		testpeer.Path{Name: "direct", Sessions: testpeer.OpenSessions(b, upstream.URL, sessions)},
		testpeer.Path{Name: "gateway", Sessions: testpeer.OpenSessions(b, front.URL, sessions)},
		testpeer.Path{Name: "revproxy", Sessions: testpeer.OpenSessions(b, proxy.URL, sessions)},
		testpeer.Path{Name: "grants", Sessions: testpeer.OpenSessionsWith(b, frontAuth.URL, sessions, withToken)},
	)
}
