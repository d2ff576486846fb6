package testpeer

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Path is one way to reach an MCP server in a comparison: its name in the
// reported metrics, and the client sessions to spread calls over.
type Path struct {
	Name     string
	Sessions []*mcp.ClientSession
}

// OpenSessions connects n go-sdk client sessions to url (streamable HTTP),
// closed on b.Cleanup.
func OpenSessions(b testing.TB, url string, n int) []*mcp.ClientSession {
	b.Helper()
	return OpenSessionsWith(b, url, n, nil)
}

// OpenSessionsWith is OpenSessions with the HTTP client hc (nil: the
// default), e.g. one that sends an Authorization header.
func OpenSessionsWith(b testing.TB, url string, n int, hc *http.Client) []*mcp.ClientSession {
	b.Helper()
	var out []*mcp.ClientSession
	for i := 0; i < n; i++ {
		c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
		cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cs.Close() })
		out = append(out, cs)
	}
	return out
}

// CompareCalls measures the same call over several paths in one run: each
// of b.N iterations runs a round of perRound calls on every path in turn
// (spread over the path's sessions), starting each round with the next
// path, so that machine noise falls on all paths alike and no path always
// follows the same one. It reports, for every path, calls/s (all its calls
// over all its rounds' time) and p50/p99 latency in µs, and for every path
// after the first its calls/s ratio against the first and the p50 it
// adds.
func CompareCalls(b *testing.B, perRound int, call func(context.Context, *mcp.ClientSession) error, paths ...Path) {
	b.Helper()
	round := func(p Path, lat *[]time.Duration) time.Duration {
		var next atomic.Int64
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := time.Now()
		for _, cs := range p.Sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]time.Duration, 0, perRound/len(p.Sessions)+1)
				for next.Add(1) <= int64(perRound) {
					t0 := time.Now()
					if err := call(context.Background(), cs); err != nil {
						b.Errorf("%s: %v", p.Name, err)
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
	lats := make([][]time.Duration, len(paths))
	times := make([]time.Duration, len(paths))
	var warm []time.Duration
	for _, p := range paths {
		round(p, &warm)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range paths {
			j := (i + k) % len(paths)
			times[j] += round(paths[j], &lats[j])
		}
	}
	b.StopTimer()
	n := float64(b.N * perRound)
	base := n / times[0].Seconds()
	baseP50 := percentile(lats[0], 50)
	for j, p := range paths {
		rate := n / times[j].Seconds()
		p50 := percentile(lats[j], 50)
		b.ReportMetric(rate, p.Name+"-calls/s")
		b.ReportMetric(us(p50), p.Name+"-p50-µs")
		b.ReportMetric(us(percentile(lats[j], 99)), p.Name+"-p99-µs")
		if j > 0 {
			b.ReportMetric(rate/base, p.Name+"/"+paths[0].Name)
			b.ReportMetric(us(p50-baseP50), p.Name+"-added-p50-µs")
		}
	}
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
