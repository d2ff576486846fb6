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
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolgate/toolgate/audit"
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

	// The same gateway with the durable audit log on, as serve runs it by
	// default: a sqlite sink in a store file, every decision committed
	// before its call is forwarded.
	frontAudit := auditedFront(b, upstream.URL, eng)

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
		testpeer.Path{Name: "audit", Sessions: testpeer.OpenSessions(b, frontAudit, sessions)},
	)
}

// auditedFront serves a gateway over the upstream at url whose audit log
// is on, as serve runs it by default (a SQLite store of its own, with its
// journal), and returns the front's URL.
func auditedFront(b testing.TB, url string, eng *policy.Engine) string {
	b.Helper()
	dir := b.TempDir()
	store, err := audit.OpenSQLite(context.Background(), filepath.Join(dir, "audit.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	journal, err := audit.OpenJournal(audit.JournalDir(filepath.Join(dir, "audit.db")), &audit.JournalOptions{Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	log, err := audit.Open(context.Background(), audit.Options{Primary: store, Instance: "bench", Logger: quietLogger(), Journal: journal})
	if err != nil {
		b.Fatal(err)
	}
	gw, err := gateway.New(&gateway.Options{Servers: []gateway.Server{{Name: "echo", URL: url}}, Policy: eng, Logger: quietLogger(), Audit: log})
	if err != nil {
		b.Fatal(err)
	}
	front := httptest.NewServer(gw)
	b.Cleanup(func() {
		front.Close()
		gw.Close()
		log.Close()
	})
	return front.URL
}

// BenchmarkAuditAddedLatency measures the latency the durable audit log
// adds at a steady 500 calls/s (the rate the audit's latency target is set
// at), rather than at saturation: each iteration sends 250 calls paced
// over half a second through the gateway without the audit log and
// through the same gateway with it (each first every other round), over 8
// sessions each. It reports both paths' p50 and p99, and what the audit
// adds to each.
func BenchmarkAuditAddedLatency(b *testing.B) {
	echo := testpeer.GoEchoServer()
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
	plain := httptest.NewServer(gw)
	b.Cleanup(plain.Close)
	paths := []testpeer.Path{
		{Name: "gateway", Sessions: testpeer.OpenSessions(b, plain.URL, 8)},
		{Name: "audit", Sessions: testpeer.OpenSessions(b, auditedFront(b, upstream.URL, eng), 8)},
	}
	params := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "benchmark"}}
	const perRound, rate = 250, 500
	round := func(p testpeer.Path, lat *[]time.Duration) {
		calls := make(chan struct{}, perRound)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, cs := range p.Sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range calls {
					t0 := time.Now()
					res, err := cs.CallTool(context.Background(), params)
					if err == nil && res.IsError {
						err = errors.New("tool error")
					}
					if err != nil {
						b.Errorf("%s: %v", p.Name, err)
						continue
					}
					d := time.Since(t0)
					mu.Lock()
					*lat = append(*lat, d)
					mu.Unlock()
				}
			}()
		}
		tick := time.NewTicker(time.Second / rate)
		for i := 0; i < perRound; i++ {
			<-tick.C
			calls <- struct{}{}
		}
		tick.Stop()
		close(calls)
		wg.Wait()
	}
	var warm []time.Duration
	for _, p := range paths {
		round(p, &warm)
	}
	lats := make([][]time.Duration, len(paths))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Each path goes first every other round.
		for k := range paths {
			j := (i + k) % len(paths)
			round(paths[j], &lats[j])
		}
	}
	b.StopTimer()
	pct := func(d []time.Duration, p int) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[(len(s)-1)*p/100]) / float64(time.Microsecond)
	}
	for j, p := range paths {
		b.ReportMetric(pct(lats[j], 50), p.Name+"-p50-µs")
		b.ReportMetric(pct(lats[j], 99), p.Name+"-p99-µs")
	}
	b.ReportMetric(pct(lats[1], 50)-pct(lats[0], 50), "audit-added-p50-µs")
	b.ReportMetric(pct(lats[1], 99)-pct(lats[0], 99), "audit-added-p99-µs")
	b.ReportMetric(0, "ns/op")
}
