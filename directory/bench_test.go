package directory_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPatchUser measures PATCH /v1/users/{id} over real HTTP against
// SQLite in WAL mode with 16 concurrent clients; it reports requests per
// second and the 99th-percentile latency.
func BenchmarkPatchUser(b *testing.B) {
	const clients, users = 16, 100
	e := newEnv(b)
	ids := make([]string, users)
	for i := range ids {
		ids[i] = e.mustUser(map[string]any{"email_address": []string{fmt.Sprintf("bench%d@example.com", i)}})["id"].(string)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= b.N {
					return
				}
				body := fmt.Sprintf(`{"first_name":"Name%d","last_name":"Bench","external_id":"ext-%d"}`, n, n%users)
				req, _ := http.NewRequest("PATCH", e.srv.URL+"/v1/users/"+ids[n%users], strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+testSK)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat[n] = time.Since(t0)
				if res.StatusCode != 200 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}
