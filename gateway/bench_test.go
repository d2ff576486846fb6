package gateway_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/gateway"
	"github.com/toolgate/toolgate/internal/testpeer"
	"github.com/toolgate/toolgate/policy"
)

// BenchmarkLoopbackToolsCall measures tools/call over loopback streamable
// HTTP, go-sdk client → go-sdk server, directly, through the gateway, and
// (for scale) through a bare httputil.ReverseProxy, in the same run and
// interleaved round by round so machine noise hits all alike. Each
// iteration is one round of callsPerRound calls on each path.
//
// Reported: calls/s and p50/p99 latency of direct and gateway, the
// throughput ratios gateway/direct and reverse-proxy/direct, and the p50 the
// gateway adds.
func BenchmarkLoopbackToolsCall(b *testing.B) {
	for _, sessions := range []int{1, 8} {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
			benchLoopback(b, sessions)
		})
	}
}

const callsPerRound = 400

func benchLoopback(b *testing.B, sessions int) {
	ctx := context.Background()
	echo := testpeer.GoEchoServer()
	upstream := httptest.NewServer(echo.HTTPHandler())
	defer upstream.Close()

	eng, err := policy.Load([]byte(`{"version":"1","default":"deny","tools":{"echo":{"limits":[{"counter":"echo","window":"second","max":1000000000,"scope":"session"}]}}}`), "bench.json")
	if err != nil {
		b.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: upstream.URL}}, Policy: eng, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer gw.Close()
	front := httptest.NewServer(gw)
	defer front.Close()
	// For scale: a reverse proxy that parses nothing.
	target, err := url.Parse(upstream.URL)
	if err != nil {
		b.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1
	proxy := httptest.NewServer(rp)
	defer proxy.Close()

	open := func(url string) []*mcp.ClientSession {
		var out []*mcp.ClientSession
		for i := 0; i < sessions; i++ {
			c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
			cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, cs)
		}
		return out
	}
	direct, through, proxied := open(upstream.URL), open(front.URL), open(proxy.URL)
	defer func() {
		for _, cs := range append(append(direct, through...), proxied...) {
			cs.Close()
		}
	}()
	params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "benchmark"}}
	// One round: callsPerRound calls spread over the sessions.
	round := func(css []*mcp.ClientSession, lat *[]time.Duration) time.Duration {
		var next atomic.Int64
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := time.Now()
		for _, cs := range css {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]time.Duration, 0, callsPerRound/len(css)+1)
				for next.Add(1) <= callsPerRound {
					t0 := time.Now()
					res, err := cs.CallTool(ctx, params)
					if err != nil || res.IsError {
						b.Errorf("call: %v %v", err, res)
						return
					}
					local = append(local, time.Since(t0))
				}
				mu.Lock()
				*lat = append(*lat, local...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	// Warm up connections and caches on both paths.
	var warm []time.Duration
	round(direct, &warm)
	round(through, &warm)
	round(proxied, &warm)

	var dLat, gLat, pLat []time.Duration
	var dTime, gTime, pTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dTime += round(direct, &dLat)
		gTime += round(through, &gLat)
		pTime += round(proxied, &pLat)
	}
	b.StopTimer()
	n := float64(b.N * callsPerRound)
	dRate, gRate, pRate := n/dTime.Seconds(), n/gTime.Seconds(), n/pTime.Seconds()
	b.ReportMetric(pRate/dRate, "revproxy-ratio")
	b.ReportMetric(dRate, "direct-calls/s")
	b.ReportMetric(gRate, "gateway-calls/s")
	b.ReportMetric(gRate/dRate, "ratio")
	dp50, dp99 := percentile(dLat, 50), percentile(dLat, 99)
	gp50, gp99 := percentile(gLat, 50), percentile(gLat, 99)
	b.ReportMetric(us(dp50), "direct-p50-µs")
	b.ReportMetric(us(dp99), "direct-p99-µs")
	b.ReportMetric(us(gp50), "gateway-p50-µs")
	b.ReportMetric(us(gp99), "gateway-p99-µs")
	b.ReportMetric(us(gp50-dp50), "added-p50-µs")
	b.ReportMetric(0, "ns/op")
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
